"""Gateway keys on DynamoDB (a moto server): conditional create, revoke, throttled last-used writes (many
concurrent touches within one interval write once), and a key checked through the service end to end."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import anyio
import boto3
import pytest
from cursor_gateway.domain.keys import GatewayKey, hash_secret
from cursor_gateway.errors import AuthenticationFailed
from cursor_gateway.local.moto_server import EmbeddedMoto
from cursor_gateway.services.keys import KeyService
from cursor_gateway.services.proxies import ProxyService
from cursor_gateway.services.tokens import TokenAdminService
from cursor_gateway.settings import Settings
from cursor_gateway.storage.keys import DuplicateKeyId, DynamoKeyStore
from cursor_gateway.storage.proxies import InMemoryProxyStore
from cursor_gateway.storage.tokens import InMemoryTokenStore


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoKeyStore]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = EmbeddedMoto("127.0.0.1", 0)
    endpoint = server.start()
    try:
        client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint)
        name = f"keys-{uuid.uuid4().hex[:8]}"
        client.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        )
        yield DynamoKeyStore(name, client=client)
    finally:
        server.stop()


def key(key_id: str = "0123456789abcdef", **kwargs: object) -> GatewayKey:
    return GatewayKey(id=key_id, secret_hash=hash_secret("s" * 43), created_at=100.0, **kwargs)  # type: ignore[arg-type]


def test_create_read_list_revoke(store: DynamoKeyStore) -> None:
    stored = key(token_alias="main", settings={"vision_ability": "none"}, name="alice")
    store.put_new(stored)
    with pytest.raises(DuplicateKeyId):
        store.put_new(stored)
    assert store.get(stored.id) == stored
    assert store.get("ffffffffffffffff") is None
    store.put_new(key("1111111111111111"))
    assert [k.id for k in store.list()] == ["0123456789abcdef", "1111111111111111"]
    assert store.revoke(stored.id, 200.0) is True
    assert store.revoke(stored.id, 300.0) is True  # already revoked: still fine, first time kept
    got = store.get(stored.id)
    assert got is not None and got.revoked and got.revoked_at == 200.0
    assert store.revoke("ffffffffffffffff", 200.0) is False
    item = store.client.get_item(TableName=store.table, Key={"id": {"S": stored.id}})["Item"]
    assert "s" * 43 not in str(item)  # only the hash is stored


def test_touch_is_throttled_across_concurrent_writers(store: DynamoKeyStore) -> None:
    store.put_new(key())
    results: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def toucher() -> None:
        start.wait()
        written = store.touch("0123456789abcdef", 1000.0, 300.0)
        with lock:
            results.append(written)

    threads = [threading.Thread(target=toucher) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [False] * 7 + [True]
    assert store.touch("0123456789abcdef", 1299.0, 300.0) is False
    assert store.touch("0123456789abcdef", 1300.0, 300.0) is True
    got = store.get("0123456789abcdef")
    assert got is not None and got.last_used_at == 1300.0
    assert store.touch("ffffffffffffffff", 1300.0, 300.0) is False


def test_a_built_key_authenticates_until_revoked(store: DynamoKeyStore) -> None:
    settings = Settings(keys_cache_seconds=0.0)
    tokens = InMemoryTokenStore()
    service = KeyService(
        store,
        settings,
        tokens=TokenAdminService(tokens),
        token_store=tokens,
        proxies=ProxyService(InMemoryProxyStore(), settings),
    )
    built = service.build({"vision_ability": "all"})
    [gateway_key] = built["keys"]
    found = anyio.run(service.authenticate, gateway_key)
    assert found.id == built["id"] and found.settings == {"vision_ability": "all"}
    service.revoke([built["id"]])
    with pytest.raises(AuthenticationFailed):
        anyio.run(service.authenticate, gateway_key)


@pytest.mark.parametrize("key_id", ["", "k" * 3000])
def test_an_id_dynamodb_cannot_hold_is_unknown_not_a_storage_error(
    store: DynamoKeyStore, key_id: str
) -> None:
    assert store.get(key_id) is None
    assert store.revoke(key_id, 1.0) is False
    assert store.touch(key_id, 1.0, 60.0) is False
