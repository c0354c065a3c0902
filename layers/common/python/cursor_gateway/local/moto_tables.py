"""The embedded moto's DynamoDB tables, reached in-process (local stack only).

`local.state` persists what each write changed. Reading the changed items back through the HTTP API
would cost a second round trip per write, and loading 100,000 saved items through BatchWriteItem takes
minutes; here both are dictionary operations on moto's own tables (moto runs in this process).

Also here: a TransactWriteItems whose cost does not depend on the table's size. moto backs up every
table a transaction touches with `copy.deepcopy(table)` so it can roll back a cancelled transaction:
6.5 s per 3-item transaction at 100,000 items (measured). `install_item_rollback` makes that backup a
copy of the items the transaction names instead; DynamoDB writes are serialized
(`moto_server.serialize_dynamodb_writes`), so nothing else changes the table in between.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table

from cursor_gateway.local.moto_fast_reads import blank_item, changed


def table_name(value: str) -> str:
    # Newer API versions accept a table ARN wherever a name goes.
    return value.rsplit("table/", 1)[-1] if value.startswith("arn:") else value


class MotoTables:
    def __init__(self, account: str, region: str) -> None:
        self._backend = dynamodb_backends[account][region]

    def _table(self, name: str) -> Any:
        return self._backend.get_table(table_name(name))

    def key_attributes(self, name: str) -> list[str]:
        table = self._table(name)
        return [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])

    def get(self, name: str, key: dict[str, Any]) -> dict[str, Any] | None:
        table = self._table(name)
        hash_value, range_value = _key_values(table, key)
        item = table.get_item(hash_value, range_value)
        return None if item is None else item.to_json()["Attributes"]

    def load(self, name: str, items: Iterable[dict[str, Any]]) -> int:
        """Put saved items straight into the table: they were validated when first written."""
        table = self._table(name)
        loaded = 0
        for attrs in items:
            hash_value, range_value = _key_values(table, attrs)
            item = _validated_item(hash_value, range_value, attrs)
            if range_value is None:
                table.items[hash_value] = item
            else:
                table.items[hash_value][range_value] = item
            changed(table, hash_value)
            loaded += 1
        return loaded

    def items(self, name: str) -> Iterator[dict[str, Any]]:
        # Table.all_items, not the instance's: a Query in flight may narrow it (moto_fast_paths).
        for item in Table.all_items(self._table(name)):
            yield item.to_json()["Attributes"]


def moto_object(account: str, bucket: str, key: str) -> tuple[str, str, bytes] | None:
    """(ETag, Content-Type, body) of an object of the embedded moto's S3, read in-process (the local
    state saves every object written: through the HTTP API that was a second request per write);
    None when there is no such object (or a delete marker is the current version)."""
    from moto.s3.models import FakeKey, s3_backends

    found = s3_backends[account]["global"].get_object(bucket, key)
    if not isinstance(found, FakeKey):
        return None
    return found.etag, str(found.metadata.get("Content-Type", "")), found.value


def _validated_item(hash_value: DynamoType, range_value: DynamoType | None, attrs: dict[str, Any]) -> Item:
    """`Item(...)` without its size check, which re-measures the whole item on every attribute it sets
    (quadratic; 95% of a 100,000-item load). moto's own Item.__deepcopy__ skips it the same way."""
    item = blank_item()
    item.hash_key, item.range_key = hash_value, range_value
    values = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(values, ((name, _dynamo_type(value)) for name, value in attrs.items()))
    item.attrs = values
    return item


def _dynamo_type(value: dict[str, Any]) -> DynamoType:
    """DynamoType(value), a third of the cost for scalars and sets (lists and maps nest: moto builds them)."""
    ((kind, inner),) = value.items()
    if kind in ("L", "M"):
        return DynamoType(value)
    made = DynamoType.__new__(DynamoType)
    made.type, made.value = kind, inner
    return made


def _key_values(table: Any, attrs: dict[str, Any]) -> tuple[DynamoType, DynamoType | None]:
    hash_value = DynamoType(attrs[table.hash_key_attr])
    range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
    return hash_value, range_value


# --- TransactWriteItems without whole-table backups -------------------------------------------------

_installed = threading.Lock()
_original_transact = DynamoDBBackend.transact_write_items


def install_item_rollback() -> None:
    """Idempotent; affects every moto backend in this process (all of them are embedded servers)."""
    with _installed:
        if DynamoDBBackend.transact_write_items is not _transact_with_item_rollback:
            DynamoDBBackend.transact_write_items = _transact_with_item_rollback  # type: ignore[method-assign]


def _transact_with_item_rollback(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    try:
        saved, tables = _backup_named_items(self, transact_items)
    except Exception:
        # Something moto itself will reject (missing key, unknown table): let it answer as it does.
        return _original_transact(self, transact_items)
    for table in tables:
        # An instance attribute is what copy.deepcopy looks up: moto's "backup" is the table itself,
        # and its "rollback" puts the same table back; the items are restored below instead.
        table.__deepcopy__ = lambda memo, same=table: same
    try:
        return _original_transact(self, transact_items)
    except BaseException:
        # Reverse order: when an item is named twice (moto rejects that), its first copy wins.
        for table, hash_value, range_value, item in reversed(saved):
            _put_back(table, hash_value, range_value, item)
        raise
    finally:
        for table in tables:
            vars(table).pop("__deepcopy__", None)


def _backup_named_items(
    backend: DynamoDBBackend, transact_items: list[dict[str, Any]]
) -> tuple[list[tuple[Any, DynamoType, DynamoType | None, Item | None]], list[Any]]:
    saved: list[tuple[Any, DynamoType, DynamoType | None, Item | None]] = []
    tables: dict[int, Any] = {}
    for entry in transact_items:
        operation = next(iter(entry.values()))
        table = backend.get_table(table_name(str(operation["TableName"])))
        hash_value, range_value = _key_values(table, operation.get("Item") or operation["Key"])
        saved.append((table, hash_value, range_value, _copied(table.get_item(hash_value, range_value))))
        tables[id(table)] = table
    return saved, list(tables.values())


def _copied(item: Item | None) -> Item | None:
    """A copy as good as copy.deepcopy for a rollback, at a third of its cost: scalar values (strings,
    numbers, binary) are immutable, so only lists, maps and sets are copied deeply."""
    if item is None:
        return None
    copied = blank_item()
    copied.hash_key, copied.range_key = item.hash_key, item.range_key
    values = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(
        values,
        ((name, _dynamo_type({value.type: value.value}) if value.type in _SCALARS else copy.deepcopy(value))
         for name, value in item.attrs.items()),
    )  # fmt: skip
    copied.attrs = values
    return copied


_SCALARS = frozenset({"S", "N", "B", "BOOL", "NULL"})


def _put_back(table: Any, hash_value: DynamoType, range_value: DynamoType | None, item: Item | None) -> None:
    changed(table, hash_value)
    if range_value is None:
        if item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item
    elif item is None:
        table.items[hash_value].pop(range_value, None)
    else:
        table.items[hash_value][range_value] = item
