"""TokenStore contract, run against DynamoDB (moto) and the in-memory twin: they must behave the same.

The table is created from template.yaml itself, so the template's key schema is what is tested."""

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
from moto import mock_aws

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


class Clock:
    now = NOW

    def __call__(self) -> float:
        return self.now


def create_tokens_table(client: Any, name: str | None = None) -> str:
    tables, _ = local_resources(load_template(ROOT / "template.yaml"), region=REGION)
    spec = next(t for t in tables if t.logical_id == "TokensTable")
    client.create_table(TableName=name or spec.name, **spec.create_args)
    return name or spec.name


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest, aws_env: None) -> Iterator[TokenStore]:
    if request.param == "memory":
        yield InMemoryTokenStore(clock=Clock())
        return
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        table = create_tokens_table(client)
        yield DynamoTokenStore(table, client=client, clock=Clock())


def record(alias: str = "a", **changes: Any) -> TokenRecord:
    base = TokenRecord(
        alias=alias,
        kind="session",
        primary_token=make_jwt(user_id=f"user_{alias}"),
        refresh_token="r.e.f",
        client_key="ab" * 32,
        session_id=str(uuid.uuid4()),
        checksum_first="1" * 64,
        checksum_second="2" * 64,
        config_version=str(uuid.uuid4()),
        timezone="Europe/Paris",
        proxy="p1",
        gcpp_host="EU",
        user_id=f"user_{alias}",
        token_type="session",
        expires_at=NOW + 86400.5,
        usable_models=("claude-4.6-sonnet", "gpt-5.2"),
        cursor_protocol="inference",
        created_at=NOW,
    )
    return replace(base, **changes)


def test_put_new_then_get_round_trips_every_field(store: TokenStore) -> None:
    original = record(health=TokenHealth("cooling_down", "429", NOW + 60.25, 0.5, 2))
    stored = store.put_new(original)
    assert stored.version == 1
    assert store.get("a") == stored
    assert replace(stored, version=0, updated_at=0.0) == original
    assert store.get("missing") is None


def test_put_new_refuses_an_existing_alias(store: TokenStore) -> None:
    first = store.put_new(record("a"))
    with pytest.raises(DuplicateAlias):
        store.put_new(record("a", proxy="other"))
    assert store.get("a") == first


def test_list_is_oldest_first(store: TokenStore) -> None:
    store.put_new(record("late", created_at=NOW + 10))
    store.put_new(record("b", created_at=NOW))
    store.put_new(record("a", created_at=NOW))
    assert [r.alias for r in store.list()] == ["a", "b", "late"]


def test_replace_is_a_compare_and_set_on_version(store: TokenStore) -> None:
    v1 = store.put_new(record("a"))
    v2 = store.replace(replace(v1, proxy="p2"))
    assert (v2.version, store.get("a").proxy) == (2, "p2")  # type: ignore[union-attr]
    with pytest.raises(VersionConflict):
        store.replace(replace(v1, proxy="stale writer"))
    assert store.get("a").proxy == "p2"  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        store.replace(record("ghost", version=1))
    assert store.get("ghost") is None


def test_update_health_touches_only_health(store: TokenStore) -> None:
    v1 = store.put_new(record("a"))
    health = TokenHealth("disabled", "revoked", 0.0, 0.25, 3)
    updated = store.update_health("a", health, expected_version=1)
    assert updated.health == health and updated.version == 2
    assert replace(updated, health=v1.health, version=1, updated_at=v1.updated_at) == v1
    assert store.get("a") == updated


def test_update_health_with_a_stale_version_conflicts(store: TokenStore) -> None:
    store.put_new(record("a"))
    store.update_health("a", TokenHealth(score=0.9))  # a blind write by someone else: version 2
    with pytest.raises(VersionConflict):
        store.update_health("a", TokenHealth(state="disabled"), expected_version=1)
    assert store.get("a").health == TokenHealth(score=0.9)  # type: ignore[union-attr]


