"""The account pool's repository: `TokenStore`, its DynamoDB implementation and an in-memory twin.

Table layout: partition key `alias` (S); one item per token; every `TokenRecord` field is a top-level
attribute except `health`, a map. `version` (N) starts at 1 and grows by one on every write, and every
write is conditional, so concurrent writers (many Lambda instances) never silently overwrite each other:

- `put_new`      only if the alias does not exist            -> `DuplicateAlias`
- `replace`      only if the stored version equals the record's -> `VersionConflict`
- `update_health` touches only `health` (and `version`); with `expected_version` it is a compare-and-set
                  for read-modify-write callers (the pool), without it a blind set of the health map.
- `cache_access_token` touches only the exchanged-JWT fields; two instances caching different valid
                  JWTs for the same key may both succeed, and either result is correct.
- `update_fields` sets only the named fields (admin edits: status, proxy, timezone, profile ...), so it
                  never undoes a concurrent write to any other field; `expected_version` makes it a CAS.
- `rename`       moves a record to a new alias in one transaction (Put new if absent + Delete old if
                  still at the version read): `DuplicateAlias` or `VersionConflict`, never a half-rename.

Attributes this code does not know are ignored on read, so a newer writer never breaks an older reader.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import MISSING, asdict, fields, replace
from decimal import Decimal
from typing import Any, Protocol

from cursor_gateway.domain.tokens import TokenHealth, TokenRecord
from cursor_gateway.errors import Conflict, GatewayError, NotFound
from cursor_gateway.storage.aws import key_can_exist

Clock = Callable[[], float]


class DuplicateAlias(Conflict):
    code = "duplicate_alias"


class VersionConflict(Conflict):
    code = "version_conflict"


class StorageUnavailable(GatewayError):
    status = 503
    code = "storage_unavailable"


class TokenStore(Protocol):
    def list(self) -> list[TokenRecord]:
        """Every token, oldest first (stable indexes for the admin list)."""
        ...

    def get(self, alias: str) -> TokenRecord | None: ...

    def put_new(self, record: TokenRecord) -> TokenRecord:
        """Store a new token with version 1; `DuplicateAlias` if the alias exists."""
        ...

    def replace(self, record: TokenRecord) -> TokenRecord:
        """Overwrite a token read earlier; `VersionConflict` if anyone wrote it since, `NotFound` if gone."""
        ...

    def update_health(
        self, alias: str, health: TokenHealth, *, expected_version: int | None = None
    ) -> TokenRecord: ...

    def cache_access_token(self, alias: str, token: str, expires_at: float) -> TokenRecord: ...

    def store_refreshed_session(self, alias: str, token: str, expires_at: float) -> TokenRecord:
        """Replace a session token by its refreshed JWT (shared by every instance from then on)."""
        ...

    def set_usable_models(self, alias: str, models: tuple[str, ...]) -> TokenRecord:
        """Store the account's usable model ids (touches only that field)."""
        ...

    def update_fields(
        self, alias: str, changes: Mapping[str, Any], *, expected_version: int | None = None
    ) -> TokenRecord:
        """Set only these `TokenRecord` fields; `NotFound` if the alias is gone, `VersionConflict` if
        `expected_version` is given and no longer current."""
        ...

    def rename(self, record: TokenRecord, new_alias: str) -> TokenRecord:
        """Move `record` (as read, with its version) to `new_alias`, atomically and only if nobody wrote it
        since: `DuplicateAlias`, `VersionConflict` or `NotFound` otherwise, and then nothing changed."""
        ...

    def delete(self, alias: str) -> bool: ...


# Fields `update_fields` may not set: the key, and what the store itself maintains.
_NOT_UPDATABLE = frozenset({"alias", "version", "updated_at"})


def _check_changes(changes: Mapping[str, Any]) -> None:
    unknown = set(changes) - set(_RECORD_FIELDS) | (set(changes) & _NOT_UPDATABLE)
    if unknown:
        raise ValueError(f"update_fields cannot set {sorted(unknown)}")


def _sorted(records: list[TokenRecord]) -> list[TokenRecord]:
    return sorted(records, key=lambda r: (r.created_at, r.alias))


