"""`/cursor/chat/completions` (the Cursor IDE's "Override OpenAI Base URL"): an OpenAI Chat body, a
Responses-shaped body and an Anthropic-shaped body, each answered in chat-completions format, streamed and
not. Real sockets: client -> gateway (uvicorn) -> fake Cursor (HTTP/2)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from cursor_gateway.adapters.body_shape import body_shape
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.storage.responses import InMemoryResponseStore
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record

MODEL = "claude-4.6-sonnet"
SHAPES: dict[str, dict[str, Any]] = {
    "chat": {
        "model": MODEL,
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "from chat"}],
    },
    "responses": {
        "model": MODEL,
        "instructions": "Be brief.",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "from responses"}]}],
    },
    "anthropic": {
        "model": MODEL,
        "max_tokens": 100,
        "system": [{"type": "text", "text": "Be brief."}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "from anthropic"}]}],
    },
}


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    with running_fake(Behaviour()) as fake:
        settings = gateway_settings(fake)
        services = make_services(settings, [session_record("alpha")], response_store=InMemoryResponseStore())
        with running_gateway(settings, services) as url:
            yield url


def post(url: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    headers = {"authorization": f"Bearer {ADMIN}"}
    return httpx.post(url + "/cursor/chat/completions", json=body, headers=headers, timeout=30, **kwargs)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_body_shape_is_answered_as_chat(gateway: str, shape: str) -> None:
    answer = post(gateway, SHAPES[shape])
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-body-shape"] == shape
    body = answer.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"] == f"Echo: from {shape}"
    assert body["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_body_shape_streams_chat_chunks(gateway: str, shape: str) -> None:
    headers = {"authorization": f"Bearer {ADMIN}"}
    body = {**SHAPES[shape], "stream": True}
    with httpx.stream(
        "POST", gateway + "/cursor/chat/completions", json=body, headers=headers, timeout=30
    ) as r:
        assert r.status_code == 200 and r.headers["x-body-shape"] == shape
        lines = [line for line in r.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == f"Echo: from {shape}"


def test_the_openai_sdk_works_with_the_cursor_base_url(gateway: str) -> None:
    sdk = openai.OpenAI(base_url=gateway + "/cursor", api_key=ADMIN, max_retries=0)
    answer = sdk.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "via sdk"}])
    assert answer.choices[0].message.content == "Echo: via sdk"


def test_errors_are_in_openai_envelopes_and_name_the_field(gateway: str) -> None:
    not_json = httpx.post(
        gateway + "/cursor/chat/completions",
        content=b"{oops",
        headers={"authorization": f"Bearer {ADMIN}", "content-type": "application/json"},
        timeout=30,
    )
    assert not_json.status_code == 400 and "JSON" in not_json.json()["error"]["message"]
    anthropic_without_messages = post(gateway, {"model": MODEL, "system": "x"})
    assert anthropic_without_messages.status_code == 400
    assert anthropic_without_messages.json()["error"]["param"] == "messages"
    hosted_tool = post(gateway, {"model": MODEL, "input": "hi", "tools": [{"type": "web_search"}]})
    assert hosted_tool.status_code == 400 and hosted_tool.json()["error"]["param"] == "tools[0].type"
    unauthenticated = httpx.post(gateway + "/cursor/chat/completions", json=SHAPES["chat"], timeout=30)
    assert (
        unauthenticated.status_code == 401
        and unauthenticated.json()["error"]["type"] == "authentication_error"
    )


def test_shape_detection() -> None:
    assert body_shape({"input": "x"}) == "responses"
    assert body_shape({"messages": [], "input": "x"}) == "chat"
    assert body_shape({"messages": [{"role": "user", "content": "x"}]}) == "chat"
    assert body_shape({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}) == "chat"
    tool_result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "r"}]}
    assert body_shape({"messages": [tool_result]}) == "anthropic"
    assert body_shape({"messages": [], "tools": [{"name": "f", "input_schema": {}}]}) == "anthropic"
    assert body_shape({"messages": [], "tool_choice": {"type": "any"}}) == "anthropic"
    image = {"role": "user", "content": [{"type": "image", "source": {"type": "base64"}}]}
    assert body_shape({"messages": [image]}) == "anthropic"
