"""The one interface every upstream protocol profile implements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from cursor_gateway.domain.chat import ChatEvent, ChatRequest


@dataclass(frozen=True, slots=True)
class UpstreamCredential:
    bearer: str
    alias: str = ""
    proxy: str = ""
    timezone: str = ""


class ChatProfile(Protocol):
    name: str

    def stream(self, request: ChatRequest, credential: UpstreamCredential) -> AsyncIterator[ChatEvent]:
        """Domain events only (text, thinking, tool calls, turn end); raises `UpstreamError`s."""
        ...
