"""Tool-call scripts of the fake Cursor (2026 sheet §6): what the model does when the client advertised
tools, and the checks on what the client sends.

Agent (`agent.v1.AgentService/Run`): the fake checks that the tools are advertised in all three places
(run request `mcp_tools`, the request-context answer, the `x-cursor-agent-allowed-tools` header), with
both schema forms and a signature line in the system root; asks the MCP state and allow-list prechecks;
optionally calls an unadvertised name first (the client must answer `tool_not_found`) and passes bad
arguments once (the client must answer an error result); then sends the `mcp_args` of the script and
waits for the client to close the stream without a cancel and without answering the calls.

Inference (`RunInference`): `tool_call_part` deltas and a complete part, then `invocation_end`; an
unadvertised name or bad arguments must come back as a TOOL error result in another invocation of the
same run. The message list must pair every assistant call with a TOOL result.

A request that carries the results (agent: the user message written by `tool_results_prompt`, inference:
a last TOOL message) is answered with text made from them, so a round trip is observable end to end.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterable
from typing import Any, Protocol

from google.protobuf import json_format, struct_pb2
from google.protobuf.message import DecodeError

from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as apb
from cursor_gateway.codec._gen.aiserver.v1 import inference_pb2 as ipb
from cursor_gateway.domain.tools import name_problem
from cursor_gateway.emulator.agent_stream import AgentBackend, Inbox, next_message, send
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.h2server import H2Stream
from cursor_gateway.emulator.records import Backend, ClientClosed, RunRecord, Violation
from cursor_gateway.upstream import agent_request as amsgs


class Handled:
    """The tool script answered the turn itself (the caller sends nothing more)."""


HANDLED = Handled()
_ids = itertools.count(1)

Outcome = str | Handled | None  # a reply text to stream, HANDLED, or None (answer as usual)


class InferenceTurn(Protocol):
    """What the inference tool script needs of the RunInference stream it plays on (inference.py)."""

    behaviour: Behaviour
    record: RunRecord

    async def respond(self, response: ipb.InferenceStreamResponse) -> None: ...

    async def invocation_end(self, error: dict[str, Any] | None = None) -> None: ...

    async def finish(self) -> None: ...


def planned_calls(behaviour: Behaviour, advertised: list[str]) -> list[dict[str, Any]]:
    spec = behaviour.tool_call
    if callable(spec):
        spec = spec(advertised)
    if spec is None:
        return []
    return [dict(spec)] if isinstance(spec, dict) else [dict(c) for c in spec]


def new_call_id() -> str:
    return f"toolu_emu_{next(_ids):04d}"


def reply_for(behaviour: Behaviour, results: Iterable[tuple[str, str]]) -> str:
    return "; ".join(behaviour.tool_reply.format(name=name, result=result) for name, result in results)


def _stages(behaviour: Behaviour, first_call: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The script in order: (kind, call) with kind unregistered | bad | call."""
    stages: list[tuple[str, dict[str, Any]]] = []
    if behaviour.unregistered_tool:
        stages.append(("unregistered", {"name": behaviour.unregistered_tool, "arguments": {}}))
    if behaviour.bad_tool_arguments is not None:
        stages.append(("bad", {"name": first_call["name"], "arguments": behaviour.bad_tool_arguments}))
    return stages


# -- agent ----------------------------------------------------------------------------------------------


def _value_bytes(value: Any) -> bytes:
    return json_format.ParseDict(value, struct_pb2.Value()).SerializeToString()


def mcp_exec(exec_id: int, call_id: str, name: str, arguments: dict[str, Any]) -> apb.AgentServerMessage:
    """An `mcp_args` exec the way Cursor sends it: `name` carries the server prefix, `tool_name` not."""
    args = apb.McpArgs(
        name=f"{amsgs.PROVIDER}-{name}",
        tool_name=name,
        tool_call_id=call_id,
        provider_identifier=amsgs.PROVIDER,
        args={key: _value_bytes(value) for key, value in arguments.items()},
    )
    return apb.AgentServerMessage(
        exec_server_message=apb.ExecServerMessage(id=exec_id, exec_id=f"mcp-{exec_id}", mcp_args=args)
    )


