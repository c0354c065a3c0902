"""The proxy table on DynamoDB (a moto server): conditional saves, and parallel admin changes from several
service instances (as several Lambda instances) lose nothing."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import boto3
import pytest
from cursor_gateway.local.moto_server import EmbeddedMoto
from cursor_gateway.services.proxies import ProxyService
from cursor_gateway.settings import Settings
from cursor_gateway.storage.proxies import DynamoProxyStore, ProxiesConflict


@pytest.fixture
def make_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = EmbeddedMoto("127.0.0.1", 0)
    endpoint = server.start()
    try:
        client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint)
        name = f"config-{uuid.uuid4().hex[:8]}"
        client.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        yield lambda: DynamoProxyStore(name, client=client)
    finally:
        server.stop()


def test_save_is_conditional_on_the_version(make_store) -> None:  # type: ignore[no-untyped-def]
    store = make_store()
    assert store.load() == (0, None)
    assert store.save({"proxies": {"sys": "sys"}, "general": "sys"}, 0) == 1
    with pytest.raises(ProxiesConflict):
        store.save({"proxies": {}, "general": ""}, 0)
    assert store.save({"proxies": {"a": "non"}, "general": "a"}, 1) == 2
    with pytest.raises(ProxiesConflict):
        store.save({"proxies": {}, "general": ""}, 1)
    assert store.load() == (2, {"proxies": {"a": "non"}, "general": "a"})


def test_parallel_adds_from_several_instances_lose_nothing(make_store) -> None:  # type: ignore[no-untyped-def]
    services = [ProxyService(make_store(), Settings()) for _ in range(3)]
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for r in range(4):
                services[(n + r) % 3].add({f"p{n}-{r}": f"http://127.0.0.1:{3000 + n * 10 + r}"})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    table = services[0].get()
    assert table["proxies_count"] == 1 + 6 * 4
    assert table["proxies"]["proxies"]["p5-3"] == "http://127.0.0.1:3053"
    version, _ = make_store().load()
    assert version == 6 * 4
