"""Connect streaming envelopes: `[flags u8][length u32 BE][payload]`.

Sans-IO: `EnvelopeDecoder.feed(bytes)` returns the complete frames found so far and keeps any partial
frame (even a split 5-byte header) buffered for the next call. Defensive limits turn hostile or broken
input into `ProtocolViolation` instead of a hang or a MemoryError: an oversized declared length, a gzip
payload that inflates past the limit, an unknown flag bit, or a stream that ends mid-frame.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass

FLAG_COMPRESSED = 0x01
FLAG_END_STREAM = 0x02
_KNOWN_FLAGS = FLAG_COMPRESSED | FLAG_END_STREAM
HEADER_SIZE = 5

DEFAULT_MAX_FRAME = 16 * 1024 * 1024
DEFAULT_MAX_INFLATED = 32 * 1024 * 1024
GZIP_MIN_SIZE = 1024


class ProtocolViolation(Exception):
    """The byte stream is not a valid Connect envelope stream."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded envelope; `payload` is already decompressed."""

    flags: int
    payload: bytes

    @property
    def end_stream(self) -> bool:
        return bool(self.flags & FLAG_END_STREAM)


def encode_envelope(payload: bytes, *, end_stream: bool = False, compress: bool = False) -> bytes:
    """Frame one message. With `compress`, gzip is used only when the payload is large enough and
    actually shrinks (the same rule Cursor's own clients follow)."""
    flags = FLAG_END_STREAM if end_stream else 0
    if compress and len(payload) >= GZIP_MIN_SIZE:
        packed = gzip.compress(payload, compresslevel=6, mtime=0)
        if len(packed) < len(payload):
            payload = packed
            flags |= FLAG_COMPRESSED
    return bytes([flags]) + len(payload).to_bytes(4, "big") + payload


def inflate_limited(data: bytes, limit: int) -> bytes:
    """Gunzip with a hard output limit, so a gzip bomb fails fast instead of exhausting memory."""
    inflater = zlib.decompressobj(wbits=47)  # 32 + 15: accept gzip or zlib headers
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ProtocolViolation(f"invalid compressed frame: {exc}") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise ProtocolViolation(f"compressed frame inflates beyond {limit} bytes")
    if not inflater.eof:
        raise ProtocolViolation("truncated compressed frame")
    if inflater.unused_data:  # trailing garbage or a second gzip member: never drop it silently
        raise ProtocolViolation(f"{len(inflater.unused_data)} bytes after the end of the compressed frame")
    return out


class EnvelopeDecoder:
    """Incremental envelope reader; split input at any byte and the frames come out the same."""

    def __init__(
        self, *, max_frame: int = DEFAULT_MAX_FRAME, max_inflated: int = DEFAULT_MAX_INFLATED
    ) -> None:
        self._buffer = bytearray()
        self._max_frame = max_frame
        self._max_inflated = max_inflated
        self.bytes_consumed = 0
        self.frames_decoded = 0

    @property
    def pending(self) -> int:
        """Bytes buffered that do not yet form a complete frame."""
        return len(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while len(self._buffer) >= HEADER_SIZE:
            flags = self._buffer[0]
            length = int.from_bytes(self._buffer[1:5], "big")
            if flags & ~_KNOWN_FLAGS:
                raise ProtocolViolation(f"unknown envelope flags 0x{flags:02x}")
            if length > self._max_frame:
                raise ProtocolViolation(f"frame length {length} exceeds limit {self._max_frame}")
            if len(self._buffer) < HEADER_SIZE + length:
                break
            payload = bytes(self._buffer[HEADER_SIZE : HEADER_SIZE + length])
            del self._buffer[: HEADER_SIZE + length]
            self.bytes_consumed += HEADER_SIZE + length
            if flags & FLAG_COMPRESSED:
                payload = inflate_limited(payload, self._max_inflated)
            self.frames_decoded += 1
            frames.append(Frame(flags, payload))
        return frames

    def finish(self) -> None:
        """Call at end of body: leftover bytes mean the peer stopped mid-frame."""
        if self._buffer:
            raise ProtocolViolation(f"stream ended inside a frame ({len(self._buffer)} bytes left over)")
