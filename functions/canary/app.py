"""CanaryFunction: the drift canary on an EventBridge schedule (`cursor-gateway canary` in Lambda)."""

from __future__ import annotations

from typing import Any

from cursor_gateway.services.canary_cli import run_scheduled


def handler(event: Any, context: Any) -> dict[str, Any]:
    return run_scheduled(event)
