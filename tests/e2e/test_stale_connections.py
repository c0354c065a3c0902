"""A dead pooled connection never reaches the user (issue 19): client -> gateway (uvicorn, real socket) ->
fake Cursor (HTTP/2) whose connections die the way real ones do, with ONE token in the pool, so there is
no other token to fail over to. Every chat must succeed, the token's health must show nothing, and the
retry must be the very request Cursor never saw (same request id, served once)."""

from __future__ import annotations

import asyncio
import collections
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.upstream.agent import RUN_PATH
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record

HEADERS = {"authorization": f"Bearer {ADMIN}"}
CHATS = 200
# A short answer without the blob and built-in exec round trips keeps 400 chats to a few seconds.
QUICK = Behaviour(chunks=3, ask_blob=False, send_builtin_exec=False)


@pytest.fixture
def fake() -> Iterator[FakeCursor]:
    with running_fake(QUICK) as server:
        yield server


async def chats(url: str, count: int, concurrency: int) -> collections.Counter[int]:
    """`count` chats (every other one streamed), `concurrency` at a time; their statuses."""
    statuses: collections.Counter[int] = collections.Counter()
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency + 4)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def one(index: int) -> None:
            body = {
                "model": "gpt-5.2",
                "messages": [{"role": "user", "content": f"chat {index}"}],
                "stream": index % 2 == 1,
            }
            async with gate:
                response = await client.post(url + "/v1/chat/completions", headers=HEADERS, json=body)
                if response.status_code == 200 and index % 2 == 1:
                    assert "data: [DONE]" in response.text
                statuses[response.status_code] += 1

        await asyncio.gather(*(one(index) for index in range(count)))
    return statuses


def health(url: str) -> dict[str, Any]:
    response = httpx.post(url + "/tokens/get", headers=HEADERS, json={})
    assert response.status_code == 200, response.text
    ((_, alias, info),) = response.json()["tokens"]
    assert alias == "only"
    return dict(info["health"])


@pytest.mark.parametrize("fault", ["drop_idle", "refuse_reused"])
def test_one_token_survives_dead_pooled_connections(fake: FakeCursor, fault: str) -> None:
    fake.server.connection_fault = fault
    settings = gateway_settings(fake)
    with running_gateway(settings, make_services(settings, [session_record("only")])) as url:
        sequential = asyncio.run(chats(url, CHATS, 1))
        concurrent = asyncio.run(chats(url, CHATS, 50))
        state = health(url)

    assert sequential == {200: CHATS}
    assert concurrent == {200: CHATS}
    # The fault really hit chat requests (otherwise this proves nothing) ...
    hit = [headers for headers in fake.server.faulted if headers[":path"] == RUN_PATH]
    assert len(hit) >= CHATS // 4
    # ... and was never held against the token.
    assert state == {"state": "healthy", "reason": "", "cooldown_until": None, "score": 1.0}
    # The retry is the same request: every chat ran exactly once upstream, and a request the fault
    # swallowed came back with the very same headers (request id, identity, bearer).
    served = collections.Counter(run.headers["x-request-id"] for run in fake.runs)
    assert sum(served.values()) == 2 * CHATS and set(served.values()) == {1}
    served_headers = {run.headers["x-request-id"]: run.headers for run in fake.runs}
    for headers in hit:
        assert served_headers[headers["x-request-id"]] == headers


def test_a_reset_after_the_first_event_still_ends_in_band(fake: FakeCursor) -> None:
    """A failure after Cursor answered keeps today's rules: no silent retry, an in-band error event.
    (The first chat leaves a dead pooled connection behind, so the second one is also retried once
    before Cursor answers it.)"""
    fake.server.connection_fault = "drop_idle"
    settings = gateway_settings(fake)
    body = {"model": "gpt-5.2", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with running_gateway(settings, make_services(settings, [session_record("only")])) as url:
        first = httpx.post(url + "/v1/chat/completions", headers=HEADERS, json=body, timeout=30)
        assert first.status_code == 200 and "data: [DONE]" in first.text
        fake.default = Behaviour(mode="reset_after_text", reply="cut off midway", chunks=4)
        response = httpx.post(url + "/v1/chat/completions", headers=HEADERS, json=body, timeout=30)
        state = health(url)
    assert response.status_code == 200
    assert len(fake.server.faulted) == 1
    events = [line.removeprefix("data: ") for line in response.text.splitlines() if line.startswith("data: ")]
    text = "".join(
        (json.loads(e)["choices"] or [{}])[0].get("delta", {}).get("content") or ""
        for e in events
        if e != "[DONE]" and "choices" in json.loads(e)
    )
    assert text and "cut off midway".startswith(text)
    errors = [json.loads(e)["error"] for e in events if e != "[DONE]" and "error" in json.loads(e)]
    assert len(errors) == 1 and errors[0]["code"] == "upstream_unavailable"
    assert len(fake.runs) == 2  # Cursor answered the second chat: its reset is not retried upstream
    assert state["score"] < 1.0  # and counts, as a failure after the answer started always did
