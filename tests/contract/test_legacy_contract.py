"""`LegacyProfile` (`aiserver.v1.ChatService/StreamUnifiedChatWithTools`) against the fake Cursor over real
HTTP/2 sockets (127.0.0.1, a free port per test).

The fake checks the IDE identity (client type, a current checksum) and the request's shape and records
the parsed request; the raw request bytes are teed off the socket, so the §4.7 worked example is checked
byte for byte as it arrived. The real capture (legacy bare payloads) and the synthetic unified capture are
served byte for byte in odd write sizes and must come out as exactly the expected text.
`asyncio.wait_for` is only a safety net against hangs; no assertion depends on wall-clock time.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from itertools import count

import pytest
from cursor_gateway.codec._gen.aiserver.v1 import legacy_chat_pb2 as pb
from cursor_gateway.codec.envelope import FLAG_COMPRESSED, EnvelopeDecoder
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
from cursor_gateway.emulator.behaviour import FAILURES, Behaviour
from cursor_gateway.emulator.h2server import H2Stream
from cursor_gateway.emulator.server import FakeCursor
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
from cursor_gateway.upstream import drift
from cursor_gateway.upstream.checksum import checksum_header, decode_timestamp_part
from cursor_gateway.upstream.connect import BidiCall
from cursor_gateway.upstream.identity import MachineIds, default_identity
from cursor_gateway.upstream.legacy import LegacyProfile
from cursor_gateway.upstream.legacy_messages import RPC_PATH
from cursor_gateway.upstream.profile import UpstreamCredential
from legacy_example import BUBBLE, CONVERSATION, MODEL, SYSTEM, USER, WORKED_EXAMPLE
from testdata import read_fixture

SAFETY = 30.0  # seconds; only to turn a hang into a failure
TOKEN = "tok-legacy"
MACHINE = MachineIds(
    machine_id="a" * 64,
    mac_machine_id="b" * 64,
    client_key="c" * 64,
    session_id="3f2b8c1e-0000-4000-8000-00000000beef",
)
THINKING_MODEL = ModelChoice(
    cursor_id="claude-4.6-sonnet-thinking", client_id="claude-4.6-sonnet-thinking", supports_thinking=True
)
PLAIN_MODEL = ModelChoice(cursor_id="claude-4.6-sonnet", client_id="claude-4.6-sonnet")
CAPTURE = "cursor-stream-capture.bin"
UNIFIED = "cursor-stream-capture.synthetic-unified.bin"
EXPECTED = "cursor-stream-capture.expected.txt"
ERROR = "cursor-error-endstream.synthetic.bin"
CHUNKINGS = [(1, 3, 7, 64, 5, 1000), (1,), (4, 1, 2), (1145, 5, 13, 1), (4096,)]


class TeeFake(FakeCursor):
    """The fake, plus the raw request body of every stream as it came off the socket."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        super().__init__(behaviour)
        self.bodies: list[bytearray] = []

    async def handle(self, stream: H2Stream) -> None:
        body = bytearray()
        self.bodies.append(body)
        read = stream.read

        async def tee() -> bytes | None:
            chunk = await read()
            if chunk:
                body.extend(chunk)
            return chunk

        stream.read = tee  # type: ignore[method-assign]
        await super().handle(stream)


@pytest.fixture
async def fake() -> AsyncIterator[TeeFake]:
    server = TeeFake()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def settings_for(fake: FakeCursor, **overrides: object) -> Settings:
    return Settings(cursor_api_url=fake.url, **overrides)  # type: ignore[arg-type]


def chat_request(model: ModelChoice = THINKING_MODEL, text: str = "What is HTTP/2?") -> ChatRequest:
    return ChatRequest(
        model=model,
        messages=(
            Message("system", "Be brief."),
            Message("user", "Hi"),
            Message("assistant", "Hello!"),
            Message("user", text),
        ),
        conversation_id="5b0e4c1e-2f0a-4d8e-9a51-7d1f3b8c9e20",
        request_id="req-legacy-1",
    )


async def collect(
    profile: LegacyProfile,
    request: ChatRequest | None = None,
    token: str = TOKEN,
    machine: MachineIds = MACHINE,
) -> list[ChatEvent]:
    stream = profile.stream(request or chat_request(), UpstreamCredential(token, machine=machine))

    async def run() -> list[ChatEvent]:
        return [event async for event in stream]

    return await asyncio.wait_for(run(), SAFETY)


