"""Health reports from many instances about one token, against a moto server (DynamoDB over HTTP, as
`make run` and the cloud see it; in-process moto is not safe under concurrent conditional writes):
every report is applied on top of the others, none is lost or applied twice, and a half-open token's
single trial goes to exactly one of them."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cursor_gateway.domain.tokens import TokenHealth, TokenRecord
from cursor_gateway.errors import UpstreamRateLimited, UpstreamUnavailable
from cursor_gateway.local.moto_server import EmbeddedMoto
from cursor_gateway.local.template import load_template, local_resources
from cursor_gateway.services.token_pool import TokenPool
from cursor_gateway.settings import Settings
from cursor_gateway.storage.tokens_dynamo import DynamoTokenStore
from fakes.jwts import NOW, make_jwt

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
INSTANCES = 6
REPORTS = 5


class FrozenClock:
    now = NOW

    def __call__(self) -> float:
        return self.now


class NoExchange:
    async def exchange(self, api_key: str) -> tuple[str, float]:
        raise AssertionError("not used")


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    server = EmbeddedMoto("127.0.0.1", 0)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


def instances(endpoint: str, clock: FrozenClock) -> tuple[list[TokenPool], DynamoTokenStore]:
    """One table with token `a`, and INSTANCES pools on it, each with its own client (like Lambdas)."""
    first = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint)
    tables, _ = local_resources(load_template(ROOT / "template.yaml"), region=REGION)
    spec = next(t for t in tables if t.logical_id == "TokensTable")  # the template's own key schema
    table = f"tokens-{uuid.uuid4().hex[:8]}"
    first.create_table(TableName=table, **spec.create_args)
    store = DynamoTokenStore(table, client=first, clock=clock)
    store.put_new(TokenRecord(alias="a", kind="session", primary_token=make_jwt(), created_at=NOW))
    settings = Settings(rate_limit_cooldown=60.0)
    pools = [
        TokenPool(
            DynamoTokenStore(
                table,
                client=boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint),
                clock=clock,
            ),
            settings,
            NoExchange(),
            clock=clock,
        )
        for _ in range(INSTANCES)
    ]
    return pools, store


def run_all(pools: list[TokenPool], work: Callable[[TokenPool], Any]) -> list[Any]:
    results: list[Any] = [None] * len(pools)
    errors: list[BaseException] = []
    start = threading.Barrier(len(pools))

    def run(i: int) -> None:
        try:
            start.wait()
            results[i] = work(pools[i])
        except BaseException as exc:  # surfaced below: a dead worker must fail the test loudly
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(pools))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    return results


def test_parallel_failure_reports_lose_nothing(endpoint: str) -> None:
    clock = FrozenClock()
    pools, store = instances(endpoint, clock)

    def report(pool: TokenPool) -> None:
        for _ in range(REPORTS):
            pool.report_failure("a", UpstreamUnavailable("connection reset"))

    run_all(pools, report)
    final = store.get("a")
    assert final is not None
    total = INSTANCES * REPORTS
    assert final.health.consecutive_failures == total
    assert final.version == 1 + total  # one write per report: none lost, none applied twice
    assert final.health.score == pytest.approx(0.75**total)


def test_parallel_rate_limits_are_one_episode_and_one_trial(endpoint: str) -> None:
    clock = FrozenClock()
    pools, store = instances(endpoint, clock)

    run_all(pools, lambda pool: pool.report_failure("a", UpstreamRateLimited("slow down")))
    health = store.get("a").health  # type: ignore[union-attr]
    # Every report counted; the simultaneous 429s are one episode: one backoff step, not 2**6.
    assert (health.state, health.consecutive_failures, health.rate_limits) == ("cooling_down", INSTANCES, 1)
    assert health.cooldown_until == NOW + 60

    clock.now = NOW + 60  # half-open: every instance tries to take the one trial at once
    claims = run_all(pools, lambda pool: pool.claim_trial("a"))
    assert sorted(claims) == [False] * (INSTANCES - 1) + [True]
    winner = pools[claims.index(True)]
    winner.report_success("a")
    health = store.get("a").health  # type: ignore[union-attr]
    assert (health.state, health.rate_limits, health.trial_until) == ("healthy", 0, 0.0)
    assert health != TokenHealth()  # the score still remembers the episode
