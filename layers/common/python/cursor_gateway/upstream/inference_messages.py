"""Building and reading `aiserver.v1` RunInference messages (pure; 2026 sheet §5).

Unlike the agent, RunInference is a plain model call: every invocation carries the whole conversation
with a real system role, so nothing is disguised as user text and nothing is stored server-side.
`InvocationReader` turns one invocation's response parts into domain events (text, thinking, usage,
errors); the profile only moves frames.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

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
    TurnEnded,
    Usage,
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

_ROLES = {
    "system": pb.INFERENCE_MESSAGE_ROLE_SYSTEM,
    "user": pb.INFERENCE_MESSAGE_ROLE_USER,
    "assistant": pb.INFERENCE_MESSAGE_ROLE_ASSISTANT,
}


@dataclass(slots=True)
class RunPlan:
    """The two messages a one-invocation run sends before it reads the answer."""

    invocation_id: str
    run_request: pb.RunInferenceClientMessage
    invoke: pb.RunInferenceClientMessage


def requested_model(model: ModelChoice) -> pb.InferenceRequestedModel:
    requested = pb.InferenceRequestedModel(model_id=model.cursor_id, max_mode=model.max_mode)
    for key, value in model.parameters:
        requested.parameters.append(pb.InferenceModelParameter(id=key, value=value))
    return requested


def core_message(message: Message) -> pb.InferenceCoreMessage:
    """Text-only messages use `text`; a message with images uses `parts` (text part first)."""
    core = pb.InferenceCoreMessage(role=_ROLES[message.role])
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


def core_messages(request: ChatRequest) -> list[pb.InferenceCoreMessage]:
    """The full list: the system text as one real SYSTEM message first, then every turn in order."""
    messages: list[pb.InferenceCoreMessage] = []
    if request.system_text:
        messages.append(
            pb.InferenceCoreMessage(role=pb.INFERENCE_MESSAGE_ROLE_SYSTEM, text=request.system_text)
        )
    messages.extend(core_message(m) for m in request.turns)
    return messages


def build_run(request: ChatRequest, *, invocation_id: str | None = None) -> RunPlan:
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
        run.routing_conversation.append(pb.InferenceRoutingMessage(role=_ROLES[turn.role], text=turn.text))

    stream_request = pb.InferenceStreamRequest(
        messages=core_messages(request),
        model_id=model.cursor_id,
        invocation_id=invocation_id,
        requested_model=requested_model(model),
        conversation_id=request.conversation_id,
        conversation_group_id=request.conversation_id,
    )
    if request.max_tokens is not None:
        stream_request.model_config.max_tokens = request.max_tokens
    # No tools are advertised yet (tool calling is a later issue), so `tools` stays empty.
    invoke = pb.RunInferenceInvokeModel(invocation_id=invocation_id, request=stream_request)
    return RunPlan(
        invocation_id=invocation_id,
        run_request=pb.RunInferenceClientMessage(run_request=run),
        invoke=pb.RunInferenceClientMessage(invoke_model=invoke),
    )


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


class InvocationReader:
    """One invocation's response parts -> domain events. Raises the classified error of an `error`
    part, except an output-limit error after some content, which ends the turn with `length`."""

    def __init__(self) -> None:
        self.strip = EosStripper()
        self.answered = False
        self.streamed_text = False
        self.finish_reason = "stop"
        self._usage: pb.InferenceUsage | None = None
        self._extended: pb.InferenceExtendedUsage | None = None
        self._final_text = ""

    def observe(self, response: pb.InferenceStreamResponse) -> list[ChatEvent]:
        arm = response.WhichOneof("part")
        events: list[ChatEvent] = []
        if arm == "text_part":
            text = self.strip.feed(response.text_part.text, final=response.text_part.is_final)
            if text:
                self.streamed_text = True
                events.append(TextDelta(text))
        elif arm == "thinking_part":
            if response.thinking_part.text:
                events.append(ThinkingDelta(response.thinking_part.text))
        elif arm == "usage":
            self._usage = response.usage
        elif arm == "extended_usage":
            self._extended = response.extended_usage
        elif arm == "response_info":
            self._final_text = _assistant_text(response.response_info.messages)
        elif arm == "error":
            if self.answered and is_output_limit(response.error):
                self.finish_reason = "length"
            else:
                raise classify_response_error(response.error)
        # tool_call_part: no tools are advertised yet, and only advertised names may become tool calls.
        if events:
            self.answered = True
        return events

    def finish(self) -> list[ChatEvent]:
        """At `invocation_end`: any held-back text, the authoritative final text if nothing streamed,
        and the turn end with usage."""
        events: list[ChatEvent] = []
        held = self.strip.flush()
        if held:
            self.streamed_text = True
            events.append(TextDelta(held))
        if not self.streamed_text and self._final_text:
            events.append(TextDelta(self._final_text.removesuffix(EOS_MARKER)))
        events.append(
            TurnEnded(usage=usage_from(self._extended, self._usage), finish_reason=self.finish_reason)
        )
        self.answered = True
        return events


def _assistant_text(messages: Iterable[pb.InferenceCoreMessage]) -> str:
    texts: list[str] = []
    for message in messages:
        if message.role != pb.INFERENCE_MESSAGE_ROLE_ASSISTANT:
            continue
        if message.text:
            texts.append(message.text)
        texts.extend(part.text.text for part in message.parts if part.WhichOneof("part") == "text")
    return "".join(texts)
