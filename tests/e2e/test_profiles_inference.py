"""End to end on the `inference` profile (CURSOR_PROTOCOL=inference) with the real `openai` SDK:
SDK -> gateway (uvicorn, real socket) -> fake Cursor's RunInference (HTTP/2, IDE-shaped headers checked)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from cursor_gateway.codec._gen.aiserver.v1 import inference_pb2 as pb
from cursor_gateway.domain.tokens import TokenRecord, derive_checksum, derive_client_key, derive_session_id
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.inference import CACHE_READ_TOKENS, INFERENCE_FAILURES
from cursor_gateway.emulator.server import FakeCursor, RunRecord
from cursor_gateway.upstream.inference import RUN_INFERENCE_PATH
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


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
def records() -> list[TokenRecord]:
    return [ide_record("alpha"), ide_record("beta")]


@pytest.fixture
def gateway(fake: FakeCursor, records: list[TokenRecord]) -> Iterator[str]:
    settings = gateway_settings(fake, cursor_protocol="inference")
    with running_gateway(settings, make_services(settings, records)) as url:
        yield url


def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=ADMIN, max_retries=0)


def roles(run: RunRecord) -> list[str]:
    return [
        pb.InferenceMessageRole.Name(m.role).removeprefix("INFERENCE_MESSAGE_ROLE_")
        for m in run.request.messages
    ]


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
    # The fake's final text part ends with the end-of-sequence marker; the client never sees it.
    assert answer.choices[0].message.content == "Echo: hello there"
    assert answer.choices[0].finish_reason == "stop"
    usage = answer.usage
    assert usage is not None and usage.completion_tokens > 0 and usage.prompt_tokens > 0
    # Cursor's own count (extended usage, with its cache reads), not an estimate.
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == CACHE_READ_TOKENS
    assert "estimated" not in (usage.model_extra or {})

    run = fake.runs[-1]
    assert run.path == RUN_INFERENCE_PATH
    assert run.violations == []
    assert run.headers["x-cursor-client-type"] == "ide"
    assert run.headers["content-type"] == "application/connect+proto"
    assert run.headers["x-cursor-checksum"] and run.headers["x-client-key"]
    assert roles(run) == ["SYSTEM", "USER", "ASSISTANT", "USER"]
    assert [m.text for m in run.request.messages] == ["Be brief.", "Hi", "Hello!", "hello there"]
    assert run.request.model_id == "claude-4.6-sonnet"
    assert [m.WhichOneof("message") for m in run.client_messages] == [
        "run_request",
        "invoke_model",
        "finish_run",
    ]


def test_stream_with_thinking_and_usage(gateway: str, fake: FakeCursor) -> None:
    stream = client(gateway).chat.completions.create(
        model="claude-4.6-sonnet-thinking",
        messages=[{"role": "user", "content": "think first"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    reasoning = "".join(
        getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks if c.choices
    )
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert reasoning == "Let me think about that."
    assert content == "Echo: think first"
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 5  # really streamed
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None and usage.total_tokens > 0
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == CACHE_READ_TOKENS
    assert fake.runs[-1].violations == []
    assert roles(fake.runs[-1]) == ["USER"]


def test_image_reaches_the_invocation(gateway: str, fake: FakeCursor) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    content: Any = [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": data_url}},
    ]
    answer = client(gateway).chat.completions.create(
        model="claude-4.6-sonnet", messages=[{"role": "user", "content": content}]
    )
    assert answer.choices[0].message.content == "Echo: What is in this picture?"
    run = fake.runs[-1]
    assert run.violations == []
    parts = run.request.messages[-1].parts
    assert [p.WhichOneof("part") for p in parts] == ["text", "image"]
    assert base64.b64decode(parts[1].image.data) == PNG
    assert parts[1].image.mime_type == "image/png"


def test_rate_limited_token_is_retried_on_another(
    gateway: str, fake: FakeCursor, records: list[TokenRecord]
) -> None:
    limited = records[0].primary_token
    fake.by_token[limited] = Behaviour(mode="error", error=INFERENCE_FAILURES["rate_limit"])
    answer = client(gateway).chat.completions.create(
        model="claude-4.6-sonnet", messages=[{"role": "user", "content": "anyone there?"}]
    )
    assert answer.choices[0].message.content == "Echo: anyone there?"
    bearers = [r.bearer for r in fake.runs]
    assert limited in bearers
    assert bearers[-1] == records[1].primary_token
    assert all(r.violations == [] for r in fake.runs)


def test_context_too_long_is_a_400_and_not_retried(gateway: str, fake: FakeCursor) -> None:
    fake.default = Behaviour(mode="error", error=INFERENCE_FAILURES["input_limit"])
    with pytest.raises(openai.BadRequestError) as info:
        client(gateway).chat.completions.create(
            model="claude-4.6-sonnet", messages=[{"role": "user", "content": "a very long prompt"}]
        )
    assert info.value.status_code == 400
    body: Any = info.value.body
    assert body["code"] == "context_length_exceeded"
    assert len(fake.runs) == 1  # a bad request is not the token's fault: no second token tried
