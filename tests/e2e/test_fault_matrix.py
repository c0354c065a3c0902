"""The upstream fault matrix end to end: the real openai SDK -> the gateway (uvicorn, real socket) -> the
fake Cursor (HTTP/2) playing one fault per row. Each row asserts what the client sees (status and error,
or the in-band event of a started stream), the token's health afterwards, that the next request is
answered normally, and that no asyncio task, socket or file descriptor is left behind.

Fault requests pin their own token (`AUTH_TOKEN-<alias>`: no failover), so the client sees that token's
outcome; the follow-up request goes to the pool."""

from __future__ import annotations

import asyncio
import gzip
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record

HI = [{"role": "user", "content": "hi"}]
ADMIN_HEADERS = {"authorization": f"Bearer {ADMIN}"}
TIMEOUT = 1.0  # CURSOR_FIRST_EVENT_TIMEOUT and CURSOR_IDLE_TIMEOUT here


def envelope(payload: bytes, *, flags: int = 0, length: int | None = None) -> bytes:
    return bytes([flags]) + (len(payload) if length is None else length).to_bytes(4, "big") + payload


@dataclass(frozen=True)
class Fault:
    name: str
    behaviour: Callable[[], Behaviour]
    status: int  # what the client sees (200: the answer started, then `in_band` or a normal end)
    code: str = ""  # the OpenAI error code, or the in-band error's code
    state: str = "healthy"  # the token's health afterwards
    in_band: bool = False  # streamed: some text, then an error event, then [DONE]
    headers: tuple[tuple[str, str], ...] = ()
    message: str = ""


FAULTS = [
    Fault(
        "auth_expired",
        lambda: Behaviour.failing("unauthenticated"),
        503,  # the pinned token is gone: no other token may answer for it
        "no_available_tokens",
        "disabled",
        message="Authentication expired",
    ),
    Fault(
        "rate_limited",
        lambda: Behaviour.failing("rate_limited"),
        429,
        "rate_limit_exceeded",
        "cooling_down",
        headers=(("retry-after", "60"),),
    ),
    Fault(
        "quota_exhausted", lambda: Behaviour.failing("usage_limit"), 429, "insufficient_quota", "cooling_down"
    ),
    Fault("model_not_allowed", lambda: Behaviour.failing("model_not_allowed"), 403, message="Max mode"),
    Fault(
        "version_gate",
        lambda: Behaviour.failing("update_required"),
        502,
        headers=(("x-should-retry", "false"),),
        message="CURSOR_CLIENT_VERSION",
    ),
    # A blocked account's answer (HTTP 200, a turn end, nothing else) fails closed (issue 14): a soft
    # failure that lowers the token's score but keeps it in the pool.
    Fault("empty_turn", lambda: Behaviour(reply="", thinking=""), 502, "empty_turn"),
    Fault(
        "reset_after_first_byte",
        lambda: Behaviour(mode="reset_after_text"),
        200,
        "upstream_unavailable",
        in_band=True,
    ),
    Fault(
        "malformed_frame",
        lambda: Behaviour(mode="raw", raw_body=envelope(b"\xff\xff\xff\xff")),
        502,
        "upstream_protocol_error",
    ),
    Fault(
        "oversized_frame_length",
        lambda: Behaviour(mode="raw", raw_body=envelope(b"x", length=2**31)),
        502,
        "upstream_protocol_error",
        message="exceeds limit",
    ),
    Fault(
        "gzip_bomb",
        lambda: Behaviour(mode="raw", raw_body=envelope(BOMB, flags=1), raw_chunks=(65536,)),
        502,
        "upstream_protocol_error",
        message="inflates beyond",
    ),
    Fault(
        "unknown_frame_flag",
        lambda: Behaviour(mode="raw", raw_body=envelope(b"", flags=0x80)),
        502,
        "upstream_protocol_error",
        message="unknown envelope flags",
    ),
    Fault("silence_before_first_event", lambda: Behaviour(mode="stall"), 504, "upstream_timeout"),
    Fault("silence_mid_stream", lambda: Behaviour(delay=30, chunks=3), 200, "upstream_timeout", in_band=True),
    Fault("never_reads_the_request", lambda: Behaviour(mode="deaf"), 504, "upstream_timeout"),
]
BOMB = gzip.compress(b"\0" * (64 << 20), compresslevel=9)  # ~64 KB that inflates to 64 MB


@dataclass
class Stack:
    url: str
    fake: FakeCursor
    aliases: dict[str, tuple[str, str]]  # fault name -> its two tokens' aliases (two rounds)
    tokens: dict[str, str]  # alias -> Cursor token
    http: httpx.Client


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with running_fake(Behaviour(chunks=3)) as fake:
        settings = gateway_settings(
            fake, cursor_first_event_timeout=TIMEOUT, cursor_idle_timeout=TIMEOUT, max_token_attempts=1
        )
        records = [session_record(f"f{i}{r}") for i in range(len(FAULTS)) for r in "ab"] + [
            session_record("spare")
        ]
        for dead in records[:2]:  # auth_expired's: its one refresh is refused too, a dead account
            fake.revoked_sessions.add(dead.primary_token)
        services = make_services(settings, records)

        def add_probe(app: Any) -> None:
            async def tasks() -> dict[str, int]:  # runs on the gateway's own event loop
                return {"tasks": len(asyncio.all_tasks())}

            app.add_api_route("/_probe/tasks", tasks)

        with (
            running_gateway(settings, services, configure=add_probe) as url,
            httpx.Client(timeout=30) as http,
        ):
            yield Stack(
                url,
                fake,
                {
                    fault.name: (records[2 * i].alias, records[2 * i + 1].alias)
                    for i, fault in enumerate(FAULTS)
                },
                {r.alias: r.primary_token for r in records},
                http,
            )


