"""`aiserver.v1.DashboardService/GetCurrentPeriodUsage`: Connect JSON (unary) on api2 with the bearer."""

from __future__ import annotations

import httpx

from cursor_gateway.codec.connect_error import connect_error_from_json
from cursor_gateway.domain.period_usage import PeriodUsage, UsageShapeError, parse_period_usage
from cursor_gateway.errors import UpstreamProtocolError, UpstreamTimeout, UpstreamUnavailable
from cursor_gateway.settings import Settings
from cursor_gateway.upstream.classify import classify_connect_error
from cursor_gateway.upstream.http import json_client
from cursor_gateway.upstream.retry_after import honour_retry_after
from cursor_gateway.upstream.transport import SYSTEM

PERIOD_USAGE_PATH = "/aiserver.v1.DashboardService/GetCurrentPeriodUsage"


async def fetch_period_usage(settings: Settings, bearer: str, *, proxy: str = SYSTEM) -> PeriodUsage:
    base = settings.cursor_api_url.rstrip("/")
    client = json_client(base, connect_timeout=settings.cursor_connect_timeout, proxy=proxy)
    headers = {
        "authorization": f"Bearer {bearer}",
        "content-type": "application/json",
        "connect-protocol-version": "1",
    }
    try:
        response = await client.post(base + PERIOD_USAGE_PATH, content=b"{}", headers=headers)
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout("Cursor GetCurrentPeriodUsage timed out") from exc
    except httpx.TransportError as exc:
        raise UpstreamUnavailable(f"Cursor GetCurrentPeriodUsage failed: {type(exc).__name__}") from exc
    try:
        obj = response.json()
    except ValueError:
        obj = None
    if response.status_code != 200:
        body = obj if isinstance(obj, dict) and obj.get("code") else {"code": "unknown", "message": ""}
        error = classify_connect_error(connect_error_from_json(body, http_status=response.status_code))
        honour_retry_after(error, response.headers.get("retry-after"))
        raise error
    try:
        return parse_period_usage(obj)
    except UsageShapeError as exc:
        raise UpstreamProtocolError(f"Unexpected GetCurrentPeriodUsage answer: {exc}") from exc