def agent_advertising_problems(record: RunRecord, run: apb.AgentRunRequest) -> list[str]:
    """Tools in all three places, both schema forms, and a signature line in the system root."""
    definitions = list(run.mcp_tools.mcp_tools)
    if not definitions:
        return []
    problems: list[str] = []
    allowed = record.headers.get("x-cursor-agent-allowed-tools", "").split(",")
    if "mcp_tool_call" not in allowed:
        problems.append("x-cursor-agent-allowed-tools does not allow mcp_tool_call")
    names = [d.tool_name for d in definitions]
    if [d.tool_name for d in record.context_tools] != names:
        problems.append("the request-context answer does not list the run request's tools")
    for definition in definitions:
        if name_problem(definition.tool_name) or definition.name != definition.tool_name:
            problems.append(f"tool {definition.name!r}: bad name / tool_name")
        if not definition.provider_identifier:
            problems.append(f"tool {definition.tool_name}: no provider identifier")
        try:
            schema = json_format.MessageToDict(struct_pb2.Value.FromString(definition.input_schema))
        except DecodeError:
            schema = None
        if not isinstance(schema, dict) or schema.get("type") != "object":
            problems.append(f"tool {definition.tool_name}: input_schema is not an object schema Value")
        elif (
            not definition.HasField("input_schema_json") or json.loads(definition.input_schema_json) != schema
        ):
            problems.append(f"tool {definition.tool_name}: input_schema_json differs from input_schema")
    system = _roots(run)[0] if _roots(run) else {}
    system_text = "".join(p.get("text", "") for p in system.get("content", []) if isinstance(p, dict))
    for name in names:
        if f"- {name}(" not in system_text:
            problems.append(f"no signature line for {name} in the system root")
    return problems


def _roots(run: apb.AgentRunRequest) -> list[dict[str, Any]]:
    blobs = {bytes(b.id): bytes(b.value) for b in run.pre_fetched_blobs}
    return [
        json.loads(blobs[bytes(i)])
        for i in run.conversation_state.root_prompt_messages_json
        if bytes(i) in blobs
    ]


def agent_history_problems(run: apb.AgentRunRequest) -> list[str]:
    """Vercel-AI-SDK-shaped roots, and every `tool-call` answered by the `tool` root right after it."""
    problems: list[str] = []
    roots = _roots(run)
    for index, root in enumerate(roots):
        if root.get("role") not in ("user", "assistant", "tool") or not isinstance(root.get("content"), list):
            problems.append(f"root {index} is not a Vercel-shaped message")
            continue
        calls = {p["toolCallId"] for p in root["content"] if p.get("type") == "tool-call"}
        if not calls:
            continue
        if root["role"] != "assistant":
            problems.append(f"root {index}: tool-call parts outside an assistant root")
        following = roots[index + 1] if index + 1 < len(roots) else {}
        answered = {
            p.get("toolCallId")
            for p in following.get("content", [])
            if following.get("role") == "tool" and p.get("type") == "tool-result" and p.get("toolName")
        }
        if answered != calls:
            problems.append(f"root {index}: tool calls {sorted(calls)} answered by {sorted(answered)}")
    return problems


