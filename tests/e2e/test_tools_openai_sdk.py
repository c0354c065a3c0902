"""Tool calling end to end with the real `openai` SDK on the agent and inference profiles:
SDK -> gateway (uvicorn, real socket) -> fake Cursor (HTTP/2) with a tool-call script.

A round trip: the model asks for a tool, the client sends the result in a new request (the gateway keeps
no stream between requests), the model answers with text made from the result. The fake checks what the
gateway sends (tools advertised in all three places on the agent, `{"jsonSchema"}` tools on inference,
every call paired with its result, no cancel when the agent stream is parked)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from cursor_gateway.codec._gen.aiserver.v1 import inference_pb2 as ipb
from cursor_gateway.domain.tokens import TokenRecord, derive_checksum, derive_client_key, derive_session_id
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor, RunRecord
from cursor_gateway.upstream import agent_request as agent_messages
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}
CLOCK = {
    "type": "function",
    "function": {"name": "now", "description": "The time.", "parameters": {"type": "object"}},
}
CALL = {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}
RESULT = "18C and sunny"
QUESTION = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Paris?"}]


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


def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=ADMIN, max_retries=0)


def ask(
    url: str, messages: list[dict[str, Any]], *, stream: bool, **fields: Any
) -> tuple[str, list[dict[str, Any]], str]:
    """(content, tool calls as request-history dicts, finish_reason), from a streamed or a plain answer."""
    fields.setdefault("tools", [WEATHER, CLOCK])
    if not stream:
        answer = client(url).chat.completions.create(model="claude-4.6-sonnet", messages=messages, **fields)
        message = answer.choices[0].message
        calls = [
            {
                "id": c.id,
                "type": c.type,
                "function": {"name": c.function.name, "arguments": c.function.arguments},
            }
            for c in message.tool_calls or []
        ]
        return message.content or "", calls, answer.choices[0].finish_reason
    chunks = list(
        client(url).chat.completions.create(
            model="claude-4.6-sonnet", messages=messages, stream=True, **fields
        )
    )
    content, calls, finish = "", {}, ""
    for chunk in chunks:
        choice = chunk.choices[0]
        content += choice.delta.content or ""
        for delta in choice.delta.tool_calls or []:
            entry = calls.setdefault(
                delta.index, {"id": "", "type": "", "function": {"name": "", "arguments": ""}}
            )
            entry["id"] = delta.id or entry["id"]
            entry["type"] = delta.type or entry["type"]
            if delta.function is not None:
                entry["function"]["name"] += delta.function.name or ""
                entry["function"]["arguments"] += delta.function.arguments or ""
        finish = choice.finish_reason or finish
    return content, [calls[i] for i in sorted(calls)], finish


def results_for(calls: list[dict[str, Any]], text: str = RESULT) -> list[dict[str, Any]]:
    return [
        {"role": "assistant", "content": None, "tool_calls": calls},
        *({"role": "tool", "tool_call_id": c["id"], "content": text} for c in calls),
    ]


def role_name(role: int) -> str:
    return ipb.InferenceMessageRole.Name(role).removeprefix("INFERENCE_MESSAGE_ROLE_")


def tool_runs(fake: FakeCursor) -> list[RunRecord]:
    return [r for r in fake.runs if r.path.endswith(("/Run", "/RunInference"))]


def settled(record: RunRecord) -> RunRecord:
    """The fake logs how a stream ended (e.g. "parked") on its own thread, just after the client has
    its answer: wait for the fake to finish that run before asserting on it (a sync point, not a timing)."""
    deadline = time.monotonic() + 15
    while not record.finished and time.monotonic() < deadline:
        time.sleep(0.01)
    assert record.finished, "the fake never finished the run"
    return record


# --- the round trip ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_round_trip(gateway: str, fake: FakeCursor, profile: str, stream: bool) -> None:
    content, calls, finish = ask(gateway, QUESTION, stream=stream)
    assert finish == "tool_calls"
    assert content == ""
    assert len(calls) == 1
    assert calls[0]["type"] == "function" and calls[0]["id"].startswith("toolu_emu_")
    assert calls[0]["function"]["name"] == "get_weather"
    assert json.loads(calls[0]["function"]["arguments"]) == {"city": "Paris", "days": 2}
    assert calls[0]["function"]["arguments"] == '{"city":"Paris","days":2}'  # integers stay integers
    first = settled(tool_runs(fake)[-1])
    assert first.violations == []
    assert f"called:{calls[0]['id']}" in first.tool_log
    if profile == "agent":
        assert "parked" in first.tool_log  # closed without a cancel and without answering the call
        assert [d.tool_name for d in first.run_request.mcp_tools.mcp_tools] == ["get_weather", "now"]
        assert [d.tool_name for d in first.context_tools] == ["get_weather", "now"]
        assert first.headers["x-cursor-agent-allowed-tools"] == "mcp_tool_call"
    else:
        assert [t.name for t in first.request.tools] == ["get_weather", "now"]

    content, calls_after, finish = ask(gateway, QUESTION + results_for(calls), stream=stream)
    assert (content, calls_after, finish) == (f"The tool get_weather returned: {RESULT}", [], "stop")
    second = settled(tool_runs(fake)[-1])
    assert second.violations == []
    assert second.tool_log == ["results"]
    if profile == "agent":
        prompt = second.run_request.action.user_message_action.user_message.text
        assert agent_messages.parse_tool_results_prompt(prompt) == [
            (calls[0]["id"], "get_weather", False, RESULT)
        ]
        assert calls[0]["function"]["arguments"] in prompt
    else:
        messages = second.request.messages
        assert [role_name(m.role) for m in messages] == [
            "SYSTEM",
            "USER",
            "ASSISTANT",
            "TOOL",
        ]
        assert messages[2].tool_calls[0].tool_call_id == calls[0]["id"]
        assert messages[3].tool_content.parts[0].result.string_value == RESULT


def test_round_trip_on_the_agent_json_codec(fake: FakeCursor) -> None:
    """map<string, Value bytes> arguments and the schema bytes survive the Connect JSON codec too."""
    settings = gateway_settings(fake, cursor_protocol="agent", cursor_agent_codec="json")
    with running_gateway(settings, make_services(settings, [session_record("alpha")])) as url:
        _, calls, finish = ask(url, QUESTION, stream=True)
        assert finish == "tool_calls"
        assert json.loads(calls[0]["function"]["arguments"]) == {"city": "Paris", "days": 2}
        assert fake.runs[-1].codec == "json" and fake.runs[-1].violations == []
        content, _, _ = ask(url, QUESTION + results_for(calls), stream=False)
    assert content == f"The tool get_weather returned: {RESULT}"
    assert fake.runs[-1].violations == []


def test_parallel_calls_are_one_batch(gateway: str, fake: FakeCursor, profile: str) -> None:
    fake.default = Behaviour(tool_call=[CALL, {"name": "now", "arguments": {}}], tool_text="Checking both.")
    content, calls, finish = ask(gateway, QUESTION, stream=True)
    assert finish == "tool_calls"
    assert content == "Checking both."
    assert [c["function"]["name"] for c in calls] == ["get_weather", "now"]
    assert calls[1]["function"]["arguments"] == "{}"
    assert len({c["id"] for c in calls}) == 2
    content, _, _ = ask(gateway, QUESTION + results_for(calls), stream=False)
    assert content == f"The tool get_weather returned: {RESULT}; The tool now returned: {RESULT}"
    assert all(r.violations == [] for r in tool_runs(fake))


def test_agent_waits_the_batch_window_for_late_parallel_calls(
    fake: FakeCursor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Calls spread over time within the window are one batch (window and gap far apart: not timing-bound)."""
    monkeypatch.setattr("cursor_gateway.upstream.agent.TOOL_BATCH_SECONDS", 2.0)
    fake.default = Behaviour(tool_call=[CALL, {"name": "now", "arguments": {}}], tool_call_gap=0.2)
    settings = gateway_settings(fake, cursor_protocol="agent")
    with running_gateway(settings, make_services(settings, [session_record("alpha")])) as url:
        _, calls, finish = ask(url, QUESTION, stream=False)
    assert [c["function"]["name"] for c in calls] == ["get_weather", "now"] and finish == "tool_calls"
    assert settled(fake.runs[-1]).tool_log[-1] == "parked"


