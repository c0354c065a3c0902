"""Process-wide pyqwest transports, one per (proxy, scheme), reused by every request of a warm process.

Cursor's chat RPCs are HTTP/2-only and full duplex. For `https://` URLs ALPN negotiates h2 (we force
HTTP/2 so an HTTP/1.1 fallback can never produce the ALB's 464); for `http://` URLs (the emulator and
tests) HTTP/2 is used with prior knowledge.
"""

from __future__ import annotations

import threading

import pyqwest

_lock = threading.Lock()
_transports: dict[tuple[str, bool, float], pyqwest.HTTPTransport] = {}


def stream_transport(
    *, proxy: str = "", connect_timeout: float = 10.0, tls: bool = True
) -> pyqwest.HTTPTransport:
    key = (proxy, tls, connect_timeout)
    with _lock:
        transport = _transports.get(key)
        if transport is None:
            transport = pyqwest.HTTPTransport(
                http_version=pyqwest.HTTPVersion.HTTP2,
                tls_include_system_certs=tls,
                proxy=proxy or None,
                connect_timeout=connect_timeout,
                # Frames are gzip-compressed inside the Connect envelope; never let the HTTP layer
                # transform the body.
                enable_gzip=False,
                enable_brotli=False,
                enable_zstd=False,
                follow_redirects=False,
                enable_otel=False,
            )
            _transports[key] = transport
        return transport


def stream_client(url: str, *, proxy: str = "", connect_timeout: float = 10.0) -> pyqwest.Client:
    return pyqwest.Client(
        stream_transport(proxy=proxy, connect_timeout=connect_timeout, tls=url.startswith("https:"))
    )
