"""What the chat-completions and messages routes share once a request is parsed: apply the caller's
vision rule, open the answer on the caller's token/key settings, and collect a non-streamed answer; and
the request log's trace of each request (services/request_log.py), begun here for every chat-like route."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from cursor_gateway.api.auth import Caller
from cursor_gateway.api.streaming import paced
from cursor_gateway.domain.chat import ChatRequest, Transcript
from cursor_gateway.services.request_log import RecordedCaller, RequestTrace


def recorded_caller(caller: Caller) -> RecordedCaller:
    """How logs and statistics name a caller: the admin is one identity; the shared token and each key
    are their own, by a non-reversible id (never the secret)."""
    if caller.role == "admin":
        return RecordedCaller("admin", "admin")
    if caller.role == "shared":
        return RecordedCaller(caller.key_id, "shared")
    return RecordedCaller(caller.key_id, caller.key_name or caller.key_id)


def client_ip(request: Request) -> str:
    # Behind API Gateway (and Lambda Web Adapter) the peer is the proxy; the client is the first hop.
    forwarded = request.headers.get("x-forwarded-for", "")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.client.host if request.client else ""


def begin_trace(
    services: Any, request: Request, caller: Caller, *, endpoint: str, model: str, stream: bool
) -> RequestTrace:
    trace: RequestTrace = services.request_log.begin(
        endpoint=endpoint,
        model=model,
        stream=stream,
        caller=recorded_caller(caller),
        client_ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    return trace


async def open_answer(
    services: Any, request: ChatRequest, caller: Caller, trace: RequestTrace | None = None
) -> tuple[ChatRequest, Any]:
    """The request with its images prepared (or refused) and its answer opened (first event seen)."""
    if trace is not None:
        trace.prompt(request)
    vision = caller.overrides.get("vision_ability") or services.config.current().vision_ability
    prepared = await services.images.prepare(request, str(vision))
    answer = await services.chat.open(
        prepared,
        pinned_alias=caller.pinned_alias,
        overrides=caller.overrides,
        credential=caller.credential,
        on_attempt=trace.attempt if trace is not None else None,
    )
    return prepared, answer


async def collect(
    answer: Any, *, keepalive: float, deadline: float, trace: RequestTrace | None = None
) -> Transcript:
    transcript = Transcript()
    events = paced(aiter(answer), keepalive=keepalive, deadline=deadline)
    async for event in trace.watch(events) if trace is not None else events:
        if event is not None:
            transcript.add(event)
    return transcript
