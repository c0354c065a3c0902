"""Building and reading `aiserver.v1` RunInference messages (pure; 2026 sheet §5).

Unlike the agent, RunInference is a plain model call: every invocation carries the whole conversation
with a real system role, so nothing is disguised as user text and nothing is stored server-side.
`InvocationReader` turns one invocation's response parts into domain events (text, thinking, tool calls,
usage, errors); the profile only moves frames.

Client tools are native here (2026 sheet §6.2): the real `tools` field (schemas wrapped as
`{"jsonSchema": ...}`), `tool_call_part` deltas that are held until the call is complete (a half call is
never surfaced), and history as an assistant message with `tool_calls` plus a TOOL message with
`tool_content`. A call to a name that was not advertised is never surfaced; such a call, or one whose
arguments break the schema, is answered with an error result in another invocation of the same run
(`repair_invoke`) so the model can correct itself, at most `MAX_TOOL_REPAIRS` times.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from google.protobuf import json_format, struct_pb2
from google.protobuf.message import DecodeError

from cursor_gateway.codec._gen.aiserver.v1 import errors_pb2
from cursor_gateway.codec._gen.aiserver.v1 import inference_pb2 as pb
from cursor_gateway.codec.connect_error import ConnectError, ErrorDetail
from cursor_gateway.domain.chat import (
    ChatEvent,
    ChatRequest,
    Message,
    ModelChoice,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolSpec,
    TurnEnded,
    Usage,
)
from cursor_gateway.domain.tools import (
    EMPTY_SCHEMA,
    call_problem,
    canonical_json,
    offered_tools,
    parse_arguments,
)
from cursor_gateway.errors import (
    ModelNotAllowed,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from cursor_gateway.upstream.classify import classify_connect_error

CONTENT_TYPE = "application/connect+proto"
AGENT_MODE = "agent"
# The literal end-of-sequence marker some models leave at the end of their final text part.
EOS_MARKER = "<" + "|eos|" + ">"
# How many times calls the client must not get (unknown tool, bad arguments) go back to the model.
MAX_TOOL_REPAIRS = 2
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


def decode_server(payload: bytes) -> pb.RunInferenceServerMessage:
    return pb.RunInferenceServerMessage.FromString(payload)


# -- reading an invocation ------------------------------------------------------------------------------


class EosStripper:
    """Drops a trailing end-of-sequence marker from the text, also when it is split across parts: a tail
    that could be the start of the marker is held back until the next part shows what it is."""

    def __init__(self, marker: str = EOS_MARKER) -> None:
        self.marker = marker
        self.held = ""

    def feed(self, text: str, *, final: bool = False) -> str:
        buffer = self.held + text
        self.held = ""
        if buffer.endswith(self.marker):
            return buffer[: -len(self.marker)]
        if final:
            return buffer
        for size in range(min(len(self.marker) - 1, len(buffer)), 0, -1):
            if self.marker.startswith(buffer[-size:]):
                self.held = buffer[-size:]
                return buffer[:-size]
        return buffer

    def flush(self) -> str:
        held, self.held = self.held, ""
        return held


def usage_from(extended: pb.InferenceExtendedUsage | None, usage: pb.InferenceUsage | None) -> Usage | None:
    """`extended_usage` when Cursor sent it (it has the cache counts), else plain `usage`, else none."""
    if extended is not None:
        return Usage(
            input_tokens=extended.input_tokens,
            output_tokens=extended.output_tokens,
            cache_read_tokens=extended.cache_read_tokens,
            cache_write_tokens=extended.cache_write_tokens,
            source="upstream",
        )
    if usage is not None:
        return Usage(
            input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens, source="upstream"
        )
    return None


_TYPE_NAMES = {
    pb.INFERENCE_ERROR_TYPE_INPUT_TOKEN_LIMIT: "input token limit",
    pb.INFERENCE_ERROR_TYPE_OUTPUT_TOKEN_LIMIT: "output token limit",
    pb.INFERENCE_ERROR_TYPE_RATE_LIMIT: "rate limit",
    pb.INFERENCE_ERROR_TYPE_AUTHENTICATION: "authentication",
    pb.INFERENCE_ERROR_TYPE_PERMISSION: "permission",
    pb.INFERENCE_ERROR_TYPE_OVERLOADED: "overloaded",
    pb.INFERENCE_ERROR_TYPE_CONTENT_FILTER: "content filter",
}


def is_output_limit(error: pb.InferenceError) -> bool:
    return error.error_type == pb.INFERENCE_ERROR_TYPE_OUTPUT_TOKEN_LIMIT or error.is_output_token_limit_error


def classify_response_error(error: pb.InferenceError) -> UpstreamError:
    """An `error` response part, by its type first (2026 sheet §5.3), then by its flags and text."""
    kind = error.error_type
    label = _TYPE_NAMES.get(kind, "error")
    text = error.message or error.code or label
    message = f"Cursor ({label}): {text}".rstrip(".")
    if kind == pb.INFERENCE_ERROR_TYPE_INPUT_TOKEN_LIMIT or (
        kind not in _TYPE_NAMES and error.is_input_token_limit_error
    ):
        return UpstreamBadRequest(message, code="context_length_exceeded", param="messages")
    if is_output_limit(error):
        return UpstreamBadRequest(message, code="output_limit_exceeded", param="max_tokens")
    if kind == pb.INFERENCE_ERROR_TYPE_RATE_LIMIT:
        return UpstreamRateLimited(message)
    if kind == pb.INFERENCE_ERROR_TYPE_AUTHENTICATION:
        return UpstreamAuthError(message, code="upstream_auth_failed")
    if kind == pb.INFERENCE_ERROR_TYPE_PERMISSION:
        return ModelNotAllowed(message)
    if kind == pb.INFERENCE_ERROR_TYPE_OVERLOADED:
        return UpstreamUnavailable(message, code="upstream_overloaded")
    if kind == pb.INFERENCE_ERROR_TYPE_CONTENT_FILTER:
        return UpstreamBadRequest(message, code="content_filter")
    # Untyped: read it like a Connect error (a Connect code string, upgrade wording, ...).
    return classify_connect_error(ConnectError(code=error.code or "unknown", message=error.message))


def classify_invocation_end_error(error: pb.RunInferenceInvocationError) -> UpstreamError:
    """`invocation_end.error`: Connect-shaped (code, message, details). Details that decode as
    `aiserver.v1.ErrorDetails` take part in the classification like an end-stream error's would."""
    details: list[ErrorDetail] = []
    for raw in error.details:
        try:
            detail = errors_pb2.ErrorDetails.FromString(raw)
        except DecodeError:
            continue
        if detail.error or detail.details.title or detail.details.detail:
            name = (
                errors_pb2.ErrorCode.Name(detail.error)
                if detail.error in errors_pb2.ErrorCode.values()
                else ""
            )
            details.append(
                ErrorDetail(
                    error_enum=int(detail.error),
                    error_name=name or f"ERROR_{int(detail.error)}",
                    title=detail.details.title,
                    detail=detail.details.detail,
                    is_expected=detail.is_expected,
                )
            )
    return classify_connect_error(
        ConnectError(code=error.code or "unknown", message=error.message, details=tuple(details))
    )


