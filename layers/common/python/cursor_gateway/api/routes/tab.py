"""Copilot++ (Cursor Tab): `/cpp/config`, `/cpp/models`, `/file/upload`, `/file/sync`, `/cpp/stream`, with
the reference gateway's request and response shapes (copilot-plus-plus.md §1).

JSON in (snake_case proto field names, every field optional, unknown keys ignored; `/cpp/stream` needs
`current_file`), JSON out; `/cpp/stream` answers SSE (`event: <type>` + `data: <json>`), committed only
once the first upstream frame decoded. The caller's `x-client-key` and `Cookie` go upstream for its
file-sync session; `/file/upload` and `/file/sync` hand back Cursor's status and headers (Set-Cookie:
FilesyncCookie, ALB stickiness). Cursor's refusals keep the reference's error shapes (codec.tab_errors).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from cursor_gateway.adapters.tab_events import sse
from cursor_gateway.adapters.tab_io import (
    answer_json,
    broken_stream_event,
    refusal,
    request_body_openapi,
    request_bytes,
)
from cursor_gateway.api.auth import Caller, require_chat_key
from cursor_gateway.api.deps import services_of
from cursor_gateway.errors import UpstreamError
from cursor_gateway.services.tab import CallerSession, TabRefused, TabStream

router = APIRouter()
log = logging.getLogger("cursor_gateway.api.tab")
CallerDep = Annotated[Caller, Depends(require_chat_key)]

SSE_HEADERS = {"cache-control": "no-cache, must-revalidate", "x-accel-buffering": "no"}
# Upstream headers `/file/*` do not hand back (the reference's list, plus what our server sets itself).
_DROPPED = {
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "vary",
    "access-control-allow-credentials",
    "access-control-allow-headers",
    "connection",
    "date",
    "server",
}


@router.post("/cpp/config", response_model=None, openapi_extra=request_body_openapi("config"))
async def cpp_config(request: Request, caller: CallerDep) -> Response:
    return await _unary(request, caller, "config")


@router.post("/cpp/models", response_model=None, openapi_extra=request_body_openapi("models"))
async def cpp_models(request: Request, caller: CallerDep) -> Response:
    return await _unary(request, caller, "models")


@router.post("/file/upload", response_model=None, openapi_extra=request_body_openapi("upload"))
async def file_upload(request: Request, caller: CallerDep) -> Response:
    return await _unary(request, caller, "upload", pass_through=True)


@router.post("/file/sync", response_model=None, openapi_extra=request_body_openapi("sync"))
async def file_sync(request: Request, caller: CallerDep) -> Response:
    return await _unary(request, caller, "sync", pass_through=True)


@router.post("/cpp/stream", response_model=None, openapi_extra=request_body_openapi("stream"))
async def cpp_stream(request: Request, caller: CallerDep) -> Response:
    payload = request_bytes("stream", await request.body())
    tab = services_of(request.app).tab
    try:
        stream = await tab.stream(payload, _session(request), **_caller_args(caller))
    except TabRefused as refused:
        return _refusal(refused, pass_through=False)
    except UpstreamError as exc:
        return _request_failed(exc)
    return StreamingResponse(_events(stream), media_type="text/event-stream", headers=SSE_HEADERS)


# -- helpers -----------------------------------------------------------------------------------------------


def _session(request: Request) -> CallerSession:
    return CallerSession(
        client_key=request.headers.get("x-client-key", "").strip(), cookie=request.headers.get("cookie", "")
    )


def _caller_args(caller: Caller) -> dict[str, Any]:
    return {
        "pinned_alias": caller.pinned_alias,
        "overrides": caller.overrides,
        "credential": caller.credential,
    }


async def _unary(request: Request, caller: Caller, rpc: str, *, pass_through: bool = False) -> Response:
    payload = request_bytes(rpc, await request.body())
    tab = services_of(request.app).tab
    try:
        reply = await tab.unary(rpc, payload, _session(request), **_caller_args(caller))
    except TabRefused as refused:
        return _refusal(refused, pass_through=pass_through)
    except UpstreamError as exc:
        return _request_failed(exc)
    body = answer_json(rpc, reply.body)
    response = Response(
        body, status_code=reply.status if pass_through else 200, media_type="application/json"
    )
    if pass_through:
        _hand_back(response, reply)
    return response


def _hand_back(response: Response, reply: Any) -> None:
    response.raw_headers.extend(
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in reply.headers
        if name.lower() not in _DROPPED
    )


def _refusal(refused: TabRefused, *, pass_through: bool) -> Response:
    error = refusal(refused.connect)
    reply = refused.reply
    status = reply.status if pass_through and reply is not None else error.status
    response = JSONResponse(error.unary_body(), status_code=status)
    if pass_through and reply is not None:
        _hand_back(response, reply)
    return response


def _request_failed(exc: UpstreamError) -> Response:
    """Cursor unreachable or unreadable (after failover): the reference's `request_failed` shape, without
    a `code` key. 504 for a timeout, else 502 (the reference says 500; this is not our bug)."""
    status = 504 if exc.status == 504 else 502
    kind = exc.code if exc.code.startswith("upstream_") and exc.status == 502 else "request_failed"
    message = exc.message if exc.message.startswith("Request failed") else f"Request failed: {exc.message}"
    return JSONResponse({"status": "error", "error": kind, "message": message}, status_code=status)


async def _events(stream: TabStream) -> AsyncIterator[bytes]:
    try:
        async for events in stream:
            yield b"".join(sse(event) for event in events)
    except UpstreamError as exc:  # the stream broke after its first byte: in-band, then a clean end
        log.warning("Tab stream on token %s broke after the first byte: %s", stream.alias, exc.message)
        yield sse(broken_stream_event(exc))
    except Exception:
        log.exception("Tab stream on token %s failed after the first byte", stream.alias)
        yield sse({"type": "error", "error": {"code": 500, "type": "internal_error", "details": None}})
    finally:
        with anyio.CancelScope(shield=True):  # a client that went away must not leave the upstream open
            await stream.aclose()
