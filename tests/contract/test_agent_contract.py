"""`AgentProfile` against the fake Cursor over real HTTP/2 sockets (127.0.0.1, a free port per test).

The fake is h2-only (prior-knowledge cleartext) and full duplex: it asks for request context, a blob and
a built-in tool first and streams the answer only after the client has answered, so a completed answer
already proves the client writes while it reads. Failures are scripted per bearer token.
`asyncio.wait_for` is only a safety net against hangs; no assertion depends on wall-clock time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as pb
from cursor_gateway.domain.chat import (
    ChatEvent,
    ChatRequest,
    Message,
    ModelChoice,
    TextDelta,
    ThinkingDelta,
    TurnEnded,
)
from cursor_gateway.emulator.behaviour import FAILURES, Behaviour
from cursor_gateway.emulator.h2server import H2Stream
from cursor_gateway.emulator.server import FakeCursor, RunRecord
from cursor_gateway.errors import (
    ModelNotAllowed,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
    UpstreamVersionGate,
)
from cursor_gateway.settings import Settings
from cursor_gateway.upstream.agent import AgentProfile
from cursor_gateway.upstream.profile import UpstreamCredential

CODECS = ["proto", "json"]
CONTENT_TYPES = {"proto": "application/connect+proto", "json": "application/connect+json"}
SAFETY = 30.0  # seconds; only to turn a hang into a failure
TOKEN = "tok-contract"
THINKING_MODEL = ModelChoice(
    cursor_id="claude-4.6-sonnet-thinking", client_id="claude-4.6-sonnet-thinking", supports_thinking=True
)
PLAIN_MODEL = ModelChoice(cursor_id="claude-4.6-sonnet", client_id="claude-4.6-sonnet")


class ObservedFake(FakeCursor):
    """The fake, plus a snapshot of what the client had sent when the fake sent its first text event, and
    an optional gate that holds the rest of the answer back until the test opens it."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        super().__init__(behaviour)
        self.client_arms_at_first_text: list[list[str]] = []
        self.gate_after_first_text: asyncio.Event | None = None
        self.gate_timed_out = False
        self._seen: set[int] = set()

    async def send_update(self, stream: H2Stream, record: RunRecord, update: pb.InteractionUpdate) -> None:
        first_text = update.WhichOneof("message") == "text_delta" and id(record) not in self._seen
        if first_text:
            self._seen.add(id(record))
            self.client_arms_at_first_text.append([_arm(m) for m in record.client_messages])
        await super().send_update(stream, record, update)
        if first_text and self.gate_after_first_text is not None:
            try:
                await asyncio.wait_for(self.gate_after_first_text.wait(), SAFETY / 3)
            except TimeoutError:
                self.gate_timed_out = True


def _arm(message: pb.AgentClientMessage) -> str:
    arm = message.WhichOneof("message") or "none"
    if arm == "exec_client_message":
        return f"exec:{message.exec_client_message.WhichOneof('message')}"
    return arm


@pytest.fixture
async def fake() -> AsyncIterator[ObservedFake]:
    server = ObservedFake()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def settings_for(fake: FakeCursor, codec: str = "proto", **overrides: object) -> Settings:
    return Settings(cursor_api_url=fake.url, cursor_agent_codec=codec, **overrides)  # type: ignore[arg-type]


def chat_request(
    model: ModelChoice = THINKING_MODEL, text: str = "What is HTTP/2?", request_id: str = ""
) -> ChatRequest:
    return ChatRequest(
        model=model,
        messages=(
            Message("system", "Be brief."),
            Message("user", "Hi"),
            Message("assistant", "Hello!"),
            Message("user", text),
        ),
        conversation_id="5b0e4c1e-2f0a-4d8e-9a51-7d1f3b8c9e20",
        request_id=request_id,
    )


async def collect(
    settings: Settings, request: ChatRequest | None = None, token: str = TOKEN
) -> list[ChatEvent]:
    stream = AgentProfile(settings).stream(request or chat_request(), UpstreamCredential(token))

    async def run() -> list[ChatEvent]:
        return [event async for event in stream]

    return await asyncio.wait_for(run(), SAFETY)


async def collect_until_error(
    settings: Settings, token: str = TOKEN
) -> tuple[list[ChatEvent], UpstreamError]:
    """Events before the failure, and the failure. No thinking model, so every event before is text."""
    events: list[ChatEvent] = []
    stream = AgentProfile(settings).stream(chat_request(model=PLAIN_MODEL), UpstreamCredential(token))

    async def run() -> None:
        async for event in stream:
            events.append(event)

    with pytest.raises(UpstreamError) as info:
        await asyncio.wait_for(run(), SAFETY)
    return events, info.value


