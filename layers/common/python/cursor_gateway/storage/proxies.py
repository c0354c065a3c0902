"""The stored proxy table: one item `pk = "proxies"` in the config table (CONFIG_TABLE), `{version, data}`.

Why the config table and not a table of its own: the table is small, read by every function that talks
to Cursor (they can already read the config table), and written only by `/proxies/*`. Every save is
conditional on the version read, so two admins (or instances) changing it at once cannot lose a change:
the second gets `ProxiesConflict` and the service re-reads and re-applies its change.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from cursor_gateway.errors import Conflict, GatewayError
from cursor_gateway.storage import aws

ITEM_KEY = "proxies"


class ProxiesConflict(Conflict):
    code = "proxies_version_conflict"


class ProxiesStorageUnavailable(GatewayError):
    status = 503
    code = "storage_unavailable"


class ProxyStore(Protocol):
    def load(self) -> tuple[int, dict[str, Any] | None]:
        """(version, data); (0, None) when nothing was ever saved."""
        ...

    def save(self, data: dict[str, Any], expected_version: int) -> int:
        """Write `data` as version expected_version + 1, or raise ProxiesConflict."""
        ...


class InMemoryProxyStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version = 0
        self._data: dict[str, Any] | None = None

    def load(self) -> tuple[int, dict[str, Any] | None]:
        with self._lock:
            return self._version, None if self._data is None else json.loads(json.dumps(self._data))

    def save(self, data: dict[str, Any], expected_version: int) -> int:
        with self._lock:
            if expected_version != self._version:
                raise ProxiesConflict(f"Proxies changed concurrently (now version {self._version})")
            self._version += 1
            self._data = json.loads(json.dumps(data))
            return self._version


class DynamoProxyStore:
    def __init__(self, table: str, *, client: Any = None, clock: Callable[[], float] = time.time) -> None:
        self.table = table
        self._client = client
        self._clock = clock

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.client("dynamodb")
        return self._client

    def load(self) -> tuple[int, dict[str, Any] | None]:
        try:
            answer = self.client.get_item(
                TableName=self.table, Key={"pk": {"S": ITEM_KEY}}, ConsistentRead=True
            )
        except Exception as exc:  # botocore errors, without importing botocore here
            raise ProxiesStorageUnavailable(f"Proxy storage failed: {type(exc).__name__}") from exc
        item = answer.get("Item")
        if not item:
            return 0, None
        return int(item["version"]["N"]), json.loads(item["data"]["S"])

    def save(self, data: dict[str, Any], expected_version: int) -> int:
        new_version = expected_version + 1
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Item": {
                "pk": {"S": ITEM_KEY},
                "version": {"N": str(new_version)},
                "data": {"S": json.dumps(data, sort_keys=True)},
                "updated_at": {"N": repr(float(self._clock()))},
            },
        }
        if expected_version == 0:
            kwargs["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            kwargs["ConditionExpression"] = "#v = :expected"
            kwargs["ExpressionAttributeNames"] = {"#v": "version"}
            kwargs["ExpressionAttributeValues"] = {":expected": {"N": str(expected_version)}}
        try:
            self.client.put_item(**kwargs)
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            if code == "ConditionalCheckFailedException":
                raise ProxiesConflict("Proxies changed concurrently; read them again") from exc
            raise ProxiesStorageUnavailable(f"Proxy storage failed: {code or type(exc).__name__}") from exc
        return new_version
