"""Gateway keys on DynamoDB (KEYS_TABLE, partition key `id`), and an in-memory twin.

Item: `id`, `secret_hash` (SHA-256 hex of the secret; the secret is never stored), `token_alias`,
`settings` (JSON text), `name`, `created_at`, `last_used_at`, `revoked_at`. Writes are conditional:
`put_new` only if the id is free; `revoke` only if the key exists; `touch` (last used) only if the stored
time is older than the interval, so instances that all see a key in use write it once per interval
between them, not once per request each.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol

from cursor_gateway.domain.keys import GatewayKey
from cursor_gateway.errors import Conflict
from cursor_gateway.storage.aws import key_can_exist
from cursor_gateway.storage.tokens import StorageUnavailable


class DuplicateKeyId(Conflict):
    code = "duplicate_key_id"


class KeyStore(Protocol):
    def put_new(self, key: GatewayKey) -> None: ...

    def get(self, key_id: str) -> GatewayKey | None: ...

    def list(self) -> list[GatewayKey]:
        """Every key, oldest first."""
        ...

    def revoke(self, key_id: str, now: float) -> bool:
        """Mark the key revoked (the first revocation time is kept); False when it does not exist."""
        ...

    def touch(self, key_id: str, now: float, interval: float) -> bool:
        """Set last_used_at = now unless it was set less than `interval` ago; True when written."""
        ...


class InMemoryKeyStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, GatewayKey] = {}
        self.writes = 0

    def put_new(self, key: GatewayKey) -> None:
        with self._lock:
            if key.id in self._items:
                raise DuplicateKeyId(f"Key id {key.id} exists")
            self._items[key.id] = key
            self.writes += 1

    def get(self, key_id: str) -> GatewayKey | None:
        with self._lock:
            return self._items.get(key_id)

    def list(self) -> list[GatewayKey]:
        with self._lock:
            return sorted(self._items.values(), key=lambda k: (k.created_at, k.id))

    def revoke(self, key_id: str, now: float) -> bool:
        from dataclasses import replace

        with self._lock:
            key = self._items.get(key_id)
            if key is None:
                return False
            if not key.revoked:
                self._items[key_id] = replace(key, revoked_at=now)
                self.writes += 1
            return True

    def touch(self, key_id: str, now: float, interval: float) -> bool:
        from dataclasses import replace

        with self._lock:
            key = self._items.get(key_id)
            if key is None or now - key.last_used_at < interval:
                return False
            self._items[key_id] = replace(key, last_used_at=now)
            self.writes += 1
            return True


def _to_item(key: GatewayKey) -> dict[str, Any]:
    return {
        "id": {"S": key.id},
        "secret_hash": {"S": key.secret_hash},
        "token_alias": {"S": key.token_alias},
        "settings": {"S": json.dumps(dict(key.settings), sort_keys=True)},
        "name": {"S": key.name},
        "created_at": {"N": repr(float(key.created_at))},
        "last_used_at": {"N": repr(float(key.last_used_at))},
        "revoked_at": {"N": repr(float(key.revoked_at))},
    }


def _from_item(item: dict[str, Any]) -> GatewayKey:
    def text(name: str) -> str:
        return str(item.get(name, {}).get("S", ""))

    def number(name: str) -> float:
        return float(item.get(name, {}).get("N", "0"))

    try:
        settings = json.loads(text("settings") or "{}")
    except ValueError:
        settings = {}
    return GatewayKey(
        id=text("id"),
        secret_hash=text("secret_hash"),
        token_alias=text("token_alias"),
        settings=settings if isinstance(settings, dict) else {},
        name=text("name"),
        created_at=number("created_at"),
        last_used_at=number("last_used_at"),
        revoked_at=number("revoked_at"),
    )


class DynamoKeyStore:
    def __init__(self, table: str, *, client: Any = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from cursor_gateway.storage import aws

            self._client = aws.client("dynamodb")
        return self._client

    def put_new(self, key: GatewayKey) -> None:
        if not self._call(
            "put_item",
            TableName=self.table,
            Item=_to_item(key),
            ConditionExpression="attribute_not_exists(id)",
        ):
            raise DuplicateKeyId(f"Key id {key.id} exists")

    def get(self, key_id: str) -> GatewayKey | None:
        if not key_can_exist(key_id):
            return None
        answer = self._call("get_item", TableName=self.table, Key=self._key(key_id), ConsistentRead=True)
        item = answer.get("Item") if answer else None
        return _from_item(item) if item else None

    def list(self) -> list[GatewayKey]:
        keys: list[GatewayKey] = []
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True}
        while True:
            page = self._call("scan", **kwargs) or {}
            keys.extend(_from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return sorted(keys, key=lambda k: (k.created_at, k.id))
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def revoke(self, key_id: str, now: float) -> bool:
        if not key_can_exist(key_id):
            return False
        return (
            bool(
                self._call(
                    "update_item",
                    TableName=self.table,
                    Key=self._key(key_id),
                    UpdateExpression="SET revoked_at = :now",
                    ConditionExpression=(
                        "attribute_exists(id) AND (attribute_not_exists(revoked_at) OR revoked_at = :zero)"
                    ),
                    ExpressionAttributeValues={":now": {"N": repr(float(now))}, ":zero": {"N": "0"}},
                )
            )
            or self.get(key_id) is not None
        )  # already revoked: still a success

    def touch(self, key_id: str, now: float, interval: float) -> bool:
        if not key_can_exist(key_id):
            return False
        return bool(
            self._call(
                "update_item",
                TableName=self.table,
                Key=self._key(key_id),
                UpdateExpression="SET last_used_at = :now",
                ConditionExpression=(
                    "attribute_exists(id) AND (attribute_not_exists(last_used_at) OR last_used_at <= :before)"
                ),
                ExpressionAttributeValues={
                    ":now": {"N": repr(float(now))},
                    ":before": {"N": repr(float(now - interval))},
                },
            )
        )

    @staticmethod
    def _key(key_id: str) -> dict[str, Any]:
        return {"id": {"S": key_id}}

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any] | None:
        """The answer, or None when a condition failed."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            result: dict[str, Any] = getattr(self.client, operation)(**kwargs)
            return result or {"ok": True}
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ConditionalCheckFailedException":
                return None
            raise StorageUnavailable(f"DynamoDB {operation} on {self.table} failed: {code or exc}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"DynamoDB {operation} on {self.table} failed: {exc}") from exc
