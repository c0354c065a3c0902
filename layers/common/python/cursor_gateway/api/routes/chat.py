"""`POST /v1/chat/completions`: parse, open the answer (the status is decided on its first event),
then stream it or collect it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse

from cursor_gateway.adapters.openai_request import ChatCompletionIn, check_parameters, to_chat_request
from cursor_gateway.adapters.openai_response import ChunkWriter, completion, stream_error
from cursor_gateway.api import sse
from cursor_gateway.api.answering import begin_chat, collect, open_answer, sse_response
from cursor_gateway.api.auth import Caller, require_chat_key
from cursor_gateway.api.body import json_body
from cursor_gateway.api.deps import services_of
from cursor_gateway.domain.chat import ChatEvent, ChatRequest
from cursor_gateway.domain.model_parameters import effort_level
from cursor_gateway.errors import GatewayError
from cursor_gateway.services.container import Services
from cursor_gateway.services.request_trace import RequestTrace

router = APIRouter()
log = logging.getLogger("cursor_gateway.api.chat")


@router.post("/v1/chat/completions", response_model=None)
async def chat_completions(
    request: Request,
    caller: Annotated[Caller, Depends(require_chat_key)],
    body: Annotated[ChatCompletionIn, Depends(json_body(ChatCompletionIn))],
) -> StreamingResponse | JSONResponse:
    arrived = asyncio.get_running_loop().time()  # the deadline counts from here (answering.begin_chat)
    services = services_of(request.app)
    opening = begin_chat(
        services, request, caller, body, "chat.completions", check_parameters(body), arrived=arrived
    )
    with opening.recorded():
        model = services.catalog.resolve(body.model)  # config model_aliases first
        model = opening.shaped(model, effort_level(body.reasoning_effort), "reasoning_effort")
        chat_request = to_chat_request(body, model, **opening.ids)
    return await answer_as_chat(
        services,
        chat_request,
        caller,
        opening.trace,
        model=body.model,
        include_usage=bool(body.stream_options and body.stream_options.include_usage),
        headers=opening.headers(),
        deadline=opening.deadline,
    )


async def answer_as_chat(
    services: Services,
    chat_request: ChatRequest,
    caller: Caller,
    trace: RequestTrace,
    *,
    model: str,
    include_usage: bool,
    headers: dict[str, str],
    deadline: float,
) -> StreamingResponse | JSONResponse:
    """Open the answer and return it in chat-completions format (also /cursor/chat/completions, whose
    request may come in any of three shapes)."""
    settings = services.settings
    thinking_output = services.config.current().thinking_output
    try:
        chat_request, answer = await open_answer(services, chat_request, caller, trace)
    except Exception as exc:
        trace.fail(exc)
        raise
    if not chat_request.stream:
        transcript = await collect(
            answer, keepalive=settings.max_stream_seconds, deadline=deadline, trace=trace
        )
        await trace.settled()
        return JSONResponse(
            completion(
                transcript,
                model=model,
                thinking_output=thinking_output,
                thinking_tag=settings.thinking_tag,
            ),
            headers=headers,
        )
    writer = ChunkWriter(
        model=model,
        thinking_output=thinking_output,
        thinking_tag=settings.thinking_tag,
        include_usage=include_usage,
    )
    return sse_response(
        answer,
        _Chunks(writer),
        trace,
        keepalive=settings.sse_keepalive_seconds,
        deadline=deadline,
        headers=headers,
        log=log,
    )


class _Chunks:
    """The chat-completions stream (answering.StreamSurface): `data:` chunks, then `[DONE]`."""

    def __init__(self, writer: ChunkWriter) -> None:
        self.writer = writer

    def head(self) -> Iterable[bytes]:
        return ()

    def keepalive(self) -> bytes:
        return sse.KEEPALIVE

    async def event(self, event: ChatEvent) -> Iterable[bytes]:
        return (sse.data(chunk) for chunk in self.writer.event(event))

    async def end(self) -> Iterable[bytes]:
        return ()

    def failure(self, exc: GatewayError) -> Iterable[bytes]:
        return (sse.data(stream_error(exc)),)

    def done(self) -> Iterable[bytes]:
        return (sse.DONE,)
