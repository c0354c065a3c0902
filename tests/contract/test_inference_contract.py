"""`InferenceProfile` against the fake Cursor's RunInference over real HTTP/2 sockets (127.0.0.1, a free
port per test).

The fake checks the IDE-shaped headers (checksum time part and machine ids, client key, IDE version),
answers `run_ready` only after the run request, checks the `invoke_model` message list, and ends the
stream only after `finish_run`; a completed answer with no violations therefore proves the whole §5.1
flow. Failures are scripted per bearer token. `asyncio.wait_for` is only a safety net against hangs; no
assertion depends on wall-clock time.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cursor_gateway.codec._gen.aiserver.v1 import inference_pb2 as pb
from cursor_gateway.codec.envelope import encode_envelope
from cursor_gateway.domain.chat import (
    ChatEvent,
    ChatRequest,
    ImagePart,
    Message,
    ModelChoice,
    TextDelta,
    ThinkingDelta,
    TurnEnded,
)
from cursor_gateway.domain.tokens import derive_checksum, derive_client_key
from cursor_gateway.emulator.behaviour import FAILURES, Behaviour
from cursor_gateway.emulator.inference import CACHE_READ_TOKENS, INFERENCE_FAILURES
from cursor_gateway.emulator.server import FakeCursor, RunRecord
from cursor_gateway.errors import (
    ModelNotAllowed,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
    UpstreamVersionGate,
)
from cursor_gateway.settings import Settings
from cursor_gateway.upstream import drift
from cursor_gateway.upstream.checksum import decode_timestamp_part
from cursor_gateway.upstream.identity import ClientIdentity, MachineIds, default_identity
from cursor_gateway.upstream.inference import InferenceProfile
from cursor_gateway.upstream.profile import UpstreamCredential

SAFETY = 30.0  # seconds; only to turn a hang into a failure
TOKEN = "tok-inference"
CONVERSATION_ID = "5b0e4c1e-2f0a-4d8e-9a51-7d1f3b8c9e20"
THINKING_MODEL = ModelChoice(
    cursor_id="claude-4.6-sonnet-thinking", client_id="claude-4.6-sonnet-thinking", supports_thinking=True
)
PLAIN_MODEL = ModelChoice(cursor_id="claude-4.6-sonnet", client_id="claude-4.6-sonnet")
EOS = "<" + "|eos|" + ">"


@pytest.fixture
async def fake() -> AsyncIterator[FakeCursor]:
    server = FakeCursor()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def settings_for(fake: FakeCursor, **overrides: Any) -> Settings:
    return Settings(cursor_api_url=fake.url, **overrides)


def machine_for(token: str, *, mac: bool = True) -> MachineIds:
    first, second = derive_checksum(token)
    return MachineIds(
        machine_id=first, mac_machine_id=second if mac else "", client_key=derive_client_key(token)
    )


def credential(token: str = TOKEN, *, machine: MachineIds | None = None) -> UpstreamCredential:
    return UpstreamCredential(token, machine=machine_for(token) if machine is None else machine)


def chat_request(
    model: ModelChoice = THINKING_MODEL, text: str = "What is HTTP/2?", request_id: str = "", **kwargs: Any
) -> ChatRequest:
    return ChatRequest(
        model=model,
        messages=(
            Message("system", "Be brief."),
            Message("user", "Hi"),
            Message("assistant", "Hello!"),
            Message("user", text, **kwargs),
        ),
        conversation_id=CONVERSATION_ID,
        request_id=request_id,
    )


async def collect(
    settings: Settings,
    request: ChatRequest | None = None,
    cred: UpstreamCredential | None = None,
    identity: ClientIdentity | None = None,
) -> list[ChatEvent]:
    stream = InferenceProfile(settings).stream(request or chat_request(), cred or credential(), identity)

    async def run() -> list[ChatEvent]:
        return [event async for event in stream]

    return await asyncio.wait_for(run(), SAFETY)


async def collect_until_error(
    settings: Settings, token: str = TOKEN, identity: ClientIdentity | None = None
) -> tuple[list[ChatEvent], UpstreamError]:
    """Events before the failure, and the failure. No thinking model, so every event before is text."""
    events: list[ChatEvent] = []
    stream = InferenceProfile(settings).stream(chat_request(model=PLAIN_MODEL), credential(token), identity)

    async def run() -> None:
        async for event in stream:
            events.append(event)

    with pytest.raises(UpstreamError) as info:
        await asyncio.wait_for(run(), SAFETY)
    return events, info.value


def text_of(events: list[ChatEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def arms(record: RunRecord) -> list[str]:
    return [m.WhichOneof("message") or "none" for m in record.client_messages]


async def finished(record: RunRecord) -> None:
    """The fake's handler is done with the stream (it may still be closing after the client returned)."""

    async def wait() -> None:
        while not record.finished:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), SAFETY)


