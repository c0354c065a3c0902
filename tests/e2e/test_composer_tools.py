"""Composer after tool results (issue 14): a resume action gave Composer empty answers, so a tool loop
continues with a user-message action carrying the results. The fake answers a Composer resume with an
empty turn (which the gateway would refuse as `empty_turn`), and a user message with results with text
made from them; the real `openai` SDK makes the round trip."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.upstream import agent_request as agent_messages
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture
def fake() -> Iterator[FakeCursor]:
    with running_fake(Behaviour(tool_call={"name": "get_weather", "arguments": {"city": "Oslo"}})) as server:
        yield server


@pytest.mark.parametrize("model", ["composer-2.5", "composer-2.5-fast"])
def test_composer_tool_loop_continues_with_a_user_message(fake: FakeCursor, model: str) -> None:
    settings = gateway_settings(fake)
    with running_gateway(settings, make_services(settings, [session_record("a")])) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key=ADMIN, max_retries=0)
        question = [{"role": "user", "content": "Weather in Oslo?"}]
        first = client.chat.completions.create(model=model, messages=question, tools=[WEATHER])  # type: ignore[arg-type, list-item]
        assert first.choices[0].finish_reason == "tool_calls"
        call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
        assert json.loads(call.function.arguments) == {"city": "Oslo"}  # type: ignore[union-attr]
        history = [
            *question,
            {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
            {"role": "tool", "tool_call_id": call.id, "content": "-3C and snowing"},
        ]
        second = client.chat.completions.create(model=model, messages=history, tools=[WEATHER])  # type: ignore[arg-type]
    assert second.choices[0].message.content == "The tool get_weather returned: -3C and snowing"
    continued = fake.runs[-1]
    assert continued.run_request is not None
    action = continued.run_request.action
    assert action.HasField("user_message_action") and not action.HasField("resume_action")
    results = agent_messages.parse_tool_results_prompt(action.user_message_action.user_message.text)
    assert [(name, text) for _, name, _, text in results] == [("get_weather", "-3C and snowing")]
    assert "composer:resume-empty" not in continued.tool_log
