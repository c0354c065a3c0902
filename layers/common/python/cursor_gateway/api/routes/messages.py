"""`POST /v1/messages` (Anthropic Messages API) and `POST /v1/messages/count_tokens`.

Same flow as chat completions: parse, open the answer (the status is decided on its first event), then
stream Anthropic's events or collect one `message`. Errors use Anthropic's envelope (api.errors).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
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
from cursor_gateway.api import sse
from cursor_gateway.api.answering import begin_trace, collect, open_answer
from cursor_gateway.api.auth import Caller, require_chat_key
from cursor_gateway.api.body import json_body
from cursor_gateway.api.deps import services_of
from cursor_gateway.api.streaming import paced
from cursor_gateway.errors import GatewayError
from cursor_gateway.services.chat import ChatStream, estimate_usage
from cursor_gateway.services.messages import budget_level, count_input_tokens, resolve_model
from cursor_gateway.services.request_log import RequestTrace

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
    # MAX_STREAM_SECONDS counts from the request's arrival, as for chat completions.
    deadline = asyncio.get_running_loop().time()
    services = services_of(request.app)
    settings = services.settings
    deadline += settings.max_stream_seconds
    ignored = check_parameters(body)
    request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
    trace = begin_trace(
        services, request, caller, endpoint="messages", model=body.model, stream=bool(body.stream)
    )
    try:
        model = resolve_model(services.catalog, body.model, thinking_requested(body))
        level = budget_level(body)
        model, honoured = services.catalog.shape(model, level)  # a published slug, or base id + parameters
        if level and not honoured:
            ignored = [*ignored, "thinking.budget_tokens"]
        chat_request = to_chat_request(
            body,
            model,
            conversation_hint=request.headers.get("x-conversation-id"),
            request_id=request_id,
            caller_scope=caller.key_id,
        )
        chat_request, answer = await open_answer(services, chat_request, caller, trace)
    except Exception as exc:
        trace.fail(exc)
        raise
    thinking = chat_request.thinking is True
    headers = {"x-request-id": request_id, "request-id": request_id, "x-log-id": trace.id}
    if ignored:
        headers["x-ignored-params"] = ",".join(ignored)
    if not body.stream:
        transcript = await collect(
            answer, keepalive=settings.max_stream_seconds, deadline=deadline, trace=trace
        )
        await trace.settled()
        return JSONResponse(message(transcript, model=body.model, thinking=thinking), headers=headers)
    writer = EventWriter(model=body.model, thinking=thinking)
    input_tokens = estimate_usage(chat_request, "").input_tokens
    return StreamingResponse(
        _sse(
            answer, writer, input_tokens, trace, keepalive=settings.sse_keepalive_seconds, deadline=deadline
        ),
        media_type="text/event-stream",
        headers={**sse.SSE_HEADERS, **headers},
    )


async def _sse(
    answer: ChatStream,
    writer: EventWriter,
    input_tokens: int,
    trace: RequestTrace,
    *,
    keepalive: float,
    deadline: float,
) -> AsyncIterator[bytes]:
    for name, data in writer.start(input_tokens):
        yield event_bytes(name, data)
    events = trace.watch(paced(aiter(answer), keepalive=keepalive, deadline=deadline))
    try:
        async for event in events:
            if event is None:
                yield event_bytes(*ping())  # Anthropic's own keep-alive
                continue
            for name, data in writer.event(event):
                yield event_bytes(name, data)
    except GatewayError as exc:
        log.warning("stream for token %s failed after the first byte: %s", answer.alias, exc.message)
        yield event_bytes(*error_event(exc))
    except Exception:
        log.exception("stream for token %s failed after the first byte", answer.alias)
        yield event_bytes(*error_event(GatewayError("Internal error while streaming")))
    finally:
        await events.aclose()  # a client that went away must not leave the upstream open
    await trace.settled()  # on Lambda: the log write lands before the invocation ends


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
