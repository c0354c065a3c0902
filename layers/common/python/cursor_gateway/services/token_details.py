"""What `/tokens/get` shows about a token beyond its bundle and health: facts learnt from Cursor since
the fact sheet (issue 14), kept out of `services.tokens` so that module stays about the pool's edits."""

from __future__ import annotations

import time
from typing import Any

from cursor_gateway.domain.model_cooldowns import live_cooldowns
from cursor_gateway.domain.period_usage import PeriodUsage
from cursor_gateway.domain.tokens import TokenRecord


def usage_fields(usage: PeriodUsage, now: float) -> dict[str, Any]:
    """The `TokenRecord` fields a GetCurrentPeriodUsage answer sets (-1 where it said nothing)."""

    def known(value: float | None) -> float:
        return -1.0 if value is None else float(value)

    return {
        "plan_limit": known(usage.plan_limit),
        "plan_remaining": known(usage.remaining),
        "plan_percent_used": known(usage.percent_used),
        "plan_auto_percent_used": known(usage.auto_percent_used),
        "plan_api_percent_used": known(usage.api_percent_used),
        "billing_cycle_start": usage.cycle_start,
        "billing_cycle_end": usage.cycle_end,
        "usage_updated_at": now,
    }


def describe_usage(usage: PeriodUsage) -> str:
    if usage.remaining is not None and usage.plan_limit is not None:
        return f"plan {usage.remaining:g} of {usage.plan_limit:g} left"
    return f"plan {usage.percent_used:g}% used" if usage.percent_used is not None else "plan usage"


def account_details(record: TokenRecord, now: float | None = None) -> dict[str, Any]:
    """Extra `info` keys, present only when known."""
    details: dict[str, Any] = {}
    if record.usage_updated_at:

        def shown(value: float) -> float | None:
            return None if value < 0 else value

        details["usage"] = {
            "plan_limit": shown(record.plan_limit),
            "remaining": shown(record.plan_remaining),
            "percent_used": shown(record.plan_percent_used),
            "auto_percent_used": shown(record.plan_auto_percent_used),
            "api_percent_used": shown(record.plan_api_percent_used),
            "billing_cycle_start": record.billing_cycle_start or None,
            "billing_cycle_end": record.billing_cycle_end or None,
            "updated_at": int(record.usage_updated_at),
        }
    if record.agent_url:
        details["agent_url"] = record.agent_url  # from GetServerConfig; Run goes there
    resting = live_cooldowns(record.health, time.time() if now is None else now)
    if resting:
        details["model_cooldowns"] = resting  # model class -> end of its rest (unix seconds)
    return details
