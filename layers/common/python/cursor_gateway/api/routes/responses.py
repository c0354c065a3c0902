"""`POST /v1/responses` (OpenAI Responses API, what Codex CLI and the Agents SDK speak), and
`GET` / `DELETE /v1/responses/{response_id}` for stored ones.

Same flow as chat completions: parse, prepend the `previous_response_id` chain, open the answer on the
shared chat core (the status is decided on its first event), then stream the semantic events or return
one `response` object. A finished response is stored before its last event goes out, so a client that
continues the moment it sees `response.completed` (Codex does) finds it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse

from cursor_gateway.adapters.responses_request import (
    ResponsesIn,
    check_parameters,
    input_items,
    to_chat_request,
)
from cursor_gateway.adapters.responses_response import Event, ResponseWriter, echo_fields
from cursor_gateway.api import sse
from cursor_gateway.api.answering import begin_trace, open_answer
from cursor_gateway.api.auth import Caller, require_chat_key
from cursor_gateway.api.body import json_body
from cursor_gateway.api.deps import services_of
from cursor_gateway.api.streaming import paced
from cursor_gateway.domain.chat import TurnEnded
from cursor_gateway.domain.model_parameters import effort_level
from cursor_gateway.errors import GatewayError, InvalidRequest
from cursor_gateway.services.request_log import RequestTrace

router = APIRouter()
log = logging.getLogger("cursor_gateway.api.responses")


def event_bytes(event: Event) -> bytes:
    return f"event: {event['type']}\n".encode() + sse.data(event)


class _Turn:
    """One response being answered: its writer plus what storing it needs."""

    def __init__(self, services: Any, body: ResponsesIn, items: list[dict[str, Any]], owner: str) -> None:
        self.services = services
        self.store = body.store
        self.items = items
        self.owner = owner
        self.writer = ResponseWriter(model=body.model, echo=echo_fields(body))

    async def events(self, event: Any) -> list[Event]:
        """The writer's events for one domain event; a finished response is stored first."""
        out = self.writer.event(event)
        if self.writer.status in ("completed", "incomplete") and self.store:
            try:
                await self.services.responses.save(
                    self.writer.response(), [*self.items, *self.writer.output], self.owner
                )
            except Exception:
                # The answer itself is fine: the client gets it, only a continuation would 404.
                log.exception("could not store response %s", self.writer.id)
        return out

    async def finish(self) -> list[Event]:
        """An answer that ended without a turn-end event still completes (estimated usage)."""
        if self.writer.status != "in_progress":
            return []
        return await self.events(TurnEnded())


@router.post("/v1/responses", response_model=None)
async def create_response(
    request: Request,
    caller: Annotated[Caller, Depends(require_chat_key)],
    body: Annotated[ResponsesIn, Depends(json_body(ResponsesIn))],
) -> StreamingResponse | JSONResponse:
    # MAX_STREAM_SECONDS counts from the request's arrival, as for chat completions.
    deadline = asyncio.get_running_loop().time()
    services = services_of(request.app)
    settings = services.settings
    deadline += settings.max_stream_seconds
    ignored = check_parameters(body)
    request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
    # One request-log entry per call, like chat completions (services.request_log).
    trace = begin_trace(
        services, request, caller, endpoint="responses", model=body.model, stream=bool(body.stream)
    )
    try:
        model = services.catalog.resolve(body.model)
        level = effort_level((body.reasoning or {}).get("effort"))  # as chat maps reasoning_effort
        model, honoured = services.catalog.shape(model, level)  # a published slug, or base id + parameters
        if honoured:
            ignored = [name for name in ignored if name != "reasoning.effort"]
        history = await services.responses.history(body.previous_response_id, caller.key_id)
        items = [*history, *input_items(body)]
        chat_request = to_chat_request(
            body,
            model,
            items,
            history=len(history),
            conversation_hint=request.headers.get("x-conversation-id"),
            request_id=request_id,
            caller_scope=caller.key_id,
        )
        chat_request, answer = await open_answer(services, chat_request, caller, trace)
    except Exception as exc:
        trace.fail(exc)
        raise
    turn = _Turn(services, body, items, caller.key_id)
    headers = {"x-request-id": request_id, "x-log-id": trace.id}
    if ignored:
        headers["x-ignored-params"] = ",".join(ignored)
    if not body.stream:
        events = trace.watch(paced(aiter(answer), keepalive=settings.max_stream_seconds, deadline=deadline))
        async for event in events:
            if event is not None:
                await turn.events(event)
        await turn.finish()
        await trace.settled()
        return JSONResponse(turn.writer.response(), headers=headers)
    return StreamingResponse(
        _sse(answer, turn, trace, keepalive=settings.sse_keepalive_seconds, deadline=deadline),
        media_type="text/event-stream",
        headers={**sse.SSE_HEADERS, **headers},
    )


async def _sse(
    answer: Any, turn: _Turn, trace: RequestTrace, *, keepalive: float, deadline: float
) -> AsyncIterator[bytes]:
    for event in turn.writer.start():
        yield event_bytes(event)
    events = trace.watch(paced(aiter(answer), keepalive=keepalive, deadline=deadline))
    try:
        async for event in events:
            if event is None:
                yield sse.KEEPALIVE
                continue
            for out in await turn.events(event):
                yield event_bytes(out)
        for out in await turn.finish():
            yield event_bytes(out)
    except GatewayError as exc:
        log.warning("stream for token %s failed after the first byte: %s", answer.alias, exc.message)
        for out in turn.writer.fail(exc):
            yield event_bytes(out)
    except Exception:
        log.exception("stream for token %s failed after the first byte", answer.alias)
        for out in turn.writer.fail(GatewayError("Internal error while streaming")):
            yield event_bytes(out)
    finally:
        await events.aclose()  # a client that went away must not leave the upstream open
    await trace.settled()  # on Lambda: the log write lands before the invocation ends


@router.get("/v1/responses/{response_id}")
async def get_response(
    response_id: str, request: Request, caller: Annotated[Caller, Depends(require_chat_key)]
) -> JSONResponse:
    if request.query_params.get("stream", "").lower() == "true":
        raise InvalidRequest("Replaying a stored response as a stream is not supported", param="stream")
    services = services_of(request.app)
    return JSONResponse(await services.responses.get(response_id, caller.key_id))


@router.delete("/v1/responses/{response_id}")
async def delete_response(
    response_id: str, request: Request, caller: Annotated[Caller, Depends(require_chat_key)]
) -> JSONResponse:
    services = services_of(request.app)
    await services.responses.delete(response_id, caller.key_id)
    return JSONResponse({"id": response_id, "object": "response", "deleted": True})
