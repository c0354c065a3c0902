"""Token-usage statistics: Antigravity's `/api/stats/token/*` (same paths, parameters and item shapes)
plus ours (logs-stats-pages.md E.5). Every route takes `tz` (IANA; buckets in that zone), `from`/`to`
(RFC 3339), `api_key_id` and `account`; periods are zero-filled and ascending. A key holder (or the
shared token) always gets its own key's numbers. Answers come from pre-aggregated counters only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from cursor_gateway.api.body import read_json
from cursor_gateway.api.deps import services_of
from cursor_gateway.api.viewers import require_admin_viewer, require_viewer
from cursor_gateway.errors import InvalidRequest
from cursor_gateway.services.log_reader import Viewer

router = APIRouter()
ViewerDep = Annotated[Viewer, Depends(require_viewer)]

GRANULARITY = {"hourly": ("hour", "hours"), "daily": ("day", "days"), "weekly": ("week", "weeks")}
TREND_DEFAULTS = {"hourly": ("hour", "hours", "24"), "daily": ("day", "days", "7")}


def _query(
    request: Request, viewer: Viewer, granularity: str, count: str, extra: frozenset[str] = frozenset()
) -> Any:
    services = services_of(request.app)
    params = dict(request.query_params)
    if request.url.path.endswith("/hourly"):
        params.setdefault("hours", "24")  # Antigravity's hourly default (summary and by-* use 168)
    return services.usage_stats.parse(
        params, granularity, count, scope_key="" if viewer.admin else viewer.key_id, extra=extra
    )


async def _run(request: Request, function: Any, *args: Any, **kwargs: Any) -> Any:
    return await run_in_threadpool(function, *args, **kwargs)


@router.get("/api/stats/token/summary")
@router.get("/api/stats/summary")
async def summary(request: Request, viewer: ViewerDep) -> dict[str, Any]:
    stats = services_of(request.app).usage_stats
    result: dict[str, Any] = await _run(
        request, stats.summary, _query(request, viewer, "hour", "hours"), admin=viewer.admin
    )
    return result


async def _series(request: Request, viewer: Viewer, name: str) -> list[dict[str, Any]]:
    granularity, count = GRANULARITY[name]
    stats = services_of(request.app).usage_stats
    result: list[dict[str, Any]] = await _run(
        request, stats.series, _query(request, viewer, granularity, count), granularity
    )
    return result


@router.get("/api/stats/token/hourly")
@router.get("/api/stats/hourly")
async def hourly(request: Request, viewer: ViewerDep) -> list[dict[str, Any]]:
    return await _series(request, viewer, "hourly")


@router.get("/api/stats/token/daily")
@router.get("/api/stats/daily")
async def daily(request: Request, viewer: ViewerDep) -> list[dict[str, Any]]:
    return await _series(request, viewer, "daily")


@router.get("/api/stats/token/weekly")
@router.get("/api/stats/weekly")
async def weekly(request: Request, viewer: ViewerDep) -> list[dict[str, Any]]:
    return await _series(request, viewer, "weekly")


@router.get("/api/stats/token/by-account")
@router.get("/api/stats/accounts")
async def by_account(request: Request, viewer: ViewerDep) -> list[dict[str, Any]]:
    stats = services_of(request.app).usage_stats
    result: list[dict[str, Any]] = await _run(
        request, stats.by, _query(request, viewer, "hour", "hours"), "account"
    )
    return result


@router.get("/api/stats/token/by-model")
@router.get("/api/stats/models")
async def by_model(request: Request, viewer: ViewerDep) -> list[dict[str, Any]]:
    stats = services_of(request.app).usage_stats
    query = _query(request, viewer, "hour", "hours", frozenset({"model_field"}))
    field = query.extra.get("model_field", "requested")
    if field not in ("requested", "upstream"):
        raise InvalidRequest(
            "Invalid value for 'model_field': expected requested or upstream", param="model_field"
        )
    result: list[dict[str, Any]] = await _run(
        request, stats.by, query, "model" if field == "requested" else "upstream"
    )
    return result


@router.get("/api/stats/token/by-key")
async def by_key(request: Request, viewer: ViewerDep) -> list[dict[str, Any]]:
    stats = services_of(request.app).usage_stats
    query = _query(request, viewer, "hour", "hours")
    if not viewer.admin or query.api_key_id:
        own: list[dict[str, Any]] = await _run(request, stats.own_key_row, query)
        return own
    result: list[dict[str, Any]] = await _run(request, stats.by, query, "key")
    return result


async def _trend(request: Request, viewer: Viewer, dimension: str, period: str) -> list[dict[str, Any]]:
    if period not in TREND_DEFAULTS:
        raise InvalidRequest("The trend period must be hourly or daily", param="period")
    granularity, count, default = TREND_DEFAULTS[period]
    services = services_of(request.app)
    params = dict(request.query_params)
    params.setdefault(count, default)
    query = services.usage_stats.parse(
        params, granularity, count, scope_key="" if viewer.admin else viewer.key_id
    )
    result: list[dict[str, Any]] = await _run(
        request, services.usage_stats.trend, query, granularity, dimension
    )
    return result


@router.get("/api/stats/token/model-trend/{period}")
async def model_trend(period: str, request: Request, viewer: ViewerDep) -> list[dict[str, Any]]:
    return await _trend(request, viewer, "model", period)


@router.get("/api/stats/token/account-trend/{period}")
async def account_trend(period: str, request: Request, viewer: ViewerDep) -> list[dict[str, Any]]:
    return await _trend(request, viewer, "account", period)


@router.post(
    "/api/stats/token/clear",
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": {"type": "object", "additionalProperties": False}}},
        }
    },
)
async def clear(request: Request, viewer: Annotated[Viewer, Depends(require_admin_viewer)]) -> dict[str, Any]:
    await read_json(request, set())  # no fields; bad JSON is still a 400
    stats = services_of(request.app).usage_stats
    epoch = await _run(request, stats.clear)
    return {"status": "success", "message": "Statistics before now are ignored", "epoch_ms": epoch}
