"""A chat request and the events an answer is made of, independent of OpenAI, Anthropic and Cursor.

Every upstream profile turns its protocol frames into these events; every API surface turns them into
its own stream format. Protocol bookkeeping (request context, blobs, heartbeats) never becomes an event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True, slots=True)
class ImagePart:
    mime_type: str
    data: bytes
    # An http(s) image the client referenced: the API adapters only record it; services fetch it
    # through the guarded fetcher (or refuse it, per `vision_ability`) before the chat opens, so an
    # upstream profile only ever sees images with `data`.
    url: str = ""


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call the model asked for: also an event while streaming, and part of assistant history."""

    id: str
    name: str
    arguments: str  # JSON text of the arguments object


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    text: str
    images: tuple[ImagePart, ...] = ()
    # assistant messages: the tool calls the model made in that turn
    tool_calls: tuple[ToolCall, ...] = ()
    # tool messages (results): which call they answer
    tool_call_id: str = ""
    tool_name: str = ""
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A client tool: name, description and the JSON Schema of its arguments."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)


# "auto" | "none" | "required" | the name of one tool the model must call
ToolChoice = str


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """What the upstream is asked for: Cursor's model id plus parameters (e.g. thinking, effort)."""

    cursor_id: str
    client_id: str
    max_mode: bool = False
    parameters: tuple[tuple[str, str], ...] = ()
    supports_images: bool = True
    supports_thinking: bool = False


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: ModelChoice
    messages: tuple[Message, ...]
    conversation_id: str
    stream: bool = False
    max_tokens: int | None = None
    request_id: str = ""
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: ToolChoice = "auto"
    # Anthropic-style requests ask for thinking explicitly; None means "the model's default"
    thinking: bool | None = None

    @property
    def system_text(self) -> str:
        return "\n\n".join(m.text for m in self.messages if m.role == "system" and m.text)

    @property
    def turns(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.role != "system")


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    # "upstream" (reported by Cursor), "checkpoint" (context size only) or "estimate" (counted here).
    source: str = "upstream"

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    text: str


@dataclass(frozen=True, slots=True)
class TurnEnded:
    usage: Usage | None = None
    finish_reason: str = "stop"


ChatEvent = TextDelta | ThinkingDelta | ToolCall | TurnEnded


@dataclass(slots=True)
class Transcript:
    """Accumulates a whole answer (non-streaming responses, usage estimates, request logs)."""

    text: list[str] = field(default_factory=list)
    thinking: list[str] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    ended: TurnEnded | None = None

    def add(self, event: ChatEvent) -> None:
        if isinstance(event, TextDelta):
            self.text.append(event.text)
        elif isinstance(event, ThinkingDelta):
            self.thinking.append(event.text)
        elif isinstance(event, ToolCall):
            self.tool_calls.append(event)
        else:
            self.ended = event

    @property
    def content(self) -> str:
        return "".join(self.text)

    @property
    def reasoning(self) -> str:
        return "".join(self.thinking)


def estimate_tokens(text: str) -> int:
    """A rough local count (about 4 characters per token, CJK counted per character), used only when
    Cursor reports no usage; responses mark such usage as estimated."""
    if not text:
        return 0
    wide = sum(1 for ch in text if ord(ch) > 0x2E80)
    return max(1, wide + (len(text) - wide + 3) // 4)
