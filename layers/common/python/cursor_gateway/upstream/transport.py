"""Process-wide pyqwest transports, one per (proxy, scheme), reused by every request of a warm process.

Cursor's chat RPCs are HTTP/2-only and full duplex. For `https://` URLs ALPN negotiates h2 (we force
HTTP/2 so an HTTP/1.1 fallback can never produce the ALB's 464); for `http://` URLs (the emulator and
tests) HTTP/2 is used with prior knowledge.

The `proxy` argument (here and in `upstream.http`) is what `services.proxies.ProxyService.resolve` gives:
`DIRECT` ("") connects directly and ignores proxy environment variables, `SYSTEM` ("sys") leaves the
choice to them (HTTP(S)_PROXY / ALL_PROXY / NO_PROXY, i.e. the default egress), anything else is a proxy
URL (http, https, socks5, socks5h).
"""

from __future__ import annotations

import threading
from typing import Any

import pyqwest

DIRECT = ""
SYSTEM = "sys"

_lock = threading.Lock()
_transports: dict[tuple[str, bool, float], pyqwest.HTTPTransport] = {}


def pyqwest_proxy(proxy: str) -> str | pyqwest.Proxy | None:
    """The transport's `proxy` option. reqwest applies the environment's proxies unless an explicit proxy
    is configured and has no switch to turn that off, so DIRECT is an explicit proxy that excludes every
    host (`*` covers names, the two prefixes every IP address)."""
    if proxy == SYSTEM:
        return None
    if proxy == DIRECT:
        return pyqwest.Proxy("http://127.0.0.1:9", no_proxy="*,0.0.0.0/0,::/0")
    return proxy


def stream_transport(
    *, proxy: str = SYSTEM, connect_timeout: float = 10.0, tls: bool = True
) -> pyqwest.HTTPTransport:
    key = (proxy, tls, connect_timeout)
    with _lock:
        transport = _transports.get(key)
        if transport is None:
            transport = pyqwest.HTTPTransport(**_options(proxy, connect_timeout, tls))
            _transports[key] = transport
        return transport


def _options(proxy: str, connect_timeout: float, tls: bool) -> dict[str, Any]:
    return {
        "http_version": pyqwest.HTTPVersion.HTTP2,
        "tls_include_system_certs": tls,
        "proxy": pyqwest_proxy(proxy),
        "connect_timeout": connect_timeout,
        # Frames are gzip-compressed inside the Connect envelope; never let the HTTP layer transform
        # the body.
        "enable_gzip": False,
        "enable_brotli": False,
        "enable_zstd": False,
        "follow_redirects": False,
        "enable_otel": False,
    }


def fresh_transport(
    *, proxy: str = SYSTEM, connect_timeout: float = 10.0, tls: bool = True
) -> pyqwest.HTTPTransport:
    """A one-off transport that keeps no idle connection: a retry after a dead pooled connection
    (`upstream.fresh_retry`) gets a brand-new one. The caller closes it (`aclose`) when done."""
    return pyqwest.HTTPTransport(**_options(proxy, connect_timeout, tls), pool_max_idle_per_host=0)


def stream_client(url: str, *, proxy: str = SYSTEM, connect_timeout: float = 10.0) -> pyqwest.Client:
    return pyqwest.Client(
        stream_transport(proxy=proxy, connect_timeout=connect_timeout, tls=url.startswith("https:"))
    )
