"""The versioned config store on DynamoDB (moto server): transactions, history, no lost updates."""

from __future__ import annotations

import threading
import uuid

import boto3
import pytest
from cursor_gateway.local.moto_server import EmbeddedMoto
from cursor_gateway.storage.config import ConfigConflict, DynamoConfigStore


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch):
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
        yield DynamoConfigStore(name, client=client)
    finally:
        server.stop()


def test_save_load_history_and_conflict(store: DynamoConfigStore) -> None:
    assert store.load() == (0, {})
    assert store.save({"cursor_protocol": "legacy"}, 0) == 1
    assert store.save({"cursor_protocol": "agent"}, 1) == 2
    assert store.load() == (2, {"cursor_protocol": "agent"})
    assert store.load_version(1) == {"cursor_protocol": "legacy"}
    assert store.load_version(9) is None
    with pytest.raises(ConfigConflict):
        store.save({"cursor_protocol": "inference"}, 1)
    with pytest.raises(ConfigConflict):
        store.save({"cursor_protocol": "inference"}, 0)
    assert store.load() == (2, {"cursor_protocol": "agent"})


def test_parallel_writers_lose_nothing(store: DynamoConfigStore) -> None:
    """Each writer appends its name to a list via read-modify-write; conflicts are retried."""
    store.save({"writers": []}, 0)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for round_ in range(3):
                while True:
                    version, data = store.load()
                    data["writers"].append(f"{name}-{round_}")
                    try:
                        store.save(data, version)
                        break
                    except ConfigConflict:
                        continue
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    version, data = store.load()
    assert version == 16
    assert sorted(data["writers"]) == sorted(f"w{i}-{r}" for i in range(5) for r in range(3))
