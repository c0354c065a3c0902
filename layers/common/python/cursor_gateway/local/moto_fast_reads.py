"""Cheaper moto reads for the local stack (installed with `moto_fast_paths.install_fast_paths`).

- a Query on a base table reads the one partition it names (kept sorted between Queries until a write
  touches it), bisects a BETWEEN on a string sort key and
  pages and projects as moto does, without deep-copying what the server serializes at once; other
  Queries get their candidates from that partition, or (on an index) by comparing raw attribute values,
  and moto's own code does the rest. moto walks every item of the table for every Query (~0.4 s at
  50,000 items, whatever the Limit).
- Query, Scan and GetItem answers without binary values are written with json.dumps: moto's
  shape-driven serializer costs ~50 us per attribute value (a 7-day page of counter items, 169 items
  of ~200 attributes, took 3-5 s to serialize). The JSON is the same document: the output members the
  operation declares, attribute values as DynamoDB JSON.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
from collections.abc import Callable
from typing import Any, cast

from moto.dynamodb.comparisons import OpDefault
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table
from moto.dynamodb.responses import DynamoResult

_original_query = Table.query
_original_put = Table.put_item
_original_delete = Table.delete_item
_original_execute = DynamoResult.execute_result
PLAIN_JSON_OPERATIONS = frozenset({"Query", "Scan", "GetItem"})


def blank_item() -> Item:
    """An Item without running its constructor (which measures the item on every attribute it sets)."""
    return cast(Item, Item.__new__(Item))  # moto's BaseModel.__new__ is typed as returning BaseModel


def install_fast_reads() -> None:
    """Call with moto_fast_paths' lock held (it is the only caller)."""
    Table.query = _query  # type: ignore[method-assign]  # moto's, with cheaper candidates
    Table.put_item = _put_item  # type: ignore[method-assign]  # moto's, noting the partition changed
    Table.delete_item = _delete_item  # type: ignore[method-assign]  # moto's, noting the partition changed
    DynamoResult.execute_result = _execute_result  # type: ignore[method-assign, assignment]  # moto's, json.dumps