# --- the happy path --------------------------------------------------------------------------------------


async def test_answer_events_arrive_in_order_with_extended_usage(fake: FakeCursor) -> None:
    fake.default = Behaviour(reply="HTTP/2 multiplexes streams.", chunks=5, thinking="Think first.")
    events = await collect(settings_for(fake))

    kinds = [type(e).__name__ for e in events]
    assert kinds == ["ThinkingDelta"] * 3 + ["TextDelta"] * 5 + ["TurnEnded"]
    assert "".join(e.text for e in events if isinstance(e, ThinkingDelta)) == "Think first."
    # The fake ends its final text part with the end-of-sequence marker: it never reaches the caller.
    assert text_of(events) == "HTTP/2 multiplexes streams."
    ended = events[-1]
    assert isinstance(ended, TurnEnded)
    assert ended.finish_reason == "stop"
    assert ended.usage is not None
    assert ended.usage.source == "upstream"
    assert ended.usage.output_tokens == 5
    # Plain `usage` counts the whole prompt; the extended one splits off the cache reads, and wins.
    assert ended.usage.cache_read_tokens == CACHE_READ_TOKENS
    assert ended.usage.input_tokens > 0


async def test_fake_saw_a_valid_ide_shaped_run(fake: FakeCursor) -> None:
    identity = ClientIdentity(client_type="ide", client_version="3.18.9", client_commit="2ba48ff3" * 5)
    events = await collect(settings_for(fake), chat_request(request_id="req-inf-1"), identity=identity)
    assert isinstance(events[-1], TurnEnded)
    assert text_of(events) == "Echo: What is HTTP/2?"

    assert len(fake.runs) == 1
    record = fake.runs[0]
    await finished(record)
    assert record.violations == []
    headers = record.headers
    # HTTP/2: the fake only speaks h2, and pseudo-headers exist only in HTTP/2 requests.
    assert headers[":method"] == "POST"
    assert headers[":path"] == "/aiserver.v1.InferenceService/RunInference"
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["content-type"] == "application/connect+proto"
    assert headers["connect-protocol-version"] == "1"
    assert headers["x-cursor-client-type"] == "ide"
    assert headers["x-cursor-client-version"] == "3.18.9"
    assert headers["x-cursor-client-commit"] == "2ba48ff3" * 5
    assert headers["x-cursor-client-device-type"] == "desktop"
    assert headers["x-request-id"] == "req-inf-1"
    machine = machine_for(TOKEN)
    assert headers["x-client-key"] == machine.client_key
    checksum = headers["x-cursor-checksum"]
    assert decode_timestamp_part(checksum[:8]) is not None
    assert checksum[8:] == f"{machine.machine_id}/{machine.mac_machine_id}"

    # The flow: run request, invoke (only after run_ready), finish.
    assert arms(record) == ["run_request", "invoke_model", "finish_run"]
    run = record.client_messages[0].run_request
    assert run.requested_model.model_id == "claude-4.6-sonnet-thinking"
    assert run.conversation_id == CONVERSATION_ID
    assert run.agent_mode == "agent"
    assert [m.text for m in run.routing_conversation] == ["Hi", "Hello!", "What is HTTP/2?"]

    request = record.request
    assert isinstance(request, pb.InferenceStreamRequest)
    roles = [pb.InferenceMessageRole.Name(m.role) for m in request.messages]
    assert roles == [
        "INFERENCE_MESSAGE_ROLE_SYSTEM",
        "INFERENCE_MESSAGE_ROLE_USER",
        "INFERENCE_MESSAGE_ROLE_ASSISTANT",
        "INFERENCE_MESSAGE_ROLE_USER",
    ]
    assert [m.text for m in request.messages] == ["Be brief.", "Hi", "Hello!", "What is HTTP/2?"]
    invoke = record.client_messages[1].invoke_model
    assert request.invocation_id == invoke.invocation_id != ""
    assert request.model_id == "claude-4.6-sonnet-thinking"
    assert request.conversation_id == CONVERSATION_ID
    assert len(request.tools) == 0


