"""AnalyticsFunction: pulls Cursor's Admin API analytics. A plain handler for the EventBridge schedule
and for the asynchronous invocation `POST /analytics/pull` makes; both run the one pull service."""

from __future__ import annotations

from typing import Any

from cursor_gateway.services.analytics import handle_event


def handler(event: Any, context: Any) -> dict[str, Any]:
    return handle_event(event, context)
