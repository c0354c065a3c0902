"""Domain events -> Anthropic Messages stream events and `message` object; errors -> Anthropic's names (pure).

Unlike the reference: `message_start` has `stop_reason: null`, the last event ends with a blank line
(spec-following SSE parsers drop an unterminated event), tool calls become `tool_use` blocks with
`input_json_delta`, and `stop_reason` is real (`end_turn`, `max_tokens`, `tool_use`).

Thinking blocks are sent only when the request enabled thinking. Cursor's agent profile gives no
Anthropic signature, so each thinking block carries a gateway-made one: `cgw1.` + an HMAC-SHA256 of the
block's text under a fixed key. It is not Anthropic's signature and proves nothing to Anthropic; it only
lets clients that require a signature (Claude Code replays thinking blocks) round-trip the block, which
the request adapter then ignores.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
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

SIGNATURE_PREFIX = "cgw1."
_SIGNATURE_KEY = b"cursor-gateway thinking block v1"
# Anthropic's error types by HTTP status (its SDKs pick exception classes by status, people read the type).
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
}

Event = tuple[str, dict[str, Any]]  # (SSE event name, data)


def new_message_id() -> str:
    return "msg_" + uuid.uuid4().hex[:24]


def thinking_signature(text: str) -> str:
    digest = hmac.new(_SIGNATURE_KEY, text.encode(), hashlib.sha256).digest()
    return SIGNATURE_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def error_type(exc: GatewayError) -> str:
    """Anthropic's name for one of our errors, from its status (ours keep their own `error_type`)."""
    known = ERROR_TYPES.get(exc.status)
    if known is not None:
        return known
    return "api_error" if exc.status >= 500 else "invalid_request_error"


def error_body(exc: GatewayError) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type(exc), "message": exc.message}}


def usage_json(usage: Usage | None) -> dict[str, Any]:
    """Anthropic counts cached input separately: input_tokens excludes cache reads and writes."""
    usage = usage or Usage(source="estimate")
    cached = usage.cache_read_tokens + usage.cache_write_tokens
    return {
        "input_tokens": max(0, usage.input_tokens - cached),
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
    }


def stop_reason(ended: TurnEnded | None, called_tools: bool) -> str:
    reason = _STOP_REASONS.get((ended or TurnEnded()).finish_reason, "end_turn")
    return "tool_use" if called_tools and reason == "end_turn" else reason


def _tool_input(call: ToolCall) -> str:
    return call.arguments if call.arguments.strip() else "{}"


def _tool_object(call: ToolCall) -> dict[str, Any]:
    # The tool-calling layer only lets arguments through that are a JSON object; this guards the rest.
    try:
        value = json.loads(_tool_input(call))
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise GatewayError(f"Cursor returned arguments for tool '{call.name}' that are not a JSON object")
    return value


@dataclass(slots=True)
class EventWriter:
    """Stateful: which content block is open (text, thinking or tool_use), its index, its thinking text."""

    model: str
    thinking: bool = False  # emit thinking blocks (the request enabled thinking)
    id: str = field(default_factory=new_message_id)
    _open: str = ""
    _index: int = -1
    _thought: list[str] = field(default_factory=list)
    _called_tools: bool = False

    def start(self, input_tokens: int) -> Iterator[Event]:
        message: dict[str, Any] = {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": input_tokens,
                "output_tokens": 0,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }
        yield "message_start", {"type": "message_start", "message": message}
        yield ping()

    def event(self, event: ChatEvent) -> Iterator[Event]:
        if isinstance(event, ThinkingDelta):
            if self.thinking and event.text:
                yield from self._switch("thinking", {"type": "thinking", "thinking": "", "signature": ""})
                self._thought.append(event.text)
                yield self._delta({"type": "thinking_delta", "thinking": event.text})
        elif isinstance(event, TextDelta):
            if event.text:
                yield from self._switch("text", {"type": "text", "text": ""})
                yield self._delta({"type": "text_delta", "text": event.text})
        elif isinstance(event, ToolCall):
            self._called_tools = True
            block = {"type": "tool_use", "id": event.id, "name": event.name, "input": {}}
            yield from self._switch("tool_use", block, force=True)
            yield self._delta({"type": "input_json_delta", "partial_json": _tool_input(event)})
        else:
            yield from self._close()
            delta = {"stop_reason": stop_reason(event, self._called_tools), "stop_sequence": None}
            yield "message_delta", {"type": "message_delta", "delta": delta, "usage": usage_json(event.usage)}
            yield "message_stop", {"type": "message_stop"}

    def _switch(self, kind: str, block: dict[str, Any], *, force: bool = False) -> Iterator[Event]:
        if self._open == kind and not force:
            return
        yield from self._close()
        self._open = kind
        self._index += 1
        yield (
            "content_block_start",
            {"type": "content_block_start", "index": self._index, "content_block": block},
        )

    def _delta(self, delta: dict[str, Any]) -> Event:
        return "content_block_delta", {"type": "content_block_delta", "index": self._index, "delta": delta}

    def _close(self) -> Iterator[Event]:
        if not self._open:
            return
        if self._open == "thinking":
            signature = thinking_signature("".join(self._thought))
            self._thought.clear()
            yield self._delta({"type": "signature_delta", "signature": signature})
        self._open = ""
        yield "content_block_stop", {"type": "content_block_stop", "index": self._index}


def ping() -> Event:
    return "ping", {"type": "ping"}


def error_event(exc: GatewayError) -> Event:
    """A failure after the first byte: Anthropic's in-band `error` event; the stream then ends."""
    return "error", error_body(exc)


def message(
    transcript: Transcript, *, model: str, thinking: bool, message_id: str | None = None
) -> dict[str, Any]:
    """The non-streamed answer: thinking (if enabled), text, then tool_use blocks."""
    content: list[dict[str, Any]] = []
    if thinking and transcript.reasoning:
        reasoning = transcript.reasoning
        content.append(
            {"type": "thinking", "thinking": reasoning, "signature": thinking_signature(reasoning)}
        )
    if transcript.content:
        content.append({"type": "text", "text": transcript.content})
    for call in transcript.tool_calls:
        content.append({"type": "tool_use", "id": call.id, "name": call.name, "input": _tool_object(call)})
    return {
        "id": message_id or new_message_id(),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(transcript.ended, bool(transcript.tool_calls)),
        "stop_sequence": None,
        "usage": usage_json((transcript.ended or TurnEnded()).usage),
    }
