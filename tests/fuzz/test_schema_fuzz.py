"""Every operation of `/openapi.json`, fuzzed against the gateway on a socket with the fake Cursor behind
it (tests/fuzz_kit.py says what is generated and checked). Bounded here: a fixed seed and
FUZZ_EXAMPLES examples per operation and mode (default 4); `make fuzz` runs it with a bigger budget."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from analytics_env import DATA_START, KEY, FakeClock, build_service, create_analytics_resources
from cursor_gateway.domain.tokens import TokenRecord
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.local.moto_server import EmbeddedMoto
from cursor_gateway.services.analytics import AnalyticsService
from cursor_gateway.services.container import build_services
from cursor_gateway.storage.canary import InMemoryCanaryStore
from cursor_gateway.storage.config import InMemoryConfigStore
from cursor_gateway.storage.keys import InMemoryKeyStore
from cursor_gateway.storage.proxies import InMemoryProxyStore
from cursor_gateway.storage.tokens import InMemoryTokenStore
from fakes.admin_api import FakeAdminApi, generate
from fuzz_kit import LogCapture, run_fuzz
from harness import ADMIN, SHARED, gateway_settings, running_fake, running_gateway, session_record

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
SEED = int(os.environ.get("FUZZ_SEED", "16"))


@pytest.fixture(scope="module")
def analytics() -> Iterator[AnalyticsService]:
    """The analytics routes' real service: tables and a bucket on a moto server, a fake Admin API."""
    moto = EmbeddedMoto("127.0.0.1", 0)
    endpoint = moto.start()
    clock = FakeClock()
    commits, changes = generate(start=DATA_START, days=3, commits_per_day=2, changes_per_day=2)
    try:
        with FakeAdminApi(key=KEY, commits=commits, changes=changes, rpm=50, period=60.0, clock=clock) as api:
            yield build_service(create_analytics_resources(endpoint), api, clock).service
    finally:
        moto.stop()


@pytest.fixture(scope="module")
def stack(analytics: AnalyticsService) -> Iterator[tuple[str, list[TokenRecord]]]:
    with running_fake(Behaviour(chunks=3)) as fake:
        settings = gateway_settings(fake, max_body_bytes=400_000, cursor_first_event_timeout=5.0)
        records = [session_record("fuzz1"), session_record("fuzz2")]
        services = build_services(
            settings,
            token_store=InMemoryTokenStore(records),
            config_store=InMemoryConfigStore(),
            proxy_store=InMemoryProxyStore(),
            key_store=InMemoryKeyStore(),
            canary_store=InMemoryCanaryStore(),
            analytics=analytics,
        )
        with running_gateway(settings, services) as url:
            yield url, records


def test_every_operation_survives_the_fuzz(stack: tuple[str, list[TokenRecord]]) -> None:
    url, records = stack
    secrets = [ADMIN, SHARED, *(r.primary_token for r in records)]
    with LogCapture().attached() as logs:
        report = run_fuzz(
            url, headers={"authorization": f"Bearer {ADMIN}"}, secrets=secrets, examples=EXAMPLES, seed=SEED
        )
    print(report.summary())
    for line in report.server_errors + report.failures + report.leaks + logs.tracebacks:
        print(line[:1000])
    assert report.operations >= 40 and report.cases >= report.operations * 2
    assert report.server_errors == []
    assert report.failures == []
    assert report.leaks == []
    assert logs.tracebacks == []
    assert [line for line in logs.lines if any(s in line for s in secrets)] == []
