"""Many parallel `POST /config` updates through three gateway instances sharing one DynamoDB (a moto server,
not in-process moto): every change survives, each write gets its own version, and conditional writes on
one version have exactly one winner (the others are 409, never a silent overwrite)."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from cursor_gateway.local.moto_server import EmbeddedMoto
from cursor_gateway.services.container import build_services
from cursor_gateway.settings import Settings
from cursor_gateway.storage.config import DynamoConfigStore
from cursor_gateway.storage.tokens import InMemoryTokenStore
from harness import ADMIN, running_gateway

INSTANCES = 3
WRITERS = 9
ROUNDS = 4


@pytest.fixture
def gateways(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    moto = EmbeddedMoto("127.0.0.1", 0)
    endpoint = moto.start()
    try:
        client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint)
        table = f"config-{uuid.uuid4().hex[:8]}"
        client.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        settings = Settings(auth_token=ADMIN, config_cache_seconds=0.0)
        with contextlib.ExitStack() as stack:
            urls = []
            for _ in range(INSTANCES):  # each its own process state, as separate Lambda instances
                services = build_services(
                    settings,
                    token_store=InMemoryTokenStore(),
                    config_store=DynamoConfigStore(table, client=client),
                )
                urls.append(stack.enter_context(running_gateway(settings, services)))
            yield urls
    finally:
        moto.stop()


def post(http: httpx.Client, url: str, body: dict[str, Any]) -> httpx.Response:
    return http.post(f"{url}/config", json=body, headers={"authorization": f"Bearer {ADMIN}"}, timeout=60)


def test_parallel_updates_lose_nothing(gateways: list[str]) -> None:
    versions: list[int] = []
    conflicts: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        with httpx.Client() as http:
            for round_ in range(ROUNDS):
                body = {"action": "update", "model_aliases": {f"w{n}-r{round_}": f"cursor-model-{n}"}}
                for _attempt in range(20):  # a 409 is reported to us, and we (the caller) try again
                    answer = post(http, gateways[(n + round_) % INSTANCES], body)
                    if answer.status_code == 409:
                        with lock:
                            conflicts.append(n)
                        continue
                    with lock:
                        if answer.status_code == 200:
                            versions.append(answer.json()["version"])
                        else:
                            errors.append(answer.text)
                    break

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert len(versions) == WRITERS * ROUNDS
    assert sorted(versions) == list(range(1, WRITERS * ROUNDS + 1))  # one version per write, none shared

    with httpx.Client() as http:
        final = post(http, gateways[0], {"action": "get"}).json()
    assert final["version"] == WRITERS * ROUNDS
    expected = {f"w{n}-r{r}" for n in range(WRITERS) for r in range(ROUNDS)}
    assert set(final["data"]["model_aliases"]) == expected


def test_conditional_updates_on_one_version_have_one_winner(gateways: list[str]) -> None:
    with httpx.Client() as http:
        base = post(http, gateways[0], {"action": "get"}).json()["version"]
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def writer(n: int) -> None:
        with httpx.Client() as http:
            start.wait()
            body = {"action": "update", "expected_version": base, "share_token": f"writer-{n}"}
            answer = post(http, gateways[n % INSTANCES], body)
            with lock:
                statuses.append(answer.status_code)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [200] + [409] * 5
    with httpx.Client() as http:
        assert post(http, gateways[1], {"action": "get"}).json()["version"] == base + 1
