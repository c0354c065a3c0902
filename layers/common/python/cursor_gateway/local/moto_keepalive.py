"""Keep-alive connections for the embedded moto, and moto's per-request backend lookup done once.

werkzeug's development server answers every request with `Connection: close`, then waits for the client
to hang up: each AWS call paid a new TCP connection (a socket, getaddrinfo and a handshake in the
client, a new thread in the server). For the local stack's request logs that was two connections per
chat request. `KeepAliveHandler` serves HTTP/1.1 keep-alive instead: the request body is read whole by
its Content-Length (so the stream is at the next request whatever the app read), the response is
buffered and sent with a Content-Length, and TCP_NODELAY is set (no Nagle stall between headers and
body). A request with a chunked body goes to werkzeug's own handling, which closes the connection.

moto's `DomainDispatcherApplication` lists its package directory (an `isdir` per service, a few hundred)
on every request, under a lock, to see whether the Host header is a service name; `cache_moto_modules`
lists it once.
"""

from __future__ import annotations

import functools
import io
import logging
import socket
from collections.abc import Iterable
from typing import Any

from moto import backends
from moto.moto_server.werkzeug_app import MotoRequestHandler

log = logging.getLogger("cursor_gateway.local.moto")

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding"})
IDLE_SECONDS = 120  # an idle kept-alive connection is closed after this (botocore reconnects)


def cache_moto_modules() -> None:
    if getattr(backends.list_of_moto_modules, "cached", False):
        return
    modules = tuple(backends.list_of_moto_modules())

    @functools.wraps(backends.list_of_moto_modules)
    def listed() -> Iterable[str]:
        return modules

    listed.cached = True  # type: ignore[attr-defined]
    backends.list_of_moto_modules = listed


class KeepAliveHandler(MotoRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; on a kept-alive connection Nagle's algorithm would hold
        # the second until the client's delayed ACK (~40 ms per call).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def run_wsgi(self) -> None:
        length = self.headers.get("Content-Length")
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower() or not (length or "0").isdigit():
            super().run_wsgi()  # werkzeug's way: reads what it can, then closes the connection
            return
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        size = int(length or 0)
        body = self.rfile.read(size) if size else b""
        environ = self.environ = self.make_environ()
        environ["wsgi.input"] = io.BytesIO(body)
        answer: list[Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer[:] = [status, headers]  # nothing is sent before the app returns: always replaceable
            return chunks.append

        try:
            result = self.server.app(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            log.exception("moto failed on %s %s", self.command, self.path)
            answer[:] = ["500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")]]
            chunks[:] = [b"Internal Server Error"]
            self.close_connection = True
        self._send(str(answer[0]), answer[1], b"".join(chunks))

    def _send(self, status: str, headers: list[tuple[str, str]], payload: bytes) -> None:
        code_text, _, message = status.partition(" ")
        code = int(code_text)
        self.send_response(code, message)
        named = set()
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP:
                named.add(name.lower())
                self.send_header(name, value)
        no_body = self.command == "HEAD" or code < 200 or code in (204, 304)
        if "content-length" not in named and not no_body:
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if payload and not no_body:
            self.wfile.write(payload)
