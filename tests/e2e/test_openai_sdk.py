"""End to end with the real `openai` SDK: SDK -> gateway (uvicorn, real socket) -> fake Cursor (HTTP/2)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import openai
import pytest
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from harness import (
    ADMIN,
    SHARED,
    gateway_settings,
    make_services,
    running_fake,
    running_gateway,
    session_record,
)


@pytest.fixture
def fake() -> Iterator[FakeCursor]:
    with running_fake(Behaviour(delay=0.0)) as server:
        yield server


@pytest.fixture
def gateway(fake: FakeCursor) -> Iterator[str]:
    settings = gateway_settings(fake)
    with running_gateway(settings, make_services(settings, [session_record("alpha")])) as url:
        yield url


def client(url: str, key: str = ADMIN) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0)


def test_sync_non_stream(gateway: str, fake: FakeCursor) -> None:
    answer = client(gateway).chat.completions.create(
        model="claude-4.6-sonnet",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello there"}],
    )
    assert answer.object == "chat.completion"
    assert answer.choices[0].message.content == "Echo: hello there"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.completion_tokens > 0 and answer.usage.prompt_tokens > 0
    run = fake.runs[-1]
    assert run.violations == []
    assert run.run_request is not None
    assert run.run_request.action.user_message_action.user_message.text == "hello there"
    assert len(run.run_request.conversation_state.root_prompt_messages_json) == 1  # the system root


def test_sync_stream_with_thinking_and_usage(gateway: str) -> None:
    stream = client(gateway).chat.completions.create(
        model="claude-4.6-sonnet-thinking",
        messages=[{"role": "user", "content": "think first"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    reasoning = "".join(
        getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks if c.choices
    )
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert reasoning == "Let me think about that."
    assert content == "Echo: think first"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0
    assert all(c.model == "claude-4.6-sonnet-thinking" for c in chunks)


async def test_async_stream_and_non_stream(gateway: str) -> None:
    async_client = openai.AsyncOpenAI(base_url=gateway + "/v1", api_key=ADMIN, max_retries=0)
    stream = await async_client.chat.completions.create(
        model="gpt-5.2", messages=[{"role": "user", "content": "async please"}], stream=True
    )
    parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
    assert "".join(parts) == "Echo: async please"
    assert len([p for p in parts if p]) > 5  # really streamed in pieces
    answer = await async_client.chat.completions.create(
        model="gpt-5.2", messages=[{"role": "user", "content": "once more"}]
    )
    assert answer.choices[0].message.content == "Echo: once more"
    await async_client.close()


def test_think_tags_mode(fake: FakeCursor) -> None:
    settings = gateway_settings(fake, thinking_output="think_tags")
    with running_gateway(settings, make_services(settings, [session_record("alpha")])) as url:
        answer = client(url).chat.completions.create(
            model="claude-4.6-sonnet-thinking", messages=[{"role": "user", "content": "x"}]
        )
        stream = client(url).chat.completions.create(
            model="claude-4.6-sonnet-thinking", messages=[{"role": "user", "content": "x"}], stream=True
        )
        streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert answer.choices[0].message.content == "<think>Let me think about that.</think>Echo: x"
    assert streamed == "<think>Let me think about that.</think>Echo: x"


def test_streaming_is_incremental() -> None:
    """The first chunk reaches the client while the fake has not yet sent its last event."""
    with running_fake(Behaviour(delay=0.15, chunks=8)) as fake:
        settings = gateway_settings(fake)
        with running_gateway(settings, make_services(settings, [session_record("alpha")])) as url:
            stream = client(url).chat.completions.create(
                model="gpt-5.2", messages=[{"role": "user", "content": "slowly please"}], stream=True
            )
            sent_when_first_arrived = None
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    sent_when_first_arrived = fake.runs[-1].events_sent
                    break
            for _ in stream:
                pass
            total = fake.runs[-1].events_sent
    assert sent_when_first_arrived is not None
    assert total == 9  # 8 text deltas + turn_ended
    assert sent_when_first_arrived < total


def test_version_gate_is_502_and_not_retried(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    services = make_services(settings, [session_record("alpha"), session_record("beta")])
    fake.default = Behaviour.failing("update_required")
    with running_gateway(settings, services) as url, pytest.raises(openai.APIStatusError) as caught:
        client(url).chat.completions.create(model="gpt-5.2", messages=[{"role": "user", "content": "hi"}])
    err = caught.value
    assert err.status_code == 502
    assert err.response.headers["x-should-retry"] == "false"
    body = err.response.json()["error"]
    assert body["code"] == "upstream_version_gate"
    assert "CURSOR_CLIENT_VERSION" in body["message"]
    assert len(fake.runs) == 1  # a gate is never retried on another token
    assert all(r.health.state == "healthy" for r in services.token_store.list())  # nor blamed on it


def test_model_not_allowed_is_403(fake: FakeCursor) -> None:
    fake.default = Behaviour.failing("model_not_allowed")
    settings = gateway_settings(fake)
    with running_gateway(settings, make_services(settings, [session_record("alpha")])) as url:
        with pytest.raises(openai.PermissionDeniedError) as caught:
            client(url).chat.completions.create(
                model="claude-4.6-opus-high-thinking", messages=[{"role": "user", "content": "hi"}]
            )
    assert caught.value.response.json()["error"]["code"] == "model_not_allowed"


def test_failover_to_a_healthy_token(fake: FakeCursor) -> None:
    settings = gateway_settings(fake, max_token_attempts=3)
    records = [session_record("a1"), session_record("a2"), session_record("a3")]
    services = make_services(settings, records)
    fake.by_token[records[0].primary_token] = Behaviour.failing("unauthenticated")
    # Its one refresh attempt (the access JWT doubles as refresh token) is refused too: a dead account.
    fake.revoked_sessions.add(records[0].primary_token)
    fake.by_token[records[1].primary_token] = Behaviour.failing("rate_limited")
    with running_gateway(settings, services) as url:
        for _ in range(3):  # whatever the round-robin start, every request lands on a3
            answer = client(url).chat.completions.create(
                model="gpt-5.2", messages=[{"role": "user", "content": "hi"}]
            )
            assert answer.choices[0].message.content == "Echo: hi"
    health = {r.alias: r.health for r in services.token_store.list()}
    assert health["a1"].state == "disabled"
    assert health["a2"].state == "cooling_down" and health["a2"].cooldown_until > time.time()
    assert health["a3"].state == "healthy"


def test_all_tokens_rate_limited_is_429_with_retry_after(fake: FakeCursor) -> None:
    settings = gateway_settings(fake, rate_limit_cooldown=30.0)
    records = [session_record("r1"), session_record("r2")]
    fake.default = Behaviour.failing("rate_limited")
    with running_gateway(settings, make_services(settings, records)) as url:
        with pytest.raises(openai.RateLimitError) as first:
            client(url).chat.completions.create(model="gpt-5.2", messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(openai.RateLimitError) as second:  # now every token is cooling down
            client(url).chat.completions.create(model="gpt-5.2", messages=[{"role": "user", "content": "hi"}])
    assert 1 <= int(first.value.response.headers["retry-after"]) <= 30
    assert 1 <= int(second.value.response.headers["retry-after"]) <= 30
    assert second.value.response.json()["error"]["code"] == "no_available_tokens"


def test_no_tokens_is_503(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    with running_gateway(settings, make_services(settings, [])) as url:
        with pytest.raises(openai.InternalServerError) as caught:
            client(url).chat.completions.create(model="gpt-5.2", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 503
    assert caught.value.response.json()["error"]["code"] == "no_available_tokens"


def test_error_after_first_byte_is_in_band(fake: FakeCursor) -> None:
    fake.default = Behaviour(mode="error_after_text", error=Behaviour.failing("overloaded").error)
    settings = gateway_settings(fake)
    with running_gateway(settings, make_services(settings, [session_record("alpha")])) as url:
        with httpx.stream(
            "POST",
            url + "/v1/chat/completions",
            headers={"authorization": f"Bearer {ADMIN}"},
            json={
                "model": "gpt-5.2",
                "stream": True,
                "messages": [{"role": "user", "content": "abcdefghijklmnopqrstuvwxyz"}],
            },
        ) as r:
            status = r.status_code
            events = [line[6:] for line in r.iter_lines() if line.startswith("data: ")]
    assert status == 200
    assert events[-1] == "[DONE]"
    error = json.loads(events[-2])["error"]
    assert error["code"] == "upstream_overloaded"
    assert any('"content"' in e for e in events[:-2])


def test_reset_mid_stream_ends_cleanly(fake: FakeCursor) -> None:
    fake.default = Behaviour(mode="reset_after_text")
    settings = gateway_settings(fake)
    with running_gateway(settings, make_services(settings, [session_record("alpha")])) as url:
        stream = client(url).chat.completions.create(
            model="gpt-5.2", messages=[{"role": "user", "content": "abcdefghijklmnop"}], stream=True
        )
        with pytest.raises(openai.APIError):
            for _ in stream:
                pass


def test_bad_input_is_400_never_422(gateway: str) -> None:
    headers = {"authorization": f"Bearer {ADMIN}", "content-type": "application/json"}
    cases = [
        (b"{not json", None),
        (json.dumps({"model": "gpt-5.2"}).encode(), "messages"),
        (json.dumps({"model": "gpt-5.2", "messages": "hi"}).encode(), "messages"),
        (json.dumps({"model": "gpt-5.2", "messages": [], "n": 1}).encode(), "messages"),
        (
            json.dumps({"model": "gpt-5.2", "n": 2, "messages": [{"role": "user", "content": "x"}]}).encode(),
            "n",
        ),
        (
            json.dumps({"model": "gpt-5.2", "messages": [{"role": "wizard", "content": "x"}]}).encode(),
            "messages[0].role",
        ),
        (
            json.dumps(
                {
                    "model": "gpt-5.2",
                    "messages": [
                        {
                            "role": "user",
                            "content": [
                                {"type": "image_url", "image_url": {"url": "http://169.254.169.254/x.png"}}
                            ],
                        }
                    ],
                }
            ).encode(),
            "messages[0].content",
        ),
    ]
    for body, param in cases:
        response = httpx.post(gateway + "/v1/chat/completions", content=body, headers=headers)
        assert response.status_code == 400, (body, response.text)
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error" and error["message"]
        if param is not None:
            assert error["param"] == param, (body, error)


def test_oversized_body_is_413(fake: FakeCursor) -> None:
    settings = gateway_settings(fake, max_body_bytes=10_000)
    with running_gateway(settings, make_services(settings, [session_record("alpha")])) as url:
        response = httpx.post(
            url + "/v1/chat/completions",
            headers={"authorization": f"Bearer {ADMIN}"},
            json={"model": "gpt-5.2", "messages": [{"role": "user", "content": "x" * 20_000}]},
        )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_auth_rules(gateway: str) -> None:
    body = {"model": "gpt-5.2", "messages": [{"role": "user", "content": "hi"}]}
    assert httpx.post(gateway + "/v1/chat/completions", json=body).status_code == 401
    wrong = httpx.post(gateway + "/v1/chat/completions", json=body, headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "authentication_error"
    shared = client(gateway, SHARED).chat.completions.create(**body)
    assert shared.choices[0].message.content == "Echo: hi"
    by_x_api_key = httpx.post(gateway + "/v1/chat/completions", json=body, headers={"x-api-key": SHARED})
    assert by_x_api_key.status_code == 200
    admin_route = httpx.post(gateway + "/tokens/get", json={}, headers={"authorization": f"Bearer {SHARED}"})
    assert admin_route.status_code == 403 and admin_route.json()["status"] == "error"


def test_ignored_params_header(gateway: str) -> None:
    response = httpx.post(
        gateway + "/v1/chat/completions",
        headers={"authorization": f"Bearer {ADMIN}"},
        json={
            "model": "gpt-5.2",
            "temperature": 0.2,
            "max_tokens": 10,
            "messages": [{"role": "user", "content": "hi"}],
        },
    )
    assert response.status_code == 200
    assert response.headers["x-ignored-params"] == "max_tokens,temperature"


def test_models_from_cursor_and_builtin(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    with running_gateway(settings, make_services(settings, [session_record("alpha")])) as url:
        listed = client(url).models.list()
        raw = httpx.get(url + "/v1/models", headers={"authorization": f"Bearer {ADMIN}"}).json()
    ids = {m.id for m in listed.data}
    assert "claude-4.6-sonnet-thinking" in ids and "default" in ids
    assert raw["source"] == "cursor"
    thinking = next(m for m in raw["data"] if m["id"] == "claude-4.6-sonnet-thinking")
    assert thinking["supports_thinking"] is True and "supports_max_mode" in thinking
    with running_gateway(settings, make_services(settings, [])) as url:
        builtin = httpx.get(url + "/v1/models", headers={"authorization": f"Bearer {ADMIN}"}).json()
    assert builtin["source"] == "builtin" and len(builtin["data"]) > 3


def test_concurrent_streams(gateway: str) -> None:
    results: list[str] = []

    def one(i: int) -> None:
        stream = client(gateway).chat.completions.create(
            model="gpt-5.2", messages=[{"role": "user", "content": f"n{i}"}], stream=True
        )
        results.append("".join(c.choices[0].delta.content or "" for c in stream if c.choices))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == sorted(f"Echo: n{i}" for i in range(8))
