"""Tool calling at the OpenAI surface and the shared tool rules (pure): definitions and their 400s,
tool_choice, tool calls and results in history, streamed `tool_calls` deltas and the non-stream message."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cursor_gateway.adapters.openai_request import ChatCompletionIn, check_parameters, to_chat_request
from cursor_gateway.adapters.openai_response import ChunkWriter, completion
from cursor_gateway.domain.chat import (
    ModelChoice,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolSpec,
    Transcript,
    TurnEnded,
)
from cursor_gateway.domain.tools import (
    argument_problem,
    call_problem,
    canonical_json,
    offered_tools,
    parse_arguments,
    signature,
    tool_instructions,
)
from cursor_gateway.errors import InvalidRequest, UnsupportedParameter

MODEL = ModelChoice(cursor_id="claude-4.6-sonnet", client_id="claude-4.6-sonnet")
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.\nSecond line is not in the signature.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city"],
        },
    },
}
CLOCK = {"type": "function", "function": {"name": "now"}}


def request(**fields: Any) -> Any:
    fields.setdefault("model", "claude-4.6-sonnet")
    fields.setdefault("messages", [{"role": "user", "content": "hi"}])
    body = ChatCompletionIn.model_validate(fields)
    check_parameters(body)
    return to_chat_request(body, MODEL)


# --- definitions ---------------------------------------------------------------------------------------


def test_tools_become_specs_with_their_schema_and_choice_defaults_to_auto() -> None:
    chat = request(tools=[WEATHER, CLOCK])
    assert [t.name for t in chat.tools] == ["get_weather", "now"]
    assert chat.tools[0].parameters["required"] == ["city"]
    assert chat.tools[0].description.startswith("Current weather")
    assert chat.tools[1].parameters == {"type": "object", "properties": {}}  # no parameters: empty object
    assert chat.tool_choice == "auto"


@pytest.mark.parametrize(
    ("tools", "param"),
    [
        ([{"type": "function", "function": {"name": "has space"}}], "tools[0].function.name"),
        ([CLOCK, {"type": "function", "function": {"name": "x" * 65}}], "tools[1].function.name"),
        ([{"type": "function", "function": {"name": "bad.dot"}}], "tools[0].function.name"),
        ([{"type": "function", "function": {}}], "tools[0].function.name"),
        ([CLOCK, CLOCK], "tools[1].function.name"),
        ([{"type": "function", "function": {"name": "f", "parameters": []}}], "tools[0].function.parameters"),
        (
            [{"type": "function", "function": {"name": "f", "parameters": {"type": "string"}}}],
            "tools[0].function.parameters",
        ),
        (
            [{"type": "function", "function": {"name": "f", "parameters": {"required": "city"}}}],
            "tools[0].function.parameters",
        ),
        ([{"type": "function"}], "tools[0].function"),
        ([{"type": "code_interpreter"}], "tools[0].type"),
        (["get_weather"], "tools[0].type"),
    ],
)
def test_bad_tool_definitions_are_400_naming_the_param(tools: list[Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        request(tools=tools)
    assert info.value.status == 400
    assert info.value.param == param


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("none", "none"),
        ("auto", "auto"),
        ("required", "required"),
        ({"type": "function", "function": {"name": "now"}}, "now"),
    ],
)
def test_tool_choice_forms(choice: Any, expected: str) -> None:
    assert request(tools=[WEATHER, CLOCK], tool_choice=choice).tool_choice == expected


@pytest.mark.parametrize(
    ("fields"),
    [
        {"tools": [WEATHER], "tool_choice": "sometimes"},
        {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}},
        {"tools": [WEATHER], "tool_choice": {"type": "function"}},
        {"tool_choice": "required"},
    ],
)
def test_bad_tool_choice_is_400(fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest) as info:
        request(**fields)
    assert info.value.param == "tool_choice"


def test_tool_choice_is_no_longer_reported_as_ignored() -> None:
    body = ChatCompletionIn.model_validate(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "x"}],
            "tools": [CLOCK],
            "tool_choice": "auto",
        }
    )
    assert check_parameters(body) == []


# --- history -------------------------------------------------------------------------------------------


def test_assistant_tool_calls_and_tool_results_in_history() -> None:
    chat = request(
        tools=[WEATHER],
        messages=[
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    },
                    # some clients send the arguments object itself
                    {
                        "id": "call_2",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": {"city": "Rome"}},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
            {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "21C"}]},
        ],
    )
    _user, assistant, first, second = chat.messages
    assert assistant.role == "assistant" and assistant.text == ""
    assert assistant.tool_calls == (
        ToolCall("call_1", "get_weather", '{"city":"Paris"}'),
        ToolCall("call_2", "get_weather", '{"city": "Rome"}'),
    )
    assert (first.role, first.tool_call_id, first.tool_name, first.text) == (
        "tool",
        "call_1",
        "get_weather",
        "18C",
    )
    assert (second.tool_call_id, second.tool_name, second.text) == ("call_2", "get_weather", "21C")


@pytest.mark.parametrize(
    ("message", "param"),
    [
        ({"role": "tool", "content": "x"}, "messages[1].tool_call_id"),
        (
            {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f"}}]},
            "messages[1].tool_calls[0].id",
        ),
        (
            {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {}}]},
            "messages[1].tool_calls[0].function.name",
        ),
        (
            {"role": "assistant", "tool_calls": [{"id": "c", "type": "custom", "custom": {}}]},
            "messages[1].tool_calls[0]",
        ),
    ],
)
def test_malformed_tool_history_is_400(message: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        request(messages=[{"role": "user", "content": "q"}, message])
    assert info.value.param == param


def test_deprecated_functions_are_still_refused_with_a_pointer_to_tools() -> None:
    with pytest.raises(UnsupportedParameter) as info:
        request(functions=[{"name": "f"}])
    assert info.value.param == "functions" and "tools" in info.value.message


# --- responses -----------------------------------------------------------------------------------------


def test_stream_tool_calls_deltas_then_finish_tool_calls() -> None:
    writer = ChunkWriter(model="m")
    chunks = [
        c
        for event in (
            TextDelta("Checking."),
            ToolCall("call_1", "get_weather", '{"city":"Paris"}'),
            ToolCall("call_2", "now", "{}"),
            TurnEnded(finish_reason="tool_calls"),
        )
        for c in writer.event(event)
    ]
    deltas = [c["choices"][0]["delta"] for c in chunks]
    calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    assert calls == [
        {
            "index": 0,
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": ""},
        },
        {"index": 0, "function": {"arguments": '{"city":"Paris"}'}},
        {"index": 1, "id": "call_2", "type": "function", "function": {"name": "now", "arguments": ""}},
        {"index": 1, "function": {"arguments": "{}"}},
    ]
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"][0]["finish_reason"]] == [
        "tool_calls"
    ]
    # Nothing of the call leaks into the content.
    assert "".join(d.get("content") or "" for d in deltas) == "Checking."


def test_think_tag_closes_before_a_tool_call() -> None:
    writer = ChunkWriter(model="m", thinking_output="think_tags")
    chunks = [c for e in (ThinkingDelta("hmm"), ToolCall("c", "now", "{}")) for c in writer.event(e)]
    contents = [c["choices"][0]["delta"].get("content") for c in chunks]
    assert contents[1:3] == ["<think>hmm", "</think>"]
    assert "tool_calls" in chunks[3]["choices"][0]["delta"]


def test_completion_message_has_tool_calls_and_null_content() -> None:
    transcript = Transcript()
    for event in (
        ToolCall("call_1", "get_weather", '{"city":"Paris"}'),
        TurnEnded(finish_reason="tool_calls"),
    ):
        transcript.add(event)
    body = completion(transcript, model="m", thinking_output="reasoning_content", thinking_tag="think")
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    assert choice["message"]["tool_calls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
        }
    ]


def test_completion_keeps_text_beside_tool_calls() -> None:
    transcript = Transcript()
    for event in (
        TextDelta("Let me check."),
        ToolCall("c", "now", "{}"),
        TurnEnded(finish_reason="tool_calls"),
    ):
        transcript.add(event)
    message = completion(transcript, model="m", thinking_output="reasoning_content", thinking_tag="think")[
        "choices"
    ][0]["message"]
    assert message["content"] == "Let me check." and len(message["tool_calls"]) == 1


def test_completion_without_tool_calls_has_no_tool_calls_key() -> None:
    transcript = Transcript()
    transcript.add(TextDelta("hi"))
    message = completion(transcript, model="m", thinking_output="reasoning_content", thinking_tag="think")[
        "choices"
    ][0]["message"]
    assert "tool_calls" not in message and message["content"] == "hi"


# --- the shared rules ----------------------------------------------------------------------------------

SPEC = ToolSpec("get_weather", "Current weather.", WEATHER["function"]["parameters"])
NOW = ToolSpec("now")


def test_offered_tools_per_choice() -> None:
    tools = (SPEC, NOW)
    assert offered_tools(tools, "auto", profile="agent") == (tools, None)
    assert offered_tools(tools, "none", profile="agent") == ((), None)
    assert offered_tools(tools, "now", profile="agent") == ((NOW,), "now")
    assert offered_tools((NOW,), "required", profile="agent") == ((NOW,), "now")  # one tool: forceable
    with pytest.raises(UnsupportedParameter) as info:
        offered_tools(tools, "required", profile="inference")
    assert info.value.param == "tool_choice" and "inference profile" in info.value.message


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"city": "Paris"}, None),
        ({"city": "Paris", "unit": "c", "extra": 1}, None),
        ({}, "arguments.city is required"),
        ({"city": 3}, "arguments.city must be of type string"),
        ({"city": "Paris", "unit": "k"}, 'arguments.unit must be one of ["c", "f"]'),
        ([], "arguments must be of type object"),
    ],
)
def test_argument_problems(arguments: Any, problem: str | None) -> None:
    assert argument_problem(SPEC.parameters, arguments) == problem


def test_argument_types_nested_and_integral_floats() -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "opt": {"type": ["string", "null"]},
            "flag": {"type": "boolean"},
        },
        "additionalProperties": False,
    }
    assert argument_problem(schema, {"n": 3.0, "tags": ["a"], "opt": None, "flag": False}) is None
    assert argument_problem(schema, {"n": 3.5}) == "arguments.n must be of type integer"
    assert argument_problem(schema, {"n": True}) == "arguments.n must be of type integer"
    assert argument_problem(schema, {"tags": ["a", 1]}) == "arguments.tags[1] must be of type string"
    assert argument_problem(schema, {"zzz": 1}) == "arguments.zzz is not an allowed property"


def test_call_problem_names_unknown_tools() -> None:
    tools = {"get_weather": SPEC}
    assert call_problem(tools, "get_weather", {"city": "x"}) is None
    assert "no tool named 'rm_rf'" in (call_problem(tools, "rm_rf", {}) or "")


def test_parse_arguments_and_canonical_json() -> None:
    assert parse_arguments("") == ({}, None)
    assert parse_arguments('{"a": 1}') == ({"a": 1}, None)
    assert parse_arguments("{oops")[1] == "the arguments are not valid JSON"
    assert parse_arguments("[1]")[1] == "the arguments must be a JSON object"
    assert canonical_json({"n": 3.0, "x": [1.5, 2.0], "s": "é"}) == '{"n":3,"x":[1.5,2],"s":"é"}'


def test_signature_lines_and_instructions() -> None:
    assert signature(SPEC) == 'get_weather(city: string, unit?: "c" | "f"): Current weather.'
    assert signature(NOW) == "now()"
    text = tool_instructions((SPEC, NOW), "now", server="cursor-gateway")
    lines = text.splitlines()
    assert lines[1] == f"- {signature(SPEC)}" and lines[2] == "- now()"
    assert lines[-1] == "In this turn you must call the tool now."
    assert tool_instructions((), None, server="x") == ""
    assert json.dumps(text)  # plain text
