"""Reading the server's side of a RunInference run (pure; 2026 sheet §5): decoding its messages, and
`InvocationReader`, which turns one invocation's response parts into domain events (text, thinking, tool
calls, usage, errors); the profile only moves frames.

Tool calls are native (2026 sheet §6.2): `tool_call_part` deltas are held until the call is complete (a
half call is never surfaced). A call to a name that was not advertised is never surfaced; such a call, or
one whose arguments break the schema, is kept for a repair (`inference_request.repair_invoke`) so the
model can correct itself, at most `MAX_TOOL_REPAIRS` times.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from google.protobuf import json_format

from cursor_gateway.codec._gen.aiserver.v1 import inference_pb2 as pb
from cursor_gateway.domain.chat import (
    ChatEvent,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolSpec,
    TurnEnded,
    Usage,
)
from cursor_gateway.domain.tools import call_problem, canonical_json, parse_arguments
from cursor_gateway.upstream.inference_errors import classify_response_error, is_output_limit

# The literal end-of-sequence marker some models leave at the end of their final text part.
EOS_MARKER = "<" + "|eos|" + ">"
# How many times calls the client must not get (unknown tool, bad arguments) go back to the model.
MAX_TOOL_REPAIRS = 2


def decode_server(payload: bytes) -> pb.RunInferenceServerMessage:
    return pb.RunInferenceServerMessage.FromString(payload)


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
