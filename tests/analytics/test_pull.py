"""The pull service end to end: the fake Admin API over HTTP, DynamoDB and S3 on the local stack's moto
server, one fake clock for the client, the shared rate limiter, the fake and the service."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from analytics_env import DATA_START, KEY, Env, FakeClock, before, build_service
from cursor_gateway.domain.analytics import CHANGES, COMMITS, csv_header, csv_row
from cursor_gateway.domain.analytics_time import Window
from fakes.admin_api import FakeAdminApi, Users, generate, make_commit

JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)

COMMITS_PATH = "/analytics/ai-code/commits"
CHANGES_PATH = "/analytics/ai-code/changes"


def windows_requested(fake: FakeAdminApi, path: str) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for call in fake.calls_to(path):
        pair = (call.params["startDate"], call.params["endDate"])
        if pair not in seen:
            seen.append(pair)
    return seen


def scan(env: Env, logical_id: str) -> list[dict[str, Any]]:
    pages = env.aws.dynamodb.get_paginator("scan").paginate(TableName=env.aws.names[logical_id])
    return sorted((i for p in pages for i in p["Items"]), key=lambda i: json.dumps(i, sort_keys=True))


def objects(env: Env, prefix: str) -> dict[str, str]:
    listing = env.aws.s3.list_objects_v2(Bucket=env.aws.names["AnalyticsBucket"], Prefix=prefix)
    return {o["Key"]: o["ETag"] for o in listing.get("Contents", [])}


def body(env: Env, key: str) -> bytes:
    data: bytes = env.aws.s3.get_object(Bucket=env.aws.names["AnalyticsBucket"], Key=key)["Body"].read()
    return data


def test_full_backfill_over_several_windows_then_an_incremental_run(aws: Any, clock: FakeClock) -> None:
    commits, changes = generate(start=JAN_1, days=75, commits_per_day=3, changes_per_day=4)
    fake = FakeAdminApi(
        key=KEY, commits=before(commits, clock()), changes=before(changes, clock()), clock=clock
    )
    with fake:
        env = build_service(
            aws,
            fake,
            clock,
            analytics_window_days=30,
            analytics_page_size=50,
            analytics_backfill_start="2026-01-01",
        )
        backfill_then_incremental(env, fake)


def backfill_then_incremental(env: Env, fake: FakeAdminApi) -> None:
    run = env.service.pull()
    assert run["state"] == "succeeded"
    commits, changes = fake.data["commits"], fake.data["changes"]
    for name, path, rows, key in (
        ("commits", COMMITS_PATH, commits, "commitHash"),
        ("changes", CHANGES_PATH, changes, "changeId"),
    ):
        result = run["streams"][name]
        assert (result["windows"], result["inserted"], result["updated"]) == (3, len(rows), 0)
        # windows of at most 30 days, back to back, from the backfill start to tomorrow
        assert windows_requested(fake, path) == [
            ("2026-01-01", "2026-01-31"),
            ("2026-01-31", "2026-03-02"),
            ("2026-03-02", "2026-03-17"),
        ]
        assert env.count(name) == len(rows)
        for row in rows[::37]:
            assert env.rows(name).get(row[key]) == row  # stored verbatim, nulls and absent fields included
    # raw rows in S3 by createdAt day, each exactly once
    raw = objects(env, "analytics/commits/")
    assert all(k.startswith("analytics/commits/dt=2026-") and k.endswith(".jsonl") for k in raw)
    lines = [json.loads(line) for k in raw for line in body(env, k).decode().splitlines()]
    assert sorted(r["commitHash"] for r in lines) == sorted(r["commitHash"] for r in commits)
    assert len({k.split("/")[2] for k in raw}) == 75  # one dt= partition per day
    # one CSV export per day
    assert len(objects(env, "exports/commits/")) == 75
    status = env.service.status()["streams"]["commits"]
    assert status["state"] == "idle" and status["rows"] == len(commits) and status["exports_pending"] == 0
    last_seen = max(r["createdAt"] for r in commits)
    assert status["checkpoint"].startswith(last_seen[:19])  # the last createdAt seen

    overlap_rows = sum(1 for r in commits if r["createdAt"] >= "2026-03-15")
    original = len(commits)
    # Two hours later, three new commits were ingested.
    env.clock.advance(7200)
    now = datetime.fromtimestamp(env.clock(), UTC)
    new = [
        make_commit(__import__("random").Random(i), now - timedelta(minutes=5), Users(), 10_000 + i)
        for i in range(3)
    ]
    fake.add("commits", new)
    calls_before = len(fake.calls_to(COMMITS_PATH))
    again = env.service.pull(datasets=["commits"])
    result = again["streams"]["commits"]
    assert again["state"] == "succeeded"
    assert result["inserted"] == 3 and result["updated"] == 0
    # incremental: one window from the checkpoint minus the 6 hour overlap, not the whole history
    incremental = [c.params for c in fake.calls_to(COMMITS_PATH)[calls_before:]]
    assert [(p["startDate"], p["endDate"]) for p in incremental] == [("2026-03-15", "2026-03-17")]
    assert result["unchanged"] == overlap_rows
    assert env.count("commits") == original + 3
    assert result["exported_days"] == 1  # only today's CSV was rewritten
    assert env.service.status()["streams"]["commits"]["rows"] == original + 3


def test_pulling_the_same_range_twice_changes_nothing(env: Env, fake: FakeAdminApi) -> None:
    env.service.pull()
    tables = {t: scan(env, t) for t in ("AnalyticsCommitsTable", "AnalyticsChangesTable")}
    stored = objects(env, "")
    rows_before = {n: s["rows"] for n, s in env.service.status()["streams"].items()}

    again = env.service.pull(since=DATA_START.date().isoformat())
    for name in ("commits", "changes"):
        result = again["streams"][name]
        assert (result["inserted"], result["updated"], result["exported_days"]) == (0, 0, 0)
        assert result["unchanged"] == len(fake.data[name])
    assert {t: scan(env, t) for t in tables} == tables  # not even pulled_at moved
    assert objects(env, "") == stored  # no new raw part, no rewritten export
    assert {n: s["rows"] for n, s in env.service.status()["streams"].items()} == rows_before


def test_a_row_changed_upstream_is_updated_in_place(env: Env, fake: FakeAdminApi) -> None:
    env.service.pull(datasets=["commits"])
    target = fake.data["commits"][10]
    target["message"] = "amended, with a comma"
    run = env.service.pull(datasets=["commits"], since=DATA_START.date().isoformat())
    result = run["streams"]["commits"]
    assert (result["inserted"], result["updated"]) == (0, 1)
    assert env.rows("commits").get(target["commitHash"]) == target
    assert env.count("commits") == len(fake.data["commits"])
    day = target["createdAt"][:10]
    export = body(env, f"exports/commits/dt={day}/commits-{day}.csv").decode()
    assert '"amended, with a comma"' in export


def test_a_run_that_dies_mid_way_resumes_at_the_next_page(env: Env, fake: FakeAdminApi) -> None:
    served = {"pages": 0}

    def die_after_three_pages(f: FakeAdminApi, path: str, params: dict[str, str]) -> Any:
        if path != COMMITS_PATH:
            return None
        if served["pages"] >= 3:
            return 500, {}, b'{"error": "Internal Server Error"}'
        served["pages"] += 1
        return None

    fake.hook = die_after_three_pages
    first = env.service.pull(datasets=["commits"])
    assert first["state"] == "failed" and "HTTP 500" in first["streams"]["commits"]["error"]
    status = env.service.status()["streams"]["commits"]
    assert status["state"] == "failed"
    # pages 1-2 of the first window and page 1 of the second were saved: resume at page 2 of the second
    assert status["resume"] == {"window": ["2026-03-02", "2026-03-12"], "page": 2}
    assert status["checkpoint"] == "2026-03-02T00:00:00.000000Z"
    stored_before = env.count("commits")
    assert stored_before == 30 + 20  # the whole first window (two pages) and one page of the second

    fake.hook = None
    good_before = len(fake.calls_to(COMMITS_PATH))
    second = env.service.pull(datasets=["commits"])
    assert second["state"] == "succeeded"
    resumed = [(c.params["startDate"], c.params["page"]) for c in fake.calls_to(COMMITS_PATH)[good_before:]]
    assert resumed[0] == ("2026-03-02", "2")  # not back to the start
    assert second["streams"]["commits"]["inserted"] == len(fake.data["commits"]) - stored_before
    assert env.count("commits") == len(fake.data["commits"])
    # every page was served successfully exactly once across both runs
    ok = [(c.params["startDate"], c.params["page"]) for c in fake.calls_to(COMMITS_PATH)]
    assert len(ok) == len(set(ok)) == 5
    assert env.service.status()["streams"]["commits"]["state"] == "idle"


def test_a_403_disables_the_stream_until_it_is_enabled(env: Env, fake: FakeAdminApi) -> None:
    fake.forbidden = True
    run = env.service.pull()
    assert run["state"] == "failed"
    streams = env.service.status()["streams"]
    for name in ("commits", "changes"):
        assert streams[name]["state"] == "disabled"
        assert streams[name]["last_error"]["code"] == "admin_api_forbidden"
        assert "Enterprise" in streams[name]["disabled_reason"]
    assert len(fake.calls) == 2  # one request per endpoint, not retried

    # the next scheduled runs do not call Cursor at all
    skipped = env.service.pull()
    assert {r["state"] for r in skipped["streams"].values()} == {"disabled"}
    assert len(fake.calls) == 2
    assert env.service.status()["streams"]["commits"]["last_error"]["code"] == "admin_api_forbidden"

    fake.forbidden = False  # the plan was upgraded
    assert env.service.enable("commits")["state"] == "idle"
    run = env.service.pull()
    assert run["streams"]["commits"]["state"] == "succeeded"
    assert run["streams"]["changes"]["state"] == "disabled"  # enabled one at a time
    assert env.count("commits") == len(fake.data["commits"]) and env.count("changes") == 0


def test_the_client_never_exceeds_the_rate_limit(aws: Any, clock: FakeClock, data: Any) -> None:
    commits, changes = data
    with FakeAdminApi(key="key_test_admin", commits=commits, changes=changes, rpm=2, clock=clock) as fake:
        env = build_service(aws, fake, clock, parallel=True, analytics_page_size=10)
        run = env.service.pull()
        assert run["state"] == "succeeded"
        assert env.count("commits") == len(commits) and env.count("changes") == len(changes)
        for path in (COMMITS_PATH, CHANGES_PATH):
            assert len(fake.calls_to(path)) > 6  # enough requests that a careless client would burst
            assert fake.max_in_any_period(path) <= 2
        assert fake.rate_limited == 0  # Cursor never had to say 429
        assert sum(clock.slept) >= 60  # the limiter did wait


def test_a_run_out_of_time_stops_cleanly_and_the_next_one_resumes(
    aws: Any, clock: FakeClock, data: Any
) -> None:
    commits, changes = data
    with FakeAdminApi(key="key_test_admin", commits=commits, changes=changes, rpm=2, clock=clock) as fake:
        env = build_service(aws, fake, clock, analytics_page_size=20)
        first = env.service.pull(datasets=["commits"], deadline=clock() + 90)
        assert first["state"] == "partial"
        status = env.service.status()["streams"]["commits"]
        assert status["state"] == "idle" and status["last_error"] is None and status["resume"] is not None
        assert 0 < env.count("commits") < len(commits)
        second = env.service.pull(datasets=["commits"])
        assert second["state"] == "succeeded"
        assert env.count("commits") == len(commits)
        ok = [(c.params["startDate"], c.params["page"]) for c in fake.calls_to(COMMITS_PATH)]
        assert len(ok) == len(set(ok))  # no page read twice


def test_a_stream_held_by_another_run_is_skipped(env: Env, fake: FakeAdminApi) -> None:
    assert env.service.state.acquire("commits", "other-run", 900) is not None
    run = env.service.pull()
    assert run["streams"]["commits"]["state"] == "skipped"
    assert run["streams"]["changes"]["state"] == "succeeded"
    assert fake.calls_to(COMMITS_PATH) == []
    assert env.service.status()["streams"]["commits"]["state"] == "running"
    env.clock.advance(901)  # a crashed holder's lease expires
    assert env.service.pull(datasets=["commits"])["streams"]["commits"]["state"] == "succeeded"


def test_daily_exports_match_cursors_own_csv_byte_for_byte(env: Env, fake: FakeAdminApi) -> None:
    env.service.pull()
    client = env.service.client_factory()

    for ds in (COMMITS, CHANGES):
        day = "2026-03-05"
        ours = body(env, f"exports/{ds.name}/dt={day}/{ds.name}-{day}.csv")
        with client.open_csv(ds, Window(date(2026, 3, 5), date(2026, 3, 6))) as chunks:
            theirs = b"".join(chunks)  # the fake writes its CSV with Python's csv module
        assert ours == theirs
        assert ours.startswith(csv_header(ds).encode())
    # the tricky messages made it through: quotes doubled, newlines inside quotes, unicode intact
    everything = b"".join(body(env, k) for k in objects(env, "exports/commits/")).decode()
    assert '"Say ""hello"" to the ""new"" API"' in everything
    assert '"Line one\nLine two\r\nLine three"' in everything
    assert "Ünïcödé 提交 ✓ — émojis 🚀" in everything
    assert csv_row(COMMITS, fake.data["commits"][1]) in everything


def test_a_row_too_large_for_dynamodb_is_stored_shortened_and_kept_whole_in_s3(
    env: Env, fake: FakeAdminApi
) -> None:
    huge = dict(fake.data["commits"][3], message="x" * 500_000)
    fake.data["commits"][3] = huge
    run = env.service.pull(datasets=["commits"])
    assert run["state"] == "succeeded"
    stored = env.rows("commits").get(huge["commitHash"])
    assert stored is not None and stored["_truncated"] is True and len(stored["message"]) == 10_000
    raw = [
        json.loads(line)
        for key in objects(env, "analytics/commits/")
        for line in body(env, key).decode().splitlines()
    ]
    assert [r for r in raw if r["commitHash"] == huge["commitHash"]] == [huge]
    # the content hash is the whole row's: pulling again changes nothing
    assert (
        env.service.pull(datasets=["commits"], since=DATA_START.date().isoformat())["streams"]["commits"][
            "updated"
        ]
        == 0
    )


def test_exports_left_at_the_deadline_are_done_by_the_next_run(env: Env, fake: FakeAdminApi) -> None:
    from cursor_gateway.domain.analytics import Resume
    from cursor_gateway.services.analytics_pull import PullOutcome

    env.service.pull(datasets=["commits"])
    state = env.service.state
    assert state.acquire("commits", "run-x", 900) is not None
    state.save_page(
        "commits",
        "run-x",
        resume=Resume("2026-03-12", "2026-03-17", 1),
        last_seen="",
        inserted=0,
        days={"2026-03-01", "2026-03-02"},
        lease_seconds=900,
    )
    late = PullOutcome()
    env.service.puller.export_pending(COMMITS, "run-x", late, deadline=env.clock() - 1)
    assert (late.state, late.stats.exported_days) == ("partial", 0)
    assert state.stream("commits").dirty_days == ("2026-03-01", "2026-03-02")
    on_time = PullOutcome()
    env.service.puller.export_pending(COMMITS, "run-x", on_time, deadline=env.clock() + 60)
    assert (on_time.state, on_time.stats.exported_days) == ("succeeded", 2)
    assert state.stream("commits").dirty_days == ()