def test_multi_turn_history_keeps_earlier_tool_exchanges(
    gateway: str, fake: FakeCursor, profile: str
) -> None:
    _, calls, _ = ask(gateway, QUESTION, stream=False)
    history = QUESTION + results_for(calls) + [{"role": "assistant", "content": "It is 18C."}]
    _, _, finish = ask(gateway, [*history, {"role": "user", "content": "Thanks"}], stream=False)
    # A new user turn: the model calls again (the script), with the earlier exchange paired in history.
    assert finish == "tool_calls"
    run = tool_runs(fake)[-1]
    assert run.violations == []
    if profile == "agent":
        roots = [json.loads(b.value) for b in run.run_request.pre_fetched_blobs]
        kinds = [[p["type"] for p in r["content"]] for r in roots]
        assert ["tool-call"] in kinds and ["tool-result"] in kinds
        assert run.run_request.action.user_message_action.user_message.text == "Thanks"
    else:
        roles = [role_name(m.role) for m in run.request.messages]
        assert roles == ["SYSTEM", "USER", "ASSISTANT", "TOOL", "ASSISTANT", "USER"]


# --- what never reaches the client ---------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_unregistered_tool_from_the_server_is_not_surfaced(
    gateway: str, fake: FakeCursor, profile: str, stream: bool
) -> None:
    fake.default = Behaviour(tool_call=CALL, unregistered_tool="delete_everything")
    content, calls, finish = ask(gateway, QUESTION, stream=stream)
    assert [c["function"]["name"] for c in calls] == ["get_weather"]
    assert "delete_everything" not in content
    assert finish == "tool_calls"
    run = tool_runs(fake)[-1]
    assert run.violations == []
    assert "refused:unregistered" in run.tool_log


