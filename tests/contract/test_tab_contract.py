"""`upstream.tab` (Cursor Tab RPCs) against the fake Cursor over real HTTP/2 sockets (127.0.0.1, a free
port per test): the headers each RPC carries, the host it stands for (`x-co`), the caller's file-sync
session forwarded (x-fs-client-key, Cookie), Set-Cookie handed back, unary gzip and StreamCpp framing
both ways, and Cursor's errors kept as sent. `asyncio.wait_for` only turns a hang into a failure."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator

import pytest
from cursor_gateway.adapters.tab_io import answer_json, request_bytes
from cursor_gateway.codec._gen.aiserver.v1 import tab_pb2 as pb
from cursor_gateway.codec.envelope import FLAG_COMPRESSED
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.h2server import H2Stream
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.emulator.tab import STICKY
from cursor_gateway.errors import UpstreamProtocolError, UpstreamRateLimited, UpstreamUnavailable
from cursor_gateway.services.tab import decode_frame
from cursor_gateway.settings import Settings
from cursor_gateway.upstream.checksum import decode_timestamp_part
from cursor_gateway.upstream.identity import MachineIds
from cursor_gateway.upstream.tab import TabCredential, TabUpstream, gcpp_host

SAFETY = 20.0
MACHINE = MachineIds(
    machine_id="a" * 64,
    mac_machine_id="b" * 64,
    client_key="c" * 64,
    session_id="3f2b8c1e-0000-4000-8000-0000000000aa",
)
FS_KEY = "f0" * 32
FILESYNC = "FilesyncCookie=" + "9e" * 16


@pytest.fixture
async def fake() -> AsyncIterator[FakeCursor]:
    server = FakeCursor()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def upstream_for(fake: FakeCursor, **overrides: object) -> TabUpstream:
    return TabUpstream(Settings(cursor_api_url=fake.url, cursor_tab_client_version="2.3.21", **overrides))  # type: ignore[arg-type]


def credential(region: str = "EU", **kwargs: object) -> TabCredential:
    values: dict[str, object] = {
        "bearer": "tok-tab",
        "machine": MACHINE,
        "gcpp_host": gcpp_host(region, "Asia"),
        "proxy": "",
        "timezone": "Europe/Paris",
        "fs_client_key": FS_KEY,
        "cookie": FILESYNC,
    }
    values.update(kwargs)
    return TabCredential(**values)  # type: ignore[arg-type]


async def test_unary_rpcs_carry_the_ide_identity_and_the_callers_session(fake: FakeCursor) -> None:
    upstream = upstream_for(fake)
    payload = request_bytes("config", b'{"model": "fast", "is_nightly": false}')
    reply = await asyncio.wait_for(upstream.unary("config", payload, credential()), SAFETY)
    assert reply.status == 200 and reply.error is None
    answer = answer_json("config", reply.body)
    assert (
        b'"heuristics":["lots_of_added_text"]' in answer
        and b'"geo_cpp_backend_url":"https://api4.cursor.sh"' in answer
    )

    call = fake.tab.of("config")[0]
    headers = call.headers
    assert headers[":path"] == "/aiserver.v1.AiService/CppConfig"
    assert headers["x-co"] == "api4.cursor.sh"  # CppConfig's real host, as the reverse-proxy header
    assert headers["content-type"] == "application/proto" and headers["accept-encoding"] == "gzip"
    assert headers["connect-protocol-version"] == "1"
    assert headers["authorization"] == "Bearer tok-tab"
    assert headers["x-cursor-client-type"] == "ide" and headers["x-cursor-client-version"] == "2.3.21"
    assert headers["x-client-key"] == "c" * 64  # the token's own client key
    assert headers["x-fs-client-key"] == FS_KEY  # the caller's, for its file-sync session
    assert headers["x-session-id"] == MACHINE.session_id
    assert headers["x-cursor-timezone"] == "Europe/Paris"
    assert headers["x-ghost-mode"] == "true" and headers["x-cursor-streaming"] == "true"
    assert headers["x-request-id"] and headers["x-amzn-trace-id"] == f"Root={headers['x-request-id']}"
    checksum = headers["x-cursor-checksum"]
    assert len(checksum) == 137 and checksum.endswith("a" * 64 + "/" + "b" * 64)
    assert decode_timestamp_part(checksum[:8]) > 0
    assert call.cookies == {"FilesyncCookie": "9e" * 16}
    assert call.request == pb.CppConfigRequest(model="fast", is_nightly=False)

    reply = await asyncio.wait_for(
        upstream.unary("models", request_bytes("models", b"{}"), credential()), SAFETY
    )
    assert answer_json("models", reply.body) == b'{"models":["fast","fusion-01"],"default_model":"fast"}'
    models = fake.tab.of("models")[0]
    assert models.headers["x-co"] == "api2.cursor.sh" and models.outcome == ""  # empty request body


async def test_upload_is_gzipped_when_it_shrinks_and_set_cookie_comes_back(fake: FakeCursor) -> None:
    upstream = upstream_for(fake)
    contents = "print('hello')\n" * 200  # > 1 KiB, compresses well
    body = {
        "uuid": "u-1",
        "relative_workspace_path": "src/app.py",
        "contents": contents,
        "model_version": 3,
        "sha256_hash": hashlib.sha256(contents.encode()).hexdigest(),
    }
    payload = request_bytes("upload", json.dumps(body).encode())
    reply = await asyncio.wait_for(upstream.unary("upload", payload, credential("US")), SAFETY)
    assert reply.status == 200 and answer_json("upload", reply.body) == b"{}"
    call = fake.tab.of("upload")[0]
    assert call.headers["content-encoding"] == "gzip" and call.headers["x-co"] == "us-only.gcpp.cursor.sh"
    assert call.request is not None and call.request.contents == contents  # the fake inflated it
    cookies = [value for name, value in reply.headers if name == "set-cookie"]
    assert len(cookies) == 2 and cookies[0].startswith(f"{STICKY}={fake.tab.node};")

    small = request_bytes("upload", b'{"uuid": "u-2", "contents": "x", "relative_workspace_path": "a.py"}')
    await asyncio.wait_for(upstream.unary("upload", small, credential()), SAFETY)
    assert "content-encoding" not in fake.tab.of("upload")[1].headers


async def test_stream_cpp_is_one_request_frame_and_many_response_frames(fake: FakeCursor) -> None:
    upstream = upstream_for(fake)
    big_file = "def handler\n" + "x = 1\n" * 400 + "# TODO\n"
    body = (
        b'{"current_file": {"relative_workspace_path": "h.py", "contents": '
        + json.dumps(big_file).encode()
        + b', "cursor_position": {"line": 0, "column": 11}}, "control_token": "loud", "model_name": "fast"}'
    )
    call = upstream.stream_call(request_bytes("stream", body), credential("Asia"))
    events: list[dict[str, object]] = []

    async def read() -> None:
        async with call:
            assert call.http_version == "HTTP/2"
            async for frame in call.frames():
                found, finished = decode_frame(frame)
                events.extend(found)
                if finished:
                    return

    await asyncio.wait_for(read(), SAFETY)
    seen = fake.tab.of("stream")[0]
    assert seen.frame_flags == FLAG_COMPRESSED  # > 1 KiB: gzip inside the Connect envelope
    assert seen.headers["content-type"] == "application/connect+proto"
    assert (
        seen.headers["connect-content-encoding"] == "gzip"
        and seen.headers["connect-accept-encoding"] == "gzip"
    )
    assert seen.headers["x-co"] == "us-asia.gcpp.cursor.sh"
    assert seen.request is not None and seen.request.control_token == pb.StreamCppRequest.CONTROL_TOKEN_LOUD
    text = "".join(str(e["text"]) for e in events if e["type"] == "text")
    assert text.startswith("def handler():\n    return None\n")  # depends on the file and the cursor
    assert events[0]["type"] == "model_info" and events[-1] == {"type": "stream_end"}


async def test_a_connect_error_is_kept_as_sent_with_its_meaning(fake: FakeCursor) -> None:
    fake.by_token["tok-tab"] = Behaviour.failing("rate_limited", http_status=429)
    reply = await asyncio.wait_for(upstream_for(fake).unary("models", b"", credential()), SAFETY)
    assert reply.status == 429 and reply.error is not None and reply.error["code"] == "resource_exhausted"
    assert isinstance(reply.failure, UpstreamRateLimited)


def test_gcpp_host_per_token_then_general_then_asia() -> None:
    assert gcpp_host("EU", "US") == "us-eu.gcpp.cursor.sh"
    assert gcpp_host("us", "") == "us-only.gcpp.cursor.sh"
    assert gcpp_host("", "US") == "us-only.gcpp.cursor.sh"
    assert gcpp_host("", "") == "us-asia.gcpp.cursor.sh"
    assert gcpp_host("https://Tab.Example.com/", "EU") == "tab.example.com"
    assert gcpp_host("  ", "asia") == "us-asia.gcpp.cursor.sh"


async def test_a_load_balancer_error_page_is_unavailable_and_an_odd_200_a_protocol_error(
    fake: FakeCursor,
) -> None:
    upstream = upstream_for(fake)
    fake.by_token["tok-tab"] = Behaviour(mode="http_error", http_status=502, error={"no": "code"})
    reply = await asyncio.wait_for(upstream.unary("models", b"", credential()), SAFETY)
    assert (
        reply.status == 502 and reply.failure is not None and reply.failure.retryable
    )  # JSON without a code

    class HtmlFake(FakeCursor):
        async def handle(self, stream: H2Stream) -> None:
            await stream.read_all()
            status = 503 if stream.path.endswith("FSSyncFile") else 200
            await stream.respond(status, [("content-type", "text/html")])
            await stream.write(b"<html>busy</html>", end=True)

    html = await HtmlFake().start()
    try:
        with pytest.raises(UpstreamUnavailable):
            await asyncio.wait_for(upstream_for(html).unary("sync", b"", credential()), SAFETY)
        with pytest.raises(UpstreamProtocolError) as caught:
            await asyncio.wait_for(upstream_for(html).unary("upload", b"", credential()), SAFETY)
        assert caught.value.code == "upstream_unsupported_content_type"
    finally:
        await html.close()
