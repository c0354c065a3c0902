"""`update_fields` and `rename` of the TokenStore contract, against DynamoDB (a moto server, as the local
stack runs it) and the in-memory twin: they must behave the same."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from cursor_gateway.domain.tokens import TokenHealth, TokenRecord
from cursor_gateway.errors import NotFound
from cursor_gateway.local.moto_server import EmbeddedMoto
from cursor_gateway.local.template import load_template, local_resources
from cursor_gateway.storage.tokens import (
    DuplicateAlias,
    InMemoryTokenStore,
    TokenStore,
    VersionConflict,
)
from cursor_gateway.storage.tokens_dynamo import DynamoTokenStore
from fakes.jwts import NOW, make_jwt

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = EmbeddedMoto("127.0.0.1", 0)
    endpoint = server.start()
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, moto_endpoint: str) -> TokenStore:
    if request.param == "memory":
        return InMemoryTokenStore(clock=lambda: NOW)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("dynamodb", region_name=REGION, endpoint_url=moto_endpoint)
    tables, _ = local_resources(load_template(ROOT / "template.yaml"), region=REGION)
    spec = next(t for t in tables if t.logical_id == "TokensTable")
    name = f"tokens-{uuid.uuid4().hex[:8]}"
    client.create_table(TableName=name, **spec.create_args)
    return DynamoTokenStore(name, client=client, clock=lambda: NOW)


def record(alias: str, **changes: Any) -> TokenRecord:
    base = TokenRecord(
        alias=alias,
        kind="session",
        primary_token=make_jwt(user_id=f"user_{alias}"),
        client_key="ab" * 32,
        timezone="Europe/Paris",
        created_at=NOW,
    )
    return replace(base, **changes)


def test_update_fields_sets_only_what_it_names(store: TokenStore) -> None:
    v1 = store.put_new(record("a", proxy="p1"))
    store.update_health("a", TokenHealth("cooling_down", "429", NOW + 60, 0.5, 1))  # someone else: v2
    updated = store.update_fields(
        "a",
        {"status": "disabled", "timezone": "", "usable_models": ("m1", "m2"), "trial_days_remaining": 3},
    )
    assert updated.version == 3
    assert (updated.status, updated.timezone, updated.usable_models, updated.trial_days_remaining) == (
        "disabled",
        "",
        ("m1", "m2"),
        3,
    )
    assert updated.health.state == "cooling_down"  # the other writer's change survives
    assert updated.proxy == "p1" and updated.primary_token == v1.primary_token
    assert store.get("a") == updated


def test_update_fields_can_be_a_compare_and_set(store: TokenStore) -> None:
    store.put_new(record("a"))
    store.update_fields("a", {"proxy": "x"})  # v2
    with pytest.raises(VersionConflict):
        store.update_fields("a", {"proxy": "stale"}, expected_version=1)
    assert store.get("a").proxy == "x"  # type: ignore[union-attr]
    assert store.update_fields("a", {"health": TokenHealth(score=0.5)}, expected_version=2).version == 3
    assert store.get("a").health == TokenHealth(score=0.5)  # type: ignore[union-attr]


def test_update_fields_never_creates_and_refuses_managed_fields(store: TokenStore) -> None:
    with pytest.raises(NotFound):
        store.update_fields("ghost", {"proxy": "x"})
    assert store.get("ghost") is None
    store.put_new(record("a"))
    for bad in ({"alias": "b"}, {"version": 9}, {"no_such_field": 1}):
        with pytest.raises(ValueError):
            store.update_fields("a", bad)


def test_rename_keeps_the_record(store: TokenStore) -> None:
    v1 = store.put_new(record("old", proxy="p1", usable_models=("m",)))
    renamed = store.rename(v1, "new")
    assert renamed.alias == "new" and renamed.version == 2
    assert store.get("old") is None
    assert store.get("new") == renamed
    assert replace(renamed, alias="old", version=1, updated_at=v1.updated_at) == v1
    assert [r.alias for r in store.list()] == ["new"]


def test_rename_onto_an_existing_alias_changes_nothing(store: TokenStore) -> None:
    a = store.put_new(record("a"))
    b = store.put_new(record("b"))
    with pytest.raises(DuplicateAlias):
        store.rename(a, "b")
    assert store.get("a") == a and store.get("b") == b


def test_rename_of_a_record_changed_since_it_was_read_conflicts(store: TokenStore) -> None:
    a = store.put_new(record("a"))
    store.update_fields("a", {"status": "disabled"})  # a concurrent admin edit
    with pytest.raises(VersionConflict):
        store.rename(a, "b")
    assert store.get("b") is None
    assert store.get("a").status == "disabled"  # type: ignore[union-attr]


def test_rename_of_a_deleted_record_is_not_found(store: TokenStore) -> None:
    a = store.put_new(record("a"))
    store.delete("a")
    with pytest.raises(NotFound):
        store.rename(a, "b")
    assert store.list() == []


def test_parallel_edits_and_health_updates_on_one_token_lose_nothing(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Admin edits (`update_fields` on their own fields) and live-traffic health updates (compare-and-set,
    retried) hammer one token from many threads, as many Lambda instances would; every write survives."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("dynamodb", region_name=REGION, endpoint_url=moto_endpoint)
    tables, _ = local_resources(load_template(ROOT / "template.yaml"), region=REGION)
    spec = next(t for t in tables if t.logical_id == "TokensTable")
    name = f"tokens-{uuid.uuid4().hex[:8]}"
    client.create_table(TableName=name, **spec.create_args)
    store = DynamoTokenStore(name, client=client)
    store.put_new(record("a"))
    rounds, counters = 8, 4
    editors = {"timezone": "Zone/{}", "proxy": "proxy-{}", "config_version": "cv-{}", "gcpp_host": "host-{}"}
    errors: list[BaseException] = []

    def edit(field: str, pattern: str) -> None:
        try:
            for i in range(rounds):
                store.update_fields("a", {field: pattern.format(i)})
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    def count() -> None:
        try:
            for _ in range(rounds):
                while True:
                    current = store.get("a")
                    assert current is not None
                    health = replace(
                        current.health, consecutive_failures=current.health.consecutive_failures + 1
                    )
                    try:
                        store.update_health("a", health, expected_version=current.version)
                        break
                    except VersionConflict:
                        continue
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=edit, args=item) for item in editors.items()]
    threads += [threading.Thread(target=count) for _ in range(counters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    final = store.get("a")
    assert final is not None
    assert final.health.consecutive_failures == rounds * counters
    for field, pattern in editors.items():
        assert getattr(final, field) == pattern.format(rounds - 1)
    assert final.version == 1 + rounds * (len(editors) + counters)
