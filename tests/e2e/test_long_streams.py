"""Long streams as they run on Lambda, over real sockets: SSE keep-alive comments while Cursor is silent,
a maximum stream duration, and a client that goes away (the upstream stream must be closed, not left
running until Lambda's timeout)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record

BODY = {"model": "claude-4.6-sonnet", "messages": [{"role": "user", "content": "hi"}], "stream": True}
HEADERS = {"authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def fake() -> Iterator[FakeCursor]:
    with running_fake() as server:
        yield server


def gateway(fake: FakeCursor, **overrides: float) -> Iterator[str]:
    settings = gateway_settings(fake, **overrides)
    return running_gateway(settings, make_services(settings, [session_record("alpha")]))


def sse_lines(url: str, body: dict[str, object] = BODY) -> list[tuple[float, str]]:
    started = time.monotonic()
    out = []
    with httpx.stream("POST", url + "/v1/chat/completions", json=body, headers=HEADERS, timeout=30) as answer:
        assert answer.status_code == 200
        for line in answer.iter_lines():
            if line:
                out.append((time.monotonic() - started, line))
    return out


def wait_until(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


def test_silence_is_filled_with_keepalive_comments(fake: FakeCursor) -> None:
    fake.default = Behaviour(reply="abc", chunks=3, delay=0.7)
    with gateway(fake, sse_keepalive_seconds=0.2) as url:
        lines = sse_lines(url)
    texts = [line for _, line in lines]
    data = [json.loads(t[6:]) for t in texts if t.startswith("data: {")]
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in data if c["choices"])
    assert content == "abc"
    assert texts[-1] == "data: [DONE]"
    keepalives = [i for i, t in enumerate(texts) if t == ": keep-alive"]
    # 0.7 s between deltas with a 0.2 s interval: several comments, each between two data events.
    assert len(keepalives) >= 4
    first_data = next(i for i, t in enumerate(texts) if t.startswith("data: "))
    assert all(first_data < i < len(texts) - 1 for i in keepalives)


def test_no_keepalive_when_events_keep_coming(fake: FakeCursor) -> None:
    fake.default = Behaviour(reply="abcdef", chunks=6, delay=0.01)
    with gateway(fake, sse_keepalive_seconds=5.0) as url:
        texts = [line for _, line in sse_lines(url)]
    assert ": keep-alive" not in texts
    assert texts[-1] == "data: [DONE]"


def test_a_stream_past_its_maximum_duration_ends_with_an_in_band_error(fake: FakeCursor) -> None:
    fake.default = Behaviour(reply="x" * 40, chunks=40, delay=0.1)  # 4 s of answer
    with gateway(fake, max_stream_seconds=1.0, sse_keepalive_seconds=0.2) as url:
        lines = sse_lines(url)
        elapsed, texts = lines[-1][0], [line for _, line in lines]
        assert texts[-1] == "data: [DONE]"
        error = json.loads(texts[-2][6:])["error"]
        assert error["code"] == "max_stream_duration"
        assert 0.9 < elapsed < 3.0
        assert any('"content":"x' in t for t in texts)  # it did stream before the cut
        assert wait_until(lambda: fake.runs[-1].finished, 3.0), "the upstream stream was left open"


def test_a_non_streamed_answer_past_the_maximum_duration_is_a_504(fake: FakeCursor) -> None:
    fake.default = Behaviour(reply="x" * 30, chunks=30, delay=0.1)
    with gateway(fake, max_stream_seconds=0.8) as url:
        answer = httpx.post(
            url + "/v1/chat/completions", json={**BODY, "stream": False}, headers=HEADERS, timeout=30
        )
    assert answer.status_code == 504
    assert answer.json()["error"]["code"] == "max_stream_duration"


def test_a_client_that_goes_away_stops_the_upstream_stream(fake: FakeCursor) -> None:
    fake.default = Behaviour(reply="y" * 60, chunks=60, delay=0.25)  # 15 s if nobody stops it
    with gateway(fake) as url:
        address = urlsplit(url)
        payload = json.dumps(BODY).encode()
        request = (
            f"POST /v1/chat/completions HTTP/1.1\r\nhost: {address.netloc}\r\n"
            f"authorization: Bearer {ADMIN}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(payload)}\r\n\r\n"
        ).encode() + payload
        with socket.create_connection((address.hostname, address.port), timeout=10) as raw:
            raw.sendall(request)
            received = b""
            while b'"content":"y' not in received:
                chunk = raw.recv(4096)
                assert chunk, "the gateway closed the stream early"
                received += chunk
            assert received.startswith(b"HTTP/1.1 200")
        # The client is gone. The fake notices when its next write to the upstream stream fails, which
        # happens only if the gateway closed that stream.
        gone_at = time.monotonic()
        assert wait_until(lambda: fake.runs[-1].finished, 3.0), "the upstream stream was left running"
        sent = fake.runs[-1].events_sent
        assert sent < 30, f"the fake kept streaming to nobody ({sent} events)"
        assert time.monotonic() - gone_at < 3.0
