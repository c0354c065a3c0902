"""`GET /health` and `GET /`: liveness for everyone; pool details only with the admin bearer."""

from __future__ import annotations

import hmac
import time
from typing import Any

from fastapi import APIRouter, Request

from cursor_gateway import __version__
from cursor_gateway.api.app import services_of

router = APIRouter()


@router.get("/health")
@router.get("/")
async def health(request: Request) -> dict[str, Any]:
    services = services_of(request.app)
    body: dict[str, Any] = {
        "status": "ok",
        "service": "cursor-gateway",
        "version": __version__,
        "uptime_seconds": round(time.time() - services.started_at, 1),
    }
    token = services.settings.auth_token
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if token and given and hmac.compare_digest(given.encode(), token.encode()):
        records = services.token_store.list()
        body["pool"] = {
            "tokens": len(records),
            "enabled": sum(1 for r in records if r.status == "enabled"),
            "usable_now": services.token_pool.usable_count(),
        }
        body["protocol"] = services.config.current().cursor_protocol
        body["canary"] = services.canary.store.latest()
    return body
