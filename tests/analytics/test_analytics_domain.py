"""The pure rules of the analytics pulls: dates, windows, checkpoints, CSV bytes, the rate-limit rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from cursor_gateway.domain.analytics import (
    CHANGES,
    COMMITS,
    csv_field,
    csv_header,
    csv_row,
    parse_user,
    to_row,
)
from cursor_gateway.domain.analytics_time import (
    Window,
    admit,
    advance_checkpoint,
    iso,
    parse_when,
    plan_windows,
    pull_end,
    pull_start,
    rate_seconds,
)

NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)


def test_windows_cover_the_range_in_at_most_30_days_without_gaps() -> None:
    windows = plan_windows(date(2026, 1, 1), date(2026, 3, 17))
    assert windows == [
        Window(date(2026, 1, 1), date(2026, 1, 31)),
        Window(date(2026, 1, 31), date(2026, 3, 2)),
        Window(date(2026, 3, 2), date(2026, 3, 17)),
    ]
    assert windows[0].params == {"startDate": "2026-01-01", "endDate": "2026-01-31"}
    assert plan_windows(date(2026, 1, 1), date(2026, 1, 1)) == []
    assert len(plan_windows(date(2026, 1, 1), date(2026, 1, 11), max_days=3)) == 4
    with pytest.raises(ValueError):
        plan_windows(date(2026, 1, 1), date(2026, 3, 1), max_days=31)


def test_the_last_window_ends_tomorrow_so_today_is_in_it() -> None:
    assert pull_end(NOW) == date(2026, 3, 17)


def test_date_parameters_in_every_form_cursor_accepts() -> None:
    assert parse_when("now", NOW) == NOW
    assert parse_when("7d", NOW) == NOW - timedelta(days=7)
    assert parse_when("0d", NOW) == NOW
    assert parse_when("2026-02-01", NOW) == datetime(2026, 2, 1, tzinfo=UTC)
    assert parse_when("2026-02-01", NOW, end=True) == datetime(2026, 2, 2, tzinfo=UTC)  # whole day
    assert parse_when("2026-02-01T10:30:00Z", NOW) == datetime(2026, 2, 1, 10, 30, tzinfo=UTC)
    assert parse_when("2026-02-01T12:30:00+02:00", NOW) == datetime(2026, 2, 1, 10, 30, tzinfo=UTC)
    for bad in ("yesterday", "7 days", "-3d", "2026-13-01", ""):
        with pytest.raises(ValueError):
            parse_when(bad, NOW)


def test_where_a_pull_starts() -> None:
    backfill = date(2025, 12, 1)
    overlap = timedelta(hours=6)
    assert pull_start("", since=None, backfill=backfill, overlap=overlap) == backfill
    checkpoint = "2026-03-16T04:30:00.000000Z"
    assert pull_start(checkpoint, since=None, backfill=backfill, overlap=overlap) == date(2026, 3, 15)
    assert pull_start("2026-03-16T08:00:00.000000Z", since=None, backfill=backfill, overlap=overlap) == date(
        2026, 3, 16
    )
    assert pull_start(checkpoint, since=date(2026, 1, 5), backfill=backfill, overlap=overlap) == date(
        2026, 1, 5
    )


def test_the_checkpoint_moves_to_a_past_windows_end_or_the_last_row_seen_and_never_back() -> None:
    past = Window(date(2026, 1, 1), date(2026, 1, 31))
    assert advance_checkpoint("", past, "2026-01-20T00:00:00.000000Z", NOW) == "2026-01-31T00:00:00.000000Z"
    current = Window(date(2026, 3, 2), date(2026, 3, 17))
    seen = "2026-03-16T04:30:42.000000Z"
    assert advance_checkpoint("2026-01-31T00:00:00.000000Z", current, seen, NOW) == seen
    # nothing seen in the current window: no later than its start
    assert advance_checkpoint("", current, "", NOW) == "2026-03-02T00:00:00.000000Z"
    # a re-pull of old history (since) never moves it back
    later = "2026-03-10T00:00:00.000000Z"
    assert advance_checkpoint(later, past, "", NOW) == later


def test_csv_fields_are_rfc_4180() -> None:
    assert csv_field("plain") == "plain"
    assert csv_field("a,b") == '"a,b"'
    assert csv_field('say "hi"') == '"say ""hi"""'
    assert csv_field("one\ntwo") == '"one\ntwo"'
    assert csv_field("one\r\ntwo") == '"one\r\ntwo"'
    assert csv_field(" spaced ") == " spaced "  # spaces are data, not a reason to quote
    assert csv_field("Ünïcödé 提交 🚀") == "Ünïcödé 提交 🚀"
    assert csv_field(None) == ""
    assert csv_field(True) == "true" and csv_field(False) == "false"
    assert csv_field(42) == "42" and csv_field(3.0) == "3"
    assert (
        csv_field([{"fileName": "a,b.py", "linesAdded": 1}])
        == '"[{""fileName"":""a,b.py"",""linesAdded"":1}]"'
    )