def resources(stack: Stack) -> tuple[int, int, int]:
    """(gateway tasks, open sockets, open fds) of this process (the gateway runs in it)."""
    tasks = stack.http.get(stack.url + "/_probe/tasks").json()["tasks"] - 1  # minus the probe itself
    fds = os.listdir("/proc/self/fd")
    sockets = 0
    for fd in fds:
        try:
            sockets += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            continue
    return tasks, sockets, len(fds)


def settled(stack: Stack, baseline: tuple[int, int, int]) -> tuple[int, int, int]:
    deadline = time.monotonic() + 10
    while True:
        now = resources(stack)
        if all(n <= b for n, b in zip(now, baseline, strict=True)) or time.monotonic() > deadline:
            return now
        time.sleep(0.1)


def health(stack: Stack, alias: str) -> dict[str, Any]:
    response = stack.http.post(stack.url + "/tokens/get", headers=ADMIN_HEADERS, json={})
    assert response.status_code == 200, response.text
    return {a: info for _, a, info in response.json()["tokens"]}[alias]["health"]


def client(stack: Stack, key: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=stack.url + "/v1", api_key=key, max_retries=0, timeout=30, http_client=stack.http
    )


def answered_normally(stack: Stack) -> None:
    completion = client(stack, ADMIN).chat.completions.create(model="gpt-5.2", messages=HI)  # type: ignore[arg-type]
    assert completion.choices[0].message.content == "Echo: hi"


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault(stack: Stack, fault: Fault) -> None:
    first, second = stack.aliases[fault.name]
    # The first round also opens what a process keeps pooled (e.g. the refresh client's connection);
    # the second, on a fresh token, must leave the process exactly as it found it.
    provoke(stack, fault, first)
    baseline = settled(stack, resources(stack))
    provoke(stack, fault, second)
    after = settled(stack, baseline)
    assert all(a <= b for a, b in zip(after, baseline, strict=True)), f"leak: {baseline} -> {after}"


def provoke(stack: Stack, fault: Fault, alias: str) -> None:
    token = stack.tokens[alias]
    stack.fake.by_token[token] = fault.behaviour()
    pinned = client(stack, f"{ADMIN}-{alias}")
    try:
        if fault.in_band:
            check_in_band(pinned, fault)
        elif fault.status == 200:
            completion = pinned.chat.completions.create(model="gpt-5.2", messages=HI)  # type: ignore[arg-type]
            assert completion.choices[0].message.content == ""
            assert completion.choices[0].finish_reason == "stop"
        else:
            with pytest.raises(openai.APIStatusError) as caught:
                pinned.chat.completions.create(model="gpt-5.2", messages=HI)  # type: ignore[arg-type]
            check_status(caught.value, fault)
    finally:
        stack.fake.by_token.pop(token, None)
    state = health(stack, alias)
    assert state["state"] == fault.state, state
    if fault.name == "auth_expired":
        assert stack.fake.refresh_calls.count(token) == 1  # one refresh attempt, then disabled
    if fault.state == "cooling_down":
        assert state["cooldown_until"] > time.time() + 30
    answered_normally(stack)


def check_status(error: openai.APIStatusError, fault: Fault) -> None:
    assert error.status_code == fault.status, error.response.text
    body = error.response.json()["error"]
    assert body["message"] and "Traceback" not in body["message"]
    if fault.code:
        assert body["code"] == fault.code, body
    assert fault.message in body["message"]
    for name, value in fault.headers:
        assert error.response.headers.get(name) == value


def check_in_band(pinned: openai.OpenAI, fault: Fault) -> None:
    """Text first, then the error event, then [DONE] (the stream ends cleanly); the SDK user sees the
    text, then an APIError carrying the error."""
    texts: list[str] = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in pinned.chat.completions.create(model="gpt-5.2", messages=HI, stream=True):  # type: ignore[arg-type]
            if chunk.choices and chunk.choices[0].delta.content:
                texts.append(chunk.choices[0].delta.content)
    assert texts, "the fault must come after the first byte"
    assert isinstance(caught.value.body, dict) and caught.value.body.get("code") == fault.code
    raw = pinned.chat.completions.with_streaming_response.create(model="gpt-5.2", messages=HI, stream=True)  # type: ignore[arg-type]
    with raw as response:
        assert response.http_response.status_code == 200
        events = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    assert '"error"' in events[-2] and fault.code in events[-2]