async def agent_tool_turn(
    fake: AgentBackend,
    stream: H2Stream,
    record: RunRecord,
    behaviour: Behaviour,
    run: apb.AgentRunRequest,
    inbox: Inbox,
) -> Outcome:
    problems = agent_advertising_problems(record, run) + agent_history_problems(run)
    if problems:
        raise Violation("; ".join(problems))
    results = amsgs.parse_tool_results_prompt(run.action.user_message_action.user_message.text)
    if results:
        unknown = [call_id for call_id, *_ in results if call_id not in fake.tool_calls_issued]
        if unknown:
            raise Violation(f"tool results for calls never made: {unknown}")
        record.tool_log.append("results")
        return reply_for(behaviour, [(name, text) for _, name, _, text in results])
    advertised = [d.tool_name for d in run.mcp_tools.mcp_tools]
    calls = planned_calls(behaviour, advertised) if advertised else []
    if not calls:
        return None

    async def ask(message: apb.AgentServerMessage) -> apb.ExecClientMessage:
        await send(stream, record, message)
        reply = await next_message(inbox)
        if not reply.HasField("exec_client_message") or reply.exec_client_message.id != (
            message.exec_server_message.id
        ):
            raise Violation("an MCP exec was not answered with its id")
        return reply.exec_client_message

    # The MCP bookkeeping the CLI answers: our server's state, and the allow-list precheck.
    state = await ask(
        apb.AgentServerMessage(
            exec_server_message=apb.ExecServerMessage(id=20, exec_id="state-20", mcp_state_exec_args={})
        )
    )
    servers = state.mcp_state_exec_result.success.servers
    if [t.tool_name for s in servers for t in s.tools] != advertised:
        raise Violation("mcp_state_exec_result does not list the advertised tools")
    for exec_id, name, expected in ((21, calls[0]["name"], True), (22, "not_advertised_tool", False)):
        precheck = apb.McpAllowlistPrecheckArgs(provider_identifier=amsgs.PROVIDER, tool_name=name)
        answer = await ask(
            apb.AgentServerMessage(
                exec_server_message=apb.ExecServerMessage(
                    id=exec_id, exec_id=f"pre-{exec_id}", mcp_allowlist_precheck_args=precheck
                )
            )
        )
        if answer.mcp_allowlist_precheck_result.allowlisted is not expected:
            raise Violation(f"mcp_allowlist_precheck for {name!r} was not answered {expected}")

    if behaviour.tool_text:
        await fake.send_update(
            stream, record, apb.InteractionUpdate(text_delta=apb.TextDeltaUpdate(text=behaviour.tool_text))
        )
    for exec_id, (kind, call) in enumerate(_stages(behaviour, calls[0]), start=30):
        call_id = new_call_id()
        fake.tool_calls_issued[call_id] = kind
        answer = await ask(mcp_exec(exec_id, call_id, call["name"], call["arguments"]))
        expected_arm = "tool_not_found" if kind == "unregistered" else "error"
        if answer.mcp_result.WhichOneof("result") != expected_arm:
            raise Violation(f"a {kind} tool call was not answered with mcp_result.{expected_arm}")
        record.tool_log.append(f"refused:{kind}")

    for exec_id, call in enumerate(calls, start=40):
        call_id = new_call_id()
        fake.tool_calls_issued[call_id] = "call"
        await send(stream, record, mcp_exec(exec_id, call_id, call["name"], call.get("arguments", {})))
        record.tool_log.append(f"called:{call_id}")
        if behaviour.tool_call_gap and exec_id < 39 + len(calls):
            await asyncio.sleep(behaviour.tool_call_gap)

    # The client hands the calls to its caller and closes the stream: no cancel, no result on this stream.
    while True:
        try:
            message = await next_message(inbox)
        except ClientClosed:
            record.tool_log.append("parked")
            return HANDLED
        arm = message.WhichOneof("message")
        if arm == "conversation_action":
            raise Violation("the client cancelled instead of closing the stream after a tool call")
        if arm == "exec_client_message" and message.exec_client_message.id >= 40:
            raise Violation("the client answered a tool call it should hand to its caller")


# -- inference ------------------------------------------------------------------------------------------


def _value_text(value: struct_pb2.Value) -> str:
    if value.WhichOneof("kind") == "string_value":
        return value.string_value
    return json.dumps(json_format.MessageToDict(value), ensure_ascii=False)


