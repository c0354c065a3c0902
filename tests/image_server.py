"""A small HTTP/1.1 image host on 127.0.0.1 for the image-fetch guard's tests (real sockets).

Paths: /cat.png (a PNG), /redirect?to=<url> (302), /loop (302 to itself), /page.html (text/html),
/fake.png (image/png that is HTML), /big.png (over any small cap, with Content-Length), /stream.png
(the same without Content-Length), /slow.png (answers after 3 s), anything else 404. Every request's
path and Host header are recorded.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40


class ImageHost:
    def __init__(self, server: ThreadingHTTPServer) -> None:
        self.server = server
        self.requests: list[tuple[str, str]] = []  # (path, Host header)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


def _handler(host: ImageHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str, length: bool = True) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            if length:
                self.send_header("content-length", str(len(body)))
            else:
                self.send_header("connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            host.requests.append((self.path, self.headers.get("host", "")))
            path = urlsplit(self.path).path
            if path == "/cat.png":
                self._send(200, PNG, "image/png")
            elif path in ("/redirect", "/loop"):
                target = parse_qs(urlsplit(self.path).query).get("to", ["/loop"])[0]
                self.send_response(302)
                self.send_header("location", target)
                self.send_header("content-length", "0")
                self.end_headers()
            elif path == "/page.html":
                self._send(200, b"<html>hi</html>", "text/html; charset=utf-8")
            elif path == "/fake.png":
                self._send(200, b"<html>not an image</html>", "image/png")
            elif path == "/big.png":
                self._send(200, PNG + b"\x00" * 5000, "image/png")
            elif path == "/stream.png":
                self.close_connection = True
                self._send(200, PNG + b"\x00" * 5000, "image/png", length=False)
            elif path == "/slow.png":
                time.sleep(3)
                self._send(200, PNG, "image/png")
            else:
                self._send(404, b"not found", "text/plain")

    return Handler


@contextlib.contextmanager
def running_image_host() -> Iterator[ImageHost]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    host = ImageHost(server)
    server.RequestHandlerClass = _handler(host)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