async def collect_until_error(
    profile: LegacyProfile,
    request: ChatRequest | None = None,
    token: str = TOKEN,
    machine: MachineIds = MACHINE,
) -> tuple[list[ChatEvent], UpstreamError]:
    events: list[ChatEvent] = []
    stream = profile.stream(request or chat_request(PLAIN_MODEL), UpstreamCredential(token, machine=machine))

    async def run() -> None:
        async for event in stream:
            events.append(event)

    with pytest.raises(UpstreamError) as info:
        await asyncio.wait_for(run(), SAFETY)
    return events, info.value


def text_of(events: list[ChatEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


# --- the happy path --------------------------------------------------------------------------------------


async def test_answer_with_thinking_then_text_and_no_usage(fake: TeeFake) -> None:
    fake.default = Behaviour(reply="HTTP/2 multiplexes streams.", chunks=5, thinking="Think first.")
    events = await collect(LegacyProfile(settings_for(fake)))

    assert [type(e).__name__ for e in events] == ["ThinkingDelta"] * 3 + ["TextDelta"] * 5 + ["TurnEnded"]
    assert "".join(e.text for e in events if isinstance(e, ThinkingDelta)) == "Think first."
    assert text_of(events) == "HTTP/2 multiplexes streams."
    assert events[-1] == TurnEnded(usage=None, finish_reason="stop")


async def test_fake_saw_an_ide_shaped_http2_request(fake: TeeFake) -> None:
    events = await collect(LegacyProfile(settings_for(fake)))
    assert text_of(events) == "Echo: What is HTTP/2?"
    # the fake plays thinking because the request asked for thinking_level HIGH
    assert any(isinstance(e, ThinkingDelta) for e in events)

    (record,) = fake.runs
    assert record.violations == []
    assert record.finished
    headers = record.headers
    # HTTP/2: the fake only speaks h2, and pseudo-headers exist only in HTTP/2 requests.
    assert headers[":method"] == "POST"
    assert headers[":path"] == RPC_PATH
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["content-type"] == "application/connect+proto"
    assert headers["connect-protocol-version"] == "1"
    assert headers["connect-content-encoding"] == "gzip"
    assert headers["connect-accept-encoding"] == "gzip"
    assert headers["x-cursor-client-type"] == "ide"
    assert headers["x-cursor-client-version"] == default_identity("ide", Settings()).client_version
    assert headers["x-client-key"] == "c" * 64
    assert headers["x-session-id"] == MACHINE.session_id
    assert headers["x-request-id"] == "req-legacy-1"
    checksum = headers["x-cursor-checksum"]
    assert checksum[8:] == "a" * 64 + "/" + "b" * 64
    assert decode_timestamp_part(checksum[:8]) is not None

    request = record.request
    assert isinstance(request, pb.StreamUnifiedChatRequest)
    assert [(m.text, m.type) for m in request.conversation] == [
        ("Hi", 1),
        ("Hello!", 2),
        ("What is HTTP/2?", 1),
    ]
    assert request.explicit_context.context == "Be brief."
    assert request.model_details.model_name == "claude-4.6-sonnet-thinking"
    assert request.thinking_level == pb.StreamUnifiedChatRequest.THINKING_LEVEL_HIGH
    assert request.unified_mode_name == "Ask"
    assert uuid.UUID(request.conversation_id).version == 4


async def test_worked_example_arrives_byte_for_byte(fake: TeeFake) -> None:
    ids = iter([CONVERSATION, BUBBLE])
    profile = LegacyProfile(settings_for(fake), new_id=lambda: next(ids), first_image_id=lambda: 300)
    request = ChatRequest(
        model=ModelChoice(cursor_id=MODEL, client_id=MODEL),
        messages=(Message("system", SYSTEM), Message("user", USER)),
        conversation_id="anything",
    )
    events = await collect(profile, request)
    assert text_of(events) == f"Echo: {USER}"
    assert fake.runs[0].violations == []
    assert bytes(fake.bodies[0]) == WORKED_EXAMPLE


async def test_large_request_is_gzipped_and_read_by_the_fake(fake: TeeFake) -> None:
    long_system = "Answer in plain English. " * 200  # ~5 KB, compresses well
    image = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + (2).to_bytes(4, "big") * 2 + b"\x08\x06\0\0\0"
    request = ChatRequest(
        model=PLAIN_MODEL,
        messages=(
            Message("system", long_system),
            Message("user", "describe", images=(ImagePart("image/png", image),)),
        ),
        conversation_id="c",
    )
    events = await collect(LegacyProfile(settings_for(fake)), request)
    assert text_of(events) == "Echo: describe"

    body = bytes(fake.bodies[0])
    assert body[0] == FLAG_COMPRESSED
    (frame,) = EnvelopeDecoder().feed(body)
    assert len(body) - 5 < len(frame.payload)  # smaller on the wire than inflated
    record = fake.runs[0]
    assert record.violations == []
    assert record.request.explicit_context.context == long_system
    (sent,) = record.request.conversation[0].images
    assert sent.data == image
    assert (sent.dimension.width, sent.dimension.height) == (2, 2)


async def test_empty_answer_is_unavailable(fake: TeeFake) -> None:
    fake.default = Behaviour(reply="")
    events, exc = await collect_until_error(LegacyProfile(settings_for(fake)))
    assert type(exc) is UpstreamUnavailable
    assert events == []


# --- the real capture, served over HTTP/2 -----------------------------------------------------------------


@pytest.mark.parametrize("name", [CAPTURE, UNIFIED])
@pytest.mark.parametrize("chunks", CHUNKINGS, ids=lambda c: "-".join(map(str, c)))
async def test_capture_over_http2_yields_exactly_the_expected_text(
    fake: TeeFake, name: str, chunks: tuple[int, ...]
) -> None:
    fake.default = Behaviour(mode="raw", raw_body=read_fixture(name), raw_chunks=chunks)
    events = await collect(LegacyProfile(settings_for(fake)))

    assert text_of(events).encode("utf-8") == read_fixture(EXPECTED)
    assert [type(e).__name__ for e in events] == ["TextDelta"] * 39 + ["TurnEnded"]
    assert (events[0], events[38]) == (TextDelta("我是"), TextDelta("！"))
    assert events[-1] == TurnEnded(usage=None)
    assert fake.runs[0].path == RPC_PATH


async def test_drift_report_names_bare_payloads_and_unknown_fields(fake: TeeFake) -> None:
    profile = LegacyProfile(settings_for(fake))
    before = drift.snapshot()
    await collect(profile)  # the emulator's own answer: only fields our schema knows
    assert drift.since(before) == {}

    fake.default = Behaviour(mode="raw", raw_body=read_fixture(CAPTURE), raw_chunks=(64,))
    before = drift.snapshot()
    await collect(profile)
    # frame 0 of the real capture carries field 4 (document_citation), which we do not declare
    assert drift.since(before) == {"legacy:bare StreamChatResponse payloads": 1, "StreamChatResponse#4": 1}

    fake.default = Behaviour(mode="raw", raw_body=read_fixture(UNIFIED), raw_chunks=(64,))
    before = drift.snapshot()
    await collect(profile)
    assert drift.since(before) == {"StreamUnifiedChatResponse#4": 1}


async def test_capture_text_then_the_synthetic_error_frame(fake: TeeFake) -> None:
    body = read_fixture(CAPTURE)[:1591] + read_fixture(ERROR)  # the capture, but ending in the error frame
    fake.default = Behaviour(mode="raw", raw_body=body, raw_chunks=(1, 3, 7, 64, 5, 1000))
    events, exc = await collect_until_error(LegacyProfile(settings_for(fake)))
    assert type(exc) is ModelNotAllowed
    assert exc.status == 403
    assert text_of(events).encode("utf-8") == read_fixture(EXPECTED)
    assert not any(isinstance(e, TurnEnded) for e in events)


async def test_capture_without_end_of_stream_is_unavailable(fake: TeeFake) -> None:
    fake.default = Behaviour(mode="raw", raw_body=read_fixture(CAPTURE)[:1591], raw_chunks=(64,))
    events, exc = await collect_until_error(LegacyProfile(settings_for(fake)))
    assert type(exc) is UpstreamUnavailable
    assert text_of(events).encode("utf-8") == read_fixture(EXPECTED)


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


@pytest.mark.parametrize("failure", sorted(EXPECTED_FAILURES))
async def test_failure_raises_its_error_class(fake: TeeFake, failure: str) -> None:
    fake.by_token["bad-token"] = Behaviour.failing(failure)
    events, exc = await collect_until_error(LegacyProfile(settings_for(fake)), token="bad-token")
    error_class, status = EXPECTED_FAILURES[failure]
    assert type(exc) is error_class
    assert exc.status == status
    assert events == []
    assert fake.runs[0].bearer == "bad-token"
    assert fake.runs[0].violations == []


async def test_version_gate_names_the_setting_and_other_tokens_still_work(fake: TeeFake) -> None:
    fake.by_token["gated"] = Behaviour.failing("update_required")
    profile = LegacyProfile(settings_for(fake))
    _, exc = await collect_until_error(profile, token="gated")
    assert isinstance(exc, UpstreamVersionGate)
    assert exc.retryable is False
    assert "CURSOR_CLIENT_VERSION" in exc.message
    events = await collect(profile, token="healthy")
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
    fake: TeeFake, status: int, error: dict[str, object], expected: type[UpstreamError]
) -> None:
    fake.default = Behaviour(mode="http_error", http_status=status, error=dict(error))
    events, exc = await collect_until_error(LegacyProfile(settings_for(fake)))
    assert type(exc) is expected
    assert exc.status == status
    assert events == []


async def test_error_after_text(fake: TeeFake) -> None:
    fake.default = Behaviour(
        mode="error_after_text", reply="partial answer", chunks=4, error=dict(FAILURES["rate_limited"])
    )
    events, exc = await collect_until_error(LegacyProfile(settings_for(fake)))
    assert type(exc) is UpstreamRateLimited
    assert events and all(isinstance(e, TextDelta) for e in events)
    assert "partial answer".startswith(text_of(events))
    assert text_of(events) != "partial answer"


async def test_reset_after_text_is_unavailable_not_a_hang(fake: TeeFake) -> None:
    fake.default = Behaviour(mode="reset_after_text", reply="cut off midway", chunks=4)
    events, exc = await collect_until_error(LegacyProfile(settings_for(fake)))
    assert type(exc) is UpstreamUnavailable
    assert exc.retryable is True
    assert events and all(isinstance(e, TextDelta) for e in events)
    assert "cut off midway".startswith(text_of(events))
    assert text_of(events) != "cut off midway"


async def test_stall_with_empty_frames_times_out(fake: TeeFake) -> None:
    fake.default = Behaviour(mode="stall")
    profile = LegacyProfile(settings_for(fake, cursor_first_event_timeout=0.5))
    events, exc = await collect_until_error(profile)
    assert type(exc) is UpstreamTimeout
    assert exc.status == 504
    assert events == []
    assert fake.runs[0].events_sent == 0


# --- the fake enforces the IDE identity ------------------------------------------------------------------


async def test_missing_machine_ids_mean_no_checksum_and_the_fake_refuses(fake: TeeFake) -> None:
    events, exc = await collect_until_error(LegacyProfile(settings_for(fake)), machine=MachineIds())
    assert type(exc) is UpstreamBadRequest
    assert events == []
    assert fake.runs[0].violations == ["x-cursor-checksum is missing"]


@pytest.mark.parametrize(
    ("checksum", "violation"),
    [
        (checksum_header("a" * 64, now=time.time() - 10_000), "x-cursor-checksum time part is not current"),
        ("!!!!!!!!" + "a" * 64, "x-cursor-checksum has no valid time part"),
        (
            checksum_header("A" * 64, now=time.time()),
            "x-cursor-checksum machine ids must be 64 lowercase hex each",
        ),
    ],
)
async def test_fake_rejects_a_bad_checksum(fake: TeeFake, checksum: str, violation: str) -> None:
    headers = [
        ("authorization", f"Bearer {TOKEN}"),
        ("content-type", "application/connect+proto"),
        ("connect-protocol-version", "1"),
        ("x-cursor-client-type", "ide"),
        ("x-cursor-client-version", "3.21.12"),
        ("x-cursor-checksum", checksum),
    ]

    async def run() -> list[bytes]:
        call = BidiCall(fake.url + RPC_PATH, headers)
        call.send(WORKED_EXAMPLE[5:])
        call.close_send()
        async with call:
            return [frame.payload async for frame in call.frames()]

    payloads = await asyncio.wait_for(run(), SAFETY)
    assert b"invalid_argument" in payloads[-1]
    assert fake.runs[0].violations == [violation]


async def test_fake_rejects_a_cli_identity(fake: TeeFake) -> None:
    settings = settings_for(fake)
    cli = default_identity("cli", settings)
    profile = LegacyProfile(settings)
    stream = profile.stream(chat_request(PLAIN_MODEL), UpstreamCredential(TOKEN, machine=MACHINE), cli)

    async def run() -> None:
        async for _ in stream:
            pass

    with pytest.raises(UpstreamBadRequest):
        await asyncio.wait_for(run(), SAFETY)
    assert fake.runs[0].violations == ["x-cursor-client-type must be ide, got 'cli'"]


async def test_requests_for_different_conversations_get_distinct_ids(fake: TeeFake) -> None:
    ids = count()
    profile = LegacyProfile(settings_for(fake), new_id=lambda: f"00000000-0000-4000-8000-{next(ids):012d}")
    await collect(profile, chat_request(PLAIN_MODEL))
    await collect(profile, chat_request(PLAIN_MODEL))
    first, second = (r.request for r in fake.runs)
    bubbles = [m.bubble_id for r in (first, second) for m in r.conversation]
    assert len(set(bubbles)) == len(bubbles) == 6
    assert first.conversation_id != second.conversation_id
