"""Bytes on the fake's streams, shared by its RPC modules: JSON answers, the Connect end-stream, the raw
replay mode, text split into deltas, and hand-written protobuf fields (for fields no schema of ours has)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from cursor_gateway.codec.envelope import encode_envelope
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.h2server import H2Stream


async def send_json(stream: H2Stream, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
    """A whole (non-streamed) JSON answer."""
    body = json.dumps(obj).encode()
    await stream.respond(status, [("content-type", "application/json"), *(headers or {}).items()])
    await stream.write(body, end=True)


async def end_stream(stream: H2Stream, obj: dict[str, Any]) -> None:
    """The Connect end-stream frame (`{}` or `{"error": ...}`), unless the client is gone."""
    if not stream.closed:
        await stream.write(encode_envelope(json.dumps(obj).encode(), end_stream=True), end=True)


async def serve_raw(stream: H2Stream, behaviour: Behaviour) -> None:
    """`raw` mode: replay `raw_body` byte for byte in `raw_chunks`-sized writes."""
    await stream.respond(200, [("content-type", behaviour.raw_content_type)])
    body, sizes, offset, index = (
        behaviour.raw_body,
        behaviour.raw_chunks or (len(behaviour.raw_body),),
        0,
        0,
    )
    while offset < len(body):
        size = max(1, sizes[index % len(sizes)])
        await stream.write(body[offset : offset + size])
        offset += size
        index += 1
        await asyncio.sleep(0)
    await stream.end()


def split_text(text: str, parts: int) -> list[str]:
    """`text` in `parts` pieces of near-equal length (fewer when the text is shorter)."""
    if not text:
        return []
    parts = max(1, min(parts, len(text)))
    size, extra = divmod(len(text), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(text[start:end])
        start = end
    return out


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def length_delimited(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field, written by hand (for fields our own schema does not have)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload
