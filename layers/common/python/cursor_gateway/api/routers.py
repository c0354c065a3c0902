"""Every route group of the gateway but the schema's, in the order the local server mounts them.

`api.app.all_routers()` adds the schema router (`routes/schema.py`); the schema route builds the whole
gateway's schema from this list plus itself. Each group is imported only when asked for, so a Lambda
function that mounts one group never imports the others."""

from __future__ import annotations

from fastapi import APIRouter


def route_groups() -> list[APIRouter]:
    from cursor_gateway.api.routes import (
        analytics,
        chat,
        config,
        cursor,
        health,
        keys,
        logs,
        messages,
        models,
        pages,
        proxies,
        responses,
        stats,
        tab,
        tokens,
        utilities,
    )

    return [
        health.router,
        chat.router,
        messages.router,
        models.router,
        tokens.router,
        config.router,
        analytics.router,
        utilities.router,
        proxies.router,
        keys.router,
        tab.router,
        logs.router,
        stats.router,
        pages.router,
        responses.router,
        cursor.router,
    ]