def _query(self: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    conditions = kwargs.get("hash_key_conditions") or []
    if not index_name and hash_key is not None:
        answer = _base_query(self, hash_key, *args, **kwargs)
        if answer is not None:
            return answer
        candidates: Callable[[], list[Item]] = functools.partial(_partition, self, hash_key)
    elif index_name and len(conditions) == 1:
        candidates = functools.partial(_matching, self, conditions[0][0], conditions[0][1])
    else:
        return _original_query(self, hash_key, *args, **kwargs)
    # Table.query looks up `self.all_items()` to find its candidates; an instance attribute answers that
    # lookup for this call only. Reads run one at a time (moto_server.atomic_dynamodb_items).
    self.all_items = candidates  # type: ignore[method-assign]  # this call's candidates
    try:
        return _original_query(self, hash_key, *args, **kwargs)
    finally:
        del self.all_items


def _base_query(
    table: Table,
    hash_key: DynamoType,
    range_comparison: str | None,
    range_objs: list[DynamoType],
    limit: int | None,
    exclusive_start_key: dict[str, Any] | None,
    scan_index_forward: bool,
    projection_expressions: list[list[str]] | None,
    index_name: str | None = None,
    consistent_read: bool = False,
    filter_expression: Any = None,
    hash_key_conditions: Any = None,
    range_key_conditions: list[Any] | None = None,
    **filter_kwargs: Any,
) -> tuple[list[Item], int, dict[str, Any] | None] | None:
    """A base-table Query over string sort keys without filters, as moto answers it (same items, order,
    pages, 1 MB cut and LastEvaluatedKey), reading only the named partition and bisecting a BETWEEN;
    None for anything else. The items are not deep-copied: the server serializes them at once."""
    filtered = filter_expression is not None and not isinstance(filter_expression, OpDefault)
    if filter_kwargs or filtered or len(range_key_conditions or []) > 1:
        return None
    if not table.range_key_attr or (range_comparison and range_comparison != "BETWEEN"):
        return None
    if any(value.type != "S" for value in range_objs):
        return None
    part = _sorted(table, hash_key)
    if part is None or part.keys is None:
        return None
    items, keys = part.items, part.keys
    first, last = 0, len(items)
    if range_comparison:
        first, last = (
            bisect.bisect_left(keys, range_objs[0].value),
            bisect.bisect_right(keys, range_objs[1].value),
        )
    if exclusive_start_key is not None:
        start = exclusive_start_key.get(table.range_key_attr) or {}
        if set(start) != {"S"}:
            return None
        if scan_index_forward:
            first = max(first, bisect.bisect_right(keys, start["S"]))
        else:
            last = min(last, bisect.bisect_left(keys, start["S"]))
    available = max(0, last - first)
    wanted = available if limit is None else min(available, limit)
    # moto adds items while the page stays within `limit` items and 1 MB: on the running sums, a bisect.
    sums = part.sums()
    if scan_index_forward:
        begin = first
        end = bisect.bisect_right(sums, sums[first] + RESULT_SIZE_LIMIT, first, first + wanted + 1) - 1
        results = items[begin:end]
    else:
        end = last
        begin = bisect.bisect_left(sums, sums[last] - RESULT_SIZE_LIMIT, last - wanted, last + 1)
        results = items[begin:end][::-1]
    total = sums[end] - sums[begin]
    # moto checks the limit and the 1 MB before the range: a page that ends at `limit` has a
    # LastEvaluatedKey whenever any item of the partition follows it, in the range or not, and so has one
    # that ends with the range when a later item would not have fit.
    after = len(items) - (first + len(results)) if scan_index_forward else last - len(results)
    following = part.largest_from(last) if scan_index_forward else part.largest_before(first)
    last_key = None
    if results and (
        len(results) < available
        or (len(results) == limit and after > 0)
        or (len(results) == available and total + following > RESULT_SIZE_LIMIT)
    ):
        last_key = table._get_last_evaluated_key(results[-1], None)
    scanned = len(results)
    if projection_expressions:
        results = [_projected(item, projection_expressions) for item in results]
    return results, scanned, last_key


def _projected(item: Item, projection_expressions: list[list[str]]) -> Item:
    if any(len(path) != 1 for path in projection_expressions):
        return item.project(projection_expressions)  # nested paths: moto's own
    projected = blank_item()
    projected.hash_key, projected.range_key = item.hash_key, item.range_key
    values = LimitedSizeDict.__new__(LimitedSizeDict)
    names = [path[0] for path in projection_expressions]
    dict.__init__(values, ((name, item.attrs[name]) for name in names if name in item.attrs))
    projected.attrs = values
    return projected


class _Sorted:
    """One partition's items in sort-key order, their keys and (on first use) the running sums of their
    sizes. Kept between Queries (the pages of a listing or of a count) until a write touches the
    partition: building it costs a sort and a pass over every item."""

    def __init__(self, generation: int, items: list[Item], keys: list[str] | None) -> None:
        self.generation, self.items, self.keys = generation, items, keys
        self._sums: list[int] | None = None
        self._sizes: list[int] = []
        self._largest_from: list[int] = []
        self._largest_before: list[int] = []

    def sums(self) -> list[int]:
        if self._sums is None:
            self._sizes = [_size(item) for item in self.items]
            self._sums = [0, *itertools.accumulate(self._sizes)]
            largest_from = [*itertools.accumulate(reversed(self._sizes), max)][::-1]
            self._largest_from = [*largest_from, 0]
            self._largest_before = [0, *itertools.accumulate(self._sizes, max)]
        return self._sums

    def largest_from(self, index: int) -> int:
        """The largest item size at or after `index` (0 when none)."""
        self.sums()
        return self._largest_from[index]

    def largest_before(self, index: int) -> int:
        """The largest item size before `index` (0 when none)."""
        self.sums()
        return self._largest_before[index]


def _partition(table: Table, hash_key: DynamoType) -> list[Item]:
    found = table.items.get(hash_key)
    if found is None:
        return []
    if not table.range_key_attr:
        return [cast(Item, found)]
    part = _sorted(table, hash_key)
    return part.items if part is not None else list(found.values())


def _sorted(table: Table, hash_key: DynamoType) -> _Sorted | None:
    """The partition as _Sorted (empty when absent); None when a sort key is not a string."""
    key = _raw(hash_key)
    found = table.items.get(hash_key) or {}
    cache: dict[Any, _Sorted] = vars(table).setdefault("_cg_sorted", {})
    generation = vars(table).get("_cg_changes", {}).get(key, 0)
    kept = cache.get(key)
    if kept is not None and kept.generation == generation and len(kept.items) == len(found):
        return kept if kept.keys is not None else None
    items = list(found.values())
    keys = None
    if all(item.range_key is not None and item.range_key.type == "S" for item in items):
        items.sort(key=lambda item: item.range_key.value)  # checked above: never None
        keys = [item.range_key.value for item in items]
    cache[key] = _Sorted(generation, items, keys)
    return cache[key] if keys is not None else None


def changed(table: Any, hash_key: DynamoType) -> None:
    """A write added, replaced, changed or removed an item of this partition."""
    changes: dict[Any, int] = vars(table).setdefault("_cg_changes", {})
    key = _raw(hash_key)
    changes[key] = changes.get(key, 0) + 1


def _raw(value: DynamoType) -> Any:
    return value.type, value.value if isinstance(value.value, str | bytes) else repr(value.value)


def _put_item(self: Table, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return _original_put(self, item_attrs, *args, **kwargs)
    finally:
        if self.hash_key_attr in item_attrs:
            changed(self, DynamoType(item_attrs[self.hash_key_attr]))


def _delete_item(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Any:
    try:
        return _original_delete(self, hash_key, range_key)
    finally:
        changed(self, hash_key)


def _size(item: Item) -> int:
    """Item.size() (what the 1 MB page cut counts), a few times faster for string and number values."""
    total = 0
    for name, value in item.attrs.items():
        if value.type == "S":
            total += len(name.encode()) + len(value.value.encode())
        elif value.type == "N":
            total += len(name.encode()) + len(str(value.value))
        else:
            return int(item.size())
    return total


def _matching(table: Table, attribute: str, value: DynamoType) -> list[Item]:
    kind, raw = value.type, value.value
    found = []
    for partition in table.items.values():
        for item in cast(list[Item], partition.values() if table.range_key_attr else [partition]):
            candidate = item.attrs.get(attribute)
            if candidate is not None and candidate.type == kind and candidate.value == raw:
                found.append(item)
    return found


# -- answers ----------------------------------------------------------------------------------------------


def _execute_result(self: DynamoResult, context: Any) -> Any:
    operation = context.operation_model
    result = self.result
    if operation.name not in PLAIN_JSON_OPERATIONS or not isinstance(result, dict):
        return _original_execute(self, context)
    members = operation.output_shape.members if operation.output_shape is not None else {}
    body = {name: value for name, value in result.items() if name in members and value is not None}
    if not all(_plain(value) for value in body.values()):
        return _original_execute(self, context)  # binary values: moto base64-encodes them
    version = operation.service_model.metadata.get("jsonVersion", "1.0")
    return 200, {"Content-Type": f"application/x-amz-json-{version}"}, json.dumps(body)


def _plain(value: Any) -> bool:
    """No binary attribute value anywhere inside (those are the only values the serializer rewrites)."""
    if isinstance(value, dict):
        return not ("B" in value or "BS" in value) and all(_plain(v) for v in value.values())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return True
