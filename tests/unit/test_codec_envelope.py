"""Connect envelope codec: framing, limits and hostile input (synthetic data only)."""

from __future__ import annotations

import gzip
import itertools
import random
import time
import tracemalloc
import zlib

import pytest
from cursor_gateway.codec.envelope import (
    FLAG_COMPRESSED,
    FLAG_END_STREAM,
    GZIP_MIN_SIZE,
    HEADER_SIZE,
    EnvelopeDecoder,
    Frame,
    ProtocolViolation,
    encode_envelope,
    inflate_limited,
)

MB = 1024 * 1024


def header(flags: int, length: int) -> bytes:
    return bytes([flags]) + length.to_bytes(4, "big")


def decode_all(data: bytes, chunks: list[int] | None = None, **limits: int) -> list[Frame]:
    """Feed `data` cut at the given chunk sizes (whole if None), then finish()."""
    decoder = EnvelopeDecoder(**limits)
    frames: list[Frame] = []
    if chunks is None:
        frames += decoder.feed(data)
    else:
        pos = 0
        for size in chunks:
            frames += decoder.feed(data[pos : pos + size])
            pos += size
        assert pos == len(data)
    decoder.finish()
    assert decoder.pending == 0
    assert decoder.bytes_consumed == len(data)
    assert decoder.frames_decoded == len(frames)
    return frames