async def test_default_identity_is_ide_without_a_mac_suffix(fake: FakeCursor) -> None:
    machine = machine_for(TOKEN, mac=False)
    events = await collect(settings_for(fake), cred=credential(machine=machine))
    assert isinstance(events[-1], TurnEnded)
    record = fake.runs[0]
    assert record.violations == []
    assert record.headers["x-cursor-client-type"] == "ide"
    assert (
        record.headers["x-cursor-client-version"]
        == default_identity("ide", settings_for(fake)).client_version
    )
    assert record.headers["x-cursor-checksum"][8:] == machine.machine_id


async def test_latest_user_message_carries_its_image(fake: FakeCursor) -> None:
    image = ImagePart("image/png", b"\x89PNG\r\n\x1a\nfake-pixels")
    events = await collect(
        settings_for(fake), chat_request(model=PLAIN_MODEL, text="What is this?", images=(image,))
    )
    assert text_of(events) == "Echo: What is this?"
    record = fake.runs[0]
    assert record.violations == []
    latest = record.request.messages[-1]
    assert [p.WhichOneof("part") for p in latest.parts] == ["text", "image"]
    assert latest.parts[0].text.text == "What is this?"
    assert base64.b64decode(latest.parts[1].image.data) == image.data
    assert latest.parts[1].image.mime_type == "image/png"


async def test_heartbeats_and_delays_do_not_break_the_answer(fake: FakeCursor) -> None:
    fake.default = Behaviour(reply="slow answer", chunks=5, delay=0.02, first_delay=0.1)
    events = await collect(settings_for(fake), chat_request(model=PLAIN_MODEL))
    assert text_of(events) == "slow answer"
    assert fake.runs[0].violations == []


async def test_output_limit_after_text_ends_with_length(fake: FakeCursor) -> None:
    fake.default = Behaviour(
        mode="error_after_text", reply="a long answer", chunks=4, error=INFERENCE_FAILURES["output_limit"]
    )
    events = await collect(settings_for(fake), chat_request(model=PLAIN_MODEL))
    ended = events[-1]
    assert isinstance(ended, TurnEnded)
    assert ended.finish_reason == "length"
    assert text_of(events) and "a long answer".startswith(text_of(events))
    assert text_of(events) != "a long answer"
    record = fake.runs[0]
    await finished(record)
    assert record.violations == []
    assert arms(record) == ["run_request", "invoke_model", "finish_run"]


async def test_unknown_fields_and_arms_are_reported_as_drift(fake: FakeCursor) -> None:
    fake.default = Behaviour(reply="ok", chunks=1, send_unknown=True)
    before = drift.snapshot()
    events = await collect(settings_for(fake), chat_request(model=PLAIN_MODEL))
    assert text_of(events) == "ok"
    ended = events[-1]
    assert isinstance(ended, TurnEnded) and ended.usage is not None
    assert ended.usage.cache_read_tokens == CACHE_READ_TOKENS  # still decoded around the unknown field
    seen = drift.since(before)
    assert seen.get("RunInferenceServerMessage#99", 0) >= 1
    assert seen.get("InferenceExtendedUsage#9", 0) >= 1


async def test_an_abandoned_answer_is_cancelled(fake: FakeCursor) -> None:
    fake.default = Behaviour(reply="0123456789", chunks=10, delay=0.05)
    stream = InferenceProfile(settings_for(fake)).stream(chat_request(model=PLAIN_MODEL), credential())

    async def first_text() -> ChatEvent:
        async for event in stream:
            if isinstance(event, TextDelta):
                return event
        raise AssertionError("no text")

    assert await asyncio.wait_for(first_text(), SAFETY) == TextDelta("0")
    await asyncio.wait_for(stream.aclose(), SAFETY)  # what the chat service does when its client leaves
    record = fake.runs[0]
    await finished(record)
    assert arms(record) == ["run_request", "invoke_model", "cancel_invocation", "finish_run"]
    assert record.client_messages[2].cancel_invocation.invocation_id == record.request.invocation_id
    assert record.violations == []


# --- identity problems the fake refuses ------------------------------------------------------------------