def test_bad_arguments_go_back_to_the_model(gateway: str, fake: FakeCursor, profile: str) -> None:
    fake.default = Behaviour(tool_call=CALL, bad_tool_arguments={"city": 5})
    _, calls, finish = ask(gateway, QUESTION, stream=True)
    assert finish == "tool_calls"
    assert json.loads(calls[0]["function"]["arguments"]) == {"city": "Paris", "days": 2}
    run = tool_runs(fake)[-1]
    assert run.violations == []
    assert "refused:bad" in run.tool_log


# --- tool_choice ---------------------------------------------------------------------------------------


def test_tool_choice_none_advertises_nothing(gateway: str, fake: FakeCursor, profile: str) -> None:
    content, calls, finish = ask(gateway, QUESTION, stream=False, tool_choice="none")
    assert (content, calls, finish) == ("Echo: Weather in Paris?", [], "stop")
    run = tool_runs(fake)[-1]
    if profile == "agent":
        assert list(run.run_request.mcp_tools.mcp_tools) == [] and run.context_tools == []
    else:
        assert list(run.request.tools) == []


def test_named_tool_choice_advertises_only_that_tool_and_says_so(
    gateway: str, fake: FakeCursor, profile: str
) -> None:
    fake.default = Behaviour(tool_call=lambda names: {"name": names[0], "arguments": {}})
    _, calls, finish = ask(
        gateway, QUESTION, stream=False, tool_choice={"type": "function", "function": {"name": "now"}}
    )
    assert [c["function"]["name"] for c in calls] == ["now"] and finish == "tool_calls"
    run = tool_runs(fake)[-1]
    assert run.violations == []
    if profile == "agent":
        assert [d.tool_name for d in run.run_request.mcp_tools.mcp_tools] == ["now"]
        system = json.loads(run.run_request.pre_fetched_blobs[0].value)["content"][0]["text"]
        assert "- now(): The time." in system and "you must call the tool now" in system
        assert "get_weather" not in system
    else:
        assert [t.name for t in run.request.tools] == ["now"]
        assert "you must call the tool now" in run.request.messages[0].text


def test_required_with_one_tool_is_that_tool(gateway: str, fake: FakeCursor, profile: str) -> None:
    _, calls, finish = ask(gateway, QUESTION, stream=False, tools=[WEATHER], tool_choice="required")
    assert finish == "tool_calls" and calls[0]["function"]["name"] == "get_weather"


def test_required_with_several_tools_is_a_clear_400(gateway: str, fake: FakeCursor, profile: str) -> None:
    before = len(fake.runs)
    with pytest.raises(openai.BadRequestError) as caught:
        ask(gateway, QUESTION, stream=False, tool_choice="required")
    error = caught.value.response.json()["error"]
    assert error["param"] == "tool_choice"
    assert f"{profile} profile" in error["message"]
    assert len(fake.runs) == before  # refused before Cursor was asked


@pytest.mark.parametrize(
    ("tools", "param"),
    [
        ([{"type": "function", "function": {"name": "get weather"}}], "tools[0].function.name"),
        (
            [{"type": "function", "function": {"name": "f", "parameters": {"type": "array"}}}],
            "tools[0].function.parameters",
        ),
    ],
)
def test_bad_tool_definitions_are_400(gateway: str, fake: FakeCursor, tools: list[Any], param: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        ask(gateway, QUESTION, stream=True, tools=tools)
    assert caught.value.response.json()["error"]["param"] == param
    assert fake.runs == []


def test_legacy_profile_refuses_tools(fake: FakeCursor) -> None:
    settings = gateway_settings(fake, cursor_protocol="legacy")
    with running_gateway(settings, make_services(settings, [ide_record("alpha")])) as url:
        with pytest.raises(openai.BadRequestError) as caught:
            ask(url, QUESTION, stream=False)
        # tool_choice none offers nothing: the request goes through as plain chat
        content, _, _ = ask(url, QUESTION, stream=False, tool_choice="none")
    error = caught.value.response.json()["error"]
    assert error["param"] == "tools" and "legacy" in error["message"]
    assert content == "Echo: Weather in Paris?"
