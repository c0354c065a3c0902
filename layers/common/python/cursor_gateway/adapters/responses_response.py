"""Domain events -> OpenAI Responses API output items and semantic stream events (pure).

One `ResponseWriter` serves both modes: streaming sends the events it returns, a plain request drops
them and returns `writer.response()`. Output items follow the answer's own order: a `reasoning` item
(Cursor's thinking, as summary text), a `message` item (output_text), one `function_call` item per tool
call. Every event carries a `sequence_number` that starts at 0 and grows by one. Tool calls arrive from
the profiles complete and checked, so each one's arguments go out as a single delta.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from cursor_gateway.adapters.responses_request import ResponsesIn
from cursor_gateway.domain.chat import ChatEvent, TextDelta, ThinkingDelta, ToolCall, TurnEnded, Usage
from cursor_gateway.errors import GatewayError

Event = dict[str, Any]
# finish reasons that make a response `incomplete` (with this reason) instead of `completed`
_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def usage_json(usage: Usage | None) -> dict[str, Any]:
    usage = usage or Usage(source="estimate")
    body: dict[str, Any] = {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cache_read_tokens},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }
    if usage.source != "upstream":
        body["estimated"] = True  # as chat completions marks it: not Cursor's own count
        body["usage_source"] = usage.source
    return body


def echo_fields(body: ResponsesIn) -> dict[str, Any]:
    """The request's settings as a response object repeats them."""
    return {
        "instructions": body.instructions,
        "max_output_tokens": body.max_output_tokens,
        "metadata": dict(body.metadata or {}),
        "parallel_tool_calls": True if body.parallel_tool_calls is None else body.parallel_tool_calls,
        "previous_response_id": body.previous_response_id,
        "reasoning": {
            "effort": (body.reasoning or {}).get("effort"),
            "summary": (body.reasoning or {}).get("summary"),
        },
        "store": body.store,
        "temperature": None,
        "text": {"format": {"type": "text"}},
        "tool_choice": body.tool_choice if body.tool_choice is not None else "auto",
        "tools": list(body.tools or []),
        "top_p": None,
        "truncation": "disabled",
        "user": body.user,
    }


