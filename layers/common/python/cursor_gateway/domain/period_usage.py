"""The account's current billing period as Cursor's dashboard reports it (pure; issue 14).

`aiserver.v1.DashboardService/GetCurrentPeriodUsage` (Connect JSON on api2) answers with the plan's
limit and what remains of it, the percentages used (total, Auto, API models) and the billing cycle.
Numbers may arrive as JSON numbers or (int64) strings, cycle bounds as epoch milliseconds or ISO
dates; anything missing stays unknown rather than zero, so "no data" never looks like "nothing left".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


class UsageShapeError(ValueError):
    """The answer is not the shape we know (so we do not store a guess)."""


@dataclass(frozen=True, slots=True)
class PeriodUsage:
    plan_limit: float | None = None
    remaining: float | None = None
    percent_used: float | None = None
    auto_percent_used: float | None = None
    api_percent_used: float | None = None
    cycle_start: str = ""  # ISO 8601, UTC
    cycle_end: str = ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _moment(value: Any) -> str:
    number = _number(value)
    if number is not None:
        seconds = number / 1000 if number > 10**11 else number  # epoch ms (Cursor's habit) or seconds
        return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")
    return value if isinstance(value, str) else ""


def parse_period_usage(obj: Any) -> PeriodUsage:
    if not isinstance(obj, dict):
        raise UsageShapeError("not a JSON object")
    plan = obj.get("planUsage") or obj.get("plan_usage") or {}
    if not isinstance(plan, dict):
        raise UsageShapeError("planUsage is not an object")
    limit = _number(plan.get("limit"))
    remaining = _number(plan.get("remaining"))
    used = _number(plan.get("totalPercentUsed", plan.get("percentUsed")))
    if remaining is None and limit is not None and _number(plan.get("used")) is not None:
        remaining = max(0.0, limit - float(plan["used"]))
    if used is None and limit and remaining is not None:
        used = round(100.0 * (limit - remaining) / limit, 2)
    usage = PeriodUsage(
        plan_limit=limit,
        remaining=remaining,
        percent_used=used,
        auto_percent_used=_number(plan.get("autoPercentUsed")),
        api_percent_used=_number(plan.get("apiPercentUsed")),
        cycle_start=_moment(obj.get("billingCycleStart")),
        cycle_end=_moment(obj.get("billingCycleEnd")),
    )
    if usage.plan_limit is None and usage.remaining is None and usage.percent_used is None:
        raise UsageShapeError("no plan limit, remaining amount or percentage in the answer")
    return usage
