"""Tool calling end to end with the real `anthropic` SDK on the agent and inference profiles: `tool_use`
blocks out, `tool_result` blocks back in a new request, the model answers from the result."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from cursor_gateway.domain.tokens import TokenRecord, derive_checksum, derive_client_key, derive_session_id
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor, RunRecord
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city"],
}
TOOLS = [
    {"name": "get_weather", "description": "Current weather for a city.", "input_schema": SCHEMA},
    {"name": "now", "description": "The time.", "input_schema": {"type": "object", "properties": {}}},
]
CALL = {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}
RESULT = "18C and sunny"
QUESTION = [{"role": "user", "content": "Weather in Paris?"}]


def ide_record(alias: str) -> TokenRecord:
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
    with running_fake(Behaviour(tool_call=CALL)) as server:
        yield server


@pytest.fixture(params=["agent", "inference"])
def profile(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def gateway(fake: FakeCursor, profile: str) -> Iterator[str]:
    settings = gateway_settings(fake, cursor_protocol=profile)
    with running_gateway(settings, make_services(settings, [ide_record("alpha")])) as url:
        yield url


def create(
    url: str, messages: list[dict[str, Any]], *, stream: bool, **fields: Any
) -> anthropic.types.Message:
    client = anthropic.Anthropic(base_url=url, api_key=ADMIN, max_retries=0)
    fields.setdefault("tools", TOOLS)
    args = {"model": "claude-sonnet-4-6", "max_tokens": 512, "system": "Be brief.", "messages": messages}
    if not stream:
        return client.messages.create(**args, **fields)
    with client.messages.stream(**args, **fields) as events:
        kinds = [event.type for event in events]
        message = events.get_final_message()
    if any(block.type == "tool_use" for block in message.content):
        assert "input_json" in kinds  # the arguments arrived as input_json_delta
    return message


def last_run(fake: FakeCursor) -> RunRecord:
    return [r for r in fake.runs if r.path.endswith(("/Run", "/RunInference"))][-1]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_round_trip(gateway: str, fake: FakeCursor, stream: bool) -> None:
    first = create(gateway, QUESTION, stream=stream)
    assert first.stop_reason == "tool_use"
    uses = [b for b in first.content if b.type == "tool_use"]
    assert len(uses) == 1 and uses[0].name == "get_weather"
    assert uses[0].input == {"city": "Paris", "days": 2}
    assert last_run(fake).violations == []

    history = [
        *QUESTION,
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": uses[0].id, "content": RESULT}]},
    ]
    second = create(gateway, history, stream=stream)
    assert second.stop_reason == "end_turn"
    assert [b.type for b in second.content] == ["text"]
    assert second.content[0].text == f"The tool get_weather returned: {RESULT}"  # type: ignore[union-attr]
    run = last_run(fake)
    assert run.violations == [] and run.tool_log == ["results"]


def test_unregistered_tool_is_not_surfaced(gateway: str, fake: FakeCursor) -> None:
    fake.default = Behaviour(tool_call=CALL, unregistered_tool="delete_everything")
    message = create(gateway, QUESTION, stream=True)
    assert [b.name for b in message.content if b.type == "tool_use"] == ["get_weather"]
    assert "refused:unregistered" in last_run(fake).tool_log


def test_tool_choice_tool_and_any(gateway: str, fake: FakeCursor, profile: str) -> None:
    fake.default = Behaviour(tool_call=lambda names: {"name": names[0], "arguments": {}})
    forced = create(gateway, QUESTION, stream=False, tool_choice={"type": "tool", "name": "now"})
    assert [b.name for b in forced.content if b.type == "tool_use"] == ["now"]
    with pytest.raises(anthropic.BadRequestError) as caught:
        create(gateway, QUESTION, stream=False, tool_choice={"type": "any"})
    body = caught.value.response.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert f"{profile} profile" in body["error"]["message"]
