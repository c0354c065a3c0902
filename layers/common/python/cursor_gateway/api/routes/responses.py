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
from collections.abc import Iterable
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
from cursor_gateway.api.answering import begin_chat, open_answer, sse_response
from cursor_gateway.api.auth import Caller, require_chat_key
from cursor_gateway.api.body import json_body
from cursor_gateway.api.deps import services_of
from cursor_gateway.api.streaming import paced
from cursor_gateway.domain.chat import ChatEvent, TurnEnded
from cursor_gateway.domain.model_parameters import effort_level
from cursor_gateway.errors import GatewayError, InvalidRequest
from cursor_gateway.services.container import Services

router = APIRouter()
log = logging.getLogger("cursor_gateway.api.responses")


def event_bytes(event: Event) -> bytes:
    return f"event: {event['type']}\n".encode() + sse.data(event)


class _Turn:
    """One response being answered: its writer plus what storing it needs; streamed, it is the route's
    answering.StreamSurface (named semantic events, `response.failed` on failure)."""

    def __init__(
        self, services: Services, body: ResponsesIn, items: list[dict[str, Any]], owner: str
    ) -> None:
        self.services = services
        self.store = body.store
        self.items = items
        self.owner = owner
        self.writer = ResponseWriter(model=body.model, echo=echo_fields(body))

    async def events(self, event: ChatEvent) -> list[Event]:
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

    # -- as a stream ----------------------------------------------------------------------------------

    def head(self) -> Iterable[bytes]:
        return map(event_bytes, self.writer.start())

    def keepalive(self) -> bytes:
        return sse.KEEPALIVE

    async def event(self, event: ChatEvent) -> Iterable[bytes]:
        return map(event_bytes, await self.events(event))

    async def end(self) -> Iterable[bytes]:
        return map(event_bytes, await self.finish())

    def failure(self, exc: GatewayError) -> Iterable[bytes]:
        return map(event_bytes, self.writer.fail(exc))

    def done(self) -> Iterable[bytes]:
        return ()


@router.post("/v1/responses", response_model=None)
async def create_response(
    request: Request,
    caller: Annotated[Caller, Depends(require_chat_key)],
    body: Annotated[ResponsesIn, Depends(json_body(ResponsesIn))],
) -> StreamingResponse | JSONResponse:
    arrived = asyncio.get_running_loop().time()  # the deadline counts from here (answering.begin_chat)
    services = services_of(request.app)
    opening = begin_chat(
        services, request, caller, body, "responses", check_parameters(body), arrived=arrived
    )
    with opening.recorded():
        model = services.catalog.resolve(body.model)
        level = effort_level((body.reasoning or {}).get("effort"))  # as chat maps reasoning_effort
        model = opening.shaped(model, level, "reasoning.effort")
        history = await services.responses.history(body.previous_response_id, caller.key_id)
        items = [*history, *input_items(body)]
        chat_request = to_chat_request(
            body,
            model,
            items,
            history=len(history),
            **opening.ids,
        )
        chat_request, answer = await open_answer(services, chat_request, caller, opening.trace)
    trace = opening.trace
    turn = _Turn(services, body, items, caller.key_id)
    headers = opening.headers()
    if not body.stream:
        events = trace.watch(
            paced(aiter(answer), keepalive=services.settings.max_stream_seconds, deadline=opening.deadline)
        )
        async for event in events:
            if event is not None:
                await turn.events(event)
        await turn.finish()
        await trace.settled()
        return JSONResponse(turn.writer.response(), headers=headers)
    return sse_response(
        answer,
        turn,
        trace,
        keepalive=services.settings.sse_keepalive_seconds,
        deadline=opening.deadline,
        headers=headers,
        log=log,
    )


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