@dataclass(slots=True)
class _PartialCall:
    call_id: str
    name: str
    deltas: list[str] = field(default_factory=list)
    arguments: str | None = None  # set by the complete part (it repeats the full arguments)


class InvocationReader:
    """One invocation's response parts -> domain events. Raises the classified error of an `error`
    part, except an output-limit error after some content, which ends the turn with `length`.

    Tool-call parts are held until the invocation ends; only complete calls to advertised tools with
    arguments that fit the schema are surfaced. The others are kept in `repair` (with the reason) when
    the profile should send them back to the model, else dropped (unknown names) or surfaced as they are
    (bad arguments, once the repairs are used up)."""

    def __init__(self, tools: Mapping[str, ToolSpec] | None = None, repairs: int = MAX_TOOL_REPAIRS) -> None:
        self.tools = dict(tools or {})
        self.repairs_left = repairs
        self.strip = EosStripper()
        self.answered = False
        self.streamed_text = False
        self.finish_reason = "stop"
        self.repair: list[tuple[ToolCall, str]] = []
        self._carried: list[Usage] = []
        self._start_invocation()

    def _start_invocation(self) -> None:
        self._usage: pb.InferenceUsage | None = None
        self._extended: pb.InferenceExtendedUsage | None = None
        self._final_text = ""
        self._final_calls: list[ToolCall] = []
        self._calls: dict[str, _PartialCall] = {}
        self.text = ""  # this invocation's text (for the assistant message of a repair)

    def next_invocation(self) -> None:
        """After a repair was sent: keep the usage so far, forget this invocation's parts."""
        usage = usage_from(self._extended, self._usage)
        if usage is not None:
            self._carried.append(usage)
        self.repair = []
        self._start_invocation()

    def observe(self, response: pb.InferenceStreamResponse) -> list[ChatEvent]:
        arm = response.WhichOneof("part")
        events: list[ChatEvent] = []
        if arm == "text_part":
            text = self.strip.feed(response.text_part.text, final=response.text_part.is_final)
            if text:
                self.streamed_text = True
                self.text += text
                events.append(TextDelta(text))
        elif arm == "thinking_part":
            if response.thinking_part.text:
                events.append(ThinkingDelta(response.thinking_part.text))
        elif arm == "tool_call_part":
            self._tool_part(response.tool_call_part)
            self.answered = True
        elif arm == "usage":
            self._usage = response.usage
        elif arm == "extended_usage":
            self._extended = response.extended_usage
        elif arm == "response_info":
            self._final_text = _assistant_text(response.response_info.messages)
            self._final_calls = _assistant_calls(response.response_info.messages)
        elif arm == "error":
            if self.answered and is_output_limit(response.error):
                self.finish_reason = "length"
            else:
                raise classify_response_error(response.error)
        if events:
            self.answered = True
        return events

    def _tool_part(self, part: pb.InferenceToolCallPart) -> None:
        key = part.tool_call_id or f"#{part.tool_index}"
        if key not in self._calls and part.tool_call_id and f"#{part.tool_index}" in self._calls:
            self._calls[key] = self._calls.pop(f"#{part.tool_index}")  # the id arrived late
        entry = self._calls.setdefault(key, _PartialCall(call_id=part.tool_call_id, name=part.tool_name))
        entry.call_id = part.tool_call_id or entry.call_id
        entry.name = part.tool_name or entry.name
        if part.is_complete:
            entry.arguments = part.args or "".join(entry.deltas)
        else:
            entry.deltas.append(part.args)

    def _complete_calls(self) -> list[ToolCall]:
        calls = [
            ToolCall(id=c.call_id or f"call_{uuid.uuid4().hex[:24]}", name=c.name, arguments=c.arguments)
            for c in self._calls.values()
            if c.arguments is not None and c.name  # an incomplete call is never surfaced
        ]
        # Without streamed parts, the final messages are authoritative (2026 sheet §5.3).
        return calls if self._calls else list(self._final_calls)

    def finish(self) -> list[ChatEvent]:
        """At `invocation_end`: any held-back text, the authoritative final text if nothing streamed,
        the checked tool calls, and the turn end with usage; or, when calls must go back to the model
        first (`repair` set), everything but the turn end."""
        events: list[ChatEvent] = []
        held = self.strip.flush()
        if held:
            self.streamed_text = True
            self.text += held
            events.append(TextDelta(held))
        if not self.streamed_text and self._final_text:
            text = self._final_text.removesuffix(EOS_MARKER)
            self.text += text
            events.append(TextDelta(text))
        surfaced, rejected = self._check_calls()
        # Without advertised tools there is nothing to correct a call towards: it is dropped.
        if (
            rejected
            and not surfaced
            and self.tools
            and self.finish_reason != "length"
            and self.repairs_left > 0
        ):
            self.repairs_left -= 1
            self.repair = rejected
            self.answered = self.answered or bool(events)
            return events
        events.extend(surfaced)
        finish = "tool_calls" if surfaced and self.finish_reason != "length" else self.finish_reason
        events.append(TurnEnded(usage=self._total_usage(), finish_reason=finish))
        self.answered = True
        return events

    def _check_calls(self) -> tuple[list[ToolCall], list[tuple[ToolCall, str]]]:
        surfaced: list[ToolCall] = []
        rejected: list[tuple[ToolCall, str]] = []
        for call in self._complete_calls() if self.finish_reason != "length" else ():
            arguments, problem = parse_arguments(call.arguments)
            problem = problem or call_problem(self.tools, call.name, arguments)
            if problem is None:
                surfaced.append(ToolCall(call.id, call.name, canonical_json(arguments)))
            elif call.name not in self.tools or self.repairs_left > 0:
                rejected.append((call, problem))  # an unknown name is never surfaced
            else:
                surfaced.append(call)  # repairs used up: the client's own tool code reports it
        return surfaced, rejected

    def _total_usage(self) -> Usage | None:
        usage = usage_from(self._extended, self._usage)
        if not self._carried:
            return usage
        parts = [*self._carried, *([usage] if usage else [])]
        return Usage(
            input_tokens=sum(u.input_tokens for u in parts),
            output_tokens=sum(u.output_tokens for u in parts),
            cache_read_tokens=sum(u.cache_read_tokens for u in parts),
            cache_write_tokens=sum(u.cache_write_tokens for u in parts),
            source="upstream",
        )


def _assistant_calls(messages: Iterable[pb.InferenceCoreMessage]) -> list[ToolCall]:
    calls: list[ToolCall] = []
    for message in messages:
        if message.role != pb.INFERENCE_MESSAGE_ROLE_ASSISTANT:
            continue
        for call in message.tool_calls:
            arguments = call.raw_tool_call_args or json.dumps(
                json_format.MessageToDict(call.args), ensure_ascii=False
            )
            calls.append(ToolCall(id=call.tool_call_id, name=call.tool_name, arguments=arguments))
    return calls


def _assistant_text(messages: Iterable[pb.InferenceCoreMessage]) -> str:
    texts: list[str] = []
    for message in messages:
        if message.role != pb.INFERENCE_MESSAGE_ROLE_ASSISTANT:
            continue
        if message.text:
            texts.append(message.text)
        texts.extend(part.text.text for part in message.parts if part.WhichOneof("part") == "text")
    return "".join(texts)