class InMemoryTokenStore:
    """The same contract as `DynamoTokenStore`, for unit tests and fakes."""

    def __init__(self, records: list[TokenRecord] | None = None, *, clock: Clock = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._items: dict[str, TokenRecord] = {}
        for record in records or []:
            self.put_new(record)

    def list(self) -> list[TokenRecord]:
        with self._lock:
            return _sorted(list(self._items.values()))

    def get(self, alias: str) -> TokenRecord | None:
        with self._lock:
            return self._items.get(alias)

    def put_new(self, record: TokenRecord) -> TokenRecord:
        with self._lock:
            if record.alias in self._items:
                raise DuplicateAlias(f"Token alias '{record.alias}' already exists")
            stored = replace(record, version=1, updated_at=self._clock())
            self._items[record.alias] = stored
            return stored

    def replace(self, record: TokenRecord) -> TokenRecord:
        with self._lock:
            current = self._current(record.alias)
            if current.version != record.version:
                raise VersionConflict(f"Token '{record.alias}' changed concurrently; read it again")
            stored = replace(record, version=record.version + 1, updated_at=self._clock())
            self._items[record.alias] = stored
            return stored

    def update_health(
        self, alias: str, health: TokenHealth, *, expected_version: int | None = None
    ) -> TokenRecord:
        with self._lock:
            current = self._current(alias)
            if expected_version is not None and current.version != expected_version:
                raise VersionConflict(f"Token '{alias}' changed concurrently; read it again")
            stored = replace(current, health=health, version=current.version + 1, updated_at=self._clock())
            self._items[alias] = stored
            return stored

    def store_refreshed_session(self, alias: str, token: str, expires_at: float) -> TokenRecord:
        with self._lock:
            current = self._current(alias)
            stored = replace(
                current,
                primary_token=token,
                expires_at=expires_at,
                version=current.version + 1,
                updated_at=self._clock(),
            )
            self._items[alias] = stored
            return stored

    def cache_access_token(self, alias: str, token: str, expires_at: float) -> TokenRecord:
        with self._lock:
            current = self._current(alias)
            stored = replace(
                current,
                access_token=token,
                access_expires_at=expires_at,
                version=current.version + 1,
                updated_at=self._clock(),
            )
            self._items[alias] = stored
            return stored

    def set_usable_models(self, alias: str, models: tuple[str, ...]) -> TokenRecord:
        with self._lock:
            current = self._current(alias)
            stored = replace(
                current, usable_models=tuple(models), version=current.version + 1, updated_at=self._clock()
            )
            self._items[alias] = stored
            return stored

    def update_fields(
        self, alias: str, changes: Mapping[str, Any], *, expected_version: int | None = None
    ) -> TokenRecord:
        _check_changes(changes)
        with self._lock:
            current = self._current(alias)
            if expected_version is not None and current.version != expected_version:
                raise VersionConflict(f"Token '{alias}' changed concurrently; read it again")
            stored = replace(current, **changes, version=current.version + 1, updated_at=self._clock())
            self._items[alias] = stored
            return stored

    def rename(self, record: TokenRecord, new_alias: str) -> TokenRecord:
        with self._lock:
            current = self._current(record.alias)
            if new_alias in self._items:
                raise DuplicateAlias(f"Token alias '{new_alias}' already exists")
            if current.version != record.version:
                raise VersionConflict(f"Token '{record.alias}' changed concurrently; read it again")
            stored = replace(record, alias=new_alias, version=record.version + 1, updated_at=self._clock())
            del self._items[record.alias]
            self._items[new_alias] = stored
            return stored

    def delete(self, alias: str) -> bool:
        with self._lock:
            return self._items.pop(alias, None) is not None

    def _current(self, alias: str) -> TokenRecord:
        current = self._items.get(alias)
        if current is None:
            raise NotFound(f"Token '{alias}' does not exist")
        return current


# --- DynamoDB --------------------------------------------------------------------------------------

_RECORD_FIELDS = {f.name: f for f in fields(TokenRecord)}
_HEALTH_FIELDS = {f.name: f for f in fields(TokenHealth)}


def _number(value: float | int) -> dict[str, str]:
    # Decimal(repr(float)) keeps the shortest exact text; format "f" avoids exponents (1.7e9).
    text = format(Decimal(repr(value)), "f") if isinstance(value, float) else str(value)
    return {"N": text}


def _attr(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, dict):
        return {"M": {k: _attr(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [_attr(v) for v in value]}
    raise TypeError(f"cannot store {type(value).__name__}")


def _plain(attr: dict[str, Any]) -> Any:
    if "S" in attr:
        return attr["S"]
    if "N" in attr:
        return Decimal(attr["N"])
    if "BOOL" in attr:
        return attr["BOOL"]
    if "M" in attr:
        return {k: _plain(v) for k, v in attr["M"].items()}
    if "L" in attr:
        return [_plain(v) for v in attr["L"]]
    return None


def _coerce(value: Any, default: Any) -> Any:
    if isinstance(default, tuple):
        return tuple(str(v) for v in value) if isinstance(value, list) else default
    if isinstance(default, bool):
        return bool(value)
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    return value


def record_to_item(record: TokenRecord) -> dict[str, Any]:
    return {name: _attr(value) for name, value in asdict(record).items()}


def item_to_record(item: dict[str, Any]) -> TokenRecord:
    values: dict[str, Any] = {}
    for name, attr in item.items():
        spec = _RECORD_FIELDS.get(name)
        if spec is None:
            continue  # written by a newer version
        value = _plain(attr)
        if name == "health":
            values[name] = _health_from(value if isinstance(value, dict) else {})
        elif value is not None:
            values[name] = _coerce(value, spec.default if spec.default is not MISSING else "")
    return TokenRecord(**values)


def _health_from(value: dict[str, Any]) -> TokenHealth:
    defaults = TokenHealth()
    known = {
        k: _coerce(v, getattr(defaults, k)) for k, v in value.items() if k in _HEALTH_FIELDS and v is not None
    }
    return TokenHealth(**known)


class DynamoTokenStore:
    def __init__(self, table: str, *, client: Any = None, clock: Clock = time.time) -> None:
        self.table = table
        self._client = client
        self._clock = clock

    @property
    def client(self) -> Any:
        if self._client is None:
            from cursor_gateway.storage import aws

            self._client = aws.client("dynamodb")
        return self._client

    def list(self) -> list[TokenRecord]:
        records: list[TokenRecord] = []
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True}
        while True:
            page = self._call("scan", **kwargs)
            records.extend(item_to_record(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return _sorted(records)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get(self, alias: str) -> TokenRecord | None:
        if not key_can_exist(alias):
            return None
        answer = self._call("get_item", TableName=self.table, Key=self._key(alias), ConsistentRead=True)
        return item_to_record(answer["Item"]) if answer.get("Item") else None

    def put_new(self, record: TokenRecord) -> TokenRecord:
        stored = replace(record, version=1, updated_at=self._clock())
        try:
            self._call(
                "put_item",
                TableName=self.table,
                Item=record_to_item(stored),
                ConditionExpression="attribute_not_exists(alias)",
                conditional=True,
            )
        except _ConditionFailed:
            raise DuplicateAlias(f"Token alias '{record.alias}' already exists") from None
        return stored

    def replace(self, record: TokenRecord) -> TokenRecord:
        stored = replace(record, version=record.version + 1, updated_at=self._clock())
        try:
            self._call(
                "put_item",
                TableName=self.table,
                Item=record_to_item(stored),
                ConditionExpression="#v = :expected",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":expected": _number(record.version)},
                conditional=True,
            )
        except _ConditionFailed:
            raise self._why_failed(record.alias) from None
        return stored

    def update_health(
        self, alias: str, health: TokenHealth, *, expected_version: int | None = None
    ) -> TokenRecord:
        return self._update(alias, {"health": _attr(asdict(health))}, expected_version)

    def cache_access_token(self, alias: str, token: str, expires_at: float) -> TokenRecord:
        changes = {"access_token": _attr(token), "access_expires_at": _number(float(expires_at))}
        return self._update(alias, changes, None)

    def store_refreshed_session(self, alias: str, token: str, expires_at: float) -> TokenRecord:
        changes = {"primary_token": _attr(token), "expires_at": _number(float(expires_at))}
        return self._update(alias, changes, None)

    def set_usable_models(self, alias: str, models: tuple[str, ...]) -> TokenRecord:
        return self._update(alias, {"usable_models": _attr(list(models))}, None)

    def update_fields(
        self, alias: str, changes: Mapping[str, Any], *, expected_version: int | None = None
    ) -> TokenRecord:
        _check_changes(changes)
        sets = {
            name: _attr(asdict(value) if isinstance(value, TokenHealth) else value)
            for name, value in changes.items()
        }
        return self._update(alias, sets, expected_version)

    def rename(self, record: TokenRecord, new_alias: str) -> TokenRecord:
        from botocore.exceptions import BotoCoreError, ClientError

        stored = replace(record, alias=new_alias, version=record.version + 1, updated_at=self._clock())
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": record_to_item(stored),
                            "ConditionExpression": "attribute_not_exists(alias)",
                        }
                    },
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": self._key(record.alias),
                            "ConditionExpression": "#v = :expected",
                            "ExpressionAttributeNames": {"#v": "version"},
                            "ExpressionAttributeValues": {":expected": _number(record.version)},
                        }
                    },
                ],
                # Idempotent for 10 minutes: boto3's retry of a transaction whose answer was lost is a no-op.
                ClientRequestToken=uuid.uuid4().hex,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise StorageUnavailable(f"DynamoDB rename on {self.table} failed: {exc}") from exc
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons") or []]
            if reasons[:1] == ["ConditionalCheckFailed"] or (not reasons and self.get(new_alias)):
                raise DuplicateAlias(f"Token alias '{new_alias}' already exists") from None
            if len(reasons) > 1 and reasons[1] not in ("ConditionalCheckFailed", "None", None):
                raise StorageUnavailable(f"DynamoDB rename on {self.table} failed: {reasons}") from exc
            raise self._why_failed(record.alias) from None
        except BotoCoreError as exc:
            raise StorageUnavailable(f"DynamoDB rename on {self.table} failed: {exc}") from exc
        return stored

    def delete(self, alias: str) -> bool:
        if not key_can_exist(alias):
            return False
        answer = self._call("delete_item", TableName=self.table, Key=self._key(alias), ReturnValues="ALL_OLD")
        return bool(answer.get("Attributes"))

    # -- helpers --

    def _update(
        self, alias: str, sets: dict[str, dict[str, Any]], expected_version: int | None
    ) -> TokenRecord:
        """SET only the given attributes (plus version and updated_at): other fields are never rewritten."""
        if not key_can_exist(alias):
            raise NotFound(f"Token '{alias[:64]}' does not exist")
        names = {"#a": "alias", "#v": "version", "#u": "updated_at"}
        values: dict[str, Any] = {
            ":one": _number(1),
            ":zero": _number(0),
            ":now": _number(float(self._clock())),
        }
        write_id = uuid.uuid4().hex
        names["#w"] = "write_id"
        values[":w"] = {"S": write_id}
        assignments = ["#v = if_not_exists(#v, :zero) + :one", "#u = :now", "#w = :w"]
        for i, (name, value) in enumerate(sets.items()):
            names[f"#f{i}"] = name
            values[f":f{i}"] = value
            assignments.append(f"#f{i} = :f{i}")
        condition = "attribute_exists(#a)"
        if expected_version is not None:
            condition += " AND #v = :expected"
            values[":expected"] = _number(expected_version)
        try:
            answer = self._call(
                "update_item",
                TableName=self.table,
                Key=self._key(alias),
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                conditional=True,
            )
        except _ConditionFailed:
            landed = self._own_write_landed(alias, write_id)
            if landed is not None:
                return landed
            raise self._why_failed(alias) from None
        return item_to_record(answer["Attributes"])

    def _own_write_landed(self, alias: str, write_id: str) -> TokenRecord | None:
        """boto3 retries a request whose answer was lost; if the first attempt had applied, the retry
        fails its own version check. Each update stamps a fresh `write_id`, so finding ours on the item
        means the change did land (instead of reporting a conflict and having the caller apply it twice)."""
        item = self._call("get_item", TableName=self.table, Key=self._key(alias), ConsistentRead=True).get(
            "Item"
        )
        if item and item.get("write_id") == {"S": write_id}:
            return item_to_record(item)
        return None

    def _why_failed(self, alias: str) -> GatewayError:
        if self.get(alias) is None:
            return NotFound(f"Token '{alias}' does not exist")
        return VersionConflict(f"Token '{alias}' changed concurrently; read it again")

    @staticmethod
    def _key(alias: str) -> dict[str, Any]:
        return {"alias": {"S": alias}}

    def _call(self, operation: str, *, conditional: bool = False, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            result: dict[str, Any] = getattr(self.client, operation)(**kwargs)
            return result
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if conditional and code == "ConditionalCheckFailedException":
                raise _ConditionFailed from exc
            raise StorageUnavailable(f"DynamoDB {operation} on {self.table} failed: {code or exc}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"DynamoDB {operation} on {self.table} failed: {exc}") from exc


class _ConditionFailed(Exception):
    pass