def inference_tool_problems(request: ipb.InferenceStreamRequest) -> list[str]:
    """Schemas wrapped as {"jsonSchema": ...}, calls paired with TOOL results, unadvertised history names
    accepted explicitly."""
    problems: list[str] = []
    advertised = set()
    for tool in request.tools:
        advertised.add(tool.name)
        schema = json_format.MessageToDict(tool.parameters).get("jsonSchema")
        if not isinstance(schema, dict) or schema.get("type") != "object":
            problems.append(f"tool {tool.name}: parameters are not {{'jsonSchema': <object schema>}}")
    messages = list(request.messages)
    for index, message in enumerate(messages):
        if message.role == ipb.INFERENCE_MESSAGE_ROLE_TOOL:
            previous = messages[index - 1] if index else None
            if previous is None or not previous.tool_calls:
                problems.append(f"message {index}: TOOL results without an assistant call before them")
            for part in message.tool_content.parts:
                if not part.tool_call_id or not part.tool_name:
                    problems.append(f"message {index}: a tool result without call id or tool name")
        if not message.tool_calls:
            continue
        following = messages[index + 1] if index + 1 < len(messages) else None
        calls = {c.tool_call_id for c in message.tool_calls}
        answered = (
            {p.tool_call_id for p in following.tool_content.parts}
            if following is not None and following.role == ipb.INFERENCE_MESSAGE_ROLE_TOOL
            else set()
        )
        if answered != calls:
            problems.append(f"message {index}: calls {sorted(calls)} answered by {sorted(answered)}")
        for call in message.tool_calls:
            if (
                call.tool_name not in advertised
                and call.tool_name not in request.accepted_unadvertised_tool_names
            ):
                problems.append(f"message {index}: {call.tool_name} is neither advertised nor accepted")
    return problems


async def send_tool_parts(run: InferenceTurn, calls: list[tuple[str, str, str]]) -> None:
    """Each call as argument deltas, then a complete part repeating the full arguments."""
    for index, (call_id, name, arguments) in enumerate(calls):
        size = max(1, len(arguments) // 3)
        for start in range(0, len(arguments), size):
            part = ipb.InferenceToolCallPart(
                tool_call_id=call_id, tool_name=name, args=arguments[start : start + size], tool_index=index
            )
            await run.respond(ipb.InferenceStreamResponse(tool_call_part=part))
        complete = ipb.InferenceToolCallPart(
            tool_call_id=call_id, tool_name=name, args=arguments, is_complete=True, tool_index=index
        )
        await run.respond(ipb.InferenceStreamResponse(tool_call_part=complete))


async def inference_tool_turn(
    fake: Backend, run: InferenceTurn, request: ipb.InferenceStreamRequest
) -> Outcome:
    problems = inference_tool_problems(request)
    if problems:
        raise Violation("; ".join(problems))
    behaviour = run.behaviour
    advertised = [t.name for t in request.tools]
    calls = planned_calls(behaviour, advertised) if advertised else []
    last = request.messages[-1]
    stages = _stages(behaviour, calls[0]) if calls else []
    if last.role == ipb.INFERENCE_MESSAGE_ROLE_TOOL:
        results = [
            (p.tool_call_id, p.tool_name, p.is_error, _value_text(p.result)) for p in last.tool_content.parts
        ]
        unknown = [call_id for call_id, *_ in results if call_id not in fake.tool_calls_issued]
        if unknown:
            raise Violation(f"tool results for calls never made: {unknown}")
        kinds = {fake.tool_calls_issued[call_id] for call_id, *_ in results}
        if not kinds <= {"unregistered", "bad"}:
            run.record.tool_log.append("results")
            return reply_for(behaviour, [(name, text) for _, name, _, text in results])
        if not all(is_error for _, _, is_error, _ in results):
            raise Violation("a refused tool call came back without is_error")
        run.record.tool_log.append("refused:" + ",".join(sorted(kinds)))
        done = {"unregistered"} if kinds == {"unregistered"} else {"unregistered", "bad"}
        stages = [s for s in stages if s[0] not in done]
    elif not calls:
        return None
    if behaviour.tool_text and last.role != ipb.INFERENCE_MESSAGE_ROLE_TOOL:
        await run.respond(
            ipb.InferenceStreamResponse(text_part=ipb.InferenceTextPart(text=behaviour.tool_text))
        )
    if stages:
        kind, call = stages[0]
        sent = [(new_call_id(), call["name"], json.dumps(call["arguments"]))]
        fake.tool_calls_issued[sent[0][0]] = kind
    else:
        sent = [(new_call_id(), c["name"], json.dumps(c.get("arguments", {}))) for c in calls]
        for call_id, _name, _ in sent:
            fake.tool_calls_issued[call_id] = "call"
            run.record.tool_log.append(f"called:{call_id}")
    await send_tool_parts(run, sent)
    await run.invocation_end()
    await run.finish()
    return HANDLED