def test_updates_never_create_missing_tokens(store: TokenStore) -> None:
    with pytest.raises(NotFound):
        store.update_health("ghost", TokenHealth())
    with pytest.raises(NotFound):
        store.cache_access_token("ghost", "jwt", NOW)
    assert store.get("ghost") is None


def test_cache_access_token(store: TokenStore) -> None:
    v1 = store.put_new(record("a", kind="api_key", primary_token="crsr_" + "k" * 40))
    cached = store.cache_access_token("a", "x.y.z", NOW + 3600)
    assert (cached.access_token, cached.access_expires_at, cached.version) == ("x.y.z", NOW + 3600, 2)
    assert cached.primary_token == v1.primary_token
    assert store.get("a") == cached


def test_set_usable_models_touches_only_that_field(store: TokenStore) -> None:
    v1 = store.put_new(record("a", usable_models=()))
    assert v1.usable_models == ()
    updated = store.set_usable_models("a", ("default", "gpt-5.2"))
    assert (updated.usable_models, updated.version) == (("default", "gpt-5.2"), 2)
    assert replace(updated, usable_models=(), version=1, updated_at=v1.updated_at) == v1
    assert store.get("a") == updated
    assert store.set_usable_models("a", ()).usable_models == ()
    with pytest.raises(NotFound):
        store.set_usable_models("ghost", ("x",))


def test_delete(store: TokenStore) -> None:
    store.put_new(record("a"))
    assert store.delete("a") is True
    assert store.delete("a") is False
    assert store.list() == []


def test_unknown_attributes_from_newer_writers_are_ignored(aws_env: None) -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        table = create_tokens_table(client)
        store = DynamoTokenStore(table, client=client)
        store.put_new(record("a"))
        client.update_item(
            TableName=table,
            Key={"alias": {"S": "a"}},
            UpdateExpression="SET future_field = :f, health.future_health = :f",
            ExpressionAttributeValues={":f": {"S": "x"}},
        )
        loaded = store.get("a")
        assert loaded is not None and loaded.alias == "a" and loaded.health == TokenHealth()


def test_concurrent_read_modify_write_loses_no_update(aws_env: None) -> None:
    """Six writers increment one counter through compare-and-set; every increment must survive.
    Against the local stack's moto server (plain moto checks conditions without a lock; see
    local.moto_server), as `make run` uses it."""
    server = EmbeddedMoto("127.0.0.1", 0)
    endpoint = server.start()
    try:
        client = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint)
        table = create_tokens_table(client, f"tokens-{uuid.uuid4().hex[:8]}")
        store = DynamoTokenStore(table, client=client)
        store.put_new(record("a"))
        conflicts = 0
        lock = threading.Lock()

        errors: list[BaseException] = []

        def increment_many() -> None:
            try:
                increment_four()
            except BaseException as exc:  # surfaced below: a dead writer must fail the test loudly
                errors.append(exc)

        def increment_four() -> None:
            nonlocal conflicts
            for _ in range(4):
                while True:
                    current = store.get("a")
                    assert current is not None
                    failures = current.health.consecutive_failures + 1
                    health = replace(current.health, consecutive_failures=failures)
                    try:
                        store.update_health("a", health, expected_version=current.version)
                        break
                    except VersionConflict:
                        with lock:
                            conflicts += 1

        threads = [threading.Thread(target=increment_many) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        final = store.get("a")
        assert final is not None
        assert final.health.consecutive_failures == 24
        assert final.version == 25
        assert conflicts > 0  # the writers really did race
    finally:
        server.stop()


@pytest.mark.parametrize("alias", ["", "x" * 3000])
def test_a_key_dynamodb_cannot_hold_is_not_found_not_a_storage_error(store: TokenStore, alias: str) -> None:
    # Client input (an empty alias, 3 KB of it) used to reach DynamoDB and come back a ValidationException,
    # answered 503 storage_unavailable; in memory it was simply unknown. Both stores now agree.
    store.put_new(record("a"))
    assert store.get(alias) is None
    assert store.delete(alias) is False
    with pytest.raises(NotFound):
        store.update_fields(alias, {"timezone": "UTC"})
