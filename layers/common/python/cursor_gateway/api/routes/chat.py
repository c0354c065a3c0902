"""`POST /v1/chat/completions`: parse, open the answer (the status is decided on its first event),
then stream it or collect it."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse

from cursor_gateway.adapters.openai_request import ChatCompletionIn, check_parameters, to_chat_request
from cursor_gateway.adapters.openai_response import ChunkWriter, completion, stream_error
from cursor_gateway.api import sse
from cursor_gateway.api.answering import begin_trace, collect, open_answer
from cursor_gateway.api.auth import Caller, require_chat_key
from cursor_gateway.api.body import json_body
from cursor_gateway.api.deps import services_of
from cursor_gateway.api.streaming import paced
from cursor_gateway.domain.chat import ChatRequest
from cursor_gateway.domain.model_parameters import effort_level
from cursor_gateway.errors import GatewayError
from cursor_gateway.services.chat import ChatStream
from cursor_gateway.services.request_log import RequestTrace

router = APIRouter()
log = logging.getLogger("cursor_gateway.api.chat")


@router.post("/v1/chat/completions", response_model=None)
async def chat_completions(
    request: Request,
    caller: Annotated[Caller, Depends(require_chat_key)],
    body: Annotated[ChatCompletionIn, Depends(json_body(ChatCompletionIn))],
) -> StreamingResponse | JSONResponse:
    # MAX_STREAM_SECONDS counts from the request's arrival: that is what API Gateway and Lambda count.
    deadline = asyncio.get_running_loop().time()
    services = services_of(request.app)
    settings = services.settings
    deadline += settings.max_stream_seconds
    ignored = check_parameters(body)
    request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
    trace = begin_trace(
        services, request, caller, endpoint="chat.completions", model=body.model, stream=bool(body.stream)
    )
    try:
        model = services.catalog.resolve(body.model)  # config model_aliases first
        level = effort_level(body.reasoning_effort)
        model, honoured = services.catalog.shape(model, level)  # a published slug, or base id + parameters
        if honoured:
            ignored = [name for name in ignored if name != "reasoning_effort"]
        chat_request = to_chat_request(
            body,
            model,
            conversation_hint=request.headers.get("x-conversation-id"),
            request_id=request_id,
            caller_scope=caller.key_id,
        )
    except Exception as exc:
        trace.fail(exc)
        raise
    headers = {"x-request-id": request_id, "x-log-id": trace.id}
    if ignored:
        headers["x-ignored-params"] = ",".join(ignored)
    return await answer_as_chat(
        services,
        chat_request,
        caller,
        trace,
        model=body.model,
        include_usage=bool(body.stream_options and body.stream_options.include_usage),
        headers=headers,
        deadline=deadline,
    )


async def answer_as_chat(
    services: Any,
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
    return StreamingResponse(
        _sse(answer, writer, trace, keepalive=settings.sse_keepalive_seconds, deadline=deadline),
        media_type="text/event-stream",
        headers={**sse.SSE_HEADERS, **headers},
    )


async def _sse(
    answer: ChatStream, writer: ChunkWriter, trace: RequestTrace, *, keepalive: float, deadline: float
) -> AsyncIterator[bytes]:
    events = trace.watch(paced(aiter(answer), keepalive=keepalive, deadline=deadline))
    try:
        async for event in events:
            if event is None:
                yield sse.KEEPALIVE
                continue
            for chunk in writer.event(event):
                yield sse.data(chunk)
    except GatewayError as exc:
        log.warning("stream for token %s failed after the first byte: %s", answer.alias, exc.message)
        yield sse.data(stream_error(exc))
    except Exception:
        log.exception("stream for token %s failed after the first byte", answer.alias)
        yield sse.data(stream_error(GatewayError("Internal error while streaming")))
    finally:
        await events.aclose()  # a client that went away must not leave the upstream open
    yield sse.DONE
    await trace.settled()  # on Lambda: the log write lands before the invocation ends
