"""The stored runtime config: one versioned item, plus every earlier version kept for rollback.

Item `pk = "current"` holds `{version, data}`; each save also writes `pk = "v#<n>"`. Both go in one
transaction conditioned on the current version, so two instances updating at once can never lose an
update silently: the second gets `VersionConflict` and re-reads.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from cursor_gateway.errors import Conflict, GatewayError
from cursor_gateway.storage import aws


class ConfigConflict(Conflict):
    code = "config_version_conflict"


class ConfigStorageUnavailable(GatewayError):
    status = 503
    code = "storage_unavailable"


class ConfigStore(Protocol):
    def load(self) -> tuple[int, dict[str, Any]]:
        """(version, data); (0, {}) when nothing was ever saved."""
        ...

    def save(self, data: dict[str, Any], expected_version: int) -> int:
        """Write `data` as version expected_version + 1, or raise ConfigConflict."""
        ...

    def load_version(self, version: int) -> dict[str, Any] | None: ...


class InMemoryConfigStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._versions: dict[int, dict[str, Any]] = {}
        self._current = 0

    def load(self) -> tuple[int, dict[str, Any]]:
        with self._lock:
            return self._current, json.loads(json.dumps(self._versions.get(self._current, {})))

    def save(self, data: dict[str, Any], expected_version: int) -> int:
        with self._lock:
            if expected_version != self._current:
                raise ConfigConflict(f"Config changed concurrently (now version {self._current})")
            self._current += 1
            self._versions[self._current] = json.loads(json.dumps(data))
            return self._current

    def load_version(self, version: int) -> dict[str, Any] | None:
        with self._lock:
            data = self._versions.get(version)
            return None if data is None else json.loads(json.dumps(data))


class DynamoConfigStore:
    def __init__(self, table: str, *, client: Any = None, clock: Callable[[], float] = time.time) -> None:
        self.table = table
        self._client = client
        self._clock = clock

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.client("dynamodb")
        return self._client

    def load(self) -> tuple[int, dict[str, Any]]:
        item = self._get("current")
        if not item:
            return 0, {}
        return int(item["version"]["N"]), json.loads(item["data"]["S"])

    def load_version(self, version: int) -> dict[str, Any] | None:
        item = self._get(f"v#{version}")
        return json.loads(item["data"]["S"]) if item else None

    def save(self, data: dict[str, Any], expected_version: int) -> int:
        new_version = expected_version + 1
        body = json.dumps(data, sort_keys=True)
        now = {"N": repr(float(self._clock()))}
        current_condition = "attribute_not_exists(pk)" if expected_version == 0 else "#v = :expected"
        put_current: dict[str, Any] = {
            "TableName": self.table,
            "Item": {
                "pk": {"S": "current"},
                "version": {"N": str(new_version)},
                "data": {"S": body},
                "updated_at": now,
            },
            "ConditionExpression": current_condition,
        }
        if expected_version:
            put_current["ExpressionAttributeNames"] = {"#v": "version"}
            put_current["ExpressionAttributeValues"] = {":expected": {"N": str(expected_version)}}
        put_history = {
            "TableName": self.table,
            "Item": {
                "pk": {"S": f"v#{new_version}"},
                "version": {"N": str(new_version)},
                "data": {"S": body},
                "updated_at": now,
            },
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        try:
            self.client.transact_write_items(TransactItems=[{"Put": put_current}, {"Put": put_history}])
        except Exception as exc:  # botocore's ClientError, without importing botocore types here
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            if code in ("TransactionCanceledException", "ConditionalCheckFailedException"):
                raise ConfigConflict("Config changed concurrently; read it again and retry") from exc
            raise ConfigStorageUnavailable(f"Config storage failed: {code or type(exc).__name__}") from exc
        return new_version

    def _get(self, pk: str) -> dict[str, Any] | None:
        try:
            answer = self.client.get_item(TableName=self.table, Key={"pk": {"S": pk}}, ConsistentRead=True)
        except Exception as exc:
            raise ConfigStorageUnavailable(f"Config storage failed: {type(exc).__name__}") from exc
        item: dict[str, Any] | None = answer.get("Item")
        return item
