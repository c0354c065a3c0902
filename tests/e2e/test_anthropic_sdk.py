"""End to end with the real `anthropic` SDK: SDK -> gateway (uvicorn, real socket) -> fake Cursor (HTTP/2)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import anthropic
import httpx
import pytest
from cursor_gateway.adapters.anthropic_response import thinking_signature
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

THINK = {"type": "enabled", "budget_tokens": 1024}


@pytest.fixture
def fake() -> Iterator[FakeCursor]:
    with running_fake(Behaviour(delay=0.0)) as server:
        yield server


@pytest.fixture
def gateway(fake: FakeCursor) -> Iterator[str]:
    settings = gateway_settings(fake)
    with running_gateway(settings, make_services(settings, [session_record("alpha")])) as url:
        yield url


def client(url: str, key: str = ADMIN) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key=key, max_retries=0)


def requested_model(fake: FakeCursor) -> str:
    run = fake.runs[-1].run_request
    assert run is not None
    return str(run.requested_model.model_id)


def test_non_stream_text(gateway: str, fake: FakeCursor) -> None:
    answer = client(gateway).messages.create(
        model="claude-sonnet-4-6",
        max_tokens=256,
        system="Be brief.",
        messages=[{"role": "user", "content": "hello there"}],
    )
    assert answer.type == "message" and answer.role == "assistant" and answer.id.startswith("msg_")
    assert answer.model == "claude-sonnet-4-6"
    assert [b.type for b in answer.content] == ["text"]
    assert answer.content[0].text == "Echo: hello there"  # type: ignore[union-attr]
    assert answer.stop_reason == "end_turn" and answer.stop_sequence is None
    assert answer.usage.input_tokens > 0 and answer.usage.output_tokens > 0
    assert requested_model(fake) == "claude-4.6-sonnet"  # the Anthropic name, translated
    run = fake.runs[-1]
    assert run.violations == []
    assert run.run_request is not None
    assert len(run.run_request.conversation_state.root_prompt_messages_json) == 1  # the system root


def test_non_stream_thinking(gateway: str, fake: FakeCursor) -> None:
    answer = client(gateway).messages.create(
        model="claude-sonnet-4-6",
        max_tokens=2048,
        thinking=THINK,
        messages=[{"role": "user", "content": "think first"}],
    )
    assert requested_model(fake) == "claude-4.6-sonnet-thinking"  # the thinking sibling, chosen
    thinking, text = answer.content
    assert thinking.type == "thinking" and thinking.thinking == "Let me think about that."
    assert thinking.signature == thinking_signature("Let me think about that.")
    assert text.type == "text" and text.text == "Echo: think first"


def test_stream_text_events_in_order(gateway: str) -> None:
    stream = client(gateway).messages.create(
        model="claude-4.6-sonnet",
        max_tokens=256,
        messages=[{"role": "user", "content": "stream please"}],
        stream=True,
    )
    events = list(stream)
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds[1] == "content_block_start" and kinds[-3] == "content_block_stop"
    assert set(kinds[2:-3]) == {"content_block_delta"} and len(kinds[2:-3]) > 5  # really streamed in pieces
    start = events[0]
    assert start.type == "message_start" and start.message.stop_reason is None
    text = "".join(
        e.delta.text for e in events if e.type == "content_block_delta" and e.delta.type == "text_delta"
    )
    assert text == "Echo: stream please"
    delta = events[-2]
    assert (
        delta.type == "message_delta"
        and delta.delta.stop_reason == "end_turn"
        and delta.usage.output_tokens > 0
    )


def test_stream_thinking_with_helper(gateway: str) -> None:
    with client(gateway).messages.stream(
        model="claude-sonnet-4-6",
        max_tokens=2048,
        thinking=THINK,
        messages=[{"role": "user", "content": "ponder"}],
    ) as stream:
        kinds = [(e.type, getattr(getattr(e, "delta", None), "type", None)) for e in stream]
        final = stream.get_final_message()
    assert ("content_block_delta", "thinking_delta") in kinds and (
        "content_block_delta",
        "signature_delta",
    ) in kinds
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == "Let me think about that."  # type: ignore[union-attr]
    assert final.content[0].signature.startswith("cgw1.")  # type: ignore[union-attr]
    assert final.content[1].text == "Echo: ponder"  # type: ignore[union-attr]
    assert final.stop_reason == "end_turn"


def test_thinking_model_without_thinking_enabled_sends_no_thinking_blocks(
    gateway: str, fake: FakeCursor
) -> None:
    answer = client(gateway).messages.create(
        model="claude-4.6-sonnet-thinking", max_tokens=256, messages=[{"role": "user", "content": "x"}]
    )
    assert requested_model(fake) == "claude-4.6-sonnet-thinking"  # the model thought ...
    assert [b.type for b in answer.content] == ["text"]  # ... but the client did not ask to see it


def test_history_with_thinking_blocks_cache_control_and_unknown_fields(
    gateway: str, fake: FakeCursor
) -> None:
    """What Claude Code sends: system blocks with cache_control, its own signed thinking replayed, and
    fields this gateway does not know."""
    first = client(gateway).messages.create(
        model="claude-sonnet-4-6",
        max_tokens=1024,
        thinking=THINK,
        messages=[{"role": "user", "content": "one"}],
    )
    history = [block.model_dump() for block in first.content]
    response = httpx.post(
        gateway + "/v1/messages",
        headers={"x-api-key": ADMIN, "anthropic-version": "2023-06-01", "anthropic-beta": "whatever-2030"},
        json={
            "model": "claude-sonnet-4-6",
            "max_tokens": 1024,
            "thinking": THINK,
            "system": [
                {"type": "text", "text": "You are a CLI.", "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "Be brief."},
            ],
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "text", "text": "one", "cache_control": {"type": "ephemeral"}}],
                },
                {"role": "assistant", "content": [*history, {"type": "redacted_thinking", "data": "opaque"}]},
                {"role": "user", "content": "two"},
            ],
            "metadata": {"user_id": "user_abc"},
            "temperature": 0.3,
            "context_management": {"edits": []},
            "a_field_from_the_future": {"x": 1},
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["content"][-1] == {"type": "text", "text": "Echo: two"}
    # The fake's catalog offers no effort parameter or variant for this model: the budget is said ignored.
    ignored = "context_management,metadata,temperature,thinking.budget_tokens"
    assert response.headers["x-ignored-params"] == ignored
    run = fake.runs[-1].run_request
    assert run is not None
    # system root + user "one" + assistant "Echo: one" (its thinking not replayed); "two" is the action
    assert len(run.conversation_state.root_prompt_messages_json) == 3
    assert run.action.user_message_action.user_message.text == "two"


async def test_async_client_stream_and_non_stream(gateway: str) -> None:
    async with anthropic.AsyncAnthropic(base_url=gateway, api_key=ADMIN, max_retries=0) as async_client:
        async with async_client.messages.stream(
            model="gpt-5.2", max_tokens=64, messages=[{"role": "user", "content": "async please"}]
        ) as stream:
            parts = [text async for text in stream.text_stream]
        answer = await async_client.messages.create(
            model="gpt-5.2", max_tokens=64, messages=[{"role": "user", "content": "once more"}]
        )
    assert "".join(parts) == "Echo: async please" and len(parts) > 5
    assert answer.content[0].text == "Echo: once more"  # type: ignore[union-attr]


def test_count_tokens_is_approximate(gateway: str, fake: FakeCursor) -> None:
    runs_before = len(fake.runs)
    c = client(gateway)
    short = c.messages.count_tokens(model="claude-sonnet-4-6", messages=[{"role": "user", "content": "hi"}])
    longer = c.messages.count_tokens(
        model="claude-sonnet-4-6",
        system="Be brief. " * 40,
        messages=[{"role": "user", "content": "hello " * 200}],
        tools=[
            {
                "name": "get_weather",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
            }
        ],
    )
    assert 0 < short.input_tokens < longer.input_tokens
    raw = httpx.post(
        gateway + "/v1/messages/count_tokens",
        headers={"x-api-key": ADMIN},
        json={"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert raw.headers["x-token-count"] == "estimated" and raw.json() == {"input_tokens": short.input_tokens}
    assert len(fake.runs) == runs_before  # nothing was sent to Cursor


def test_auth_by_x_api_key_or_bearer(gateway: str) -> None:
    messages = [{"role": "user", "content": "hi"}]
    shared = client(gateway, SHARED).messages.create(model="gpt-5.2", max_tokens=8, messages=messages)  # type: ignore[arg-type]
    assert shared.content[0].text == "Echo: hi"  # type: ignore[union-attr]
    bearer = anthropic.Anthropic(base_url=gateway, auth_token=SHARED, max_retries=0)
    assert bearer.messages.create(model="gpt-5.2", max_tokens=8, messages=messages).stop_reason == "end_turn"  # type: ignore[arg-type]
    with pytest.raises(anthropic.AuthenticationError) as caught:
        client(gateway, "wrong").messages.create(model="gpt-5.2", max_tokens=8, messages=messages)  # type: ignore[arg-type]
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "Invalid API key"},
    }
    missing = httpx.post(
        gateway + "/v1/messages", json={"model": "gpt-5.2", "max_tokens": 8, "messages": messages}
    )
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "authentication_error"
    count = httpx.post(gateway + "/v1/messages/count_tokens", json={"model": "gpt-5.2", "messages": messages})
    assert count.status_code == 401 and count.json()["type"] == "error"


def test_model_not_allowed_is_a_typed_permission_error(fake: FakeCursor) -> None:
    fake.default = Behaviour.failing("model_not_allowed")
    settings = gateway_settings(fake)
    with running_gateway(settings, make_services(settings, [session_record("alpha")])) as url:
        with pytest.raises(anthropic.PermissionDeniedError) as caught:
            client(url).messages.create(
                model="claude-opus-4-6", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
            )
    assert caught.value.status_code == 403
    assert caught.value.body["error"]["type"] == "permission_error"  # type: ignore[index]
    assert "Max mode" in caught.value.body["error"]["message"]  # type: ignore[index]


def test_no_tokens_is_503_overloaded(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    with running_gateway(settings, make_services(settings, [])) as url:
        with pytest.raises(anthropic.InternalServerError) as caught:
            client(url).messages.create(
                model="gpt-5.2", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
            )
    assert caught.value.status_code == 503
    assert caught.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


def test_rate_limited_everywhere_is_a_typed_rate_limit_error(fake: FakeCursor) -> None:
    fake.default = Behaviour.failing("rate_limited")
    settings = gateway_settings(fake, rate_limit_cooldown=30.0)
    with running_gateway(settings, make_services(settings, [session_record("r1")])) as url:
        with pytest.raises(anthropic.RateLimitError) as caught:
            client(url).messages.create(
                model="gpt-5.2", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
            )
    assert caught.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    assert 1 <= int(caught.value.response.headers["retry-after"]) <= 30


def test_error_after_first_byte_is_an_error_event(fake: FakeCursor) -> None:
    fake.default = Behaviour(mode="error_after_text", error=Behaviour.failing("overloaded").error)
    settings = gateway_settings(fake)
    body = {
        "model": "gpt-5.2",
        "max_tokens": 64,
        "stream": True,
        "messages": [{"role": "user", "content": "abcdefghijklmnopqrstuvwxyz"}],
    }
    with running_gateway(settings, make_services(settings, [session_record("alpha")])) as url:
        with httpx.stream("POST", url + "/v1/messages", headers={"x-api-key": ADMIN}, json=body) as r:
            status, raw = r.status_code, r.read().decode()
        with pytest.raises(anthropic.APIStatusError) as caught:
            for _ in client(url).messages.create(**body):  # type: ignore[call-overload]
                pass
    assert status == 200
    assert raw.endswith("\n\n")  # every event terminated
    events = [block.split("\n") for block in raw.strip().split("\n\n")]
    names = [lines[0].removeprefix("event: ") for lines in events]
    assert names[0] == "message_start" and "content_block_delta" in names
    assert names[-1] == "error" and "message_stop" not in names
    error = json.loads(events[-1][1].removeprefix("data: "))
    assert error["type"] == "error" and error["error"]["type"] == "overloaded_error"
    assert caught.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


def test_raw_stream_is_well_formed_sse(gateway: str) -> None:
    with httpx.stream(
        "POST",
        gateway + "/v1/messages",
        headers={"authorization": f"Bearer {ADMIN}", "anthropic-version": "2023-06-01"},
        json={
            "model": "gpt-5.2",
            "max_tokens": 64,
            "stream": True,
            "messages": [{"role": "user", "content": "x"}],
        },
    ) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        raw = r.read().decode()
    assert raw.endswith('event: message_stop\ndata: {"type":"message_stop"}\n\n')
    blocks = raw.strip().split("\n\n")
    for block in blocks:
        name, data = block.split("\n")
        assert json.loads(data.removeprefix("data: "))["type"] == name.removeprefix("event: ")
    assert blocks[1] == 'event: ping\ndata: {"type":"ping"}'


def test_keep_alive_pings_during_upstream_silence() -> None:
    with running_fake(Behaviour(delay=0.3, chunks=3)) as fake:
        settings = gateway_settings(fake, sse_keepalive_seconds=0.05)
        with running_gateway(settings, make_services(settings, [session_record("alpha")])) as url:
            with client(url).messages.stream(
                model="gpt-5.2", max_tokens=64, messages=[{"role": "user", "content": "slow"}]
            ) as stream:
                text = "".join(stream.text_stream)  # the SDK skips pings
            with httpx.stream(
                "POST",
                url + "/v1/messages",
                headers={"x-api-key": ADMIN},
                json={
                    "model": "gpt-5.2",
                    "max_tokens": 64,
                    "stream": True,
                    "messages": [{"role": "user", "content": "s"}],
                },
            ) as r:
                raw = r.read().decode()
    assert text == "Echo: slow"
    assert raw.count("event: ping\n") > 1  # the one after message_start, and keep-alives


def test_bad_input_is_400_in_the_anthropic_envelope_never_422(gateway: str) -> None:
    headers = {"x-api-key": ADMIN, "content-type": "application/json"}
    user = [{"role": "user", "content": "x"}]
    cases = [
        b"{not json",
        json.dumps({"max_tokens": 8, "messages": user}).encode(),
        json.dumps({"model": "gpt-5.2", "max_tokens": 8, "messages": "hi"}).encode(),
        json.dumps({"model": "gpt-5.2", "max_tokens": 8, "messages": []}).encode(),
        json.dumps({"model": "gpt-5.2", "max_tokens": 0, "messages": user}).encode(),
        json.dumps(
            {"model": "gpt-5.2", "max_tokens": 8, "messages": [{"role": "system", "content": "x"}]}
        ).encode(),
        json.dumps(
            {
                "model": "gpt-5.2",
                "max_tokens": 8,
                "messages": [{"role": "user", "content": [{"type": "document"}]}],
            }
        ).encode(),
        json.dumps(
            {"model": "gpt-5.2", "max_tokens": 8, "messages": user, "thinking": {"type": "maybe"}}
        ).encode(),
        json.dumps(
            {
                "model": "gpt-5.2",
                "max_tokens": 8,
                "messages": user,
                "tools": [{"type": "web_search_20250305"}],
            }
        ).encode(),
    ]
    for path in ("/v1/messages", "/v1/messages/count_tokens"):
        for body in cases:
            response = httpx.post(gateway + path, content=body, headers=headers)
            assert response.status_code == 400, (path, body, response.text)
            payload = response.json()
            assert payload["type"] == "error", payload
            assert payload["error"]["type"] == "invalid_request_error" and payload["error"]["message"]
    with pytest.raises(anthropic.BadRequestError) as caught:
        client(gateway).messages.create(model="gpt-5.2", max_tokens=8, messages=[])
    assert caught.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]


def test_other_statuses_use_anthropic_error_names(fake: FakeCursor) -> None:
    settings = gateway_settings(fake, max_body_bytes=10_000)
    with running_gateway(settings, make_services(settings, [session_record("alpha")])) as url:
        too_large = httpx.post(
            url + "/v1/messages",
            headers={"x-api-key": ADMIN},
            json={
                "model": "gpt-5.2",
                "max_tokens": 8,
                "messages": [{"role": "user", "content": "x" * 20_000}],
            },
        )
        wrong_method = httpx.get(url + "/v1/messages", headers={"x-api-key": ADMIN})
        unknown = httpx.post(url + "/v1/messages/batches", headers={"x-api-key": ADMIN}, json={})
    assert too_large.status_code == 413 and too_large.json()["error"]["type"] == "request_too_large"
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["type"] == "invalid_request_error"
    assert unknown.status_code == 404 and unknown.json() == {
        "type": "error",
        "error": {"type": "not_found_error", "message": "Not Found"},
    }
