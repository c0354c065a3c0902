"""The account pool end to end: HTTP client -> gateway (uvicorn, real socket) -> fake Cursor (HTTP/2) with a
behaviour per bearer. The pool's clock is injected, so cooldowns pass without waiting."""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cursor_gateway.api.auth import Caller, require_chat_key
from cursor_gateway.domain.dynamic_keys import encode_key
from cursor_gateway.domain.tokens import TokenHealth, TokenRecord
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.emulator.tokens import fake_jwt
from cursor_gateway.upstream.agent import RUN_PATH
from cursor_gateway.upstream.inference import RUN_INFERENCE_PATH
from cursor_gateway.upstream.legacy_messages import RPC_PATH as LEGACY_PATH
from fakes.jwts import api_key
from fastapi import Request
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record

ADMIN_HEADERS = {"authorization": f"Bearer {ADMIN}"}


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeCursor]:
    with running_fake(Behaviour()) as server:
        yield server


def chat(url: str, model: str = "gpt-5.2", headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(
        url + "/v1/chat/completions",
        headers={**ADMIN_HEADERS, **(headers or {})},
        json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )


def answered(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["choices"][0]["message"]["content"])


def pool_view(url: str) -> dict[str, dict[str, Any]]:
    response = httpx.post(url + "/tokens/get", headers=ADMIN_HEADERS, json={})
    assert response.status_code == 200, response.text
    return {alias: info for _, alias, info in response.json()["tokens"]}


def tried(fake: FakeCursor, records: list[TokenRecord], since: int = 0) -> list[str]:
    """The aliases the fake saw chat runs from, in order, since run number `since`."""
    by_bearer = {r.primary_token: r.alias for r in records}
    return [by_bearer.get(run.bearer, "?") for run in fake.runs[since:]]


def set_config(url: str, **fields: Any) -> None:
    response = httpx.post(url + "/config", headers=ADMIN_HEADERS, json={"action": "update", **fields})
    assert response.status_code == 200, response.text


def callers_from_headers(app: Any) -> None:
    """Stand-in for gateway keys: `x-test-pin` pins a token, `x-test-protocol` is the key's protocol
    override (what a key bound to a token, with its settings, puts on the Caller)."""

    async def caller(request: Request) -> Caller:
        protocol = request.headers.get("x-test-protocol")
        return Caller(
            "key",
            "test-key",
            pinned_alias=request.headers.get("x-test-pin", ""),
            overrides={"cursor_protocol": protocol} if protocol else {},
        )

    app.dependency_overrides[require_chat_key] = caller


# --- failover, states, cooldowns, half-open --------------------------------------------------------------


def test_failover_states_backoff_and_half_open(fake: FakeCursor) -> None:
    clock = Clock()
    settings = gateway_settings(fake, max_token_attempts=3, rate_limit_cooldown=60.0)
    records = [session_record("a1"), session_record("a2"), session_record("a3")]
    services = make_services(settings, records, clock=clock)
    dead, limited = records[0].primary_token, records[1].primary_token
    fake.by_token[dead] = Behaviour.failing("unauthenticated")
    fake.revoked_sessions.add(dead)  # its one refresh is refused too: a dead account
    fake.by_token[limited] = Behaviour.failing("rate_limited")

    with running_gateway(settings, services) as url:
        for _ in range(4):
            assert answered(chat(url)) == "Echo: hi"
        # a1 and a2 were each tried once, then left alone; a3 answered every request.
        assert collections.Counter(tried(fake, records)) == {"a1": 1, "a2": 1, "a3": 4}
        assert fake.refresh_calls == [dead]

        view = pool_view(url)
        assert view["a1"]["health"]["state"] == "disabled"
        assert "Authentication expired" in view["a1"]["health"]["reason"]
        assert view["a2"]["health"]["state"] == "cooling_down"
        assert "Rate limited" in view["a2"]["health"]["reason"]
        assert view["a2"]["health"]["cooldown_until"] == pytest.approx(clock.now + 60)
        assert view["a3"]["health"]["state"] == "healthy"

        # After the cooldown, a2 is half-open: its next turn is a live request, which now succeeds.
        del fake.by_token[limited]
        clock.now += 61
        seen = len(fake.runs)
        for _ in range(2):  # whatever the round-robin turn, one of two requests starts on a2
            assert answered(chat(url)) == "Echo: hi"
        assert "a2" in tried(fake, records, seen)
        assert pool_view(url)["a2"]["health"]["state"] == "healthy"
        assert pool_view(url)["a2"]["health"]["cooldown_until"] is None
        stored = services.token_store.get("a2")
        assert stored is not None and (stored.health.rate_limits, stored.health.trial_until) == (0, 0.0)

        # Rate limited again: the backoff starts over at the base, then doubles at each failed trial.
        fake.by_token[limited] = Behaviour.failing("rate_limited")

        def next_cooldown_of_a2() -> float:
            seen = len(fake.runs)
            for _ in range(3):
                assert answered(chat(url)) == "Echo: hi"  # a3 still answers
                if "a2" in tried(fake, records, seen):
                    break
            assert tried(fake, records, seen).count("a2") == 1
            return float(pool_view(url)["a2"]["health"]["cooldown_until"]) - clock.now

        assert next_cooldown_of_a2() == pytest.approx(60)
        clock.now += 61
        assert next_cooldown_of_a2() == pytest.approx(120)
        clock.now += 121
        assert next_cooldown_of_a2() == pytest.approx(240)
        assert services.token_store.get("a2").health.rate_limits == 3  # type: ignore[union-attr]


def test_every_token_resting_is_429_with_the_earliest_end(fake: FakeCursor) -> None:
    clock = Clock()
    settings = gateway_settings(fake, rate_limit_cooldown=60.0)
    records = [
        session_record("r1", health=TokenHealth("cooling_down", "429", clock.now + 30, 0.75, 1, 1)),
        session_record("r2", health=TokenHealth("cooling_down", "429", clock.now + 90, 0.75, 1, 1)),
    ]
    with running_gateway(settings, make_services(settings, records, clock=clock)) as url:
        response = chat(url)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    assert response.json()["error"]["code"] == "no_available_tokens"
    assert fake.runs == []


# --- policies ------------------------------------------------------------------------------------------


def test_round_robin_spreads_and_fill_first_concentrates(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    # The pool's index order (oldest first) is deliberately not the alphabetical one.
    records = [
        session_record("zeta", created_at=1.0),
        session_record("alpha", created_at=2.0),
        session_record("mid", created_at=3.0),
    ]
    with running_gateway(settings, make_services(settings, records)) as url:
        for _ in range(6):
            answered(chat(url))
        assert collections.Counter(tried(fake, records)) == {"zeta": 2, "alpha": 2, "mid": 2}

        set_config(url, token_selection="fill_first")
        seen = len(fake.runs)
        for _ in range(6):
            answered(chat(url))
        assert tried(fake, records, seen) == ["zeta"] * 6

        # Until it fails: then the next one in the same order takes over.
        fake.by_token[records[0].primary_token] = Behaviour.failing("rate_limited")
        seen = len(fake.runs)
        for _ in range(3):
            answered(chat(url))
        assert tried(fake, records, seen) == ["zeta", "alpha", "alpha", "alpha"]


# --- pinning and overrides -----------------------------------------------------------------------------


def test_pinned_token_only_that_token_with_clear_errors(fake: FakeCursor) -> None:
    """`AUTH_TOKEN-<alias>` (as in the reference) pins one token: no failover, clear errors."""
    settings = gateway_settings(fake, rate_limit_cooldown=60.0)
    records = [
        session_record("p1"),
        session_record("p2"),
        session_record("p3", health=TokenHealth(state="disabled", reason="Cursor: revoked")),
    ]
    fake.by_token[records[1].primary_token] = Behaviour.failing("rate_limited")

    def pinned(alias: str) -> dict[str, str]:
        return {"authorization": f"Bearer {ADMIN}-{alias}"}

    with running_gateway(settings, make_services(settings, records)) as url:
        for _ in range(4):
            answered(chat(url, headers=pinned("p1")))
        assert tried(fake, records) == ["p1"] * 4

        # Rate limited: no failover to p1; 429 with Retry-After, then the pool answers for it.
        seen = len(fake.runs)
        first = chat(url, headers=pinned("p2"))
        assert first.status_code == 429 and 1 <= int(first.headers["retry-after"]) <= 60
        second = chat(url, headers=pinned("p2"))
        assert second.status_code == 429 and 1 <= int(second.headers["retry-after"]) <= 60
        assert "cooling down" in second.json()["error"]["message"]
        assert tried(fake, records, seen) == ["p2"]

        disabled = chat(url, headers=pinned("p3"))
        assert disabled.status_code == 503 and "Cursor: revoked" in disabled.json()["error"]["message"]
        missing = chat(url, headers=pinned("ghost"))
        assert missing.status_code == 503 and "does not exist" in missing.json()["error"]["message"]
        assert tried(fake, records, seen) == ["p2"]


def test_a_dynamic_keys_own_token_is_used_instead_of_the_pool(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    pooled = session_record("pooled")
    own = fake_jwt()
    key = encode_key(
        own,
        checksum=("11" * 32, "22" * 32),
        client_key="33" * 32,
        session_id="00000000-0000-4000-8000-000000000002",
    )
    services = make_services(settings, [pooled])
    with running_gateway(settings, services) as url:
        set_config(url, enable_dynamic_key=True)
        assert answered(chat(url, headers={"authorization": f"Bearer {key}"})) == "Echo: hi"
        assert [run.bearer for run in fake.runs] == [own]
        # Its token is refused: that is the caller's own credential (401), and the pool is not tried.
        fake.by_token[own] = Behaviour.failing("unauthenticated")
        refused = chat(url, headers={"authorization": f"Bearer {key}"})
        assert refused.status_code == 401
        assert [run.bearer for run in fake.runs] == [own, own]
        assert fake.refresh_calls == []
    stored = services.token_store.list()  # neither joined nor touched the pool
    assert [(r.alias, r.version, r.health) for r in stored] == [("pooled", 1, pooled.health)]


def test_protocol_profile_precedence_key_then_token_then_config(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    records = [session_record("tok-inference", cursor_protocol="inference"), session_record("tok-plain")]
    with running_gateway(settings, make_services(settings, records), configure=callers_from_headers) as url:

        def path(pin: str, key_protocol: str = "") -> str:
            headers = {"x-test-pin": pin}
            if key_protocol:
                headers["x-test-protocol"] = key_protocol
            assert answered(chat(url, headers=headers)) == "Echo: hi"
            assert fake.runs[-1].violations == []
            return fake.runs[-1].path

        assert path("tok-plain") == RUN_PATH  # config (agent)
        assert path("tok-inference") == RUN_INFERENCE_PATH  # token over config
        assert path("tok-inference", "legacy") == LEGACY_PATH  # key over token
        assert path("tok-plain", "inference") == RUN_INFERENCE_PATH  # key over config
        assert path("tok-inference", "no-such-profile") == RUN_INFERENCE_PATH  # unknown: skipped
        set_config(url, cursor_protocol="legacy")
        assert path("tok-plain") == LEGACY_PATH
        assert path("tok-inference") == RUN_INFERENCE_PATH


# --- models --------------------------------------------------------------------------------------------


def test_model_aware_routing(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    records = [
        session_record("pro", usable_models=("claude-4.6-sonnet", "gpt-5.2", "default")),
        session_record("free", usable_models=("composer-2.5", "default")),
        session_record("unknown"),
    ]
    with running_gateway(settings, make_services(settings, records)) as url:
        for _ in range(4):
            answered(chat(url, model="claude-4.6-sonnet"))
        assert set(tried(fake, records)) == {"pro", "unknown"}
        seen = len(fake.runs)
        for _ in range(4):
            answered(chat(url, model="composer-2.5"))
        assert set(tried(fake, records, seen)) == {"free", "unknown"}

        # The only other token that has the model is rate limited: the plan that lacks it is not tried.
        fake.by_token[records[2].primary_token] = Behaviour.failing("rate_limited")
        seen = len(fake.runs)
        for _ in range(3):
            answered(chat(url, model="claude-4.6-sonnet"))
        assert "free" not in tried(fake, records, seen)
        assert tried(fake, records, seen).count("pro") == 3


def test_the_catalog_stores_the_usable_models_it_sees(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    records = [session_record("a-plan"), session_record("b-plan", usable_models=("claude-4.6-sonnet",))]
    fake.usable_by_token[records[0].primary_token] = ["composer-2.5", "default"]
    services = make_services(settings, records)
    with running_gateway(settings, services) as url:
        models = httpx.get(url + "/v1/models", headers=ADMIN_HEADERS)
        assert models.status_code == 200 and models.json()["source"] == "cursor"
        stored = services.token_store.get("a-plan")
        assert stored is not None and stored.usable_models == ("composer-2.5", "default")
        for _ in range(3):
            answered(chat(url, model="claude-4.6-sonnet"))
        assert tried(fake, records) == ["b-plan"] * 3


def test_model_aliases_map_client_ids_to_cursor_ids_and_parameters(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    with running_gateway(settings, make_services(settings, [session_record("one")])) as url:
        set_config(
            url,
            model_aliases={
                "gpt-4o": {"model": "claude-4.6-sonnet", "max_mode": True, "parameters": {"effort": "high"}},
                "claude-3-5-sonnet-20241022": "gpt-5.2",
            },
        )
        response = chat(url, model="gpt-4o")
        assert answered(response) == "Echo: hi" and response.json()["model"] == "gpt-4o"
        run = fake.runs[-1].run_request
        assert run is not None
        requested = run.requested_model
        assert (requested.model_id, requested.max_mode) == ("claude-4.6-sonnet", True)
        assert [(p.id, p.value) for p in requested.parameters] == [("effort", "high")]

        answered(chat(url, model="claude-3-5-sonnet-20241022"))
        run = fake.runs[-1].run_request
        assert run is not None
        requested = run.requested_model
        assert (requested.model_id, requested.max_mode, len(requested.parameters)) == ("gpt-5.2", False, 0)

        answered(chat(url, model="gpt-5.2"))  # not an alias: unchanged
        assert fake.runs[-1].run_request.requested_model.model_id == "gpt-5.2"  # type: ignore[union-attr]


# --- secrecy -------------------------------------------------------------------------------------------


def test_no_full_token_in_any_log_line_or_response(
    fake: FakeCursor, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = Clock()
    settings = gateway_settings(fake, max_token_attempts=4)
    key = api_key("leak-check")
    records = [
        session_record("dead"),
        session_record("limited"),
        session_record("renew", refresh_token=session_record("renew-refresh").primary_token),
        TokenRecord(alias="key", kind="api_key", primary_token=key),
    ]
    fake.by_token[records[0].primary_token] = Behaviour.failing("unauthenticated")
    fake.revoked_sessions.add(records[0].primary_token)
    fake.by_token[records[1].primary_token] = Behaviour.failing("rate_limited")
    fake.by_token[records[2].primary_token] = Behaviour.failing("unauthenticated")  # refreshed, then serves
    services = make_services(settings, records, clock=clock)
    bodies: list[str] = []
    with running_gateway(settings, services) as url:
        for i in range(6):
            response = httpx.post(
                url + "/v1/chat/completions",
                headers=ADMIN_HEADERS,
                json={
                    "model": "gpt-5.2",
                    "stream": i % 2 == 0,
                    "messages": [{"role": "user", "content": "hi"}],
                },
                timeout=30,
            )
            assert response.status_code == 200, response.text
            bodies.append(response.text)
        for pin in ("dead", "limited", "ghost"):
            bodies.append(chat(url, headers={"authorization": f"Bearer {ADMIN}-{pin}"}).text)
        bodies.append(httpx.post(url + "/tokens/get", headers=ADMIN_HEADERS, json={}).text)
        bodies.append(httpx.get(url + "/health", headers=ADMIN_HEADERS).text)
        bodies.append(httpx.get(url + "/v1/models", headers=ADMIN_HEADERS).text)

    stored = {r.alias: r for r in services.token_store.list()}
    assert stored["dead"].health.state == "disabled" and stored["limited"].health.state == "cooling_down"
    assert stored["renew"].primary_token != records[2].primary_token  # the refresh happened
    assert stored["key"].access_token  # the key was exchanged
    secrets = {
        *(r.primary_token for r in records),
        records[2].refresh_token,
        stored["renew"].primary_token,
        stored["key"].access_token,
    }
    assert all(len(s) > 20 for s in secrets)
    lines = [
        record.getMessage() + (record.exc_text or "")
        for record in caplog.records
        if not record.name.startswith(("cursor_gateway.emulator", "hpack", "h2"))
    ]
    assert any(line for line in lines if "token dead" in line)  # the failover was logged
    for secret in secrets:
        assert not [line for line in lines if secret in line]
        assert not [body for body in bodies if secret in body]