@dataclass(slots=True)
class _Open:
    """The output item being streamed: kind, id, index, and the text gathered so far."""

    kind: str  # "reasoning" | "message"
    id: str
    index: int
    text: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ResponseWriter:
    model: str
    echo: dict[str, Any]
    id: str = field(default_factory=lambda: new_id("resp"))
    created_at: int = field(default_factory=lambda: int(time.time()))
    output: list[dict[str, Any]] = field(default_factory=list)
    status: str = "in_progress"
    usage: Usage | None = None
    error: dict[str, Any] | None = None
    incomplete_reason: str | None = None
    _sequence: int = 0
    _open: _Open | None = None

    def response(self) -> dict[str, Any]:
        """The `response` object as it stands (complete once the turn ended)."""
        body: dict[str, Any] = {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": self.status,
            "error": self.error,
            "incomplete_details": {"reason": self.incomplete_reason} if self.incomplete_reason else None,
            "model": self.model,
            "output": [dict(item) for item in self.output],
            **self.echo,
            "usage": usage_json(self.usage) if self.status != "in_progress" else None,
        }
        if self.status == "completed":
            body["completed_at"] = int(time.time())
        return body

    def _event(self, kind: str, **fields: Any) -> Event:
        event = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return event

    def start(self) -> list[Event]:
        return [
            self._event("response.created", response=self.response()),
            self._event("response.in_progress", response=self.response()),
        ]

    def event(self, event: ChatEvent) -> list[Event]:
        if isinstance(event, ThinkingDelta):
            return self._delta("reasoning", event.text)
        if isinstance(event, TextDelta):
            return self._delta("message", event.text)
        if isinstance(event, ToolCall):
            return [*self._close(), *self._tool_call(event)]
        return [*self._close(), *self._end(event)]

    def fail(self, exc: GatewayError) -> list[Event]:
        """A failure after the first byte: the open item is finished, then `response.failed`."""
        events = self._close()
        self.status = "failed"
        self.error = {"code": exc.code, "message": exc.message}
        return [*events, self._event("response.failed", response=self.response())]

    # -- items ----------------------------------------------------------------------------------------------

    def _delta(self, kind: str, text: str) -> list[Event]:
        events: list[Event] = []
        if self._open is None or self._open.kind != kind:
            events.extend(self._close())
            events.extend(self._open_item(kind))
        opened = self._open
        assert opened is not None
        opened.text.append(text)
        if kind == "reasoning":
            events.append(
                self._event(
                    "response.reasoning_summary_text.delta",
                    item_id=opened.id,
                    output_index=opened.index,
                    summary_index=0,
                    delta=text,
                )
            )
        else:
            events.append(
                self._event(
                    "response.output_text.delta",
                    item_id=opened.id,
                    output_index=opened.index,
                    content_index=0,
                    delta=text,
                    logprobs=[],
                )
            )
        return events

    def _open_item(self, kind: str) -> list[Event]:
        index = len(self.output)
        if kind == "reasoning":
            opened = _Open("reasoning", new_id("rs"), index)
            item: dict[str, Any] = {"id": opened.id, "type": "reasoning", "summary": []}
            part_added = "response.reasoning_summary_part.added"
        else:
            opened = _Open("message", new_id("msg"), index)
            item = {
                "id": opened.id,
                "type": "message",
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            }
            part_added = "response.content_part.added"
        self._open = opened
        added = self._event("response.output_item.added", output_index=index, item=item)
        return [added, self._part_event(part_added, opened, "")]

    def _part_event(self, kind: str, opened: _Open, text: str) -> Event:
        if opened.kind == "reasoning":
            part: dict[str, Any] = {"type": "summary_text", "text": text}
            return self._event(kind, item_id=opened.id, output_index=opened.index, summary_index=0, part=part)
        part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
        return self._event(kind, item_id=opened.id, output_index=opened.index, content_index=0, part=part)

    def _close(self) -> list[Event]:
        opened, self._open = self._open, None
        if opened is None:
            return []
        text = "".join(opened.text)
        if opened.kind == "reasoning":
            item: dict[str, Any] = {
                "id": opened.id,
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": text}],
            }
            done = self._event(
                "response.reasoning_summary_text.done",
                item_id=opened.id,
                output_index=opened.index,
                summary_index=0,
                text=text,
            )
            part_done = self._part_event("response.reasoning_summary_part.done", opened, text)
        else:
            item = {
                "id": opened.id,
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
            }
            done = self._event(
                "response.output_text.done",
                item_id=opened.id,
                output_index=opened.index,
                content_index=0,
                text=text,
                logprobs=[],
            )
            part_done = self._part_event("response.content_part.done", opened, text)
        self.output.append(item)
        item_done = self._event("response.output_item.done", output_index=opened.index, item=item)
        return [done, part_done, item_done]

    def _tool_call(self, call: ToolCall) -> list[Event]:
        index = len(self.output)
        item_id = new_id("fc")
        item = {
            "id": item_id,
            "type": "function_call",
            "status": "in_progress",
            "call_id": call.id,
            "name": call.name,
            "arguments": "",
        }
        done_item = {**item, "status": "completed", "arguments": call.arguments}
        self.output.append(done_item)
        return [
            self._event("response.output_item.added", output_index=index, item=item),
            self._event(
                "response.function_call_arguments.delta",
                item_id=item_id,
                output_index=index,
                delta=call.arguments,
            ),
            self._event(
                "response.function_call_arguments.done",
                item_id=item_id,
                output_index=index,
                name=call.name,
                arguments=call.arguments,
            ),
            self._event("response.output_item.done", output_index=index, item=done_item),
        ]

    def _end(self, ended: TurnEnded) -> list[Event]:
        self.usage = ended.usage
        reason = _INCOMPLETE.get(ended.finish_reason)
        if reason is not None:
            self.status, self.incomplete_reason = "incomplete", reason
            return [self._event("response.incomplete", response=self.response())]
        self.status = "completed"
        return [self._event("response.completed", response=self.response())]
