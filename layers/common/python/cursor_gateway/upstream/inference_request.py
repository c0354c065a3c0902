"""Building the client's `aiserver.v1` RunInference messages (pure; 2026 sheet §5): the run request,
the invocation with the whole conversation, a repair invocation, finish and cancel.

Unlike the agent, RunInference is a plain model call: every invocation carries the whole conversation
with a real system role, so nothing is disguised as user text and nothing is stored server-side. The
server's side of a run is read by `upstream/inference_reader.py`.

Client tools are native here (2026 sheet §6.2): the real `tools` field (schemas wrapped as
`{"jsonSchema": ...}`) and history as an assistant message with `tool_calls` plus a TOOL message with
`tool_content`. A call the client must not get is answered with an error result in another invocation of
the same run (`repair_invoke`) so the model can correct itself.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from google.protobuf import json_format, struct_pb2

from cursor_gateway.codec._gen.aiserver.v1 import inference_pb2 as pb
from cursor_gateway.domain.chat import ChatRequest, Message, ModelChoice, ToolCall, ToolSpec
from cursor_gateway.domain.tools import EMPTY_SCHEMA, offered_tools, parse_arguments

CONTENT_TYPE = "application/connect+proto"
AGENT_MODE = "agent"
MISSING_RESULT = "No result was provided for this tool call."

_ROLES = {
    "system": pb.INFERENCE_MESSAGE_ROLE_SYSTEM,
    "user": pb.INFERENCE_MESSAGE_ROLE_USER,
    "assistant": pb.INFERENCE_MESSAGE_ROLE_ASSISTANT,
    "tool": pb.INFERENCE_MESSAGE_ROLE_TOOL,
}


@dataclass(slots=True)
class RunPlan:
    """The two messages a run sends before it reads the answer, and the tools it advertised."""

    invocation_id: str
    run_request: pb.RunInferenceClientMessage
    invoke: pb.RunInferenceClientMessage
    tools: dict[str, ToolSpec] = field(default_factory=dict)


def requested_model(model: ModelChoice) -> pb.InferenceRequestedModel:
    requested = pb.InferenceRequestedModel(model_id=model.cursor_id, max_mode=model.max_mode)
    for key, value in model.parameters:
        requested.parameters.append(pb.InferenceModelParameter(id=key, value=value))
    return requested


def _struct(arguments: str) -> struct_pb2.Struct | None:
    value, problem = parse_arguments(arguments)
    if problem:
        return None
    return json_format.ParseDict(value, struct_pb2.Struct())


def tool_call_message(call: ToolCall) -> pb.InferenceToolCall:
    """Args as a Struct when they are a JSON object, and always as the raw text too."""
    message = pb.InferenceToolCall(
        tool_call_id=call.id, tool_name=call.name, raw_tool_call_args=call.arguments or "{}"
    )
    args = _struct(call.arguments)
    if args is not None:
        message.args.CopyFrom(args)
    return message


def tool_result_part(call_id: str, name: str, text: str, is_error: bool) -> pb.InferenceToolResultPart:
    return pb.InferenceToolResultPart(
        tool_call_id=call_id, tool_name=name, result=struct_pb2.Value(string_value=text), is_error=is_error
    )


def core_message(message: Message) -> pb.InferenceCoreMessage:
    """Text-only messages use `text`; a message with images uses `parts` (text part first); an
    assistant message's tool calls go into `tool_calls`."""
    core = pb.InferenceCoreMessage(role=_ROLES[message.role])
    core.tool_calls.extend(tool_call_message(c) for c in message.tool_calls)
    if not message.images:
        core.text = message.text
        return core
    if message.text:
        core.parts.append(pb.InferenceContentPart(text=pb.InferenceTextContent(text=message.text)))
    for image in message.images:
        core.parts.append(
            pb.InferenceContentPart(
                image=pb.InferenceImageContent(
                    data=base64.b64encode(image.data).decode("ascii"), mime_type=image.mime_type
                )
            )
        )
    return core


def core_messages(request: ChatRequest, must_call: str | None = None) -> list[pb.InferenceCoreMessage]:
    """The full list: the system text as one real SYSTEM message first, then every turn in order. The
    tool messages that follow an assistant turn become one TOOL message; pairing is repaired like the IDE
    does (a call without a result gets an error result; a result for an unknown call becomes user text)."""
    messages: list[pb.InferenceCoreMessage] = []
    system = request.system_text
    if must_call:
        system = "\n\n".join(t for t in (system, f"In this turn you must call the tool {must_call}.") if t)
    if system:
        messages.append(pb.InferenceCoreMessage(role=pb.INFERENCE_MESSAGE_ROLE_SYSTEM, text=system))
    pending: dict[str, str] = {}  # call id -> tool name, of the last assistant turn

    def close_pending(results: Sequence[Message] = ()) -> None:
        content = pb.InferenceToolContent()
        orphans = []
        for result in results:
            if result.tool_call_id in pending:
                name = result.tool_name or pending[result.tool_call_id]
                del pending[result.tool_call_id]
                content.parts.append(
                    tool_result_part(result.tool_call_id, name, result.text, result.is_error)
                )
            else:
                label = f"[Result of tool call {result.tool_call_id} ({result.tool_name or 'unknown tool'})]"
                orphans.append(
                    pb.InferenceCoreMessage(
                        role=pb.INFERENCE_MESSAGE_ROLE_USER, text=f"{label}\n{result.text}"
                    )
                )
        content.parts.extend(tool_result_part(i, n, MISSING_RESULT, True) for i, n in pending.items())
        if content.parts:
            messages.append(
                pb.InferenceCoreMessage(role=pb.INFERENCE_MESSAGE_ROLE_TOOL, tool_content=content)
            )
        messages.extend(orphans)
        pending.clear()

    turns = request.turns
    index = 0
    while index < len(turns):
        if turns[index].role == "tool":
            results = []
            while index < len(turns) and turns[index].role == "tool":
                results.append(turns[index])
                index += 1
            close_pending(results)
            continue
        close_pending()
        messages.append(core_message(turns[index]))
        pending.update((c.id, c.name) for c in turns[index].tool_calls)
        index += 1
    close_pending()
    return messages