async def test_missing_machine_ids_are_refused_like_a_dead_login(fake: FakeCursor) -> None:
    events: list[ChatEvent] = []
    stream = InferenceProfile(settings_for(fake)).stream(chat_request(), credential(machine=MachineIds()))
    with pytest.raises(UpstreamAuthError):
        async for event in stream:
            events.append(event)
    assert events == []
    problems = fake.runs[0].violations
    assert any("x-cursor-checksum is missing" in p for p in problems)
    assert any("x-client-key" in p for p in problems)


async def test_cli_identity_is_refused(fake: FakeCursor) -> None:
    cli = default_identity("cli", settings_for(fake))
    _, exc = await collect_until_error(settings_for(fake), identity=cli)
    assert type(exc) is UpstreamAuthError
    assert any("x-cursor-client-type" in p for p in fake.runs[0].violations)


# --- failures --------------------------------------------------------------------------------------------

EXPECTED_CONNECT_FAILURES: dict[str, tuple[type[UpstreamError], int]] = {
    "unauthenticated": (UpstreamAuthError, 401),
    "rate_limited": (UpstreamRateLimited, 429),
    "usage_limit": (UpstreamRateLimited, 429),
    "update_required": (UpstreamVersionGate, 502),
    "model_not_allowed": (ModelNotAllowed, 403),
    "deprecated": (UpstreamVersionGate, 502),
    "bad_model": (UpstreamBadRequest, 400),
    "overloaded": (UpstreamUnavailable, 503),
    "internal": (UpstreamError, 502),
}

EXPECTED_INFERENCE_FAILURES: dict[str, tuple[type[UpstreamError], str]] = {
    "input_limit": (UpstreamBadRequest, "context_length_exceeded"),
    "output_limit": (UpstreamBadRequest, "output_limit_exceeded"),
    "rate_limit": (UpstreamRateLimited, "rate_limit_exceeded"),
    "auth": (UpstreamAuthError, "upstream_auth_failed"),
    "permission": (ModelNotAllowed, "model_not_allowed"),
    "overloaded": (UpstreamUnavailable, "upstream_overloaded"),
    "content_filter": (UpstreamBadRequest, "content_filter"),
    "untyped_update_required": (UpstreamVersionGate, "upstream_version_gate"),
    "end_rate_limited": (UpstreamRateLimited, "rate_limit_exceeded"),
    "end_unavailable": (UpstreamUnavailable, "upstream_unavailable"),
}


def test_every_failure_has_an_expectation() -> None:
    assert set(EXPECTED_CONNECT_FAILURES) == set(FAILURES)
    assert set(EXPECTED_INFERENCE_FAILURES) == set(INFERENCE_FAILURES)


@pytest.mark.parametrize("failure", sorted(EXPECTED_CONNECT_FAILURES))
async def test_end_stream_failure_raises_its_error_class(fake: FakeCursor, failure: str) -> None:
    fake.by_token["bad-token"] = Behaviour.failing(failure)
    events, exc = await collect_until_error(settings_for(fake), token="bad-token")
    error_class, status = EXPECTED_CONNECT_FAILURES[failure]
    assert type(exc) is error_class
    assert exc.status == status
    assert events == []
    record = fake.runs[0]
    assert record.bearer == "bad-token"
    assert record.violations == []
    assert arms(record)[:2] == ["run_request", "invoke_model"]


@pytest.mark.parametrize("failure", sorted(EXPECTED_INFERENCE_FAILURES))
async def test_inference_failure_raises_its_error_class(fake: FakeCursor, failure: str) -> None:
    fake.by_token["bad-token"] = Behaviour(mode="error", error=INFERENCE_FAILURES[failure])
    events, exc = await collect_until_error(settings_for(fake), token="bad-token")
    error_class, code = EXPECTED_INFERENCE_FAILURES[failure]
    assert type(exc) is error_class
    assert exc.code == code
    assert events == []
    record = fake.runs[0]
    await finished(record)
    assert record.violations == []


