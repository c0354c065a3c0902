"""One retry on a fresh connection for a request that died with its pooled connection, before any answer.

A pooled HTTP/2 (or keep-alive HTTP/1.1) connection can be dead without the client knowing: a NAT or a
load balancer dropped it while idle, or the server closed it without a GOAWAY. The next request written
on it fails with "broken pipe", a reset or "server disconnected"; a server draining a connection refuses
new streams (RST_STREAM REFUSED_STREAM, which RFC 9113 8.7 defines as "not processed"). None of that says
anything about the request, the token or Cursor's health, and the server never answered it, so the same
bytes (same request id, same conversation id) are sent once more on a brand-new connection before the
caller sees an error. A failure after the response headers arrived is never retried here: Cursor saw the
request, and the usual rules (failover, health) apply. A failure to connect at all, a timeout or a stream
reset for another reason is not retried either: a fresh connection would not change them.

The retry uses a one-off transport with no pooled connections (closed with the response), so it can never
be handed the same dead connection or another one about to die.

- `pyqwest_stale(exc)`: the pyqwest errors of that kind (used by `upstream.connect.BidiCall`).
- `FreshRetryAsyncClient` / `FreshRetryClient`: httpx clients whose `send` does the same for every plain
  HTTP call (model catalog, profile, usage, token refresh, key exchange, Admin API).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pyqwest

log = logging.getLogger("cursor_gateway.upstream")

# httpcore's text for a peer RST_STREAM: "<StreamReset stream_id:3, error_code:7, remote_reset:True>".
_REFUSED_STREAM = 7
_RETRY_LOG = "%s %s: the pooled connection failed (%s); once more on a fresh one"


def pyqwest_stale(exc: BaseException) -> bool:
    """True for a pyqwest failure of the connection (or a refused stream) before response headers."""
    if isinstance(exc, pyqwest.StreamError):
        # A stream-level reset is retried only when the server says it never processed it.
        return "refused stream" in str(exc).lower()
    # ConnectionError is a failure to connect (refused, unreachable, connect timeout): not a stale pool.
    return isinstance(exc, (pyqwest.WriteError, pyqwest.ReadError, pyqwest.RemoteProtocolError))


def httpx_stale(exc: BaseException) -> bool:
    """True for an httpx failure of the connection (or a refused stream) before response headers."""
    if isinstance(exc, httpx.RemoteProtocolError):
        text = str(exc)
        if "StreamReset" in text:
            return f"error_code:{_REFUSED_STREAM}," in text
        return True  # "Server disconnected", ConnectionTerminated (GOAWAY), a closed connection
    return isinstance(exc, (httpx.WriteError, httpx.ReadError))


def _replayable(request: httpx.Request) -> bool:
    # Bytes and JSON bodies are a ByteStream and can be sent again; a generator body cannot.
    return isinstance(request.stream, httpx.ByteStream)


class FreshRetryAsyncClient(httpx.AsyncClient):
    """An `httpx.AsyncClient` that retries a stale-connection failure once on a one-off connection.
    Build it with keyword arguments only: the one-off client is built from the same ones."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._kwargs = kwargs
        # A given transport is shared state a one-off client must not close: no fresh retry then.
        self._can_refresh = "transport" not in kwargs and "mounts" not in kwargs

    async def send(self, request: httpx.Request, *, stream: bool = False, **kwargs: Any) -> httpx.Response:
        try:
            response = await super().send(request, stream=True, **kwargs)
        except httpx.TransportError as exc:
            if not (self._can_refresh and httpx_stale(exc) and _replayable(request)):
                raise
            log.info(_RETRY_LOG, *_what(request, exc))
            response = await self._send_fresh(request, kwargs)
        if not stream:
            # Read here, outside the retry: a failure in the body came after Cursor answered.
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response

    async def _send_fresh(self, request: httpx.Request, kwargs: dict[str, Any]) -> httpx.Response:
        fresh = httpx.AsyncClient(**{**self._kwargs, "limits": httpx.Limits(max_keepalive_connections=0)})
        try:
            response = await fresh.send(request, stream=True, **kwargs)
        except BaseException:
            await fresh.aclose()
            raise
        response.stream = _ClosingAsyncStream(response.stream, fresh)
        return response


class FreshRetryClient(httpx.Client):
    """The blocking twin of `FreshRetryAsyncClient` (the Admin API client runs in a worker thread)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._kwargs = kwargs
        # A given transport is shared state a one-off client must not close: no fresh retry then.
        self._can_refresh = "transport" not in kwargs and "mounts" not in kwargs

    def send(self, request: httpx.Request, *, stream: bool = False, **kwargs: Any) -> httpx.Response:
        try:
            response = super().send(request, stream=True, **kwargs)
        except httpx.TransportError as exc:
            if not (self._can_refresh and httpx_stale(exc) and _replayable(request)):
                raise
            log.info(_RETRY_LOG, *_what(request, exc))
            response = self._send_fresh(request, kwargs)
        if not stream:
            try:
                response.read()
            finally:
                response.close()
        return response

    def _send_fresh(self, request: httpx.Request, kwargs: dict[str, Any]) -> httpx.Response:
        fresh = httpx.Client(**{**self._kwargs, "limits": httpx.Limits(max_keepalive_connections=0)})
        try:
            response = fresh.send(request, stream=True, **kwargs)
        except BaseException:
            fresh.close()
            raise
        response.stream = _ClosingStream(response.stream, fresh)
        return response


def _what(request: httpx.Request, exc: BaseException) -> tuple[str, str, str]:
    # The path only: query strings may carry parameters nobody needs in a log.
    return request.method, request.url.path, type(exc).__name__


class _ClosingAsyncStream(httpx.AsyncByteStream):
    """The one-off client's response body; closing it closes that client too."""

    def __init__(self, inner: Any, client: httpx.AsyncClient) -> None:
        self._inner = inner
        self._client = client

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            await self._client.aclose()


class _ClosingStream(httpx.SyncByteStream):
    def __init__(self, inner: Any, client: httpx.Client) -> None:
        self._inner = inner
        self._client = client

    def __iter__(self) -> Iterator[bytes]:
        yield from self._inner

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._client.close()
