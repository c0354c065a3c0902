"""Domain events -> OpenAI `chat.completion.chunk` stream and `chat.completion` object (pure).

Unlike the reference: `model` is on every chunk, thinking goes to `delta.reasoning_content` (or into
`<think>` tags when configured) and is streamed as it arrives, and `finish_reason`/usage are real.
Tool calls arrive from the profiles only when complete and checked, so a call is streamed as two chunks
(id, type and name; then the whole arguments text) and never as partial text.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cursor_gateway.domain.chat import (
    ChatEvent,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    Transcript,
    TurnEnded,
    Usage,
)
from cursor_gateway.errors import GatewayError


def new_completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex


def usage_json(usage: Usage | None) -> dict[str, Any]:
    usage = usage or Usage(source="estimate")
    body: dict[str, Any] = {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }
    if usage.source != "upstream":
        # Not Cursor's own count: "checkpoint" (context size) or "estimate" (counted locally).
        body["estimated"] = True
        body["usage_source"] = usage.source
    return body


@dataclass(slots=True)
class ChunkWriter:
    """Stateful: remembers whether the role chunk went out and whether a `<think>` tag is open."""

    model: str
    thinking_output: str = "reasoning_content"
    thinking_tag: str = "think"
    include_usage: bool = False
    id: str = field(default_factory=new_completion_id)
    created: int = field(default_factory=lambda: int(time.time()))
    _role_sent: bool = False
    _think_open: bool = False
    _tool_calls: int = 0

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if self.include_usage:
            chunk["usage"] = None
        return chunk

    def role(self) -> dict[str, Any]:
        self._role_sent = True
        return self._chunk({"role": "assistant", "content": ""})

    def event(self, event: ChatEvent) -> Iterator[dict[str, Any]]:
        if not self._role_sent:
            yield self.role()
        if isinstance(event, ThinkingDelta):
            if self.thinking_output == "reasoning_content":
                yield self._chunk({"reasoning_content": event.text})
            else:
                prefix = "" if self._think_open else f"<{self.thinking_tag}>"
                self._think_open = True
                yield self._chunk({"content": prefix + event.text})
        elif isinstance(event, TextDelta):
            yield self._chunk({"content": self._close_think() + event.text})
        elif isinstance(event, ToolCall):
            closing = self._close_think()
            if closing:
                yield self._chunk({"content": closing})
            index, self._tool_calls = self._tool_calls, self._tool_calls + 1
            head = {"name": event.name, "arguments": ""}
            yield self._chunk(
                {"tool_calls": [{"index": index, "id": event.id, "type": "function", "function": head}]}
            )
            yield self._chunk({"tool_calls": [{"index": index, "function": {"arguments": event.arguments}}]})
        elif isinstance(event, TurnEnded):
            closing = self._close_think()
            if closing:
                yield self._chunk({"content": closing})
            yield self._chunk({}, finish=event.finish_reason)
            if self.include_usage:
                yield {
                    "id": self.id,
                    "object": "chat.completion.chunk",
                    "created": self.created,
                    "model": self.model,
                    "choices": [],
                    "usage": usage_json(event.usage),
                }

    def _close_think(self) -> str:
        if self._think_open:
            self._think_open = False
            return f"</{self.thinking_tag}>"
        return ""


def tool_call_json(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}


def stream_error(exc: GatewayError) -> dict[str, Any]:
    """An upstream failure after the first byte: an in-band error event, then the stream ends cleanly."""
    return {"error": {"message": exc.message, "type": exc.error_type, "param": exc.param, "code": exc.code}}


def completion(
    transcript: Transcript, *, model: str, thinking_output: str, thinking_tag: str
) -> dict[str, Any]:
    content = transcript.content
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if transcript.thinking:
        if thinking_output == "reasoning_content":
            message["reasoning_content"] = transcript.reasoning
        else:
            message["content"] = f"<{thinking_tag}>{transcript.reasoning}</{thinking_tag}>{content}"
    if transcript.tool_calls:
        message["content"] = message["content"] or None  # like OpenAI: null content beside tool calls
        message["tool_calls"] = [tool_call_json(call) for call in transcript.tool_calls]
    ended = transcript.ended or TurnEnded()
    return {
        "id": new_completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": ended.finish_reason}],
        "usage": usage_json(ended.usage),
    }
