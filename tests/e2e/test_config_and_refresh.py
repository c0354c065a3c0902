"""POST /config changes what the next request sends, without a restart; session tokens are refreshed
once (before expiry, or after an auth failure) and the refreshed JWT is shared through the store."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import openai
import pytest
from cursor_gateway.domain.tokens import TokenRecord
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.emulator.tokens import fake_jwt
from cursor_gateway.storage.config import InMemoryConfigStore
from cursor_gateway.storage.tokens import InMemoryTokenStore
from cursor_gateway.upstream.identity import DEFAULT_VERSIONS
from harness import (
    ADMIN,
    SHARED,
    gateway_settings,
    make_services,
    running_fake,
    running_gateway,
    session_record,
)

ADMIN_HEADERS = {"authorization": f"Bearer {ADMIN}"}
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def fake() -> Iterator[FakeCursor]:
    with running_fake(Behaviour()) as server:
        yield server


def chat(url: str) -> str:
    client = openai.OpenAI(base_url=url + "/v1", api_key=ADMIN, max_retries=0)
    return client.chat.completions.create(model="gpt-5.2", messages=HI).choices[0].message.content or ""


def test_config_update_takes_effect_without_restart(fake: FakeCursor) -> None:
    settings = gateway_settings(fake, config_cache_seconds=0.0)
    with running_gateway(settings, make_services(settings, [session_record("a")])) as url:
        assert chat(url) == "Echo: hi"
        assert fake.runs[-1].headers["x-cursor-client-version"] == DEFAULT_VERSIONS["cli"]
        got = httpx.post(url + "/config", headers=ADMIN_HEADERS, json={"action": "get"}).json()
        assert got["status"] == "success" and got["version"] == 0
        assert got["data"]["cursor_protocol"] == "agent"
        updated = httpx.post(
            url + "/config",
            headers=ADMIN_HEADERS,
            json={
                "action": "update",
                "client_identity": {"agent": {"client_version": "cli-2027.02.03-beef123"}},
                "thinking_output": "think_tags",
            },
        )
        assert updated.status_code == 200 and updated.json()["version"] == 1
        assert chat(url) == "Echo: hi"
        assert fake.runs[-1].headers["x-cursor-client-version"] == "cli-2027.02.03-beef123"
        # The identity can become SDK-shaped too: a stable session id per conversation appears.
        httpx.post(
            url + "/config",
            headers=ADMIN_HEADERS,
            json={"action": "update", "client_identity": {"agent": {"client_type": "sdk"}}},
        ).raise_for_status()
        chat(url)
        assert fake.runs[-1].headers["x-cursor-client-type"] == "sdk"
        assert "x-session-id" in fake.runs[-1].headers


def test_config_bad_input_and_auth(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    with running_gateway(settings, make_services(settings, [session_record("a")])) as url:
        cases = [
            ({"action": "update", "cursor_protocol": "carrier-pigeon"}, "cursor_protocol"),
            ({"action": "update", "bogus": 1}, "bogus"),
            ({"action": "delete"}, "action"),
            (
                {"action": "update", "client_identity": {"agent": {"client_version": 42}}},
                "client_identity.agent.client_version",
            ),
        ]
        for body, param in cases:
            response = httpx.post(url + "/config", headers=ADMIN_HEADERS, json=body)
            assert response.status_code == 400, response.text
            error = response.json()
            assert (
                error["status"] == "error"
                and error["code"] == 400
                and param in error["message"] + str(error.get("error"))
            )
        malformed = httpx.post(url + "/config", headers=ADMIN_HEADERS, content=b"{action")
        assert malformed.status_code == 400
        assert httpx.post(url + "/config", json={"action": "get"}).status_code == 401
        shared = httpx.post(
            url + "/config", headers={"authorization": f"Bearer {SHARED}"}, json={"action": "get"}
        )
        assert shared.status_code == 403
        stale = httpx.post(
            url + "/config",
            headers=ADMIN_HEADERS,
            json={"action": "update", "cursor_protocol": "agent", "expected_version": 5},
        )
        assert stale.status_code == 409
        assert (
            httpx.post(url + "/config", headers=ADMIN_HEADERS, json={"action": "get"}).json()["version"] == 0
        )


def test_expired_session_is_refreshed_once_and_shared_by_a_second_instance(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    expired = fake_jwt(exp=time.time() - 60)
    record = TokenRecord(
        alias="old",
        kind="session",
        primary_token=expired,
        refresh_token="refresh-jwt-1",
        expires_at=time.time() - 60,
    )
    tokens = InMemoryTokenStore([record])
    config = InMemoryConfigStore()
    first = make_services(settings, [], config_store=config)
    second = make_services(settings, [], config_store=config)
    for services in (first, second):  # two "instances" sharing one table
        services.token_store = tokens
        services.token_pool.store = tokens
        services.tokens.store = tokens
    with running_gateway(settings, first) as url_one, running_gateway(settings, second) as url_two:
        assert chat(url_one) == "Echo: hi"
        assert chat(url_two) == "Echo: hi"
    assert fake.refresh_calls == ["refresh-jwt-1"]
    stored = tokens.get("old")
    assert stored is not None and stored.primary_token != expired and stored.expires_at > time.time() + 86400
    assert {run.bearer for run in fake.runs} == {stored.primary_token}


def test_auth_failure_refreshes_once_then_succeeds(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    record = session_record("a", refresh_token="refresh-a")
    fake.by_token[record.primary_token] = Behaviour.failing("unauthenticated")
    services = make_services(settings, [record])
    with running_gateway(settings, services) as url:
        assert chat(url) == "Echo: hi"
    assert fake.refresh_calls == ["refresh-a"]
    assert [r.bearer == record.primary_token for r in fake.runs] == [True, False]
    healthy = services.token_store.get("a")
    assert healthy is not None and healthy.health.state == "healthy"


def test_revoked_session_is_disabled_and_the_next_token_serves(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    revoked = session_record("r1", refresh_token="refresh-revoked")
    good = session_record("r2")
    fake.by_token[revoked.primary_token] = Behaviour.failing("unauthenticated")
    fake.revoked_sessions.add("refresh-revoked")
    services = make_services(settings, [revoked, good])
    with running_gateway(settings, services) as url:
        for _ in range(2):
            assert chat(url) == "Echo: hi"
    state = {r.alias: r.health.state for r in services.token_store.list()}
    assert state == {"r1": "disabled", "r2": "healthy"}
    assert fake.refresh_calls == ["refresh-revoked"]


def test_token_close_to_expiry_is_refreshed_before_use(fake: FakeCursor) -> None:
    settings = gateway_settings(fake, session_refresh_margin=3600.0)
    soon = time.time() + 600
    record = TokenRecord(alias="s", kind="session", primary_token=fake_jwt(exp=soon), expires_at=soon)
    services = make_services(settings, [record])
    with running_gateway(settings, services) as url:
        assert chat(url) == "Echo: hi"
        assert chat(url) == "Echo: hi"
    assert fake.refresh_calls == [record.primary_token]  # no refresh token: the access JWT is sent
    assert fake.runs[0].bearer != record.primary_token


def test_switching_the_protocol_takes_effect_without_restart(fake: FakeCursor) -> None:
    settings = gateway_settings(fake, config_cache_seconds=0.0)
    with running_gateway(settings, make_services(settings, [session_record("a")])) as url:
        paths = []
        for protocol in ("agent", "inference", "legacy", "agent"):
            updated = httpx.post(
                url + "/config", headers=ADMIN_HEADERS, json={"action": "update", "cursor_protocol": protocol}
            )
            assert updated.status_code == 200, updated.text
            assert chat(url) == "Echo: hi"
            paths.append(fake.runs[-1].path)
            assert fake.runs[-1].violations == []
    assert paths == [
        "/agent.v1.AgentService/Run",
        "/aiserver.v1.InferenceService/RunInference",
        "/aiserver.v1.ChatService/StreamUnifiedChatWithTools",
        "/agent.v1.AgentService/Run",
    ]
    # Each profile presented its own default identity: CLI for agent, IDE (with checksum) for the others.
    types = [run.headers["x-cursor-client-type"] for run in fake.runs]
    assert types == ["cli", "ide", "ide", "cli"]
    assert "x-cursor-checksum" in fake.runs[1].headers and "x-cursor-checksum" not in fake.runs[0].headers
