"""Process-wide httpx clients for Cursor's plain HTTP/JSON and unary calls (key exchange, token refresh,
model catalog). One client per (event loop, scheme, proxy): pooled connections belong to the loop that
opened them, so a warm Lambda or uvicorn process reuses one client per proxy and tests with a loop each
never share a dead pool. `https://` negotiates HTTP/2 by ALPN; `http://` (emulator, tests) follows what
CURSOR_API_URL promises there: HTTP/2 with prior knowledge, which httpx uses when HTTP/1.1 is off.

A request whose pooled connection turns out dead before the response is sent once more on a fresh
connection (`upstream.fresh_retry`).

`proxy` is as in `upstream.transport`: DIRECT ("") ignores proxy environment variables (trust_env off),
SYSTEM ("sys") follows them, else a proxy URL (socks5/socks5h through the `httpx[socks]` extra)."""

from __future__ import annotations

import asyncio
import threading
import weakref

import httpx

from cursor_gateway.upstream.fresh_retry import FreshRetryAsyncClient
from cursor_gateway.upstream.transport import DIRECT, SYSTEM

_lock = threading.Lock()
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)


def json_client(base_url: str, *, connect_timeout: float = 10.0, proxy: str = SYSTEM) -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    cleartext = base_url.startswith("http://")
    key = ("http" if cleartext else "https", proxy)
    with _lock:
        per_loop = _clients.setdefault(loop, {})
        client = per_loop.get(key)
        if client is None or client.is_closed:
            client = FreshRetryAsyncClient(
                http2=True,
                http1=not cleartext,
                proxy=None if proxy in (DIRECT, SYSTEM) else proxy,
                trust_env=proxy == SYSTEM,
                timeout=httpx.Timeout(20.0, connect=connect_timeout),
                follow_redirects=False,
            )
            per_loop[key] = client
        return client