def text_of(events: list[ChatEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


# --- the happy path --------------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", CODECS)
async def test_answer_events_arrive_in_order_with_upstream_usage(fake: ObservedFake, codec: str) -> None:
    fake.default = Behaviour(reply="HTTP/2 multiplexes streams.", chunks=5, thinking="Think first.")
    events = await collect(settings_for(fake, codec))

    kinds = [type(e).__name__ for e in events]
    assert kinds == ["ThinkingDelta"] * 3 + ["TextDelta"] * 5 + ["TurnEnded"]
    assert "".join(e.text for e in events if isinstance(e, ThinkingDelta)) == "Think first."
    assert text_of(events) == "HTTP/2 multiplexes streams."
    ended = events[-1]
    assert isinstance(ended, TurnEnded)
    assert ended.usage is not None
    assert ended.usage.source == "upstream"
    assert ended.usage.output_tokens == 5
    assert ended.usage.input_tokens > 0
    assert ended.finish_reason == "stop"


@pytest.mark.parametrize("codec", CODECS)
async def test_fake_saw_a_valid_http2_run(fake: ObservedFake, codec: str) -> None:
    settings = settings_for(fake, codec, cursor_client_version="cli-2099.01.01-test")
    events = await collect(settings, chat_request(request_id="req-contract-1"))
    assert isinstance(events[-1], TurnEnded)

    assert len(fake.runs) == 1
    record = fake.runs[0]
    headers = record.headers
    # HTTP/2: the fake only speaks h2, and pseudo-headers exist only in HTTP/2 requests.
    assert headers[":method"] == "POST"
    assert headers[":scheme"] == "http"
    assert headers[":path"] == "/agent.v1.AgentService/Run"
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["connect-protocol-version"] == "1"
    assert headers["content-type"] == CONTENT_TYPES[codec]
    assert headers["x-cursor-client-type"] == "cli"
    assert headers["x-cursor-client-version"] == "cli-2099.01.01-test"
    assert headers["x-cursor-agent-allowed-tools"] == "mcp_tool_call"
    assert headers["x-request-id"] == "req-contract-1"
    assert record.codec == codec

    assert record.violations == []
    assert record.request_context_answered
    assert record.blob_answered
    assert record.builtin_refused == "read_result.rejected"
    assert record.finished

    assert record.run_request is not None
    assert record.run_request.action.user_message_action.user_message.text == "What is HTTP/2?"
    assert record.run_request.requested_model.model_id == "claude-4.6-sonnet-thinking"
    assert len(record.run_request.conversation_state.root_prompt_messages_json) == 3  # system, Hi, Hello!
    assert _arm(record.client_messages[0]) == "run_request"


async def test_sdk_identity_sends_a_session_id(fake: ObservedFake) -> None:
    await collect(settings_for(fake, cursor_client_type="sdk", cursor_client_version="sdk-1.0.30"))
    headers = fake.runs[0].headers
    assert headers["x-cursor-client-type"] == "sdk"
    assert headers["x-cursor-client-version"] == "sdk-1.0.30"
    assert headers["x-session-id"] == chat_request().conversation_id


@pytest.mark.parametrize("codec", CODECS)
async def test_full_duplex_answers_were_sent_before_the_first_text(fake: ObservedFake, codec: str) -> None:
    fake.default = Behaviour(reply="streamed after the answers", chunks=3)
    events = await collect(settings_for(fake, codec), chat_request(model=PLAIN_MODEL))
    assert text_of(events) == "streamed after the answers"

    # What the fake had received from the client when it sent its first text event: the run request and
    # the answers to the three questions it asked on the (already streaming) response.
    assert len(fake.client_arms_at_first_text) == 1
    seen = [arm for arm in fake.client_arms_at_first_text[0] if arm != "client_heartbeat"]
    assert seen == ["run_request", "exec:request_context_result", "kv_client_message", "exec:read_result"]
    # ... and the request-context answer is in the recorded order before any text could be sent.
    arms = [_arm(m) for m in fake.runs[0].client_messages]
    assert arms.index("exec:request_context_result") < len(fake.client_arms_at_first_text[0])


async def test_client_heartbeats_while_reading(fake: ObservedFake) -> None:
    fake.default = Behaviour(reply="slow answer", chunks=5, delay=0.05, first_delay=0.2)
    events = await collect(settings_for(fake, cursor_heartbeat_seconds=0.05), chat_request(model=PLAIN_MODEL))
    assert text_of(events) == "slow answer"
    record = fake.runs[0]
    assert record.heartbeats > 0
    assert record.violations == []
    assert sum(_arm(m) == "client_heartbeat" for m in record.client_messages) == record.heartbeats


async def test_first_text_arrives_before_the_fake_finished_sending(fake: ObservedFake) -> None:
    fake.default = Behaviour(reply="0123456789", chunks=10, delay=0.05)
    sent_at_first_text: int | None = None
    events: list[ChatEvent] = []

    async def run() -> None:
        nonlocal sent_at_first_text
        profile = AgentProfile(settings_for(fake))
        async for event in profile.stream(chat_request(model=PLAIN_MODEL), UpstreamCredential(TOKEN)):
            if isinstance(event, TextDelta) and sent_at_first_text is None:
                sent_at_first_text = fake.runs[0].events_sent
            events.append(event)

    await asyncio.wait_for(run(), SAFETY)
    total = fake.runs[0].events_sent
    assert total == 11  # 10 text deltas + turn_ended
    assert text_of(events) == "0123456789"
    assert sent_at_first_text is not None
    assert sent_at_first_text < total


async def test_first_text_is_delivered_while_the_fake_holds_the_rest_back(fake: ObservedFake) -> None:
    # Deterministic form of the test above: the fake sends one text event and then waits until the client
    # has it. A client that buffered the response would only see it after the gate timed out.
    fake.default = Behaviour(reply="0123456789", chunks=10)
    fake.gate_after_first_text = gate = asyncio.Event()
    sent_at_first_text: int | None = None
    events: list[ChatEvent] = []

    async def run() -> None:
        nonlocal sent_at_first_text
        profile = AgentProfile(settings_for(fake))
        async for event in profile.stream(chat_request(model=PLAIN_MODEL), UpstreamCredential(TOKEN)):
            if isinstance(event, TextDelta) and sent_at_first_text is None:
                sent_at_first_text = fake.runs[0].events_sent
                gate.set()
            events.append(event)

    await asyncio.wait_for(run(), SAFETY)
    assert sent_at_first_text == 1
    assert not fake.gate_timed_out
    assert text_of(events) == "0123456789"


# --- failures --------------------------------------------------------------------------------------------

EXPECTED_FAILURES: dict[str, tuple[type[UpstreamError], int]] = {
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


def test_every_failure_has_an_expectation() -> None:
    assert set(EXPECTED_FAILURES) == set(FAILURES)


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("failure", sorted(EXPECTED_FAILURES))
async def test_failure_raises_its_error_class(fake: ObservedFake, codec: str, failure: str) -> None:
    fake.by_token["bad-token"] = Behaviour.failing(failure)
    events, exc = await collect_until_error(settings_for(fake, codec), token="bad-token")
    error_class, status = EXPECTED_FAILURES[failure]
    assert type(exc) is error_class
    assert exc.status == status
    assert events == []
    assert fake.runs[0].bearer == "bad-token"
    assert fake.runs[0].violations == []


async def test_failing_token_does_not_affect_other_tokens(fake: ObservedFake) -> None:
    fake.by_token["gated"] = Behaviour.failing("update_required")
    settings = settings_for(fake)
    _, exc = await collect_until_error(settings, token="gated")
    assert isinstance(exc, UpstreamVersionGate)
    assert exc.headers["x-should-retry"] == "false"
    assert "CURSOR_CLIENT_VERSION" in exc.message
    events = await collect(settings, token="healthy")
    assert isinstance(events[-1], TurnEnded)
    assert [r.bearer for r in fake.runs] == ["gated", "healthy"]


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (429, FAILURES["rate_limited"], UpstreamRateLimited),
        (401, {"code": "unauthenticated", "message": "bad token"}, UpstreamAuthError),
        (503, {}, UpstreamUnavailable),  # no Connect code in the body: the HTTP status decides
    ],
)
async def test_http_error_status(
    fake: ObservedFake, status: int, error: dict[str, object], expected: type[UpstreamError]
) -> None:
    fake.default = Behaviour(mode="http_error", http_status=status, error=dict(error))
    events, exc = await collect_until_error(settings_for(fake))
    assert type(exc) is expected
    assert exc.status == status
    assert events == []


@pytest.mark.parametrize("codec", CODECS)
async def test_error_after_text(fake: ObservedFake, codec: str) -> None:
    fake.default = Behaviour(
        mode="error_after_text", reply="partial answer", chunks=4, error=dict(FAILURES["rate_limited"])
    )
    events, exc = await collect_until_error(settings_for(fake, codec))
    assert type(exc) is UpstreamRateLimited
    assert events and all(isinstance(e, TextDelta) for e in events)
    assert "partial answer".startswith(text_of(events))
    assert text_of(events) != "partial answer"


@pytest.mark.parametrize("codec", CODECS)
async def test_reset_after_text_is_unavailable_not_a_hang(fake: ObservedFake, codec: str) -> None:
    fake.default = Behaviour(mode="reset_after_text", reply="cut off midway", chunks=4)
    events, exc = await collect_until_error(settings_for(fake, codec))
    assert type(exc) is UpstreamUnavailable
    assert exc.retryable is True
    assert events and all(isinstance(e, TextDelta) for e in events)
    assert "cut off midway".startswith(text_of(events))


async def test_stall_times_out(fake: ObservedFake) -> None:
    fake.default = Behaviour(mode="stall")
    events, exc = await collect_until_error(settings_for(fake, cursor_first_event_timeout=0.5))
    assert type(exc) is UpstreamTimeout
    assert exc.status == 504
    assert events == []
    assert fake.runs[0].events_sent == 0
