"""`GET /health` and `GET /`: liveness for everyone; pool details only with the admin bearer."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from cursor_gateway import __version__
from cursor_gateway.api.auth import bearer_token, is_admin
from cursor_gateway.api.deps import services_of

router = APIRouter()


def identity_report(services: Any) -> dict[str, Any]:
    """The agent profile's client identity in force and where its version came from (issue 14)."""
    config = services.config
    identity = config.identity_for("agent")
    return {
        "client_type": identity.client_type,
        "client_version": identity.client_version,
        "source": config.identity_source("agent"),
        "discovery": services.version_discovery.report(),
    }


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
    # Only a caller who sent a bearer costs a key lookup (an SSM read in AWS, once per cache period).
    if bool(bearer_token(request)) and await run_in_threadpool(is_admin, request):
        records = services.token_store.list()
        body["pool"] = {
            "tokens": len(records),
            "enabled": sum(1 for r in records if r.status == "enabled"),
            "usable_now": services.token_pool.usable_count(),
        }
        body["protocol"] = services.config.current().cursor_protocol
        # Keys starting with "@" are the canary table's bookkeeping (discovered CLI build, usage runs).
        body["canary"] = {k: v for k, v in services.canary.store.latest().items() if not k.startswith("@")}
        body["identity"] = identity_report(services)
        body.update(await run_in_threadpool(_request_log_health, services))
    return body


def _request_log_health(services: Any) -> dict[str, Any]:
    """In-flight requests and log-write health of THIS process (on Lambda the chat function's own are not
    visible here), today's errors from the usage counters, and whether the log stores answer."""
    recorder = services.request_log.health()
    try:
        errors_today: int | None = int(services.usage_stats.today_errors())
    except Exception:  # an unreachable store is reported below, not a failed /health
        errors_today = None
    storage = services.request_log_store.ping()
    return {
        "requests": {"in_flight": recorder["in_flight"], "errors_today": errors_today},
        "storage": {
            **storage,
            "log_write_backlog": recorder["log_write_backlog"],
            "log_write_failures": recorder["log_write_failures"],
            "log_writes_dropped": recorder["log_writes_dropped"],
        },
    }
