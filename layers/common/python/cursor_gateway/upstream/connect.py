"""A full-duplex Connect streaming call over pyqwest.

`BidiCall` writes client frames as they are sent (the request body is an async generator that stays open)
while the caller reads server frames; `frames()` yields decoded envelopes and raises the error tree's
upstream errors. Nothing here knows about agents or chat: profiles build messages on top of it.

If the pooled connection turns out dead before Cursor's response headers (see `upstream.fresh_retry`),
the call is opened once more on a one-off connection with the same headers and the same frames, so the
caller (and the token's health) never sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from types import TracebackType

import pyqwest

from cursor_gateway.codec.connect_error import connect_error_from_json
from cursor_gateway.codec.envelope import EnvelopeDecoder, Frame, ProtocolViolation, encode_envelope
from cursor_gateway.errors import (
    UpstreamError,
    UpstreamProtocolError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from cursor_gateway.upstream.classify import classify_connect_error
from cursor_gateway.upstream.fresh_retry import pyqwest_stale
from cursor_gateway.upstream.retry_after import honour_retry_after
from cursor_gateway.upstream.transport import fresh_transport, stream_client

log = logging.getLogger("cursor_gateway.upstream")

_TRANSPORT_ERRORS = (
    ConnectionError,
    OSError,
    pyqwest.ReadError,
    pyqwest.WriteError,
    pyqwest.StreamError,
    pyqwest.RemoteProtocolError,
)
_ERROR_BODY_LIMIT = 64 * 1024


class BidiCall:
    """One open Connect stream. Use as `async with BidiCall(...) as call:`."""

    def __init__(
        self,
        url: str,
        headers: Sequence[tuple[str, str]],
        *,
        proxy: str = "",
        connect_timeout: float = 10.0,
        compress_requests: bool = False,
        answer_timeout: float | None = None,
    ) -> None:
        self.url = url
        # Bounds the wait for the response head (and an error body): an upstream that accepts the stream
        # but never reads it nor answers must not hold the request until the client gives up.
        self._answer_timeout = answer_timeout
        self.headers = list(headers)
        self._proxy = proxy
        self._timeout = connect_timeout
        self._client = stream_client(url, proxy=proxy, connect_timeout=connect_timeout)
        self._fresh: pyqwest.HTTPTransport | None = None  # the one-off transport of a retry
        # Every frame written, kept so that a retry sends exactly the same bytes (each attempt's body
        # reads the list from the start; None ends the body). Small: client frames are replies and beats.
        self._frames: list[bytes | None] = []
        self._more = asyncio.Event()
        self._compress = compress_requests
        self._cm: contextlib.AbstractAsyncContextManager[pyqwest.Response] | None = None
        self._response: pyqwest.Response | None = None
        self._send_closed = False
        self.decoder = EnvelopeDecoder()
        self.http_version = ""

    # -- writing ---------------------------------------------------------------------------------------

    def send(self, payload: bytes) -> None:
        if not self._send_closed:
            self._frames.append(encode_envelope(payload, compress=self._compress))
            self._more.set()

    def close_send(self) -> None:
        """Half-close: the request body ends after the frames already queued."""
        if not self._send_closed:
            self._send_closed = True
            self._frames.append(None)
            self._more.set()

    async def _body(self) -> AsyncIterator[bytes]:
        # One generator per attempt, each with its own position: a dead attempt's generator that is
        # still waiting can take nothing away from the retry's.
        position = 0
        while True:
            while position >= len(self._frames):
                self._more.clear()
                await self._more.wait()
            chunk = self._frames[position]
            position += 1
            if chunk is None:
                return
            yield chunk

    # -- lifecycle -------------------------------------------------------------------------------------

    async def __aenter__(self) -> BidiCall:
        try:
            await asyncio.wait_for(self._start(), self._answer_timeout)
        except TimeoutError as exc:
            await self.__aexit__(None, None, None)
            raise UpstreamTimeout("Cursor did not answer in time") from exc
        return self

    async def _start(self) -> None:
        """Up to the response head: once on the pooled client, once more on a fresh connection when the
        pooled one was dead before Cursor answered (issue 19), then the status and content type."""
        try:
            try:
                self._response = await self._open(self._client)
            except _TRANSPORT_ERRORS as exc:
                if not pyqwest_stale(exc):
                    raise
                log.info("%s: the pooled connection failed (%s); once more on a fresh one", self.url, exc)
                self._fresh = fresh_transport(
                    proxy=self._proxy, connect_timeout=self._timeout, tls=self.url.startswith("https:")
                )
                self._response = await self._open(pyqwest.Client(self._fresh))
        except _TRANSPORT_ERRORS as exc:
            await self._close_fresh()
            raise UpstreamUnavailable(f"Could not reach Cursor: {exc}") from exc
        except TimeoutError as exc:
            await self._close_fresh()
            raise UpstreamTimeout("Timed out connecting to Cursor") from exc
        response = self._response
        self.http_version = str(response.http_version)
        try:
            await self._check_response(response)
        except BaseException as exc:
            honour_retry_after(exc, response.headers.get("retry-after"))
            await self.__aexit__(None, None, None)
            raise

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close_send()
        cm, self._cm = self._cm, None
        if cm is not None:
            with contextlib.suppress(Exception):
                await cm.__aexit__(None, None, None)
        await self._close_fresh()

    async def _open(self, client: pyqwest.Client) -> pyqwest.Response:
        """One attempt: the request with a body that starts from the first frame, up to response headers."""
        self._cm = client.stream(
            "POST", self.url, headers=pyqwest.Headers(self.headers), content=self._body()
        )
        try:
            return await self._cm.__aenter__()
        except BaseException:
            self._cm = None
            raise

    async def _close_fresh(self) -> None:
        fresh, self._fresh = self._fresh, None
        if fresh is not None:
            with contextlib.suppress(Exception):
                await fresh.aclose()

    async def _check_response(self, response: pyqwest.Response) -> None:
        content_type = response.headers.get("content-type", "")
        if response.status == 200 and content_type.startswith("application/connect+"):
            return
        body = await self._read_bounded(response)
        if response.status == 464:
            raise UpstreamProtocolError("Cursor answered 464: the RPC was not sent over HTTP/2")
        try:
            obj = json.loads(body) if body else {}
        except ValueError:
            obj = {}
        if isinstance(obj, dict) and obj.get("code"):
            raise classify_connect_error(connect_error_from_json(obj, http_status=response.status))
        if response.status == 200:
            raise UpstreamProtocolError(f"Unexpected content type from Cursor: {content_type or 'none'}")
        raise classify_connect_error(
            connect_error_from_json(
                {"code": _code_for_status(response.status), "message": body[:200].decode("utf-8", "replace")},
                http_status=response.status,
            )
        )

    @staticmethod
    async def _read_bounded(response: pyqwest.Response) -> bytes:
        data = bytearray()
        with contextlib.suppress(*_TRANSPORT_ERRORS):
            async for chunk in response.content:
                data += chunk
                if len(data) >= _ERROR_BODY_LIMIT:
                    break
        return bytes(data)

    # -- reading ---------------------------------------------------------------------------------------

    async def frames(self, read_timeout: Callable[[], float] | None = None) -> AsyncGenerator[Frame, None]:
        """Server frames in order; ends after the end-stream frame. Raises UpstreamError subclasses.

        `read_timeout()` is asked before every read, so the caller can switch from a first-event
        deadline to an idle timeout once the answer has started."""
        assert self._response is not None, "use BidiCall as an async context manager"
        chunks = aiter(self._response.content)
        while True:
            timeout = read_timeout() if read_timeout is not None else None
            try:
                if timeout is None:
                    chunk = await anext(chunks)
                else:
                    chunk = await asyncio.wait_for(anext(chunks), max(0.0, timeout))
            except StopAsyncIteration:
                break
            except TimeoutError as exc:
                raise UpstreamTimeout("Cursor did not answer in time") from exc
            except _TRANSPORT_ERRORS as exc:
                raise UpstreamUnavailable(f"Cursor stream broke: {exc}") from exc
            try:
                decoded = self.decoder.feed(chunk)
            except ProtocolViolation as exc:
                raise UpstreamProtocolError(f"Undecodable Cursor stream: {exc}") from exc
            for frame in decoded:
                yield frame
                if frame.end_stream:
                    return
        try:
            self.decoder.finish()
        except ProtocolViolation as exc:
            raise UpstreamProtocolError(f"Cursor stream was cut off: {exc}") from exc
        raise UpstreamUnavailable("Cursor closed the stream without an end-of-stream frame")


def _code_for_status(status: int) -> str:
    return {
        400: "invalid_argument",
        401: "unauthenticated",
        403: "permission_denied",
        404: "unimplemented",
        408: "deadline_exceeded",
        429: "resource_exhausted",
        501: "unimplemented",
        502: "unavailable",
        503: "unavailable",
        504: "deadline_exceeded",
    }.get(status, "unknown")


__all__ = ["BidiCall", "UpstreamError"]
