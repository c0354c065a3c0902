"""The operator's schedule for account usage (USAGE_REFRESH_INTERVAL > 0): GetCurrentPeriodUsage for
every enabled token, at most once per interval across all instances (the last run is kept in the canary
table). It rides on the canary's scheduled function (EventBridge), so no extra function or rule is needed."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("cursor_gateway.services.usage_schedule")

STORE_KEY = "@usage-refresh"


async def refresh_usage_if_due(services: Any, *, force: bool = False) -> dict[str, Any] | None:
    """The batch answer of a run, or None when off or not due."""
    interval = services.settings.usage_refresh_interval
    if interval <= 0 and not force:
        return None
    store = services.canary.store
    now = services.clock()
    last = float((store.latest().get(STORE_KEY) or {}).get("at") or 0)
    if not force and now - last < interval:
        return None
    aliases = [r.alias for r in services.token_store.list() if r.usable]
    answer: dict[str, Any] = await services.token_accounts.refresh_usage(aliases)
    store.save(STORE_KEY, {"at": now, "message": answer.get("message")})
    log.info("scheduled usage refresh: %s", answer.get("message"))
    return answer
