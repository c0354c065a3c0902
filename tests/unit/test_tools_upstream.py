"""Client tools on the agent and inference profiles (pure): how they are advertised, how history with
tool calls and results is replayed, how the server's calls are read and checked, and the fake's own
checks of what a client sends. Wire numbers are read without a schema where the sheet gives them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as apb
from cursor_gateway.codec._gen.aiserver.v1 import inference_pb2 as ipb
from cursor_gateway.domain.chat import (
    ChatRequest,
    Message,
    ModelChoice,
    TextDelta,
    ToolCall,
    ToolSpec,
    TurnEnded,
)
from cursor_gateway.emulator import tools as fake_tools
from cursor_gateway.emulator.server import RunRecord
from cursor_gateway.errors import UnsupportedParameter
from cursor_gateway.upstream import agent_answers, agent_wire
from cursor_gateway.upstream import agent_request as amsgs
from cursor_gateway.upstream import inference_request as imsgs
from cursor_gateway.upstream.agent import MAX_TOOL_REPAIRS, _ToolCalls
from cursor_gateway.upstream.inference_reader import InvocationReader
from google.protobuf import empty_pb2, json_format, struct_pb2
from google.protobuf.unknown_fields import UnknownFieldSet

MODEL = ModelChoice(cursor_id="claude-4.6-sonnet", client_id="claude-4.6-sonnet")
SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city"],
}
WEATHER = ToolSpec("get_weather", "Current weather for a city.", SCHEMA)
NOW = ToolSpec("now", "The time.")
CALL = ToolCall("call_1", "get_weather", '{"city":"Paris"}')
TZ = "UTC"


def wire(data: bytes) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for f in UnknownFieldSet(empty_pb2.Empty.FromString(data)):
        out.setdefault(f.field_number, []).append(f.data)
    return out


def chat(
    *messages: Message, tools: tuple[ToolSpec, ...] = (WEATHER, NOW), choice: str = "auto"
) -> ChatRequest:
    return ChatRequest(
        model=MODEL, messages=messages, conversation_id="conv-1", tools=tools, tool_choice=choice
    )


def roots_of(plan: amsgs.RunPlan) -> list[dict[str, Any]]:
    ids = plan.run_request.run_request.conversation_state.root_prompt_messages_json
    return [json.loads(plan.blobs[i]) for i in ids]


ROUND = (
    Message("system", "Be brief."),
    Message("user", "Weather in Paris?"),
    Message("assistant", "Let me check.", tool_calls=(CALL,)),
    Message("tool", "18C", tool_call_id="call_1", tool_name="get_weather"),
)


# --- agent: advertising --------------------------------------------------------------------------------


def test_agent_tools_on_the_wire_with_both_schema_forms() -> None:
    plan = amsgs.build_run(chat(Message("user", "hi")), timezone=TZ)
    run = wire(plan.run_request.run_request.SerializeToString())
    (mcp_tools,) = run[4]
    definitions = wire(mcp_tools)[1]
    assert len(definitions) == 2
    first = {number: values[0] for number, values in wire(definitions[0]).items()}
    assert first[1] == b"get_weather" and first[5] == b"get_weather"
    assert first[2] == b"Current weather for a city."
    assert first[4] == amsgs.PROVIDER.encode()
    assert json_format.MessageToDict(struct_pb2.Value.FromString(first[3])) == SCHEMA
    assert json.loads(first[6]) == SCHEMA
    # no parameters: an empty object schema, never an absent one
    second = {number: values[0] for number, values in wire(definitions[1]).items()}
    assert json.loads(second[6]) == {"type": "object", "properties": {}}


def test_agent_system_root_carries_one_signature_per_tool() -> None:
    plan = amsgs.build_run(chat(Message("system", "Be brief."), Message("user", "hi")), timezone=TZ)
    system = roots_of(plan)[0]["content"][0]["text"]
    assert system.startswith("<system>\nBe brief.\n\n") and system.endswith("\n</system>")
    assert "- get_weather(city: string, days?: integer): Current weather for a city." in system
    assert "- now(): The time." in system
    assert "must call" not in system


def test_agent_tool_choice() -> None:
    none = amsgs.build_run(chat(*ROUND, choice="none"), timezone=TZ)
    assert list(none.run_request.run_request.mcp_tools.mcp_tools) == [] and none.tools == {}
    assert "get_weather(" not in json.dumps(roots_of(none)[0])
    named = amsgs.build_run(chat(Message("user", "hi"), choice="now"), timezone=TZ)
    assert [d.tool_name for d in named.definitions] == ["now"]
    assert "In this turn you must call the tool now." in roots_of(named)[0]["content"][0]["text"]
    with pytest.raises(UnsupportedParameter):
        amsgs.build_run(chat(Message("user", "hi"), choice="required"), timezone=TZ)


def test_agent_exec_answers_for_our_tools() -> None:
    plan = amsgs.build_run(chat(Message("user", "hi")), timezone=TZ)

    def answer(**arm: Any) -> apb.ExecClientMessage:
        exec_msg = apb.ExecServerMessage(id=9, exec_id="e9", **arm)
        reply = agent_answers.answer_exec(
            exec_msg, timezone=TZ, tools=plan.definitions, instructions=plan.instructions
        )
        assert reply.exec_client_message.id == 9 and reply.exec_client_message.exec_id == "e9"
        return reply.exec_client_message

    context = answer(
        request_context_args=apb.RequestContextArgs()
    ).request_context_result.success.request_context
    assert [t.tool_name for t in context.tools] == ["get_weather", "now"]
    assert context.mcp_instructions[0].server_name == amsgs.PROVIDER
    assert "- now()" in context.mcp_instructions[0].instructions
    state = answer(mcp_state_exec_args=apb.Opaque()).mcp_state_exec_result.success
    assert [(s.server_identifier, [t.tool_name for t in s.tools]) for s in state.servers] == [
        (amsgs.PROVIDER, ["get_weather", "now"])
    ]
    for name, expected in (("now", True), (f"{amsgs.PROVIDER}-now", True), ("shell", False)):
        precheck = apb.McpAllowlistPrecheckArgs(provider_identifier=amsgs.PROVIDER, tool_name=name)
        assert (
            answer(mcp_allowlist_precheck_args=precheck).mcp_allowlist_precheck_result.allowlisted is expected
        )
    other = apb.McpAllowlistPrecheckArgs(provider_identifier="someone-else", tool_name="now")
    assert answer(mcp_allowlist_precheck_args=other).mcp_allowlist_precheck_result.allowlisted is False
    missing = answer(mcp_args=apb.McpArgs(name="rm", tool_name="rm")).mcp_result.tool_not_found
    assert missing.name == "rm" and list(missing.available_tools) == ["get_weather", "now"]


# --- agent: history ------------------------------------------------------------------------------------


def test_agent_trailing_tool_results_become_the_user_message() -> None:
    plan = amsgs.build_run(chat(*ROUND), timezone=TZ)
    roots = roots_of(plan)
    # system, the question, the assistant's text; the call itself goes with its result into the prompt
    assert [r["role"] for r in roots] == ["user", "user", "assistant"]
    assert roots[2]["content"] == [{"type": "text", "text": "Let me check."}]
    prompt = plan.run_request.run_request.action.user_message_action.user_message.text
    assert prompt.startswith(amsgs.TOOL_RESULTS_LEAD) and prompt.endswith(amsgs.TOOL_RESULTS_TAIL)
    assert '<tool_call id="call_1" name="get_weather">{"city":"Paris"}</tool_call>' in prompt
    assert amsgs.parse_tool_results_prompt(prompt) == [("call_1", "get_weather", False, "18C")]


def test_agent_results_prompt_marks_errors_and_missing_results() -> None:
    second = ToolCall("call_2", "now", "")
    prompt = amsgs.tool_results_prompt(
        (CALL, second),
        [Message("tool", "boom", tool_call_id="call_1", tool_name="get_weather", is_error=True)],
    )
    assert amsgs.parse_tool_results_prompt(prompt) == [
        ("call_1", "get_weather", True, "boom"),
        ("call_2", "now", True, amsgs.MISSING_RESULT),
    ]
    assert '<tool_call id="call_2" name="now">{}</tool_call>' in prompt


def test_agent_earlier_tool_exchanges_are_vercel_parts_with_pairing_repaired() -> None:
    other = ToolCall("call_2", "now", "{}")
    request = chat(
        Message("user", "q"),
        Message("assistant", "", tool_calls=(CALL, other)),
        Message("tool", "18C", tool_call_id="call_1", tool_name="get_weather"),
        Message("tool", "stray", tool_call_id="call_9", tool_name="now"),
        Message("assistant", "It is 18C."),
        Message("user", "thanks"),
    )
    roots = roots_of(amsgs.build_run(request, timezone=TZ))
    assert [r["role"] for r in roots] == ["user", "user", "assistant", "tool", "user", "assistant"]
    assert roots[2]["content"] == [
        {"type": "tool-call", "toolCallId": "call_1", "toolName": "get_weather", "args": {"city": "Paris"}},
        {"type": "tool-call", "toolCallId": "call_2", "toolName": "now", "args": {}},
    ]
    assert roots[3]["content"] == [
        {"type": "tool-result", "toolCallId": "call_1", "toolName": "get_weather", "result": "18C"},
        {
            "type": "tool-result",
            "toolCallId": "call_2",
            "toolName": "now",
            "result": amsgs.MISSING_RESULT,
            "isError": True,
        },
    ]
    assert roots[4]["content"][0]["text"] == "[Result of tool call call_9 (now)]\nstray"


# --- agent: the server's calls -------------------------------------------------------------------------


def mcp(
    exec_id: int, name: str, arguments: dict[str, Any], *, prefixed: bool = True
) -> apb.ExecServerMessage:
    message = fake_tools.mcp_exec(exec_id, f"call_{exec_id}", name, arguments).exec_server_message
    if not prefixed:
        message.mcp_args.tool_name = ""
    return message


def test_read_mcp_call_prefers_tool_name_and_decodes_value_bytes() -> None:
    call = agent_answers.read_mcp_call(mcp(3, "get_weather", {"city": "Paris", "days": 2, "tags": ["a"]}))
    assert (call.call_id, call.name, call.problem) == ("call_3", "get_weather", None)
    assert call.arguments == {"city": "Paris", "days": 2.0, "tags": ["a"]}
    # without tool_name, our server prefix is taken off the name
    assert agent_answers.read_mcp_call(mcp(4, "now", {}, prefixed=False)).name == "now"
    broken = mcp(5, "now", {})
    broken.mcp_args.args["x"] = b"\xff\xff"
    assert agent_answers.read_mcp_call(broken).problem == "the value of argument 'x' could not be decoded"


def test_agent_call_checks_unknown_bad_and_good() -> None:
    calls = _ToolCalls(amsgs.build_run(chat(Message("user", "hi")), timezone=TZ))
    refused = calls.observe(mcp(1, "rm_rf", {}))
    assert (
        refused is not None
        and refused.exec_client_message.mcp_result.WhichOneof("result") == "tool_not_found"
    )
    for attempt in range(MAX_TOOL_REPAIRS):
        reply = calls.observe(mcp(2 + attempt, "get_weather", {"city": 5}))
        assert reply is not None
        assert "arguments.city must be of type string" in reply.exec_client_message.mcp_result.error.error
    assert calls.calls == []
    assert calls.observe(mcp(8, "get_weather", {"days": 2, "city": "Paris"})) is None
    # repairs used up: the bad call is surfaced as it is, the client's tool reports the problem
    assert calls.observe(mcp(9, "get_weather", {"city": 5})) is None
    assert calls.calls == [
        ToolCall("call_8", "get_weather", '{"city":"Paris","days":2}'),  # schema order, integers
        ToolCall("call_9", "get_weather", '{"city":5}'),
    ]


# --- inference -----------------------------------------------------------------------------------------


def test_inference_tools_field_wraps_the_schema() -> None:
    plan = imsgs.build_run(chat(Message("user", "hi")))
    request = plan.invoke.invoke_model.request
    raw = wire(request.SerializeToString())[2]
    assert len(raw) == 2
    tool = wire(raw[0])
    assert tool[1] == [b"get_weather"] and tool[2] == [b"Current weather for a city."]
    assert json_format.MessageToDict(struct_pb2.Struct.FromString(tool[3][0])) == {"jsonSchema": SCHEMA}
    assert set(plan.tools) == {"get_weather", "now"}


def test_inference_history_tool_calls_and_tool_content() -> None:
    other = ToolCall("call_2", "now", "not json")
    request = chat(
        Message("user", "q"),
        Message("assistant", "Let me check.", tool_calls=(CALL, other)),
        Message("tool", "18C", tool_call_id="call_1", tool_name="get_weather"),
        choice="none",
    )
    plan = imsgs.build_run(request)
    messages = plan.invoke.invoke_model.request.messages
    assert [m.role for m in messages] == [
        ipb.INFERENCE_MESSAGE_ROLE_USER,
        ipb.INFERENCE_MESSAGE_ROLE_ASSISTANT,
        ipb.INFERENCE_MESSAGE_ROLE_TOOL,
    ]
    assistant = wire(messages[1].SerializeToString())
    assert len(assistant[4]) == 2  # tool_calls = 4
    first = messages[1].tool_calls[0]
    assert (
        json_format.MessageToDict(first.args) == {"city": "Paris"}
        and first.raw_tool_call_args == CALL.arguments
    )
    assert (
        not messages[1].tool_calls[1].HasField("args")
        and messages[1].tool_calls[1].raw_tool_call_args == "not json"
    )
    assert 6 in wire(messages[2].SerializeToString())  # tool_content = 6
    parts = messages[2].tool_content.parts
    assert [(p.tool_call_id, p.tool_name, p.result.string_value, p.is_error) for p in parts] == [
        ("call_1", "get_weather", "18C", False),
        ("call_2", "now", imsgs.MISSING_RESULT, True),
    ]
    # tool_choice none: nothing advertised, so the history's names are declared as accepted
    request_out = plan.invoke.invoke_model.request
    assert list(request_out.tools) == [] and list(request_out.accepted_unadvertised_tool_names) == [
        "get_weather",
        "now",
    ]
    assert [m.text for m in plan.run_request.run_request.routing_conversation] == ["q", "Let me check."]


def test_inference_named_choice_adds_a_system_line() -> None:
    plan = imsgs.build_run(chat(Message("user", "hi"), choice="get_weather"))
    request = plan.invoke.invoke_model.request
    assert [t.name for t in request.tools] == ["get_weather"]
    assert request.messages[0].role == ipb.INFERENCE_MESSAGE_ROLE_SYSTEM
    assert request.messages[0].text == "In this turn you must call the tool get_weather."


def part(call_id: str = "", name: str = "", args: str = "", complete: bool = False, index: int = 0) -> Any:
    return ipb.InferenceStreamResponse(
        tool_call_part=ipb.InferenceToolCallPart(
            tool_call_id=call_id, tool_name=name, args=args, is_complete=complete, tool_index=index
        )
    )


def test_reader_assembles_calls_and_never_surfaces_a_half_one() -> None:
    reader = InvocationReader({"get_weather": WEATHER, "now": NOW})
    events = reader.observe(part("c1", "get_weather", '{"ci'))
    events += reader.observe(part("", "", 'ty": "Paris"}'))  # id and name only on the first part
    events += reader.observe(part("c1", "get_weather", '{"city": "Paris"}', complete=True))
    events += reader.observe(part("c2", "now", "{", index=1))  # never completed
    assert events == []
    assert reader.finish() == [
        ToolCall("c1", "get_weather", '{"city":"Paris"}'),
        TurnEnded(finish_reason="tool_calls"),
    ]


def test_reader_sends_unknown_and_bad_calls_back_then_gives_up() -> None:
    reader = InvocationReader({"get_weather": WEATHER})
    reader.observe(ipb.InferenceStreamResponse(text_part=ipb.InferenceTextPart(text="Let me see.")))
    reader.observe(part("c1", "rm_rf", "{}", complete=True))
    assert reader.finish() == [] and [c.name for c, _ in reader.repair] == ["rm_rf"]
    assert "no tool named 'rm_rf'" in reader.repair[0][1]
    assert reader.text == "Let me see."
    reader.next_invocation()
    reader.observe(part("c2", "get_weather", '{"city": 1}', complete=True))
    assert reader.finish() == [] and reader.repair[0][0].id == "c2"
    reader.next_invocation()
    reader.observe(part("c3", "get_weather", '{"city": 1}', complete=True))
    reader.observe(part("c4", "rm_rf", "{}", complete=True, index=1))
    # repairs used up: the bad call is surfaced as it is, the unknown one never is
    assert reader.finish() == [
        ToolCall("c3", "get_weather", '{"city": 1}'),
        TurnEnded(finish_reason="tool_calls"),
    ]


def test_reader_takes_calls_from_response_info_when_no_parts_streamed() -> None:
    reader = InvocationReader({"now": NOW})
    final = ipb.InferenceCoreMessage(role=ipb.INFERENCE_MESSAGE_ROLE_ASSISTANT)
    final.tool_calls.append(
        ipb.InferenceToolCall(tool_call_id="c9", tool_name="now", raw_tool_call_args="{}")
    )
    reader.observe(ipb.InferenceStreamResponse(response_info=ipb.InferenceResponseInfo(messages=[final])))
    assert reader.finish() == [ToolCall("c9", "now", "{}"), TurnEnded(finish_reason="tool_calls")]


def test_output_limit_mid_call_ends_with_length_and_no_call() -> None:
    reader = InvocationReader({"now": NOW})
    reader.observe(ipb.InferenceStreamResponse(text_part=ipb.InferenceTextPart(text="x")))
    reader.observe(part("c1", "now", "{", complete=False))
    limit = ipb.InferenceError(error_type=ipb.INFERENCE_ERROR_TYPE_OUTPUT_TOKEN_LIMIT)
    reader.observe(ipb.InferenceStreamResponse(error=limit))
    assert reader.finish() == [TurnEnded(finish_reason="length")]


def test_repair_invoke_appends_the_answer_and_error_results() -> None:
    plan = imsgs.build_run(chat(Message("user", "hi"), tools=(WEATHER,)))
    first_id = plan.invocation_id
    rejected = [(ToolCall("c1", "rm_rf", "{}"), "there is no tool named 'rm_rf'")]
    message = imsgs.repair_invoke(plan, "Let me see.", rejected)
    request = message.invoke_model.request
    assert plan.invocation_id != first_id and message.invoke_model.invocation_id == plan.invocation_id
    assert request.invocation_id == plan.invocation_id
    assert [m.role for m in request.messages][-2:] == [
        ipb.INFERENCE_MESSAGE_ROLE_ASSISTANT,
        ipb.INFERENCE_MESSAGE_ROLE_TOOL,
    ]
    assert (
        request.messages[-2].text == "Let me see." and request.messages[-2].tool_calls[0].tool_name == "rm_rf"
    )
    result = request.messages[-1].tool_content.parts[0]
    assert result.is_error and result.result.string_value == "Error: there is no tool named 'rm_rf'"
    assert list(request.accepted_unadvertised_tool_names) == ["rm_rf"]
    assert fake_tools.inference_tool_problems(request) == []


def test_reader_usage_adds_up_over_repaired_invocations() -> None:
    reader = InvocationReader({"now": NOW})
    reader.observe(
        ipb.InferenceStreamResponse(usage=ipb.InferenceUsage(prompt_tokens=10, completion_tokens=1))
    )
    reader.observe(part("c1", "nope", "{}", complete=True))
    reader.finish()
    reader.next_invocation()
    reader.observe(
        ipb.InferenceStreamResponse(usage=ipb.InferenceUsage(prompt_tokens=20, completion_tokens=2))
    )
    events = reader.observe(
        ipb.InferenceStreamResponse(text_part=ipb.InferenceTextPart(text="ok", is_final=True))
    )
    events += reader.finish()
    assert events[0] == TextDelta("ok")
    ended = events[-1]
    assert isinstance(ended, TurnEnded) and ended.usage is not None
    assert (ended.usage.input_tokens, ended.usage.output_tokens, ended.finish_reason) == (30, 3, "stop")


# --- the fake's checks catch what they are for ---------------------------------------------------------


def test_fake_catches_tools_missing_from_a_place_and_unpaired_roots() -> None:
    plan = amsgs.build_run(chat(Message("user", "hi")), timezone=TZ)
    run = plan.run_request.run_request
    good = RunRecord(
        "/Run", {"x-cursor-agent-allowed-tools": "mcp_tool_call"}, context_tools=list(plan.definitions)
    )
    assert fake_tools.agent_advertising_problems(good, run) == []
    no_header = RunRecord("/Run", {}, context_tools=list(plan.definitions))
    assert fake_tools.agent_advertising_problems(no_header, run) == [
        "x-cursor-agent-allowed-tools does not allow mcp_tool_call"
    ]
    no_context = RunRecord("/Run", {"x-cursor-agent-allowed-tools": "mcp_tool_call"})
    assert fake_tools.agent_advertising_problems(no_context, run) == [
        "the request-context answer does not list the run request's tools"
    ]
    run.mcp_tools.mcp_tools[0].input_schema_json = "{}"
    assert "input_schema_json differs" in fake_tools.agent_advertising_problems(good, run)[0]

    unpaired = amsgs.build_run(
        chat(Message("user", "q"), Message("assistant", "", tool_calls=(CALL,)), Message("user", "again")),
        timezone=TZ,
    ).run_request.run_request
    assert fake_tools.agent_history_problems(unpaired) == []  # repaired by the client
    blob = amsgs._json({"role": "assistant", "content": [amsgs._call_part(CALL)]})
    unpaired.pre_fetched_blobs.append(apb.PrefetchedBlob(id=agent_wire.blob_id(blob), value=blob))
    unpaired.conversation_state.root_prompt_messages_json.append(agent_wire.blob_id(blob))
    assert fake_tools.agent_history_problems(unpaired) == ["root 4: tool calls ['call_1'] answered by []"]


def test_fake_catches_unpaired_inference_calls_and_unwrapped_schemas() -> None:
    request = imsgs.build_run(chat(*ROUND)).invoke.invoke_model.request
    assert fake_tools.inference_tool_problems(request) == []
    del request.messages[-1]
    request.tools[0].parameters.Clear()
    problems = fake_tools.inference_tool_problems(request)
    assert any("jsonSchema" in p for p in problems)
    assert any("answered by []" in p for p in problems)
