"""The local stack's moto fast paths answer exactly as moto does: the same Query pages (items, order,
Count, LastEvaluatedKey, projection) and the same items after SET/ADD updates, checked against moto's own
code on the same data; what they do not handle they leave to moto (errors included)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from cursor_gateway.local import moto_fast_paths, moto_fast_reads
from moto import mock_aws
from moto.dynamodb.comparisons import OpDefault
from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        for name in ("a", "b"):
            client.create_table(
                TableName=name,
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
        rng = random.Random(3)
        for i in range(300):
            item = {
                "pk": {"S": f"P{i % 3}"},
                "sk": {"S": f"{rng.randrange(10**6):07d}#{i}"},
                # sizes vary so the 1 MB cut falls in different places
                "doc": {"S": "x" * rng.choice([10, 5_000, 60_000])},
                "n": {"N": str(i)},
            }
            client.put_item(TableName="a", Item=item)
        yield dynamodb_backends[ACCOUNT][REGION]


def _page(answer: tuple[list[Any], int, Any]) -> tuple[list[dict[str, Any]], int, Any]:
    items, scanned, last = answer
    return [item.to_json()["Attributes"] for item in items], scanned, last


def _same_key(last: Any) -> Any:
    return (
        None
        if last is None
        else {name: DynamoType(value) if isinstance(value, dict) else value for name, value in last.items()}
    )


def test_base_table_queries_match_moto(backend: Any) -> None:
    table = backend.get_table("a")
    rng = random.Random(5)
    for _ in range(200):
        hash_key = DynamoType({"S": f"P{rng.randrange(4)}"})  # P3 does not exist
        bounds = sorted(f"{rng.randrange(10**6):07d}" for _ in range(2))
        between = rng.random() < 0.7
        comparison, values = ("BETWEEN", [DynamoType({"S": b}) for b in bounds]) if between else (None, [])
        limit = rng.choice([None, 1, 3, 17, 100])
        forward = rng.random() < 0.5
        projection = rng.choice([None, [["doc"]], [["n"], ["missing"]]])
        start = None
        if rng.random() < 0.4:
            start = {
                "pk": {"S": hash_key.value},
                "sk": {"S": f"{rng.randrange(10**6):07d}#{rng.randrange(300)}"},
            }
        args = (comparison, values, limit, start, forward, projection, None, False, OpDefault(None, None))
        fast = moto_fast_reads._base_query(
            table, hash_key, *args, hash_key_conditions=[], range_key_conditions=[]
        )
        assert fast is not None
        slow = moto_fast_reads._original_query(
            table, hash_key, *args, hash_key_conditions=[], range_key_conditions=[]
        )
        fast_items, fast_scanned, fast_last = _page(fast)
        slow_items, slow_scanned, slow_last = _page(slow)
        assert fast_items == slow_items
        assert fast_scanned == slow_scanned
        assert _same_key(fast_last) == _same_key(slow_last)


def test_a_write_refreshes_the_kept_partition(backend: Any) -> None:
    table = backend.get_table("a")
    hash_key = DynamoType({"S": "P0"})
    before = len(moto_fast_reads._partition(table, hash_key))
    table.put_item({"pk": {"S": "P0"}, "sk": {"S": "0000000#new"}, "n": {"N": "1"}})
    after = moto_fast_reads._partition(table, hash_key)
    assert len(after) == before + 1 and after[0].range_key.value == "0000000#new"
    table.delete_item(hash_key, DynamoType({"S": "0000000#new"}))
    assert len(moto_fast_reads._partition(table, hash_key)) == before


UPDATES = [
    (
        "SET #a = :a ADD #b :b, #c :c",
        {"#a": "label", "#b": "count", "#c": "fresh"},
        {":a": {"S": "x"}, ":b": {"N": "2"}, ":c": {"N": "1.50"}},
    ),
    ("ADD #b :b SET #a = :a", {"#a": "label", "#b": "count"}, {":a": {"S": ""}, ":b": {"N": "-7"}}),
    ("SET plain = :a", {}, {":a": {"N": "05"}}),
    ("ADD #b :b", {"#b": "count"}, {":b": {"N": "3"}}),
]


@pytest.mark.parametrize(("expression", "names", "values"), UPDATES)
@pytest.mark.parametrize("exists", [True, False])
def test_simple_updates_match_moto(
    backend: Any, expression: str, names: dict[str, str], values: dict[str, Any], exists: bool
) -> None:
    key = {"pk": {"S": "K"}, "sk": {"S": "1"}}
    if exists:
        for name in ("a", "b"):
            backend.get_table(name).put_item({**key, "count": {"N": "10"}, "label": {"S": "old"}})
    fast = moto_fast_paths._apply_simple_update(backend, "a", key, expression, names, values)
    assert fast is not None
    slow = moto_fast_paths._original_update(backend, "b", key, expression, names, values)
    assert fast.to_json() == slow.to_json()


@pytest.mark.parametrize(
    ("expression", "names", "values"),
    [
        ("SET #a = :a, #a = :b", {"#a": "x"}, {":a": {"S": "1"}, ":b": {"S": "2"}}),  # overlapping paths
        ("SET #k = :a", {"#k": "sk"}, {":a": {"S": "1"}}),  # a key attribute
        ("ADD #a :a", {"#a": "label"}, {":a": {"N": "1"}}),  # ADD onto a string
        ("SET #a = :missing", {"#a": "x"}, {}),  # undefined value
        ("SET #a = #b + :a", {"#a": "x", "#b": "y"}, {":a": {"N": "1"}}),  # arithmetic: moto's own
        ("REMOVE #a", {"#a": "label"}, {}),
        ("ADD #s :s", {"#s": "tags"}, {":s": {"SS": ["a"]}}),  # sets: moto's own
    ],
)
def test_other_updates_are_left_to_moto(
    backend: Any, expression: str, names: dict[str, str], values: dict[str, Any]
) -> None:
    key = {"pk": {"S": "K"}, "sk": {"S": "1"}}
    backend.get_table("a").put_item({**key, "label": {"S": "old"}})
    before = backend.get_table("a").get_item(DynamoType(key["pk"]), DynamoType(key["sk"])).to_json()
    assert moto_fast_paths._apply_simple_update(backend, "a", key, expression, names, values) is None
    after = backend.get_table("a").get_item(DynamoType(key["pk"]), DynamoType(key["sk"])).to_json()
    assert after == before  # nothing applied: moto answers (or raises) as before


def test_an_invalid_update_still_raises_moto_error(backend: Any) -> None:
    key = {"pk": {"S": "K"}, "sk": {"S": "1"}}
    with pytest.raises(MockValidationException):
        moto_fast_paths._update_item(backend, "a", key, "SET #k = :a", {"#k": "sk"}, {":a": {"S": "1"}})