def agent_tool(spec: ToolSpec) -> pb.InferenceAgentTool:
    """The IDE's shape: the JSON Schema wrapped as `{"jsonSchema": ...}` inside `parameters`."""
    parameters = json_format.ParseDict(
        {"jsonSchema": dict(spec.parameters or EMPTY_SCHEMA)}, struct_pb2.Struct()
    )
    return pb.InferenceAgentTool(name=spec.name, description=spec.description, parameters=parameters)


def build_run(request: ChatRequest, *, invocation_id: str | None = None) -> RunPlan:
    """`tool_choice`: none advertises no tools, a named tool (or `required` with one tool) only that one
    plus an instruction in the system message; `required` with several tools is a 400 (no knob forces
    a call)."""
    offered, must_call = offered_tools(request.tools, request.tool_choice, profile="inference")
    invocation_id = invocation_id or str(uuid.uuid4())
    model = request.model
    run = pb.RunInferenceRunRequest(
        conversation_id=request.conversation_id,
        conversation_group_id=request.conversation_id,
        requested_model=requested_model(model),
        agent_mode=AGENT_MODE,
    )
    # The routing digest (used by Auto) is text only, user and assistant turns only.
    for turn in request.turns:
        if turn.role in ("user", "assistant") and turn.text:
            run.routing_conversation.append(
                pb.InferenceRoutingMessage(role=_ROLES[turn.role], text=turn.text)
            )

    stream_request = pb.InferenceStreamRequest(
        messages=core_messages(request, must_call),
        tools=[agent_tool(t) for t in offered],
        model_id=model.cursor_id,
        invocation_id=invocation_id,
        requested_model=requested_model(model),
        conversation_id=request.conversation_id,
        conversation_group_id=request.conversation_id,
    )
    if request.max_tokens is not None:
        stream_request.model_config.max_tokens = request.max_tokens
    # History may hold calls to tools not offered now (tool_choice none, a changed tool list): say so.
    history_names = {c.name for m in request.turns for c in m.tool_calls}
    stream_request.accepted_unadvertised_tool_names.extend(sorted(history_names - {t.name for t in offered}))
    invoke = pb.RunInferenceInvokeModel(invocation_id=invocation_id, request=stream_request)
    return RunPlan(
        invocation_id=invocation_id,
        run_request=pb.RunInferenceClientMessage(run_request=run),
        invoke=pb.RunInferenceClientMessage(invoke_model=invoke),
        tools={t.name: t for t in offered},
    )


def repair_invoke(
    plan: RunPlan, text: str, rejected: Sequence[tuple[ToolCall, str]]
) -> pb.RunInferenceClientMessage:
    """The next invocation of the same run: the previous message list plus this answer (its text and the
    rejected calls) and a TOOL message with one error result per call. Updates `plan` to it."""
    request = pb.InferenceStreamRequest()
    request.CopyFrom(plan.invoke.invoke_model.request)
    assistant = pb.InferenceCoreMessage(role=pb.INFERENCE_MESSAGE_ROLE_ASSISTANT, text=text)
    assistant.tool_calls.extend(tool_call_message(call) for call, _ in rejected)
    content = pb.InferenceToolContent(
        parts=[tool_result_part(call.id, call.name, f"Error: {problem}", True) for call, problem in rejected]
    )
    request.messages.extend(
        [assistant, pb.InferenceCoreMessage(role=pb.INFERENCE_MESSAGE_ROLE_TOOL, tool_content=content)]
    )
    unknown = {call.name for call, _ in rejected if call.name not in plan.tools}
    request.accepted_unadvertised_tool_names.extend(
        sorted(unknown - set(request.accepted_unadvertised_tool_names))
    )
    plan.invocation_id = request.invocation_id = str(uuid.uuid4())
    plan.invoke = pb.RunInferenceClientMessage(
        invoke_model=pb.RunInferenceInvokeModel(invocation_id=plan.invocation_id, request=request)
    )
    return plan.invoke


def finish_run() -> pb.RunInferenceClientMessage:
    return pb.RunInferenceClientMessage(finish_run=pb.RunInferenceFinishRun())


def cancel_invocation(invocation_id: str) -> pb.RunInferenceClientMessage:
    return pb.RunInferenceClientMessage(
        cancel_invocation=pb.RunInferenceCancelInvocation(invocation_id=invocation_id)
    )


def encode(message: pb.RunInferenceClientMessage) -> bytes:
    return message.SerializeToString()
