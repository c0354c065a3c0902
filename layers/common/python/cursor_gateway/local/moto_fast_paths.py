"""Cheaper versions of the moto operations the request log and the usage counters lean on (local stack only).

Same answers as moto, a fraction of its CPU; every case outside the narrow shapes below goes to moto's
own code unchanged. They matter because moto serves `make run` from inside the gateway's process, so its
CPU is taken from the event loop (the GIL):

- an UpdateItem (alone or in a TransactWriteItems) whose expression is only `SET #n = :v` and
  `ADD #n :number` clauses on top-level attributes, without a condition: moto parses it twice, copies the
  syntax tree, walks it with seven validators and re-measures the whole item on every attribute it sets
  (quadratic). A completion's counter transaction (10 such updates, up to ~30 clauses each) cost
  70-340 ms of moto CPU; applied directly it costs about 1 ms. What is checked stays checked: every
  placeholder defined, no attribute named twice, no key attribute changed, ADD only onto a number (or
  nothing), the 400 KB item limit; anything else (or any doubt) is left to moto, which raises its error.
- parsed update expressions are cached by their text (moto's validator deep-copies the tree it is
  given, and the request handler only reads it), so the handler's own parse costs a lookup.
- reads: `moto_fast_reads`.
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.utilities import bytesize
from moto.dynamodb.parsing.expressions import (  # type: ignore[attr-defined]  # untyped re-export
    UpdateExpressionParser,
)

from cursor_gateway.local.moto_fast_reads import changed, install_fast_reads
from cursor_gateway.local.moto_tables import table_name as table_name_of

_NAME = r"(?:#[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*)"
_SET_CLAUSE = re.compile(rf"\s*({_NAME})\s*=\s*(:[A-Za-z0-9_]+)\s*")
_ADD_CLAUSE = re.compile(rf"\s*({_NAME})\s+(:[A-Za-z0-9_]+)\s*")
_SECTION = re.compile(r"\b(SET|ADD)\b", re.IGNORECASE)
_ZERO = DynamoType({"N": "0"})
ITEM_SIZE_LIMIT = 405_000  # moto's (DynamoDB's 400 KB, measured at 409-410 KB)

_installed = threading.Lock()
_original_update = DynamoDBBackend.update_item
_original_make = UpdateExpressionParser.make


def install_fast_paths() -> None:
    """Idempotent; affects every moto backend in this process (all of them are embedded servers)."""
    with _installed:
        if DynamoDBBackend.update_item is _update_item:
            return
        DynamoDBBackend.update_item = _update_item  # type: ignore[method-assign]  # moto's, narrowed
        UpdateExpressionParser.make = _cached_make  # moto's, memoised
        install_fast_reads()


@functools.lru_cache(maxsize=512)
def _parse(expression: str) -> Any:
    return _original_make(expression)


def _cached_make(expression: str) -> Any:
    return _parse(expression)


# -- UpdateItem ---------------------------------------------------------------------------------------


def _simple_actions(expression: str) -> list[tuple[str, str, str]] | None:
    """[(SET|ADD, name or #placeholder, :value)] when the expression is only such clauses, else None."""
    parts = _SECTION.split(expression)
    if parts[0].strip() or len(parts) < 3:
        return None
    actions: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for keyword, body in zip(parts[1::2], parts[2::2], strict=True):
        kind = keyword.upper()
        if kind in seen:
            return None  # a section given twice is an error moto reports
        seen.add(kind)
        pattern = _SET_CLAUSE if kind == "SET" else _ADD_CLAUSE
        for clause in body.split(","):
            match = pattern.fullmatch(clause)
            if match is None:
                return None
            actions.append((kind, match.group(1), match.group(2)))
    return actions


def _update_item(
    self: DynamoDBBackend,
    table_name: str,
    key: dict[str, dict[str, Any]],
    update_expression: str,
    expression_attribute_names: dict[str, Any],
    expression_attribute_values: dict[str, Any],
    attribute_updates: dict[str, Any] | None = None,
    expected: dict[str, Any] | None = None,
    condition_expression: str | None = None,
    return_values_on_condition_check_failure: str | None = None,
) -> Item:
    try:
        if not (attribute_updates or expected or condition_expression) and update_expression:
            applied = _apply_simple_update(
                self, table_name, key, update_expression, expression_attribute_names or {},
                expression_attribute_values or {},
            )  # fmt: skip
            if applied is not None:
                return applied
        return _original_update(
            self,
            table_name,
            key,
            update_expression,
            expression_attribute_names,
            expression_attribute_values,
            attribute_updates,
            expected,
            condition_expression,
            return_values_on_condition_check_failure,
        )
    finally:
        table = self.tables.get(table_name_of(table_name))
        if table is not None and table.hash_key_attr in key:
            changed(table, DynamoType(key[table.hash_key_attr]))  # moto_fast_reads keeps sizes


def _apply_simple_update(
    backend: DynamoDBBackend,
    table_name: str,
    key: dict[str, dict[str, Any]],
    expression: str,
    names: dict[str, str],
    values: dict[str, dict[str, Any]],
) -> Item | None:
    """The updated item, or None when this update is not one the fast path may apply (nothing changed)."""
    actions = _simple_actions(expression)
    if actions is None:
        return None
    table = backend.get_table(table_name)
    if table.stream_shard is not None or set(key) != set(table.table_key_attrs):
        return None
    resolved: list[tuple[str, str, DynamoType]] = []
    for kind, name, placeholder in actions:
        attribute = names.get(name) if name.startswith("#") else name
        raw = values.get(placeholder)
        if attribute is None or not isinstance(raw, dict) or len(raw) != 1:
            return None
        value = DynamoType(raw)
        if kind == "ADD" and value.type != "N":
            return None  # sets: moto's own ADD
        resolved.append((kind, attribute, value))
    attributes = [attribute for _, attribute, _ in resolved]
    if len(set(attributes)) != len(attributes) or set(attributes) & set(table.table_key_attrs):
        return None  # overlapping paths or a key attribute: moto raises the ValidationException
    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    item = table.get_item(hash_value, range_value)
    current = dict(item.attrs) if item is not None else {}
    for kind, attribute, value in resolved:
        if kind == "SET":
            current[attribute] = value
            continue
        existing = current.get(attribute)
        if existing is not None and existing.type != "N":
            return None  # ADD onto a non-number: moto's IncorrectDataType
        current[attribute] = (existing or _ZERO) + value  # moto's arithmetic and number format
    if item is None:
        table.put_item({k: key[k] for k in table.table_key_attrs})  # what moto does for a new item
        item = table.get_item(hash_value, range_value)
        if item is None:
            return None
        current = {**item.attrs, **current}
    if sum(bytesize(name) + value.size() for name, value in current.items()) > ITEM_SIZE_LIMIT:  # Item.size
        return None  # moto raises ItemSizeToUpdateTooLarge (and keeps the item as it was)
    # Item.attrs is a LimitedSizeDict whose __setitem__ re-measures the item: fill it as a plain dict.
    dict.clear(item.attrs)
    dict.update(item.attrs, current)
    return item
