"""What the chat-completions and messages routes share once a request is parsed: apply the caller's
vision rule, open the answer on the caller's token/key settings, and collect a non-streamed answer."""

from __future__ import annotations

from typing import Any

from cursor_gateway.api.auth import Caller
from cursor_gateway.api.streaming import paced
from cursor_gateway.domain.chat import ChatRequest, Transcript


async def open_answer(services: Any, request: ChatRequest, caller: Caller) -> tuple[ChatRequest, Any]:
    """The request with its images prepared (or refused) and its answer opened (first event seen)."""
    vision = caller.overrides.get("vision_ability") or services.config.current().vision_ability
    prepared = await services.images.prepare(request, str(vision))
    answer = await services.chat.open(
        prepared, pinned_alias=caller.pinned_alias, overrides=caller.overrides, credential=caller.credential
    )
    return prepared, answer


async def collect(answer: Any, *, keepalive: float, deadline: float) -> Transcript:
    transcript = Transcript()
    async for event in paced(aiter(answer), keepalive=keepalive, deadline=deadline):
        if event is not None:
            transcript.add(event)
    return transcript
