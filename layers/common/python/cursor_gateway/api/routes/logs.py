"""Request logs: the reference's `/logs/*` routes and Antigravity's `/api/logs*` (logs-stats-pages.md
E.4). The admin sees everything; a gateway key or the shared token sees its own requests only (the scope
is forced; a foreign id is 404). Store reads are blocking boto3 calls, so they run in the thread pool."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from cursor_gateway.api.body import read_json
from cursor_gateway.api.deps import services_of
from cursor_gateway.api.viewers import require_admin_viewer, require_viewer
from cursor_gateway.domain.request_logs import parse_log_query, rfc3339
from cursor_gateway.errors import InvalidRequest
from cursor_gateway.services.log_reader import Viewer

router = APIRouter()


def _body(properties: dict[str, Any], required: bool = False) -> dict[str, Any]:
    """The body these routes parse themselves (to name a bad field in a 400), published in /openapi.json."""
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    return {"requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}}


QUERY_BODY = _body({"query": {"type": "object", "description": "the /logs/get query fields"}})
EXPORT_BODY = _body({"query": {"type": "object"}, "format": {"type": "string", "enum": ["csv", "ndjson"]}})
ALIASES_BODY = _body({"aliases": {"type": "array", "items": {"type": "string"}}})
NO_BODY = _body({})
ViewerDep = Annotated[Viewer, Depends(require_viewer)]
AdminDep = Annotated[Viewer, Depends(require_admin_viewer)]


def _query(services: Any, raw: Any) -> Any:
    reader = services.log_reader
    return parse_log_query(raw, now_ms=reader.now_ms(), max_limit=reader.max_limit)


@router.post("/logs/get", openapi_extra=QUERY_BODY)
async def logs_get(request: Request, viewer: ViewerDep) -> dict[str, Any]:
    services = services_of(request.app)
    body = await read_json(request, {"query"})
    query = _query(services, body.get("query"))
    active = services.request_log.health()["in_flight"] if viewer.admin else 0
    page: dict[str, Any] = await run_in_threadpool(services.log_reader.page, query, viewer, active=active)
    if viewer.admin:
        page["error"] = await run_in_threadpool(_errors_today, services)
    return page


def _errors_today(services: Any) -> int | None:
    try:
        return int(services.usage_stats.today_errors())
    except Exception:  # a counter read must not fail the listing
        return None


@router.get("/logs/{log_id}")
async def logs_detail(log_id: str, request: Request, viewer: ViewerDep) -> dict[str, Any]:
    services = services_of(request.app)
    entry = await run_in_threadpool(services.log_reader.detail, log_id, viewer)
    return {"status": "success", "log": entry}


@router.post("/logs/tokens/get", openapi_extra=ALIASES_BODY)
async def logs_tokens(request: Request, viewer: ViewerDep) -> dict[str, Any]:
    """Account summaries for the aliases in the body (never a credential). A key holder gets only the
    accounts that served its own requests; others map to null. The body is the reference's array of
    aliases, or {"aliases": [...]}."""
    services = services_of(request.app)
    raw = await read_json(request)
    if isinstance(raw, dict) and set(raw) <= {"aliases"}:
        raw = raw.get("aliases", [])
    if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
        raise InvalidRequest("The request body must be an array of account aliases", param="body")
    aliases = sorted(set(raw))

    def lookup() -> dict[str, Any]:
        allowed = None if viewer.admin else services.usage_stats.served_accounts(viewer.key_id)
        found: dict[str, Any] = {}
        for alias in aliases:
            record = services.token_store.get(alias) if allowed is None or alias in allowed else None
            found[alias] = _account_summary(record) if record is not None else None
        return found

    tokens = await run_in_threadpool(lookup)
    now = services.log_reader.now_ms()
    return {
        "status": "success",
        "tokens": tokens,
        "total": len(tokens),
        "timestamp": rfc3339(now, services.settings.stats_tz),
    }


def _account_summary(record: Any) -> dict[str, Any]:
    return {
        "alias": record.alias,
        "email": record.email or None,
        "name": record.user_name or None,
        "status": record.status,
        "membership_type": record.membership_type or None,
        "days_remaining_on_trial": record.trial_days_remaining,
        "subscription_status": record.subscription_status or None,
        "proxy": record.proxy or None,
        "timezone": record.timezone or None,
        "updated_at": record.user_updated_at or None,
    }


@router.post(
    "/logs/export",
    openapi_extra=EXPORT_BODY,
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
)
async def logs_export(request: Request, viewer: ViewerDep) -> StreamingResponse:
    services = services_of(request.app)
    body = await read_json(request, {"query", "format"})
    fmt = body.get("format", "csv")
    if not isinstance(fmt, str):
        raise InvalidRequest("Invalid value for 'format': expected csv or ndjson", param="format")
    query = _query(services, body.get("query"))
    chunks = await run_in_threadpool(services.log_reader.export, query, viewer, fmt)
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    filename = f"request-logs.{'csv' if fmt == 'csv' else 'ndjson'}"
    return StreamingResponse(
        iterate_in_threadpool(chunks),
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/logs/clear", openapi_extra=NO_BODY)
async def logs_clear(request: Request, viewer: AdminDep) -> dict[str, Any]:
    services = services_of(request.app)
    await read_json(request, set())  # no fields; bad JSON is still a 400
    epoch = await run_in_threadpool(services.log_reader.clear)
    return {
        "status": "success",
        "message": "Entries before the clear are hidden; TTL and the bucket lifecycle delete them later",
        "epoch": rfc3339(epoch, services.settings.stats_tz),
    }


# -- Antigravity's surface ----------------------------------------------------------------------------------


def _api_params(request: Request, allowed: set[str]) -> dict[str, str]:
    params = dict(request.query_params)
    for name in params:
        if name not in allowed:
            raise InvalidRequest(f"Unknown query parameter '{name}'", param=name)
    return params


def _int_param(params: dict[str, str], name: str, default: int, maximum: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise InvalidRequest(f"Invalid value for '{name}': expected an integer", param=name) from None
    if not 0 <= value <= maximum:
        raise InvalidRequest(f"'{name}' must be between 0 and {maximum}", param=name)
    return value


def _bool_param(params: dict[str, str], name: str) -> bool:
    raw = str(params.get(name, "false")).lower()
    if raw not in ("true", "false", "1", "0"):
        raise InvalidRequest(f"Invalid value for '{name}': expected true or false", param=name)
    return raw in ("true", "1")


@router.get("/api/logs")
async def api_logs(request: Request, viewer: ViewerDep) -> JSONResponse:
    services = services_of(request.app)
    params = _api_params(request, {"limit", "offset", "filter", "errorsOnly"})
    limit = _int_param(params, "limit", 50, 500)
    offset = _int_param(params, "offset", 0, 10_000)
    errors_only = _bool_param(params, "errorsOnly")
    reader = services.log_reader

    def listing() -> list[dict[str, Any]]:
        out = []
        for i, doc in enumerate(reader.api_entries(params.get("filter", ""), errors_only, viewer)):
            if i >= offset + limit:
                break
            if i >= offset:
                out.append(reader.antigravity(doc, viewer))
        return out

    return JSONResponse(await run_in_threadpool(listing))


@router.get("/api/logs/count")
async def api_logs_count(request: Request, viewer: ViewerDep) -> JSONResponse:
    services = services_of(request.app)
    params = _api_params(request, {"filter", "errorsOnly"})
    errors_only = _bool_param(params, "errorsOnly")

    def count() -> int:
        return sum(1 for _ in services.log_reader.api_entries(params.get("filter", ""), errors_only, viewer))

    return JSONResponse(await run_in_threadpool(count))


@router.get("/api/logs/{log_id}")
async def api_log_detail(log_id: str, request: Request, viewer: ViewerDep) -> dict[str, Any]:
    services = services_of(request.app)
    reader = services.log_reader

    def detail() -> dict[str, Any]:
        return reader.antigravity(reader.find(log_id, viewer), viewer, bodies=True)

    result: dict[str, Any] = await run_in_threadpool(detail)
    return result


@router.post("/api/logs/clear", openapi_extra=NO_BODY)
async def api_logs_clear(request: Request, viewer: AdminDep) -> dict[str, Any]:
    return await logs_clear(request, viewer)


@router.get("/api/proxy/stats")
async def api_proxy_stats(request: Request, viewer: ViewerDep) -> dict[str, Any]:
    """Antigravity's counters, for the retained window, from the usage counters (not a table count)."""
    services = services_of(request.app)
    stats = services.usage_stats
    days = max(1, min(400, int(services.settings.log_retention_days)))
    query = stats.parse({"days": str(days)}, "day", "days", scope_key="" if viewer.admin else viewer.key_id)
    summary = await run_in_threadpool(stats.summary, query, admin=viewer.admin)
    return {
        "total_requests": summary["total_requests"],
        "success_count": summary["success_count"],
        "error_count": summary["failure_count"],
    }
