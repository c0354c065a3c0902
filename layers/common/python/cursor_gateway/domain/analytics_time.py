"""The time rules of the analytics pulls (Admin API `/analytics/ai-code/*`): dates, windows, the
checkpoint, the shared rate limit and the schedule's rate. Pure.

Dates: Cursor's `startDate`/`endDate` take an ISO date, `now` or relative days (`7d`). We always send
plain dates, and request a window `[start, end)` as `startDate=start&endDate=end`: whether Cursor reads
`endDate` as that day's midnight or as the whole day, consecutive windows cover every day, and the last
window ends tomorrow so that today is in it. A window spans at most `max_days` days (30).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

MAX_WINDOW_DAYS = 30

_RELATIVE = re.compile(r"^(\d{1,5})d$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 timestamp (`Z` or an offset; naive means UTC), as an aware UTC datetime."""
    parsed = datetime.fromisoformat(value.strip())
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def iso(moment: datetime) -> str:
    """Fixed-width UTC form, so that text order is time order (sort keys, checkpoints)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_when(value: str, now: datetime, *, end: bool = False) -> datetime:
    """Cursor's date parameter forms: an ISO date, an ISO timestamp, `now`, or `<n>d` (now - n days).

    A plain date is its midnight (UTC), or with `end=True` the next midnight, so an end date includes
    its whole day. ValueError for anything else."""
    text = value.strip()
    if text == "now":
        return now
    relative = _RELATIVE.match(text)
    if relative:
        return now - timedelta(days=int(relative.group(1)))
    if _DATE.match(text):
        day = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        return day + timedelta(days=1) if end else day
    try:
        return parse_timestamp(text)
    except ValueError:
        raise ValueError(
            f"'{value}' is not a date: use YYYY-MM-DD, an ISO timestamp, 'now' or relative days like '7d'"
        ) from None


def parse_day(value: str, now: datetime) -> date:
    """A start day from a date parameter (`--since`, `since`, the backfill start)."""
    return parse_when(value, now).date()


def midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)


@dataclass(frozen=True, slots=True)
class Window:
    """Days `[start, end)`, requested as startDate=start, endDate=end."""

    start: date
    end: date

    @property
    def params(self) -> dict[str, str]:
        return {"startDate": self.start.isoformat(), "endDate": self.end.isoformat()}


def plan_windows(start: date, end: date, max_days: int = MAX_WINDOW_DAYS) -> list[Window]:
    if not 1 <= max_days <= MAX_WINDOW_DAYS:
        raise ValueError(f"a window spans 1 to {MAX_WINDOW_DAYS} days")
    windows: list[Window] = []
    cursor = start
    while cursor < end:
        stop = min(cursor + timedelta(days=max_days), end)
        windows.append(Window(cursor, stop))
        cursor = stop
    return windows


def pull_end(now: datetime) -> date:
    """The exclusive end of every pull: tomorrow, so today's rows are in the last window."""
    return now.date() + timedelta(days=1)


def pull_start(checkpoint: str, *, since: date | None, backfill: date, overlap: timedelta) -> date:
    """Where a pull starts: an explicit `since`; else the checkpoint minus the overlap (rows ingested
    late, clocks that differ); else, on the first run, the backfill start."""
    if since is not None:
        return since
    if not checkpoint:
        return backfill
    return (parse_timestamp(checkpoint) - overlap).date()


def advance_checkpoint(previous: str, window: Window, last_seen: str, now: datetime) -> str:
    """The checkpoint once `window` has been read to its last page.

    A window that ended before now is complete: nothing can still be ingested into the past, so the
    checkpoint moves to its end. The window holding now moves it to the last `createdAt` seen (Cursor's
    own clock; rows being ingested right now are caught by the next run's overlap), or not at all if
    nothing was seen. It never moves back."""
    if midnight(window.end) <= now:
        candidate = iso(midnight(window.end))
    else:
        candidate = last_seen or iso(midnight(window.start))
    return max(previous, candidate) if previous else candidate


class OutOfTime(Exception):
    """The next request could not start before the run's deadline. Not a failure: the run stops with
    its checkpoint saved and the next one resumes there."""


# --- the shared rate limit ---------------------------------------------------------------------------


def admit(grants: Iterable[float], now: float, rpm: int, period: float) -> tuple[float, list[float]]:
    """Sliding-window rule shared by every process: at most `rpm` grants in any `period` seconds.

    Returns (0, grants to store with this one added) when a request may go now, else (seconds to wait,
    the live grants). Grants older than the period are dropped, so the stored list stays `rpm` long."""
    if rpm < 1 or period <= 0:
        raise ValueError("rpm must be >= 1 and period > 0")
    live = sorted(g for g in grants if g > now - period)
    if len(live) < rpm:
        return 0.0, [*live, now]
    return live[-rpm] + period - now, live


# --- the schedule ------------------------------------------------------------------------------------

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float | None:
    """Seconds between runs of an EventBridge `rate(...)` expression; None for `off`, empty or `cron(...)`
    (the local stack runs rates only). ValueError for anything else."""
    text = expression.strip().lower()
    if text in ("", "off", "disabled") or text.startswith("cron("):
        return None
    match = _RATE.match(text)
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"'{expression}' is not rate(<n> minutes|hours|days), cron(...) or off")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]
