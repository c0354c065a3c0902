"""The plain HTTP calls survive a dead pooled connection (issue 19): model catalog, usable models, the
account's profile and usage, token refresh and key exchange against the fake Cursor whose HTTP/2
connections die after each answer, and the Admin API client against its fake whose keep-alive
connections do. Every call must succeed, on a fresh connection, at once (no backoff)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Any

import pytest
from cursor_gateway.domain.analytics import COMMITS
from cursor_gateway.domain.analytics_time import Window
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.emulator.tokens import fake_jwt
from cursor_gateway.errors import UpstreamUnavailable
from cursor_gateway.settings import Settings
from cursor_gateway.upstream import account_info, catalog
from cursor_gateway.upstream.admin_api import AdminApiClient
from cursor_gateway.upstream.fresh_retry import FreshRetryAsyncClient
from cursor_gateway.upstream.key_exchange import KeyExchanger
from cursor_gateway.upstream.session_refresh import SessionRefresher
from fakes.admin_api import FakeAdminApi
from fakes.jwts import api_key
from harness import free_port

USER = "user_01JZ8Q9X7V3M5N2P4R6T8W0Y1A"


@pytest.fixture
async def fake() -> AsyncIterator[FakeCursor]:
    server = await FakeCursor(Behaviour()).start()
    try:
        yield server
    finally:
        await server.close()


def calls(settings: Settings) -> dict[str, Callable[[], Awaitable[Any]]]:
    jwt = fake_jwt(USER)
    return {
        "models": lambda: catalog.fetch_models(settings, jwt),
        "usable": lambda: account_info.fetch_usable_models(settings, jwt),
        "profile": lambda: account_info.fetch_stripe_profile(settings, jwt),
        "usage": lambda: account_info.fetch_user_info(settings, USER, jwt),
        "refresh": lambda: SessionRefresher(settings).refresh(jwt),
        "exchange": lambda: KeyExchanger(settings).exchange(api_key("stale")),
    }


@pytest.mark.parametrize("fault", ["drop_idle", "refuse_reused"])
async def test_plain_calls_survive_dead_pooled_connections(fake: FakeCursor, fault: str) -> None:
    fake.server.connection_fault = fault
    settings = Settings(cursor_api_url=fake.url, cursor_web_url=fake.url)
    for name, call in calls(settings).items():
        before = len(fake.server.faulted)
        for _ in range(3):
            assert await call(), name
        # A call that opened a connection leaves it dead for the next one, which is sent again.
        assert len(fake.server.faulted) > before, name


async def test_a_failure_to_connect_is_not_retried() -> None:
    """Nothing listens: a fresh connection would not help, and the error stays what it was."""
    settings = Settings(cursor_api_url=f"http://127.0.0.1:{free_port()}", cursor_connect_timeout=2)
    with pytest.raises(UpstreamUnavailable):
        await catalog.fetch_models(settings, fake_jwt(USER))


async def test_a_streamed_retry_closes_its_one_off_connection(fake: FakeCursor) -> None:
    fake.server.connection_fault = "drop_idle"
    async with FreshRetryAsyncClient(http1=False, http2=True) as client:
        for _ in range(2):
            request = client.build_request(
                "POST", fake.url + "/oauth/token", json={"grant_type": "refresh_token"}
            )
            response = await client.send(request, stream=True)
            assert response.status_code == 400
            assert b"invalid_request" in await response.aread()  # read to the end: closes it
            assert response.is_closed
    assert len(fake.server.faulted) == 1


def test_admin_api_retries_a_dropped_keep_alive_at_once() -> None:
    slept: list[float] = []
    with FakeAdminApi(rpm=100) as admin:
        admin.drop_idle = True
        client = AdminApiClient(admin.url, admin.key, sleep=slept.append, rng=random.Random(1))
        try:
            window = Window(date(2026, 1, 1), date(2026, 1, 31))
            for page in (1, 2, 3, 4):
                client.page(COMMITS, window, page)
        finally:
            client.close()
    # Requests 2 and 4 met the connection the request before left idle (the retry's own connection is
    # not kept, so request 3 opened a new one).
    assert admin.dropped == 2
    assert client.requests == 4 and slept == []  # no attempt spent, no backoff
    assert len(admin.calls) == 4
