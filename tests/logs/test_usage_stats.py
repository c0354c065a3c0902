"""Usage statistics from the pre-aggregated counters on moto: buckets in a non-UTC time zone across a day
boundary and both DST changes (injected clock), zero-filled periods, scopes, trends, and exactly-once
counting when the completion write is retried (with and without log entries)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from cursor_gateway.services.request_log import RequestRecorder
from cursor_gateway.services.usage_stats import UsageStatsService
from cursor_gateway.settings import Settings
from cursor_gateway.storage.request_logs import DynamoRequestLogStore
from cursor_gateway.storage.request_logs_batch import Completion
from log_recording import Spec, at_ms, record
from logs_env import Clock, LogAws, settle

NY = "America/New_York"


def service(aws: LogAws, now: str, specs: list[Spec], **settings: Any) -> UsageStatsService:
    clock = Clock(at_ms(now) / 1000)
    recorder = RequestRecorder(aws.store(), Settings(**settings), clock=clock)
    for spec in specs:
        record(recorder, clock, spec)
    settle(recorder)
    clock.set(at_ms(now) / 1000)
    return UsageStatsService(aws.store(), Settings(**settings), clock=clock)


def counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {row["period"]: row["request_count"] for row in rows}


def test_daily_and_hourly_buckets_follow_the_zone_across_a_day_boundary_and_spring_forward(
    log_aws: LogAws,
) -> None:
    # 2026-03-08: New York moves from EST (-5) to EDT (-4) at 02:00 local = 07:00 UTC.
    specs = [
        Spec("2026-03-08T04:30:00+00:00"),  # 03-07 23:30 EST
        Spec("2026-03-08T05:30:00+00:00"),  # 03-08 00:30 EST
        Spec("2026-03-08T07:30:00+00:00", usage=(1000, 1)),  # 03-08 03:30 EDT
        Spec("2026-03-09T03:30:00+00:00"),  # 03-08 23:30 EDT
        Spec("2026-03-09T04:30:00+00:00"),  # 03-09 00:30 EDT
    ]
    stats = service(log_aws, "2026-03-09T12:00:00+00:00", specs)
    in_ny = stats.series(stats.parse({"days": "3", "tz": NY}, "day", "days"), "day")
    assert counts(in_ny) == {"2026-03-07": 1, "2026-03-08": 3, "2026-03-09": 1}
    in_utc = stats.series(stats.parse({"days": "3", "tz": "UTC"}, "day", "days"), "day")
    assert counts(in_utc) == {"2026-03-07": 0, "2026-03-08": 3, "2026-03-09": 2}
    assert in_ny[1]["total_input_tokens"] == 1200 and in_ny[1]["total_tokens"] == 1200 + 41

    window = {"from": "2026-03-08T05:00:00Z", "to": "2026-03-08T09:00:00Z", "tz": NY}
    hourly = stats.series(stats.parse(window, "hour", "hours"), "hour")
    assert [r["period"] for r in hourly] == [
        "2026-03-08 00:00",
        "2026-03-08 01:00",
        "2026-03-08 03:00",  # 02:00 does not exist that night
        "2026-03-08 04:00",
        "2026-03-08 05:00",
    ]
    assert counts(hourly)["2026-03-08 00:00"] == 1 and counts(hourly)["2026-03-08 03:00"] == 1
    weekly = stats.series(stats.parse({"weeks": "2", "tz": NY}, "week", "weeks"), "week")
    assert counts(weekly) == {"2026-W10": 4, "2026-W11": 1}


def test_the_repeated_hour_of_fall_back_is_one_bucket(log_aws: LogAws) -> None:
    # 2026-11-01: 01:00-02:00 local happens twice (EDT, then EST) = 05:00 and 06:00 UTC.
    specs = [Spec("2026-11-01T05:30:00+00:00"), Spec("2026-11-01T06:30:00+00:00")]
    stats = service(log_aws, "2026-11-01T12:00:00+00:00", specs)
    window = {"from": "2026-11-01T04:00:00Z", "to": "2026-11-01T07:00:00Z", "tz": NY}
    hourly = stats.series(stats.parse(window, "hour", "hours"), "hour")
    assert counts(hourly) == {"2026-11-01 00:00": 0, "2026-11-01 01:00": 2, "2026-11-01 02:00": 0}
    days = stats.series(stats.parse({"days": "1", "tz": NY}, "day", "days"), "day")
    assert counts(days) == {"2026-11-01": 2}


def test_summary_breakdowns_scopes_and_trends(log_aws: LogAws) -> None:
    specs = [
        Spec("2026-03-10T09:10:00+00:00", model="gpt-5.2", usage=(10, 5)),
        Spec(
            "2026-03-10T10:10:00+00:00",
            model="claude-4.6-sonnet",
            upstream="claude-x",
            alias="beta",
            email="b@x.io",
            usage=(100, 50),
        ),
        Spec("2026-03-10T10:20:00+00:00", model="gpt-5.2", key=("cgk-k1", "team"), usage=(1, 1)),
        Spec("2026-03-10T11:20:00+00:00", model="gpt-5.2", key=("cgk-k1", "team"), fail=True),
    ]
    stats = service(log_aws, "2026-03-10T12:00:00+00:00", specs)
    everything = stats.parse({}, "hour", "hours")
    summary = stats.summary(everything, admin=True)
    assert summary["total_requests"] == 4 and summary["success_count"] == 3 and summary["failure_count"] == 1
    assert summary["total_input_tokens"] == 111 and summary["total_tokens"] == 167
    assert (summary["unique_accounts"], summary["unique_models"], summary["unique_api_keys"]) == (2, 2, 2)
    assert summary["window"]["to"].startswith("2026-03-10T13:00")
    by_model = stats.by(everything, "model")
    assert [(r["model"], r["request_count"], r["total_tokens"]) for r in by_model] == [
        ("claude-4.6-sonnet", 1, 150),
        ("gpt-5.2", 3, 17),
    ]
    assert {r["model"] for r in stats.by(everything, "upstream")} == {"claude-x", "gpt-5.2-high"}
    accounts = stats.by(everything, "account")
    assert accounts[0]["account_email"] == "b@x.io" and accounts[0]["account_alias"] == "beta"
    keys = {r["api_key_id"]: (r["api_key_name"], r["request_count"]) for r in stats.by(everything, "key")}
    assert keys == {"admin": ("admin", 2), "cgk-k1": ("team", 2)}

    team = stats.parse({"api_key_id": "someone-else"}, "hour", "hours", scope_key="cgk-k1")
    assert stats.summary(team, admin=False)["total_requests"] == 2
    beta = stats.parse({"account": "beta"}, "hour", "hours")
    assert stats.summary(beta, admin=True)["total_requests"] == 1
    alpha_in_team = stats.parse({"account": "alpha"}, "hour", "hours", scope_key="cgk-k1")
    assert stats.summary(alpha_in_team, admin=False)["total_requests"] == 2

    trend = stats.trend(stats.parse({"hours": "4"}, "hour", "hours"), "hour", "model")
    assert [t["period"][-5:] for t in trend] == ["09:00", "10:00", "11:00", "12:00"]
    assert trend[1]["model_data"] == {"claude-4.6-sonnet": 150, "gpt-5.2": 2}
    assert trend[3]["model_data"] == {}
    account_trend = stats.trend(stats.parse({"days": "2"}, "day", "days"), "day", "account")
    assert account_trend[-1]["account_data"] == {"alpha@example.com": 17, "b@x.io": 150}
    assert stats.today_errors() == 1

    stats.clear()
    assert stats.summary(everything, admin=True)["total_requests"] == 0


class RetryingStore(DynamoRequestLogStore):
    """Every completion (or batch of them) is sent twice, as a client would after a lost response."""

    def complete(self, *args: Any, **kwargs: Any) -> bool:
        first = super().complete(*args, **kwargs)
        second = super().complete(*args, **kwargs)
        self.results.append((first, second))
        return first

    def complete_many(self, completions: Sequence[Completion]) -> dict[str, bool]:
        first = super().complete_many(completions)
        second = super().complete_many(completions)
        self.results.extend((first[c.log_id], second[c.log_id]) for c in completions)
        return first


@pytest.mark.parametrize("entries", [100, 0], ids=["with-entries", "entries-off"])
def test_a_retried_completion_is_counted_once(log_aws: LogAws, entries: int) -> None:
    store = RetryingStore(
        log_aws.logs_table, log_aws.stats_table, log_aws.bucket, dynamodb=log_aws.dynamodb, s3=log_aws.s3
    )
    store.results = []  # type: ignore[attr-defined]
    settings = Settings(request_logs_limit=entries)
    clock = Clock(at_ms("2026-03-10T11:00:00+00:00") / 1000)
    recorder = RequestRecorder(store, settings, clock=clock)
    for minute in range(3):
        record(recorder, clock, Spec(f"2026-03-10T11:0{minute}:00+00:00", usage=(7, 3)))
    settle(recorder)
    assert store.results == [(True, False)] * 3  # type: ignore[attr-defined]
    stats = UsageStatsService(store, settings, clock=clock)
    summary = stats.summary(stats.parse({}, "hour", "hours"), admin=True)
    assert summary["total_requests"] == 3 and summary["total_input_tokens"] == 21
    stored = log_aws.dynamodb.scan(TableName=log_aws.logs_table)["Items"]
    assert len(stored) == (3 if entries else 0)
    assert recorder.health()["log_write_failures"] == 0
