"""The account pool's repository contract: `TokenStore`, its errors and the in-memory twin.

The DynamoDB implementation is `storage.tokens_dynamo.DynamoTokenStore`. One record per alias;
`version` starts at 1 and grows by one on every write, and every write is conditional, so concurrent
writers (many Lambda instances) never silently overwrite each other:

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
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from typing import Any, Protocol

from cursor_gateway.domain.tokens import TokenHealth, TokenRecord
from cursor_gateway.errors import Conflict, GatewayError, NotFound

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


_RECORD_FIELDS = frozenset(f.name for f in fields(TokenRecord))
# Fields `update_fields` may not set: the key, and what the store itself maintains.
_NOT_UPDATABLE = frozenset({"alias", "version", "updated_at"})


def check_changes(changes: Mapping[str, Any]) -> None:
    """What every store's `update_fields` checks first: only known, updatable `TokenRecord` fields."""
    unknown = set(changes) - _RECORD_FIELDS | (set(changes) & _NOT_UPDATABLE)
    if unknown:
        raise ValueError(f"update_fields cannot set {sorted(unknown)}")


def oldest_first(records: list[TokenRecord]) -> list[TokenRecord]:
    """The order of `TokenStore.list` (stable indexes for the admin list)."""
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
            return oldest_first(list(self._items.values()))

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
        check_changes(changes)
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
