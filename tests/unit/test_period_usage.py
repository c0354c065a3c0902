from __future__ import annotations

import pytest
from cursor_gateway.domain.period_usage import PeriodUsage, UsageShapeError, parse_period_usage


def test_connect_json_with_int64_strings_and_epoch_millis() -> None:
    usage = parse_period_usage(
        {
            "billingCycleStart": "1790812800000",
            "billingCycleEnd": 1793491200,
            "planUsage": {
                "limit": "500",
                "remaining": "125",
                "autoPercentUsed": 10.5,
                "apiPercentUsed": 64.5,
            },
        }
    )
    assert usage == PeriodUsage(
        plan_limit=500.0,
        remaining=125.0,
        percent_used=75.0,  # derived when Cursor sends no total percentage
        auto_percent_used=10.5,
        api_percent_used=64.5,
        cycle_start="2026-10-01T00:00:00Z",
        cycle_end="2026-11-01T00:00:00Z",
    )


def test_used_amount_gives_the_remaining_one() -> None:
    usage = parse_period_usage({"planUsage": {"limit": 100, "used": 30, "totalPercentUsed": 30}})
    assert (usage.remaining, usage.percent_used, usage.cycle_start) == (70.0, 30.0, "")


@pytest.mark.parametrize("body", [None, [], {"planUsage": "x"}, {"planUsage": {}}, {"other": 1}])
def test_unknown_shapes_are_refused_not_guessed(body: object) -> None:
    with pytest.raises(UsageShapeError):
        parse_period_usage(body)
