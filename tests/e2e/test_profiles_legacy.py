"""End to end on the `legacy` profile (CURSOR_PROTOCOL=legacy) with the real `openai` SDK:
SDK -> gateway (uvicorn, real socket) -> fake Cursor's StreamUnifiedChatWithTools (HTTP/2)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from cursor_gateway.codec._gen.aiserver.v1 import legacy_chat_pb2 as pb
from cursor_gateway.domain.tokens import TokenRecord, derive_checksum, derive_client_key, derive_session_id
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.storage.canary import InMemoryCanaryStore
from cursor_gateway.upstream.legacy_messages import RPC_PATH
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record
from testdata import read_fixture


def ide_record(alias: str) -> TokenRecord:
    """A session token with the machine ids `/tokens/add` derives (the IDE identity needs them)."""
    record = session_record(alias)
    first, second = derive_checksum(record.primary_token)
    return session_record(
        alias,
        checksum_first=first,
        checksum_second=second,
        client_key=derive_client_key(record.primary_token),
        session_id=derive_session_id(record.primary_token),
    )


@pytest.fixture
def fake() -> Iterator[FakeCursor]:
    with running_fake(Behaviour()) as server:
        yield server


@pytest.fixture
def gateway(fake: FakeCursor) -> Iterator[str]:
    settings = gateway_settings(fake, cursor_protocol="legacy")
    with running_gateway(settings, make_services(settings, [ide_record("alpha")])) as url:
        yield url


def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=ADMIN, max_retries=0)


def usage_extra(usage: Any) -> dict[str, Any]:
    return dict(usage.model_extra or {})


def test_non_stream(gateway: str, fake: FakeCursor) -> None:
    answer = client(gateway).chat.completions.create(
        model="claude-4.6-sonnet",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "hello there"},
        ],
    )
    assert answer.choices[0].message.content == "Echo: hello there"
    assert answer.choices[0].finish_reason == "stop"
    # This RPC reports no usage: the gateway estimates it and says so.
    assert answer.usage is not None and answer.usage.completion_tokens > 0
    assert usage_extra(answer.usage).get("estimated") is True

    run = fake.runs[-1]
    assert run.path == RPC_PATH
    assert run.violations == []
    assert run.headers["x-cursor-client-type"] == "ide"
    assert run.headers["x-cursor-checksum"]
    request = run.request
    assert isinstance(request, pb.StreamUnifiedChatRequest)
    assert request.explicit_context.context == "Be brief."
    assert [(m.text, m.type) for m in request.conversation] == [
        ("Hi", 1),
        ("Hello!", 2),
        ("hello there", 1),
    ]
    assert request.model_details.model_name == "claude-4.6-sonnet"


def test_stream_with_thinking_and_usage(gateway: str, fake: FakeCursor) -> None:
    stream = client(gateway).chat.completions.create(
        model="claude-4.6-sonnet-thinking",
        messages=[{"role": "user", "content": "think first"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    reasoning = "".join(
        getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks if c.choices
    )
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert reasoning == "Let me think about that."
    assert content == "Echo: think first"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None and usage.total_tokens > 0
    assert usage_extra(usage).get("estimated") is True
    assert fake.runs[-1].request.thinking_level == pb.StreamUnifiedChatRequest.THINKING_LEVEL_HIGH


async def test_async_stream_is_in_pieces(gateway: str) -> None:
    async_client = openai.AsyncOpenAI(base_url=gateway + "/v1", api_key=ADMIN, max_retries=0)
    try:
        stream = await async_client.chat.completions.create(
            model="claude-4.6-sonnet", messages=[{"role": "user", "content": "async please"}], stream=True
        )
        parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
    finally:
        await async_client.close()
    assert "".join(parts) == "Echo: async please"
    assert len([p for p in parts if p]) > 5


@pytest.mark.parametrize("name", ["cursor-stream-capture.bin", "cursor-stream-capture.synthetic-unified.bin"])
def test_real_capture_through_the_gateway(fake: FakeCursor, gateway: str, name: str) -> None:
    fake.default = Behaviour(mode="raw", raw_body=read_fixture(name), raw_chunks=(1, 3, 7, 64, 5, 1000))
    expected = read_fixture("cursor-stream-capture.expected.txt").decode("utf-8")
    answer = client(gateway).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "你是谁"}]
    )
    assert answer.choices[0].message.content == expected
    stream = client(gateway).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "你是谁"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == expected


def test_version_gate_is_502_and_not_retried_on_another_token(fake: FakeCursor) -> None:
    settings = gateway_settings(fake, cursor_protocol="legacy")
    services = make_services(settings, [ide_record("alpha"), ide_record("beta")])
    fake.default = Behaviour.failing("update_required")
    with running_gateway(settings, services) as url, pytest.raises(openai.APIStatusError) as caught:
        client(url).chat.completions.create(
            model="claude-4.6-sonnet", messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.status_code == 502
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert len(fake.runs) == 1
    assert fake.runs[0].path == RPC_PATH


def test_canary_on_the_legacy_profile(fake: FakeCursor) -> None:
    settings = gateway_settings(fake, canary_profiles=("legacy",))
    services = make_services(settings, [ide_record("probe")], canary_store=InMemoryCanaryStore())
    [healthy] = asyncio.run(services.canary.run())
    assert (healthy["profile"], healthy["ok"], healthy["drift"]) == ("legacy", True, False)
    assert healthy["client_type"] == "ide" and healthy["answer_chars"] > 0 and healthy["unknown"] == {}

    # The real capture is the older bare payload format: it answers, but the canary calls it drift.
    fake.default = Behaviour(mode="raw", raw_body=read_fixture("cursor-stream-capture.bin"))
    [bare] = asyncio.run(services.canary.run(force=True))
    assert bare["ok"] is True and bare["drift"] is True
    assert bare["unknown"]["legacy:bare StreamChatResponse payloads"] == 1

    fake.default = Behaviour.failing("update_required")
    [gated] = asyncio.run(services.canary.run(force=True))
    assert gated["ok"] is False and gated["drift"] is True
    assert gated["outcome"] == "upstream_version_gate"
    assert [r.path for r in fake.runs] == [RPC_PATH] * 3
