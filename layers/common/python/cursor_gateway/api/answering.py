"""What the chat-like routes (chat completions, messages, responses) share once a request is parsed: the
opening (deadline, request id, ignored parameters, the reasoning level, the request log's trace of the
request, services/request_log.py), the caller's vision rule and the opened answer on the caller's
token/key settings, and the two ways an answer leaves: collected, or streamed through a surface's writer.
Each route keeps what is its own: how its body maps to a ChatRequest and its response envelope."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict

from fastapi import Request
from fastapi.responses import StreamingResponse

from cursor_gateway.api import sse
from cursor_gateway.api.auth import Caller
from cursor_gateway.api.streaming import paced
from cursor_gateway.domain.chat import ChatEvent, ChatRequest, ModelChoice, Transcript
from cursor_gateway.errors import GatewayError
from cursor_gateway.services.chat import ChatStream
from cursor_gateway.services.container import Services
from cursor_gateway.services.request_log import RecordedCaller
from cursor_gateway.services.request_trace import RequestTrace


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
    services: Services, request: Request, caller: Caller, *, endpoint: str, model: str, stream: bool
) -> RequestTrace:
    return services.request_log.begin(
        endpoint=endpoint,
        model=model,
        stream=stream,
        caller=recorded_caller(caller),
        client_ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
    )


class RequestIds(TypedDict):
    """What every adapter's `to_chat_request` takes besides the body and the model."""

    conversation_hint: str | None
    request_id: str
    caller_scope: str


@dataclass
class Opening:
    """A chat-like request whose body parsed: its request-log trace, ids, deadline and the parameters it
    sent that are ignored (reported in `x-ignored-params`)."""

    services: Services
    trace: RequestTrace
    ids: RequestIds
    deadline: float
    ignored: list[str]

    @property
    def request_id(self) -> str:
        return self.ids["request_id"]

    def shaped(self, choice: ModelChoice, level: str | None, param: str) -> ModelChoice:
        """`choice` shaped for the reasoning `level` that `param` asked for (services.catalog.shape);
        `param` is reported ignored exactly when a level was asked for and the model cannot honour it."""
        choice, honoured = self.services.catalog.shape(choice, level)
        if honoured:
            self.ignored = [name for name in self.ignored if name != param]
        elif level and param not in self.ignored:
            self.ignored = [*self.ignored, param]
        return choice

    @contextlib.contextmanager
    def recorded(self) -> Iterator[None]:
        """What fails before the answer opens is the request's outcome in the log, then raised as usual
        (rendered by api.errors in the surface's envelope)."""
        try:
            yield
        except Exception as exc:
            self.trace.fail(exc)
            raise

    def headers(self, request_id_names: Iterable[str] = ("x-request-id",)) -> dict[str, str]:
        headers = dict.fromkeys(request_id_names, self.request_id)
        headers["x-log-id"] = self.trace.id
        if self.ignored:
            headers["x-ignored-params"] = ",".join(self.ignored)
        return headers


class ChatLikeBody(Protocol):
    """What the opening reads from a chat-like body (ChatCompletionIn, MessagesIn, ResponsesIn)."""

    @property
    def model(self) -> str: ...

    @property
    def stream(self) -> bool: ...


def begin_chat(
    services: Services,
    request: Request,
    caller: Caller,
    body: ChatLikeBody,
    endpoint: str,
    ignored: list[str],
    *,
    arrived: float,
) -> Opening:
    """The opening of a chat-like route, once its parameters were checked (a rejected one is a 400 with
    nothing to record). `arrived` is the event loop's clock when the route started: MAX_STREAM_SECONDS
    counts from the request's arrival, as API Gateway and Lambda count."""
    trace = begin_trace(services, request, caller, endpoint=endpoint, model=body.model, stream=body.stream)
    return Opening(
        services=services,
        trace=trace,
        ids=RequestIds(
            conversation_hint=request.headers.get("x-conversation-id"),
            request_id=request.headers.get("x-request-id") or str(uuid.uuid4()),
            caller_scope=caller.key_id,
        ),
        deadline=arrived + services.settings.max_stream_seconds,
        ignored=list(ignored),
    )


async def open_answer(
    services: Services, request: ChatRequest, caller: Caller, trace: RequestTrace | None = None
) -> tuple[ChatRequest, ChatStream]:
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
    answer: ChatStream, *, keepalive: float, deadline: float, trace: RequestTrace | None = None
) -> Transcript:
    transcript = Transcript()
    events = paced(aiter(answer), keepalive=keepalive, deadline=deadline)
    async for event in trace.watch(events) if trace is not None else events:
        if event is not None:
            transcript.add(event)
    return transcript


class StreamSurface(Protocol):
    """How one API writes an opened answer as a stream of bytes (each route adapts its writer)."""

    def head(self) -> Iterable[bytes]:
        """Before the first event."""

    def keepalive(self) -> bytes:
        """After a silence (api.streaming.paced)."""

    async def event(self, event: ChatEvent) -> Iterable[bytes]:
        """One domain event."""

    async def end(self) -> Iterable[bytes]:
        """The answer ran out."""

    def failure(self, exc: GatewayError) -> Iterable[bytes]:
        """The answer failed after the first byte (the status is sent already)."""

    def done(self) -> Iterable[bytes]:
        """The very last bytes, after an end or a failure."""


def sse_response(
    answer: ChatStream,
    surface: StreamSurface,
    trace: RequestTrace,
    *,
    keepalive: float,
    deadline: float,
    headers: dict[str, str],
    log: logging.Logger,
) -> StreamingResponse:
    return StreamingResponse(
        stream_answer(answer, surface, trace, keepalive=keepalive, deadline=deadline, log=log),
        media_type="text/event-stream",
        headers={**sse.SSE_HEADERS, **headers},
    )


async def stream_answer(
    answer: ChatStream,
    surface: StreamSurface,
    trace: RequestTrace,
    *,
    keepalive: float,
    deadline: float,
    log: logging.Logger,
) -> AsyncIterator[bytes]:
    for chunk in surface.head():
        yield chunk
    events = trace.watch(paced(aiter(answer), keepalive=keepalive, deadline=deadline))
    try:
        async for event in events:
            if event is None:
                yield surface.keepalive()
                continue
            for chunk in await surface.event(event):
                yield chunk
        for chunk in await surface.end():
            yield chunk
    except GatewayError as exc:
        log.warning("stream for token %s failed after the first byte: %s", answer.alias, exc.message)
        for chunk in surface.failure(exc):
            yield chunk
    except Exception:
        log.exception("stream for token %s failed after the first byte", answer.alias)
        for chunk in surface.failure(GatewayError("Internal error while streaming")):
            yield chunk
    finally:
        await _aclose(events)  # a client that went away must not leave the upstream open
    for chunk in surface.done():
        yield chunk
    await trace.settled()  # on Lambda: the log write lands before the invocation ends


async def _aclose(events: AsyncIterator[Any]) -> None:
    # RequestTrace.watch is an async generator, though annotated as an iterator: close it if it can be.
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        await aclose()