def random_chunks(rng: random.Random, total: int) -> list[int]:
    """Cut `total` bytes at random points (including empty chunks and cuts inside headers)."""
    cuts = sorted(rng.randint(0, total) for _ in range(rng.randint(0, max(1, total // 7))))
    bounds = [0, *cuts, total]
    return [b - a for a, b in itertools.pairwise(bounds)]


def gzip_bomb(uncompressed: int) -> bytes:
    """A gzip stream of `uncompressed` zero bytes, built without ever holding them all in memory."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(MB)
    parts = [packer.compress(block) for _ in range(uncompressed // MB)]
    parts.append(packer.flush())
    return b"".join(parts)


# --- encoding -------------------------------------------------------------------------------------


def test_encode_header_layout() -> None:
    assert encode_envelope(b"abc") == b"\x00\x00\x00\x00\x03abc"
    assert encode_envelope(b"{}", end_stream=True) == b"\x02\x00\x00\x00\x02{}"
    assert encode_envelope(b"") == b"\x00\x00\x00\x00\x00"
    big = bytes(70_000)
    assert encode_envelope(big)[:HEADER_SIZE] == b"\x00\x00\x01\x11\x70"


@pytest.mark.parametrize("size", [0, 1, 100, GZIP_MIN_SIZE - 1])
def test_small_payloads_are_not_compressed(size: int) -> None:
    payload = b"a" * size  # highly compressible, but below the threshold
    wire = encode_envelope(payload, compress=True)
    assert wire[0] == 0
    assert wire[HEADER_SIZE:] == payload
    assert decode_all(wire) == [Frame(0, payload)]


def test_large_compressible_payload_is_gzipped_and_round_trips() -> None:
    payload = b"hello connect envelope " * 1000
    wire = encode_envelope(payload, compress=True)
    assert wire[0] == FLAG_COMPRESSED
    assert len(wire) < len(payload) // 5
    assert wire[HEADER_SIZE : HEADER_SIZE + 3] == b"\x1f\x8b\x08"
    assert int.from_bytes(wire[1:5], "big") == len(wire) - HEADER_SIZE
    assert gzip.decompress(wire[HEADER_SIZE:]) == payload
    assert decode_all(wire) == [Frame(FLAG_COMPRESSED, payload)]


def test_threshold_payload_is_compressed() -> None:
    payload = b"x" * GZIP_MIN_SIZE
    wire = encode_envelope(payload, compress=True)
    assert wire[0] == FLAG_COMPRESSED
    assert decode_all(wire)[0].payload == payload


def test_incompressible_payload_is_sent_plain() -> None:
    payload = random.Random(7).randbytes(4096)
    wire = encode_envelope(payload, compress=True)
    assert wire[0] == 0
    assert wire[HEADER_SIZE:] == payload


def test_compress_false_never_compresses() -> None:
    payload = b"z" * 10_000
    wire = encode_envelope(payload)
    assert wire[0] == 0
    assert len(wire) == HEADER_SIZE + len(payload)


def test_compressed_end_stream_round_trip() -> None:
    payload = b'{"metadata": {"x": ["' + b"y" * 5000 + b'"]}}'
    wire = encode_envelope(payload, end_stream=True, compress=True)
    assert wire[0] == FLAG_END_STREAM | FLAG_COMPRESSED
    (frame,) = decode_all(wire)
    assert frame.end_stream
    assert frame.payload == payload


# --- decoding basics --------------------------------------------------------------------------------


def test_empty_frame_is_a_message_not_an_end() -> None:
    frames = decode_all(header(0, 0) + encode_envelope(b"{}", end_stream=True))
    assert frames == [Frame(0, b""), Frame(FLAG_END_STREAM, b"{}")]
    assert not frames[0].end_stream
    assert frames[1].end_stream


def test_split_header_is_buffered_not_an_error() -> None:
    wire = encode_envelope(b"payload")
    decoder = EnvelopeDecoder()
    for i in range(HEADER_SIZE - 1):
        assert decoder.feed(wire[i : i + 1]) == []
        assert decoder.pending == i + 1
    assert decoder.feed(wire[HEADER_SIZE - 1 : HEADER_SIZE + 2]) == []
    assert decoder.feed(wire[HEADER_SIZE + 2 :]) == [Frame(0, b"payload")]
    assert decoder.pending == 0
    decoder.finish()


def test_feed_accepts_bytearray_and_memoryview() -> None:
    wire = encode_envelope(b"one") + encode_envelope(b"two")
    decoder = EnvelopeDecoder()
    frames = decoder.feed(bytearray(wire[:6])) + decoder.feed(memoryview(wire)[6:])
    assert [f.payload for f in frames] == [b"one", b"two"]
    assert all(type(f.payload) is bytes for f in frames)


def test_frame_at_exactly_max_frame_is_accepted() -> None:
    wire = encode_envelope(b"q" * 64)
    assert decode_all(wire, max_frame=64) == [Frame(0, b"q" * 64)]


# --- hostile input --------------------------------------------------------------------------------


@pytest.mark.parametrize("flags", [0x04, 0x08, 0x10, 0x80, 0xFF, 0x06, 0x05])
def test_unknown_flag_bit_is_rejected(flags: int) -> None:
    decoder = EnvelopeDecoder()
    with pytest.raises(ProtocolViolation, match="unknown envelope flags"):
        decoder.feed(header(flags, 3) + b"abc")


def test_unknown_flag_after_good_frames_is_rejected() -> None:
    decoder = EnvelopeDecoder()
    assert decoder.feed(encode_envelope(b"ok")) == [Frame(0, b"ok")]
    with pytest.raises(ProtocolViolation):
        decoder.feed(header(0x40, 0))


@pytest.mark.parametrize("declared", [1025, 10 * MB, 0xFFFFFFFF])
def test_oversized_declared_length_fails_on_the_header_alone(declared: int) -> None:
    decoder = EnvelopeDecoder(max_frame=1024)
    with pytest.raises(ProtocolViolation, match="exceeds limit"):
        decoder.feed(header(0, declared))  # no payload bytes at all: must not wait for them


def test_default_max_frame_rejects_4gib_declaration() -> None:
    with pytest.raises(ProtocolViolation):
        EnvelopeDecoder().feed(header(FLAG_COMPRESSED, 0xFFFFFFFF))


def test_gzip_bomb_is_rejected_fast_and_small() -> None:
    bomb = gzip_bomb(50 * MB)
    assert len(bomb) < MB  # really a bomb: ~50 KB that claims 50 MB
    wire = header(FLAG_COMPRESSED, len(bomb)) + bomb
    decoder = EnvelopeDecoder(max_inflated=MB)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ProtocolViolation, match="inflates beyond"):
            decoder.feed(wire)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 2.0
    assert peak < 8 * MB, f"peak {peak} bytes while rejecting a gzip bomb"


def test_inflate_limited_boundary() -> None:
    packed = gzip.compress(b"k" * 1000)
    assert inflate_limited(packed, 1000) == b"k" * 1000
    with pytest.raises(ProtocolViolation, match="inflates beyond"):
        inflate_limited(packed, 999)


def test_inflate_limited_accepts_zlib_wrapper_too() -> None:
    assert inflate_limited(zlib.compress(b"zlib body"), 100) == b"zlib body"


def _corruptions() -> list[tuple[str, bytes]]:
    good = gzip.compress(b"some protobuf-ish payload " * 50, mtime=0)
    bad_crc = good[:-8] + bytes(b ^ 0xFF for b in good[-8:-4]) + good[-4:]
    bad_magic = b"\x1f\x8c" + good[2:]
    bad_method = good[:2] + b"\x07" + good[3:]
    flipped = bytearray(good)
    flipped[20] ^= 0xFF
    return [
        ("bad crc", bad_crc),
        ("bad magic", bad_magic),
        ("bad method", bad_method),
        ("flipped deflate byte", bytes(flipped)),
        ("truncated trailer", good[:-4]),
        ("truncated body", good[: len(good) // 2]),
        ("header only", good[:10]),
        ("not gzip", b"plain text, no gzip header at all"),
        ("empty", b""),
    ]


@pytest.mark.parametrize(("label", "payload"), _corruptions(), ids=[c[0] for c in _corruptions()])
def test_corrupt_gzip_is_a_protocol_violation(label: str, payload: bytes) -> None:
    with pytest.raises(ProtocolViolation):
        EnvelopeDecoder().feed(header(FLAG_COMPRESSED, len(payload)) + payload)


@pytest.mark.parametrize(
    "trailer",
    [b"garbage", gzip.compress(b" second member", mtime=0)],
    ids=["garbage", "second gzip member"],
)
def test_bytes_after_the_gzip_stream_are_not_silently_dropped(trailer: bytes) -> None:
    payload = gzip.compress(b"first member", mtime=0) + trailer
    with pytest.raises(ProtocolViolation, match="after"):
        EnvelopeDecoder().feed(header(FLAG_COMPRESSED, len(payload)) + payload)


def test_finish_with_partial_header_fails() -> None:
    decoder = EnvelopeDecoder()
    assert decoder.feed(encode_envelope(b"done") + b"\x00\x00\x00") == [Frame(0, b"done")]
    assert decoder.pending == 3
    with pytest.raises(ProtocolViolation, match="3 bytes left over"):
        decoder.finish()


def test_finish_with_partial_payload_fails() -> None:
    decoder = EnvelopeDecoder()
    assert decoder.feed(header(0, 10) + b"1234") == []
    assert decoder.pending == HEADER_SIZE + 4
    with pytest.raises(ProtocolViolation, match="inside a frame"):
        decoder.finish()


def test_finish_after_whole_frames_and_on_empty_input_is_clean() -> None:
    decoder = EnvelopeDecoder()
    decoder.finish()
    decoder.feed(encode_envelope(b"x"))
    decoder.finish()
    assert decoder.bytes_consumed == HEADER_SIZE + 1


# --- property-style ------------------------------------------------------------------------------


def _random_payload(rng: random.Random) -> bytes:
    size = rng.randint(0, 5000)
    kind = rng.random()
    if kind < 0.4:  # compressible text
        return (b"lorem ipsum dolor " * (size // 18 + 1))[:size]
    if kind < 0.5:  # JSON-ish
        return (b'{"k":"' + b"v" * size + b'"}')[:size]
    return rng.randbytes(size)


@pytest.mark.parametrize("seed", range(25))
def test_random_frames_random_splits(seed: int) -> None:
    rng = random.Random(seed)
    expected: list[Frame] = []
    wire = bytearray()
    for _ in range(rng.randint(1, 40)):
        payload = _random_payload(rng)
        encoded = encode_envelope(payload, end_stream=rng.random() < 0.15, compress=rng.random() < 0.6)
        expected.append(Frame(encoded[0], payload))
        wire += encoded
    data = bytes(wire)

    assert decode_all(data) == expected
    for _ in range(5):
        assert decode_all(data, random_chunks(rng, len(data))) == expected


def test_random_corpus_exercises_every_flag_combination() -> None:
    """Guard for the property test: its generator really produces every flag combination."""
    seen_flags: set[int] = set()
    for seed in range(25):
        rng = random.Random(seed)
        for _ in range(rng.randint(1, 40)):
            payload = _random_payload(rng)
            encoded = encode_envelope(payload, end_stream=rng.random() < 0.15, compress=rng.random() < 0.6)
            seen_flags.add(encoded[0])
    assert seen_flags == {0, FLAG_COMPRESSED, FLAG_END_STREAM, FLAG_COMPRESSED | FLAG_END_STREAM}


def test_one_byte_at_a_time_many_frames() -> None:
    rng = random.Random(99)
    payloads = [_random_payload(rng) for _ in range(20)]
    data = b"".join(encode_envelope(p, compress=True) for p in payloads)
    frames = decode_all(data, [1] * len(data))
    assert [f.payload for f in frames] == payloads
