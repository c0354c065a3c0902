"""A small asyncio HTTP/2 server on the `h2` state machine: prior-knowledge cleartext, full duplex.

Each request stream gets an `H2Stream` and its own handler task; the handler can read request data as
it arrives while writing the response, which is exactly what Cursor's bidirectional RPCs need (and
what ASGI servers that buffer requests cannot show). Flow control is respected on both sides.

`H2Server.connection_fault` injects the connection-level failures a client must survive by retrying on
a fresh connection (see `CONNECTION_FAULTS`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

log = logging.getLogger("cursor_gateway.emulator")

CONNECTION_FAULTS = {
    "": "none",
    # What a NAT, a load balancer or a buggy server does to an idle connection: it is gone without a
    # GOAWAY, and the client learns it only when it writes the next request (answered by a TCP reset,
    # no response). Here a connection dies as soon as it is idle after a completed stream.
    "drop_idle": "after a completed stream, the next request on an idle connection resets the TCP connection",
    # A server draining a connection without a GOAWAY: every stream opened after the first completed one
    # is refused with RST_STREAM(REFUSED_STREAM) (RFC 9113 8.7: never processed, safe to retry).
    "refuse_reused": "after a completed stream, every new stream on that connection is refused",
}


class H2Stream:
    def __init__(self, conn: _Connection, stream_id: int, headers: dict[str, str]) -> None:
        self._conn = conn
        self.stream_id = stream_id
        self.headers = headers
        self.path = headers.get(":path", "")
        self.method = headers.get(":method", "")
        self._inbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.closed = False
        self.response_started = False
        # With a small window (H2Server.window), received data is acknowledged only when read.
        self._unacknowledged: list[int] = []

    async def read(self) -> bytes | None:
        """The next chunk of request body, or None once the client has half-closed."""
        chunk = await self._inbox.get()
        if chunk is not None and self._unacknowledged:
            self._conn.acknowledge(self.stream_id, self._unacknowledged.pop(0))
        return chunk

    async def read_all(self, limit: int = 8 * 1024 * 1024) -> bytes:
        data = bytearray()
        while (chunk := await self.read()) is not None:
            data += chunk
            if len(data) > limit:
                raise ValueError("request body too large")
        return bytes(data)

    async def respond(self, status: int, headers: list[tuple[str, str]], *, end: bool = False) -> None:
        self.response_started = True
        self._conn.send_headers(self.stream_id, [(":status", str(status)), *headers], end)

    async def write(self, data: bytes, *, end: bool = False) -> None:
        await self._conn.send_data(self.stream_id, data, end)

    async def end(self) -> None:
        await self._conn.send_data(self.stream_id, b"", True)

    def reset(self) -> None:
        self._conn.reset(self.stream_id)


Handler = Callable[[H2Stream], Awaitable[None]]


class _Connection(asyncio.Protocol):
    def __init__(self, handler: Handler, server: H2Server) -> None:
        self._handler = handler
        self._server = server
        self._h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        self._transport: asyncio.Transport | None = None
        self._streams: dict[int, H2Stream] = {}
        self._window_open: dict[int, asyncio.Event] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._completed = 0  # streams whose handler finished (connection_fault counts from here)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._server.connections.add(self)
        self._h2.initiate_connection()
        if self._server.window:
            # A small per-stream receive window: a client must pace a large request body (send-side flow
            # control) or h2 refuses its frames and the connection drops.
            self._h2.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: self._server.window})
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.connections.discard(self)
        for stream in self._streams.values():
            stream.closed = True
            stream._inbox.put_nowait(None)
        for event in self._window_open.values():
            event.set()
        for task in self._tasks:
            task.cancel()

    def data_received(self, data: bytes) -> None:
        try:
            events = self._h2.receive_data(data)
        except h2.exceptions.ProtocolError:
            self._flush()
            if self._transport:
                self._transport.close()
            return
        for event in events:
            if self._transport is None or self._transport.is_closing():
                return
            self._on_event(event)
        self._flush()

    def _on_event(self, event: h2.events.Event) -> None:
        # The stream an event is about; None for a stream this connection no longer (or never) served.
        stream: H2Stream | None
        if isinstance(event, h2.events.RequestReceived):
            headers = {str(k): str(v) for k, v in event.headers or []}
            if self._faulted(event.stream_id, headers):
                return
            stream = H2Stream(self, event.stream_id, headers)
            self._streams[event.stream_id] = stream
            task = asyncio.get_running_loop().create_task(self._run(stream))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif isinstance(event, h2.events.DataReceived):
            stream = self._streams.get(event.stream_id)
            self._server.received_bytes += event.flow_controlled_length or 0
            if self._server.window and stream is not None and event.data:
                stream._unacknowledged.append(event.flow_controlled_length)
            elif event.flow_controlled_length:
                self._h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            if stream is not None and event.data:
                stream._inbox.put_nowait(event.data)
        elif isinstance(event, h2.events.StreamEnded):
            stream = self._streams.get(event.stream_id)
            if stream is not None:
                stream._inbox.put_nowait(None)
        elif isinstance(event, h2.events.StreamReset):
            stream = self._streams.get(event.stream_id)
            if stream is not None:
                stream.closed = True
                stream._inbox.put_nowait(None)
            self._wake(event.stream_id)
        elif isinstance(event, h2.events.WindowUpdated):
            if event.stream_id == 0:
                for sid in list(self._window_open):
                    self._wake(sid)
            else:
                self._wake(event.stream_id)
        elif isinstance(event, h2.events.ConnectionTerminated) and self._transport:
            self._transport.close()

    def _faulted(self, stream_id: int, headers: dict[str, str]) -> bool:
        """Apply the server's connection fault to a new stream; True when it was not served."""
        fault = self._server.connection_fault
        if not fault or not self._completed:
            return False
        if fault == "drop_idle" and not self._streams and self._transport is not None:
            self._server.faulted.append(headers)
            self._transport.abort()  # a TCP reset, no GOAWAY, no response
            return True
        if fault == "refuse_reused":
            self._server.faulted.append(headers)
            with contextlib.suppress(h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
                self._h2.reset_stream(stream_id, error_code=h2.errors.ErrorCodes.REFUSED_STREAM)
            return True
        return False

    def _wake(self, stream_id: int) -> None:
        waiter = self._window_open.get(stream_id)
        if waiter is not None:
            waiter.set()

    async def _run(self, stream: H2Stream) -> None:
        try:
            await self._handler(stream)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("emulator handler failed on %s", stream.path)
            if not stream.closed:
                with contextlib.suppress(Exception):
                    if not stream.response_started:
                        await stream.respond(500, [("content-type", "text/plain")])
                    stream.reset()
        finally:
            self._streams.pop(stream.stream_id, None)
            self._completed += 1

    def _flush(self) -> None:
        data = self._h2.data_to_send()
        if data and self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def acknowledge(self, stream_id: int, size: int) -> None:
        """Give `size` bytes of receive window back (the handler has read them)."""
        with contextlib.suppress(h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
            self._h2.acknowledge_received_data(size, stream_id)
            self._server.window_updates += 1
        self._flush()

    def send_headers(self, stream_id: int, headers: list[tuple[str, str]], end: bool) -> None:
        with contextlib.suppress(h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
            self._h2.send_headers(stream_id, headers, end_stream=end)
        self._flush()

    async def send_data(self, stream_id: int, data: bytes, end: bool) -> None:
        view = memoryview(data)
        while True:
            stream = self._streams.get(stream_id)
            if stream is None or stream.closed or self._transport is None or self._transport.is_closing():
                return
            try:
                window = self._h2.local_flow_control_window(stream_id)
            except h2.exceptions.StreamClosedError:
                return
            size = min(window, self._h2.max_outbound_frame_size, len(view))
            if size <= 0 and len(view) > 0:
                waiter = self._window_open.setdefault(stream_id, asyncio.Event())
                waiter.clear()
                await waiter.wait()
                continue
            chunk, view = view[:size], view[size:]
            last = end and len(view) == 0
            try:
                self._h2.send_data(stream_id, bytes(chunk), end_stream=last)
            except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
                return
            self._flush()
            if len(view) == 0:
                return

    def reset(self, stream_id: int) -> None:
        with contextlib.suppress(h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
            self._h2.reset_stream(stream_id, error_code=h2.errors.ErrorCodes.INTERNAL_ERROR)
        stream = self._streams.get(stream_id)
        if stream is not None:
            stream.closed = True
        self._flush()


class H2Server:
    """`await H2Server(handler).start(host, port)`; `port` 0 picks a free one (read `.port`)."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._server: asyncio.Server | None = None
        self.connections: set[_Connection] = set()
        self.port = 0
        self.connection_fault = ""  # a key of CONNECTION_FAULTS
        self.faulted: list[dict[str, str]] = []  # the request headers of every stream the fault hit
        # 0: h2's defaults, data acknowledged on receipt. Else the per-stream receive window in bytes.
        self.window = 0
        self.received_bytes = 0
        self.window_updates = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> H2Server:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self._handler, self), host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for conn in list(self.connections):
                if conn._transport is not None:
                    conn._transport.close()
            await self._server.wait_closed()
            self._server = None