def test_commit_csv_bytes() -> None:
    commit = {
        "commitHash": "abc123",
        "userId": "user_01",
        "userEmail": "dev@example.com",
        "repoName": None,
        "branchName": "main",
        # isPrimaryBranch absent (repo info unavailable)
        "totalLinesAdded": 10,
        "totalLinesDeleted": 2,
        "tabLinesAdded": 3,
        "tabLinesDeleted": 0,
        "composerLinesAdded": 5,
        "composerLinesDeleted": 1,
        "nonAiLinesAdded": 2,
        "nonAiLinesDeleted": None,
        "message": 'Fix "parser", again\nSecond line ✓',
        "commitTs": "2026-03-01T10:00:00.000Z",
        "createdAt": "2026-03-01T10:05:00.000Z",
    }
    expected = (
        "commit_hash,user_id,user_email,repo_name,branch_name,is_primary_branch,total_lines_added,"
        "total_lines_deleted,tab_lines_added,tab_lines_deleted,composer_lines_added,composer_lines_deleted,"
        "non_ai_lines_added,non_ai_lines_deleted,message,commit_ts,created_at\r\n"
        'abc123,user_01,dev@example.com,,main,,10,2,3,0,5,1,2,,"Fix ""parser"", again\nSecond line ✓",'
        "2026-03-01T10:00:00.000Z,2026-03-01T10:05:00.000Z\r\n"
    )
    assert (csv_header(COMMITS) + csv_row(COMMITS, commit)).encode() == expected.encode()


def test_change_csv_bytes_with_metadata_json_and_privacy_mode() -> None:
    change = {
        "changeId": "chg_1",
        "userId": "user_01",
        "userEmail": "dev@example.com",
        "source": "COMPOSER",
        "model": "claude-4.6-sonnet",
        "totalLinesAdded": 3,
        "totalLinesDeleted": 1,
        "createdAt": "2026-03-01T10:05:00.000Z",
        "metadata": [
            {"fileName": "src/módulo,1.py", "fileExtension": "py", "linesAdded": 2, "linesDeleted": 1},
            {"fileExtension": "ts", "linesAdded": 1, "linesDeleted": 0},  # privacy mode: no fileName
        ],
    }
    expected = (
        "change_id,user_id,user_email,source,model,total_lines_added,total_lines_deleted,created_at,"
        "metadata_json\r\n"
        "chg_1,user_01,dev@example.com,COMPOSER,claude-4.6-sonnet,3,1,2026-03-01T10:05:00.000Z,"
        '"[{""fileName"":""src/módulo,1.py"",""fileExtension"":""py"",""linesAdded"":2,""linesDeleted"":1},'
        '{""fileExtension"":""ts"",""linesAdded"":1,""linesDeleted"":0}]"\r\n'
    )
    assert (csv_header(CHANGES) + csv_row(CHANGES, change)).encode() == expected.encode()


def test_rows_are_indexed_by_utc_day_and_a_fixed_width_sort_key() -> None:
    row = to_row(
        COMMITS, {"commitHash": "h1", "createdAt": "2026-03-01T23:30:00-02:00", "userEmail": "A@B.com"}
    )
    assert (row.day, row.created_at) == ("2026-03-02", "2026-03-02T01:30:00.000000Z")
    assert row.sort_key == "2026-03-02T01:30:00.000000Z#h1" and row.user_email == "a@b.com"
    assert iso(datetime(2026, 1, 2, tzinfo=UTC)) < iso(datetime(2026, 1, 10, tzinfo=UTC))
    with pytest.raises(ValueError):
        to_row(COMMITS, {"commitHash": "h1"})  # no createdAt
    with pytest.raises(ValueError):
        to_row(CHANGES, {"createdAt": "2026-03-01T00:00:00Z"})  # no changeId


def test_user_parameter_forms() -> None:
    assert parse_user("Dev@Example.com").email == "dev@example.com"
    assert parse_user("user_abc123").user_id == "user_abc123"
    with pytest.raises(ValueError, match="numeric"):
        parse_user("42")
    with pytest.raises(ValueError):
        parse_user("bob")


def test_the_rate_rule_allows_rpm_grants_per_sliding_period() -> None:
    assert admit([], 100.0, 2, 60.0) == (0.0, [100.0])
    assert admit([100.0], 101.0, 2, 60.0) == (0.0, [100.0, 101.0])
    wait, live = admit([100.0, 101.0], 110.0, 2, 60.0)
    assert (wait, live) == (50.0, [100.0, 101.0])  # the oldest leaves the window at 160
    assert admit([100.0, 101.0], 160.0, 2, 60.0) == (0.0, [101.0, 160.0])
    with pytest.raises(ValueError):
        admit([], 0.0, 0, 60.0)


def test_schedule_rates() -> None:
    assert rate_seconds("rate(1 hour)") == 3600
    assert rate_seconds("rate(15 minutes)") == 900
    assert rate_seconds("rate(2 days)") == 172800
    assert rate_seconds("off") is None and rate_seconds("cron(0 * * * ? *)") is None
    with pytest.raises(ValueError):
        rate_seconds("every hour")
