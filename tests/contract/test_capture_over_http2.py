"""The real captured Cursor stream (and the synthetic error frame), served byte for byte by the fake over
HTTP/2 in odd write sizes and read back through `BidiCall`: the transport plus the envelope decoder must
give exactly what the capture holds (judging rules: shared/testdata/README.md)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from cursor_gateway.codec._gen.aiserver.v1 import legacy_chat_pb2
from cursor_gateway.codec.connect_error import parse_end_stream
from cursor_gateway.codec.envelope import FLAG_COMPRESSED, FLAG_END_STREAM, Frame
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.errors import ModelNotAllowed, UpstreamError, UpstreamProtocolError, UpstreamUnavailable
from cursor_gateway.upstream.classify import classify_connect_error
from cursor_gateway.upstream.connect import BidiCall
from testdata import read_fixture

CAPTURE = "cursor-stream-capture.bin"
EXPECTED = "cursor-stream-capture.expected.txt"
ERROR = "cursor-error-endstream.synthetic.bin"
PATH = "/aiserver.v1.AiService/StreamChat"
HEADERS = [("content-type", "application/connect+proto"), ("connect-protocol-version", "1")]
SAFETY = 30.0  # seconds; only to turn a hang into a failure
CHUNKINGS = [
    (1, 3, 7, 64, 5, 1000),
    (1,),  # one byte per write
    (5,),  # exactly one envelope header per write at the start
    (4, 1, 2),  # headers split across writes
    (1145, 5, 13, 1),  # frame boundaries, then a trickle
    (1597, 1),  # all but the last byte
    (4096,),  # everything in one write
]

Serve = Callable[[Behaviour], Awaitable[FakeCursor]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    started: list[FakeCursor] = []

    async def start(behaviour: Behaviour) -> FakeCursor:
        fake = FakeCursor(behaviour)
        started.append(fake)
        return await fake.start()

    try:
        yield start
    finally:
        for fake in started:
            await fake.close()


async def read_frames(fake: FakeCursor) -> tuple[list[Frame], BidiCall]:
    async def run() -> tuple[list[Frame], BidiCall]:
        async with BidiCall(fake.url + PATH, HEADERS) as call:
            return [frame async for frame in call.frames()], call

    return await asyncio.wait_for(run(), SAFETY)


def raw(body: bytes, chunks: tuple[int, ...]) -> Behaviour:
    return Behaviour(mode="raw", raw_body=body, raw_chunks=chunks)


def legacy_text(frames: list[Frame]) -> str:
    decode = legacy_chat_pb2.StreamChatResponse.FromString
    return "".join(decode(f.payload).text for f in frames if not f.end_stream)


@pytest.mark.parametrize("chunks", CHUNKINGS, ids=lambda c: "-".join(map(str, c)))
async def test_capture_decodes_over_http2(serve: Serve, chunks: tuple[int, ...]) -> None:
    data = read_fixture(CAPTURE)
    frames, call = await read_frames(await serve(raw(data, chunks)))

    assert call.http_version == "HTTP/2"
    assert len(frames) == 42
    assert call.decoder.bytes_consumed == len(data) == 1598
    assert call.decoder.pending == 0
    assert [f.flags for f in frames] == [FLAG_COMPRESSED] + [0] * 40 + [FLAG_END_STREAM]
    assert frames[1].payload == b""

    text = legacy_text(frames)
    assert text.encode("utf-8") == read_fixture(EXPECTED)
    deltas = [legacy_chat_pb2.StreamChatResponse.FromString(f.payload).text for f in frames[2:41]]
    assert (deltas[0], deltas[-1]) == ("我是", "！")

    # frame 0 is the filled prompt (a debug field), never assistant text
    first = legacy_chat_pb2.StreamChatResponse.FromString(frames[0].payload)
    assert first.text == ""
    assert first.HasField("filled_prompt")
    assert len(first.filled_prompt.encode("utf-8")) == 2403
    assert first.filled_prompt.rstrip().endswith("<|BEGIN_USER|>\n你是谁\n<|END_USER|>")

    assert parse_end_stream(frames[-1].payload) is None  # `{}`: a normal end


@pytest.mark.parametrize("chunks", [(2,), (1,), (5, 100), (600,)], ids=lambda c: "-".join(map(str, c)))
async def test_synthetic_error_frame_over_http2_is_model_not_allowed(
    serve: Serve, chunks: tuple[int, ...]
) -> None:
    frames, call = await read_frames(await serve(raw(read_fixture(ERROR), chunks)))
    assert call.http_version == "HTTP/2"
    assert len(frames) == 1
    assert frames[0].end_stream
    error = parse_end_stream(frames[0].payload)
    assert error is not None
    exc = classify_connect_error(error)
    assert type(exc) is ModelNotAllowed
    assert exc.status == 403


async def test_capture_text_then_error_frame(serve: Serve) -> None:
    capture = read_fixture(CAPTURE)
    body = capture[:1591] + read_fixture(ERROR)  # the capture's frames, but the synthetic error at the end
    frames, _ = await read_frames(await serve(raw(body, (1, 3, 7, 64, 5, 1000))))
    assert len(frames) == 42
    assert legacy_text(frames).encode("utf-8") == read_fixture(EXPECTED)
    error = parse_end_stream(frames[-1].payload)
    assert error is not None
    assert type(classify_connect_error(error)) is ModelNotAllowed


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        (1591, UpstreamUnavailable),  # every data frame, but no end-of-stream frame
        (1590, UpstreamProtocolError),  # the body stops inside a frame
        (3, UpstreamProtocolError),  # ... inside the very first header
    ],
)
async def test_truncated_capture_is_an_error_not_a_clean_end(
    serve: Serve, cut: int, expected: type[UpstreamError]
) -> None:
    fake = await serve(raw(read_fixture(CAPTURE)[:cut], (1, 3, 7, 64, 5, 1000)))
    seen: list[Frame] = []

    async def run() -> None:
        async with BidiCall(fake.url + PATH, HEADERS) as call:
            async for frame in call.frames():
                seen.append(frame)

    with pytest.raises(UpstreamError) as info:
        await asyncio.wait_for(run(), SAFETY)
    assert type(info.value) is expected
    assert not any(f.end_stream for f in seen)


async def test_non_connect_content_type_is_a_protocol_error(serve: Serve) -> None:
    behaviour = Behaviour(mode="raw", raw_body=b"<html>login</html>", raw_content_type="text/html")
    fake = await serve(behaviour)
    with pytest.raises(UpstreamProtocolError) as info:
        await read_frames(fake)
    assert "text/html" in info.value.message
