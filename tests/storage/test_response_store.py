"""Stored /v1/responses answers on DynamoDB (moto server): round trip, delete, the item size limit, and
the service's rules on top (owner-scoped, expired = gone even before DynamoDB's TTL sweeps it)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from cursor_gateway.errors import NotFound
from cursor_gateway.local.moto_server import EmbeddedMoto
from cursor_gateway.local.template import load_template, local_resources
from cursor_gateway.services.responses import ResponseService
from cursor_gateway.settings import Settings
from cursor_gateway.storage.responses import DynamoResponseStore, StoredResponse

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoResponseStore]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = EmbeddedMoto("127.0.0.1", 0)
    endpoint = server.start()
    try:
        client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint)
        # The table as template.yaml declares it, under the name the setting defaults to.
        tables, _ = local_resources(load_template(ROOT / "template.yaml"), region="us-east-1")
        (spec,) = [t for t in tables if t.name == Settings().responses_table]
        assert spec.ttl_attribute == "expires_at"
        # moto's backend outlives one server in this process: a fresh name per test.
        name = f"{spec.name}-{uuid.uuid4().hex[:8]}"
        client.create_table(TableName=name, **spec.create_args)
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute}
        )
        yield DynamoResponseStore(name, client=client)
    finally:
        server.stop()


def record(response_id: str, *, owner: str = "key-a", expires_at: int = 2_000_000_000) -> StoredResponse:
    items = [
        {"type": "message", "role": "user", "content": "héllo"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Echo: héllo"}]},
    ]
    return StoredResponse(response_id, owner, expires_at, {"id": response_id, "object": "response"}, items)


def test_round_trip_and_delete(store: DynamoResponseStore) -> None:
    assert store.put(record("resp_1")) is True
    assert store.get("resp_1") == record("resp_1")
    assert store.get("resp_2") is None
    assert store.delete("resp_1") is True
    assert store.delete("resp_1") is False
    assert store.get("resp_1") is None


def test_a_body_over_the_item_limit_is_not_stored(store: DynamoResponseStore) -> None:
    big = record("resp_big")
    # Random bytes do not compress: ~600 KB of base64 stays over the limit after zlib.
    noise = os.urandom(450_000).hex()
    big.items.append({"type": "message", "role": "user", "content": noise})
    assert store.put(big) is False
    assert store.get("resp_big") is None
    # Text that compresses well fits even when large.
    roomy = record("resp_roomy")
    roomy.items.append({"type": "message", "role": "user", "content": "abc " * 300_000})
    assert store.put(roomy) is True
    assert store.get("resp_roomy") == roomy


def test_the_service_hides_expired_and_foreign_responses(store: DynamoResponseStore) -> None:
    now = [1_800_000_000.0]
    service = ResponseService(store, Settings(responses_ttl_days=2), clock=lambda: now[0])

    async def scenario() -> None:
        assert await service.save({"id": "resp_x", "object": "response"}, [{"role": "user"}], "key-a")
        stored = store.get("resp_x")
        assert stored is not None and stored.expires_at == int(now[0]) + 2 * 86400
        assert await service.history("resp_x", "key-a") == [{"role": "user"}]
        assert await service.get("resp_x", "key-a") == {"id": "resp_x", "object": "response"}
        with pytest.raises(NotFound):
            await service.get("resp_x", "key-b")
        with pytest.raises(NotFound):
            await service.delete("resp_x", "key-b")
        now[0] += 2 * 86400  # the TTL has passed; the item may still be in the table
        with pytest.raises(NotFound) as expired:
            await service.history("resp_x", "key-a")
        assert expired.value.param == "previous_response_id"
        assert store.get("resp_x") is not None

    asyncio.run(scenario())
