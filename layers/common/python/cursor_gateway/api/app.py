"""`create_app(*routers)`: the FastAPI app for one route group (a Lambda function) or all of them
(the local server). How to build the collaborators goes on `app.state`; `api.deps.services_of` builds them
lazily on first use so that importing a handler does no I/O and Mangum's per-invocation lifespan is never
relied upon."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import APIRouter, FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cursor_gateway import __version__
from cursor_gateway.api import errors
from cursor_gateway.api.routers import route_groups
from cursor_gateway.errors import PayloadTooLarge
from cursor_gateway.services.container import Services
from cursor_gateway.settings import Settings, get_settings


class BodyLimit:
    """Refuse bodies over the limit with 413 in the route's own envelope, before parsing them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._reject(scope, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject(scope, send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        exc = PayloadTooLarge(f"Request body exceeds the {self.limit}-byte limit")
        body = json.dumps(errors.error_body(errors.envelope_kind(scope.get("path", "")), exc)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def all_routers() -> list[APIRouter]:
    """Every route group, the schema's included: the local server's app."""
    from cursor_gateway.api.routes import schema

    return [*route_groups(), schema.router]


def create_app(
    *routers: APIRouter,
    settings: Settings | None = None,
    services: Services | Callable[[], Services] | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="cursor-gateway", version=__version__, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.settings = settings
    app.state.services_factory = services if callable(services) else None
    app.state.services_instance = services if isinstance(services, Services) else None
    errors.install(app)
    for router in routers or all_routers():
        app.include_router(router)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["x-ignored-params", "retry-after", "x-request-id"],
        )
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    # A browser navigating to a path that is both a page and an API route (/, /config, /keys) gets the page.
    from cursor_gateway.api.pages import PagesForBrowsers

    app.add_middleware(PagesForBrowsers)
    return app
