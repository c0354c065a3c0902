"""A SOCKS5 proxy for tests (RFC 1928: no authentication, CONNECT only) that counts the tunnels it opened,
on a free 127.0.0.1 port. It only ever connects to loopback targets. Stopped by its context manager."""

from __future__ import annotations

import contextlib
import ipaddress
import select
import socket
import socketserver
import struct
import threading
from collections.abc import Iterator


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        client: socket.socket = self.request
        client.settimeout(10)
        version, n_methods = _read(client, 2)
        _read(client, n_methods)
        if version != 5:
            return
        client.sendall(b"\x05\x00")  # no authentication
        _version, command, _reserved, address_type = _read(client, 4)
        if address_type == 1:
            host = str(ipaddress.IPv4Address(_read(client, 4)))
        elif address_type == 3:
            host = _read(client, _read(client, 1)[0]).decode()
        elif address_type == 4:
            host = str(ipaddress.IPv6Address(_read(client, 16)))
        else:
            return
        (port,) = struct.unpack("!H", _read(client, 2))
        if command != 1 or host not in ("127.0.0.1", "localhost", "::1"):
            client.sendall(b"\x05\x02\x00\x01" + bytes(6))  # not allowed: tests stay on loopback
            return
        with socket.create_connection((host, port), timeout=10) as upstream:
            with self.server.lock:
                self.server.tunnels.append(f"{host}:{port}")
            client.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", port))
            _relay(client, upstream)


def _read(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed during the SOCKS handshake")
        data += chunk
    return data


def _relay(a: socket.socket, b: socket.socket) -> None:
    a.settimeout(None)
    b.settimeout(None)
    while True:
        readable, _, _ = select.select([a, b], [], [], 30)
        if not readable:
            return
        for source in readable:
            data = source.recv(65536)
            if not data:
                return
            (b if source is a else a).sendall(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.tunnels: list[str] = []


class FakeSocks5:
    def __init__(self, server: _Server) -> None:
        self._server = server

    @property
    def url(self) -> str:
        return f"socks5://127.0.0.1:{self._server.server_address[1]}"

    @property
    def tunnels(self) -> list[str]:
        with self._server.lock:
            return list(self._server.tunnels)


@contextlib.contextmanager
def running_socks5() -> Iterator[FakeSocks5]:
    server = _Server()
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True)
    thread.start()
    try:
        yield FakeSocks5(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
