"""Issue 14 end to end: SDK-free HTTP client -> gateway (uvicorn) -> fake Cursor (HTTP/2), for the behaviours
Cursor started after the fact sheet, as the pool sees them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cursor_gateway.domain.tokens import TokenHealth
from cursor_gateway.emulator.behaviour import FAILURES, Behaviour
from cursor_gateway.emulator.compat import CLASS_RATE_LIMITED, default_usage
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.services.usage_schedule import refresh_usage_if_due
from cursor_gateway.storage.canary import InMemoryCanaryStore
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record

ADMIN_HEADERS = {"authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def fake() -> Iterator[FakeCursor]:
    with running_fake(Behaviour()) as server:
        yield server


def chat(url: str, model: str = "gpt-5.2") -> httpx.Response:
    return httpx.post(
        url + "/v1/chat/completions",
        headers=ADMIN_HEADERS,
        json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )


def pool_view(url: str) -> dict[str, dict[str, Any]]:
    response = httpx.post(url + "/tokens/get", headers=ADMIN_HEADERS, json={})
    assert response.status_code == 200, response.text
    return {alias: info for _, alias, info in response.json()["tokens"]}


def set_config(url: str, **fields: Any) -> None:
    response = httpx.post(url + "/config", headers=ADMIN_HEADERS, json={"action": "update", **fields})
    assert response.status_code == 200, response.text


def test_empty_turn_moves_to_another_token_and_counts_against_health(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    records = [session_record("blocked", created_at=1.0), session_record("fine", created_at=2.0)]
    fake.by_token[records[0].primary_token] = Behaviour(mode="empty_turn")
    with running_gateway(settings, make_services(settings, records)) as url:
        set_config(url, token_selection="fill_first")
        response = chat(url)
        assert response.status_code == 200, response.text
        assert response.json()["choices"][0]["message"]["content"] == "Echo: hi"
        view = pool_view(url)
        assert view["blocked"]["health"]["state"] == "healthy"  # a soft failure: no cooldown ...
        assert view["blocked"]["health"]["score"] < 1.0  # ... but a lower score
        assert "without any text" in view["blocked"]["health"]["reason"]

        # A pool of blocked accounts only: the client gets the 502 `empty_turn`, never an empty answer.
        fake.by_token[records[1].primary_token] = Behaviour(mode="empty_turn")
        response = chat(url)
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "empty_turn"


def test_tokens_get_shows_half_open_sets_protocol_and_honours_http_retry_after(fake: FakeCursor) -> None:
    now = time.time()
    settings = gateway_settings(fake)
    records = [
        session_record(
            "rested", health=TokenHealth("cooling_down", "429", now - 5, 0.75, 1, 1), created_at=1.0
        ),
        session_record("limited", created_at=2.0),
    ]
    fake.by_token[records[1].primary_token] = Behaviour(
        mode="http_error",
        http_status=429,
        error=dict(FAILURES["rate_limited"]),
        http_headers={"retry-after": "120"},
    )
    with running_gateway(settings, make_services(settings, records)) as url:
        view = pool_view(url)
        assert view["rested"]["health"]["state"] == "half_open"  # effective, not the stored cooling_down
        assert view["limited"]["health"]["state"] == "healthy"

        # An HTTP-level 429 with Retry-After: the cooldown is Cursor's 120 s, not our 60 s base.
        answer = admin(url, "/tokens/protocol/set", {"aliases": ["rested"], "protocol": "inference"})
        assert answer.status_code == 200, answer.text
        set_config(url, token_selection="fill_first")
        httpx.post(
            url + "/tokens/status/set",
            headers=ADMIN_HEADERS,
            json={"aliases": ["rested"], "status": "disabled"},
        )
        before = time.time()
        assert chat(url).status_code == 429
        cooldown = pool_view(url)["limited"]["health"]["cooldown_until"]
        assert before + 115 <= cooldown <= time.time() + 121

        # The token's own protocol: shown in /tokens/get and used for its requests.
        httpx.post(
            url + "/tokens/status/set",
            headers=ADMIN_HEADERS,
            json={"aliases": ["rested"], "status": "enabled"},
        )
        assert pool_view(url)["rested"]["cursor_protocol"] == "inference"
        seen = len(fake.runs)
        response = chat(url)
        assert response.status_code == 200, response.text
        assert [run.path for run in fake.runs[seen:]] == ["/aiserver.v1.InferenceService/RunInference"]
        assert pool_view(url)["rested"]["health"]["state"] == "healthy"  # its trial closed the circuit

        cleared = admin(url, "/tokens/protocol/set", {"aliases": ["rested", "ghost"], "protocol": None})
        assert [r["outcome"] for r in cleared.json()["results"]] == ["updated", "not_found"]
        assert "cursor_protocol" not in pool_view(url)["rested"]
        for bad in ({"aliases": ["rested"], "protocol": "grpc"}, {"aliases": ["rested"]}):
            refused = admin(url, "/tokens/protocol/set", bad)
            assert refused.status_code == 400, refused.text
            assert "error" in refused.json()


def admin(url: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(url + path, headers=ADMIN_HEADERS, json=body)


def test_a_rate_limit_naming_a_model_class_rests_that_class_only(fake: FakeCursor) -> None:
    settings = gateway_settings(fake, rate_limit_cooldown=60.0)
    records = [session_record("only")]
    limited = Behaviour(mode="error", error=dict(CLASS_RATE_LIMITED), only_models=("claude-4.6-sonnet",))
    fake.by_token[records[0].primary_token] = limited
    with running_gateway(settings, make_services(settings, records)) as url:
        first = chat(url, "claude-4.6-sonnet")
        assert first.status_code == 429, first.text
        # Another class on the same (only) token still answers ...
        assert chat(url, "gpt-5.2").status_code == 200
        assert chat(url, "claude-4.6-sonnet-thinking").status_code == 429  # ... the same class does not
        runs = len(fake.runs)
        again = chat(url, "claude-4.6-sonnet")
        assert again.status_code == 429 and 55 <= int(again.headers["retry-after"]) <= 60
        assert len(fake.runs) == runs  # refused by the pool, Cursor was not asked
        view = pool_view(url)["only"]
        assert view["health"]["state"] == "healthy"
        assert set(view["model_cooldowns"]) == {"claude"}

        # A limit that names no model rests the whole account, as before.
        fake.by_token[records[0].primary_token] = Behaviour.failing("rate_limited")
        assert chat(url, "gpt-5.2").status_code == 429
        assert chat(url, "gemini-3.1-pro-preview").status_code == 429
        assert pool_view(url)["only"]["health"]["state"] == "cooling_down"


def test_the_account_agent_host_from_server_config_serves_its_runs(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    records = [session_record("eu", created_at=1.0), session_record("plain", created_at=2.0)]
    with running_fake(Behaviour()) as regional:
        # Privacy mode (the default) takes agentUrl; agentnUrl points nowhere and must not be used.
        fake.accounts.agent_urls[account_user(records[0].primary_token)] = (
            regional.url,
            "http://127.0.0.1:9",
        )
        with running_gateway(settings, make_services(settings, records)) as url:
            answer = httpx.post(
                url + "/tokens/config-version/update", headers=ADMIN_HEADERS, json=["eu", "plain"]
            )
            assert answer.status_code == 200, answer.text
            details = {r["alias"]: r["detail"] for r in answer.json()["results"]}
            assert f"agent host {regional.url}" in details["eu"] and "agent host" not in details["plain"]
            view = pool_view(url)
            assert view["eu"]["agent_url"] == regional.url and "agent_url" not in view["plain"]

            set_config(url, token_selection="fill_first")
            assert chat(url).status_code == 200
            assert [r.bearer for r in regional.runs] == [records[0].primary_token]
            assert not any(r.path.endswith("/Run") for r in fake.runs)
            # The other account keeps the default host.
            httpx.post(
                url + "/tokens/status/set",
                headers=ADMIN_HEADERS,
                json={"aliases": ["eu"], "status": "disabled"},
            )
            assert chat(url).status_code == 200
            assert [r.bearer for r in fake.runs if r.path.endswith("/Run")] == [records[1].primary_token]


def account_user(jwt: str) -> str:
    from cursor_gateway.emulator.account import user_id_of

    return user_id_of(jwt)


def test_period_usage_is_shown_scheduled_and_drives_most_remaining(fake: FakeCursor) -> None:
    settings = gateway_settings(fake, usage_refresh_interval=3600.0)
    records = [session_record("low", created_at=1.0), session_record("high", created_at=2.0)]
    plans = {"low": 100, "high": 1500}
    for record in records:
        answer = default_usage()
        answer["planUsage"] |= {
            "remaining": str(plans[record.alias]),
            "totalPercentUsed": 2000 - plans[record.alias],
        }
        fake.accounts.usage[account_user(record.primary_token)] = answer
    services = make_services(settings, records, canary_store=InMemoryCanaryStore())
    with running_gateway(settings, services) as url:
        answer = httpx.post(url + "/tokens/profile/update", headers=ADMIN_HEADERS, json=["low", "high"])
        assert answer.status_code == 200, answer.text
        assert "plan 100 of 2000 left" in answer.json()["results"][0]["detail"]
        usage = pool_view(url)["high"]["usage"]
        assert usage["plan_limit"] == 2000 and usage["remaining"] == 1500
        assert usage["billing_cycle_start"] == "2026-10-01T00:00:00Z"
        assert usage["billing_cycle_end"].startswith("2026-11-01")

        set_config(url, token_selection="most_remaining")
        by_bearer = {r.primary_token: r.alias for r in records}
        assert chat(url).status_code == 200
        assert by_bearer[fake.runs[-1].bearer] == "high"

        # The operator's schedule: the low account got its plan back; the next run sees it.
        fake.accounts.usage[account_user(records[0].primary_token)]["planUsage"]["remaining"] = "1900"
        ran = asyncio.run(refresh_usage_if_due(services))
        assert ran is not None and ran["message"] == "usage updated: 2, failed: 0"
        assert asyncio.run(refresh_usage_if_due(services)) is None  # not due again within the interval
        assert pool_view(url)["low"]["usage"]["remaining"] == 1900
        assert chat(url).status_code == 200
        assert by_bearer[fake.runs[-1].bearer] == "low"


def test_an_empty_turn_fails_closed_on_the_inference_profile_too(fake: FakeCursor) -> None:
    settings = gateway_settings(fake, cursor_protocol="inference")
    records = [session_record("blocked", created_at=1.0), session_record("fine", created_at=2.0)]
    fake.by_token[records[0].primary_token] = Behaviour(reply="", usage=False)
    with running_gateway(settings, make_services(settings, records)) as url:
        set_config(url, token_selection="fill_first")
        response = chat(url)
        assert response.status_code == 200, response.text
        assert response.json()["choices"][0]["message"]["content"] == "Echo: hi"
        assert pool_view(url)["blocked"]["health"]["score"] < 1.0
