"""Real sockets for end-to-end tests: the fake Cursor on its own event loop thread, and the gateway
under uvicorn on a free 127.0.0.1 port. Everything started here is stopped by its context manager."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import uvicorn
from cursor_gateway.api.app import create_app
from cursor_gateway.domain.tokens import TokenRecord
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.emulator.tokens import fake_jwt
from cursor_gateway.services.container import Services, build_services
from cursor_gateway.settings import Settings
from cursor_gateway.storage.config import InMemoryConfigStore
from cursor_gateway.storage.proxies import InMemoryProxyStore
from cursor_gateway.storage.request_logs_memory import InMemoryRequestLogStore
from cursor_gateway.storage.tokens import InMemoryTokenStore

T = TypeVar("T")

ADMIN = "test-admin-token"
SHARED = "test-shared-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LoopThread:
    """An asyncio loop in a daemon thread, for servers that must outlive one test's own loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@contextlib.contextmanager
def running_fake(behaviour: Behaviour | None = None) -> Iterator[FakeCursor]:
    loop = LoopThread()
    fake = FakeCursor(behaviour or Behaviour())
    try:
        loop.run(fake.start())
        yield fake
    finally:
        with contextlib.suppress(Exception):
            loop.run(fake.close(), timeout=10)
        loop.stop()


def session_record(alias: str, **kwargs: Any) -> TokenRecord:
    token = fake_jwt(user_id=f"user_01{alias.upper():0<24}"[:31])
    return TokenRecord(alias=alias, kind="session", primary_token=token, **kwargs)


def gateway_settings(fake: FakeCursor, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "auth_token": ADMIN,
        "shared_token": SHARED,
        "cursor_api_url": fake.url,
        "cursor_heartbeat_seconds": 0.5,
        "cursor_first_event_timeout": 10.0,
        "rate_limit_cooldown": 60.0,
        # Never the network: discovery tests give their own installer server.
        "cursor_version_discovery_url": "off",
    }
    values.update(overrides)
    return Settings(**values)


def make_services(settings: Settings, records: list[TokenRecord], **kwargs: Any) -> Services:
    kwargs.setdefault("config_store", InMemoryConfigStore())
    kwargs.setdefault("proxy_store", InMemoryProxyStore())
    kwargs.setdefault("request_log_store", InMemoryRequestLogStore())
    return build_services(settings, token_store=InMemoryTokenStore(records), **kwargs)


@contextlib.contextmanager
def running_gateway(
    settings: Settings, services: Services, *, configure: Callable[[Any], None] | None = None
) -> Iterator[str]:
    """`configure(app)` runs before the server starts (e.g. FastAPI dependency overrides)."""
    port = free_port()
    app = create_app(settings=settings, services=services)
    if configure is not None:
        configure(app)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("gateway did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
