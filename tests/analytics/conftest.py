"""Fixtures for the analytics tests; the helpers they use live in tests/analytics_env.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from analytics_env import (
    DATA_DAYS,
    DATA_START,
    KEY,
    NOW,
    Aws,
    Env,
    FakeClock,
    before,
    build_service,
    create_analytics_resources,
)
from cursor_gateway.local.moto_server import EmbeddedMoto
from fakes.admin_api import FakeAdminApi, generate


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = EmbeddedMoto("127.0.0.1", 0)
    endpoint = server.start()
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture
def aws(moto_endpoint: str) -> Aws:
    return create_analytics_resources(moto_endpoint)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def data() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    # 25 days: three 10-day windows of a few 20-row pages each. Nothing is ingested after the fake's now.
    commits, changes = generate(start=DATA_START, days=DATA_DAYS, commits_per_day=3, changes_per_day=4)
    return before(commits, NOW), before(changes, NOW)


@pytest.fixture
def fake(clock: FakeClock, data: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> Iterator[FakeAdminApi]:
    commits, changes = data
    with FakeAdminApi(key=KEY, commits=commits, changes=changes, rpm=5, period=60.0, clock=clock) as server:
        yield server


@pytest.fixture
def env(aws: Aws, fake: FakeAdminApi, clock: FakeClock) -> Env:
    return build_service(aws, fake, clock)
