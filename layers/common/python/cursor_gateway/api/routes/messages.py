"""`POST /v1/messages` (Anthropic Messages API) and `POST /v1/messages/count_tokens`.

Same flow as chat completions: parse, open the answer (the status is decided on its first event), then
stream Anthropic's events or collect one `message`. Errors use Anthropic's envelope (api.errors).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse

from cursor_gateway.adapters.anthropic_request import (
    MessagesIn,
    check_parameters,
    thinking_requested,
    to_chat_request,
)
from cursor_gateway.adapters.anthropic_response import EventWriter, error_event, message, ping
from cursor_gateway.api.answering import begin_chat, collect, open_answer, sse_response
from cursor_gateway.api.auth import Caller, require_chat_key
from cursor_gateway.api.body import json_body
from cursor_gateway.api.deps import services_of
from cursor_gateway.domain.chat import ChatEvent
from cursor_gateway.errors import GatewayError
from cursor_gateway.services.chat import estimate_usage
from cursor_gateway.services.messages import budget_level, count_input_tokens, resolve_model

router = APIRouter()
log = logging.getLogger("cursor_gateway.api.messages")


def event_bytes(name: str, data: dict[str, Any]) -> bytes:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {name}\ndata: {body}\n\n".encode()


@router.post("/v1/messages", response_model=None)
async def messages(
    request: Request,
    caller: Annotated[Caller, Depends(require_chat_key)],
    body: Annotated[MessagesIn, Depends(json_body(MessagesIn))],
) -> StreamingResponse | JSONResponse:
    arrived = asyncio.get_running_loop().time()  # the deadline counts from here (answering.begin_chat)
    services = services_of(request.app)
    opening = begin_chat(services, request, caller, body, "messages", check_parameters(body), arrived=arrived)
    with opening.recorded():
        model = resolve_model(services.catalog, body.model, thinking_requested(body))
        model = opening.shaped(model, budget_level(body), "thinking.budget_tokens")
        chat_request = to_chat_request(body, model, **opening.ids)
        chat_request, answer = await open_answer(services, chat_request, caller, opening.trace)
    trace = opening.trace
    thinking = chat_request.thinking is True
    headers = opening.headers(("x-request-id", "request-id"))  # request-id: Anthropic's own name
    if not body.stream:
        transcript = await collect(
            answer, keepalive=services.settings.max_stream_seconds, deadline=opening.deadline, trace=trace
        )
        await trace.settled()
        return JSONResponse(message(transcript, model=body.model, thinking=thinking), headers=headers)
    writer = EventWriter(model=body.model, thinking=thinking)
    return sse_response(
        answer,
        _Events(writer, estimate_usage(chat_request, "").input_tokens),
        trace,
        keepalive=services.settings.sse_keepalive_seconds,
        deadline=opening.deadline,
        headers=headers,
        log=log,
    )


class _Events:
    """Anthropic's stream (answering.StreamSurface): named events, `ping` as the keep-alive, an `error`
    event on failure."""

    def __init__(self, writer: EventWriter, input_tokens: int) -> None:
        self.writer = writer
        self.input_tokens = input_tokens

    def head(self) -> Iterable[bytes]:
        return (event_bytes(name, data) for name, data in self.writer.start(self.input_tokens))

    def keepalive(self) -> bytes:
        return event_bytes(*ping())  # Anthropic's own keep-alive

    async def event(self, event: ChatEvent) -> Iterable[bytes]:
        return (event_bytes(name, data) for name, data in self.writer.event(event))

    async def end(self) -> Iterable[bytes]:
        return ()

    def failure(self, exc: GatewayError) -> Iterable[bytes]:
        return (event_bytes(*error_event(exc)),)

    def done(self) -> Iterable[bytes]:
        return ()


@router.post("/v1/messages/count_tokens")
async def count_tokens(
    request: Request,
    caller: Annotated[Caller, Depends(require_chat_key)],
    body: Annotated[MessagesIn, Depends(json_body(MessagesIn))],
) -> JSONResponse:
    """An approximate count (see services.messages.count_input_tokens); nothing is sent to Cursor."""
    services = services_of(request.app)
    model = resolve_model(services.catalog, body.model, thinking_requested(body))
    chat_request = to_chat_request(body, model, caller_scope=caller.key_id)
    return JSONResponse(
        {"input_tokens": count_input_tokens(chat_request)}, headers={"x-token-count": "estimated"}
    )