@pytest.mark.parametrize("error", [FAILURES["rate_limited"], INFERENCE_FAILURES["rate_limit"]])
async def test_error_after_text(fake: FakeCursor, error: dict[str, Any]) -> None:
    fake.default = Behaviour(mode="error_after_text", reply="partial answer", chunks=4, error=error)
    events, exc = await collect_until_error(settings_for(fake))
    assert type(exc) is UpstreamRateLimited
    assert events and all(isinstance(e, TextDelta) for e in events)
    assert "partial answer".startswith(text_of(events))
    assert text_of(events) != "partial answer"


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (429, FAILURES["rate_limited"], UpstreamRateLimited),
        (401, {"code": "unauthenticated", "message": "bad token"}, UpstreamAuthError),
        (503, {}, UpstreamUnavailable),  # no Connect code in the body: the HTTP status decides
    ],
)
async def test_http_error_status(
    fake: FakeCursor, status: int, error: dict[str, Any], expected: type[UpstreamError]
) -> None:
    fake.default = Behaviour(mode="http_error", http_status=status, error=dict(error))
    events, exc = await collect_until_error(settings_for(fake))
    assert type(exc) is expected
    assert exc.status == status
    assert events == []


async def test_reset_after_text_is_unavailable_not_a_hang(fake: FakeCursor) -> None:
    fake.default = Behaviour(mode="reset_after_text", reply="cut off midway", chunks=4)
    events, exc = await collect_until_error(settings_for(fake))
    assert type(exc) is UpstreamUnavailable
    assert exc.retryable is True
    assert events and all(isinstance(e, TextDelta) for e in events)
    assert "cut off midway".startswith(text_of(events))


async def test_stall_times_out(fake: FakeCursor) -> None:
    fake.default = Behaviour(mode="stall")
    events, exc = await collect_until_error(settings_for(fake, cursor_first_event_timeout=0.5))
    assert type(exc) is UpstreamTimeout
    assert exc.status == 504
    assert events == []
    assert fake.runs[0].events_sent == 0
    assert arms(fake.runs[0])[:2] == ["run_request", "invoke_model"]


# --- malformed server streams (replayed byte for byte) ---------------------------------------------------


def server_frames(*messages: pb.RunInferenceServerMessage, end: bytes | None = b"{}") -> bytes:
    body = b"".join(encode_envelope(m.SerializeToString()) for m in messages)
    if end is not None:
        body += encode_envelope(end, end_stream=True)
    return body


def text_response(text: str) -> pb.RunInferenceServerMessage:
    part = pb.InferenceStreamResponse(text_part=pb.InferenceTextPart(text=text))
    return pb.RunInferenceServerMessage(
        invocation_response=pb.RunInferenceInvocationResponse(invocation_id="x", response=part)
    )


READY = pb.RunInferenceServerMessage(run_ready=pb.RunInferenceRunReady(resolved_model="m"))


@pytest.mark.parametrize(
    ("body", "expected", "texts"),
    [
        # `{}` before invocation_end: the answer is incomplete.
        pytest.param(
            server_frames(READY, text_response("half")), UpstreamUnavailable, ["half"], id="end-mid-answer"
        ),
        pytest.param(server_frames(READY), UpstreamUnavailable, [], id="end-without-answer"),
        # A response before run_ready (the client has not invoked anything yet).
        pytest.param(
            server_frames(text_response("early")), UpstreamProtocolError, [], id="response-before-ready"
        ),
        # Not a RunInferenceServerMessage.
        pytest.param(encode_envelope(b"\xff\xff\xff"), UpstreamProtocolError, [], id="undecodable"),
        # No end-of-stream frame at all.
        pytest.param(
            server_frames(READY, text_response("cut"), end=None),
            UpstreamUnavailable,
            ["cut"],
            id="no-trailer",
        ),
    ],
)
async def test_malformed_streams(
    fake: FakeCursor, body: bytes, expected: type[UpstreamError], texts: list[str]
) -> None:
    fake.default = Behaviour(mode="raw", raw_body=body, raw_chunks=(3,))
    events, exc = await collect_until_error(settings_for(fake))
    assert type(exc) is expected
    assert [e.text for e in events if isinstance(e, TextDelta)] == texts


async def test_an_error_trailer_after_a_complete_answer_does_not_undo_it(fake: FakeCursor) -> None:
    end = pb.RunInferenceServerMessage(invocation_end=pb.RunInferenceInvocationEnd(invocation_id="x"))
    body = server_frames(
        READY, text_response("done"), end, end=b'{"error":{"code":"internal","message":"late"}}'
    )
    fake.default = Behaviour(mode="raw", raw_body=body)
    events = await collect(settings_for(fake))
    assert text_of(events) == "done"
    assert isinstance(events[-1], TurnEnded)
