"""Cursor's AI code tracking data (Admin API `/analytics/ai-code/*`) and the rules of pulling it. Pure.

Two datasets, each keyed by one field: `commits` (AiCommitMetric, key `commitHash`) and `changes`
(key `changeId`). Every row carries `createdAt`, Cursor's ingestion time: pulls are incremental on it.

Dates: Cursor's `startDate`/`endDate` take an ISO date, `now` or relative days (`7d`). We always send
plain dates, and request a window `[start, end)` as `startDate=start&endDate=end`: whether Cursor reads
`endDate` as that day's midnight or as the whole day, consecutive windows cover every day, and the last
window ends tomorrow so that today is in it. A window spans at most `max_days` days (30).

CSV: Cursor's CSV endpoints use snake_case columns in the JSON field order; `metadata` becomes the JSON
string column `metadata_json`. We write RFC 4180: CRLF line ends, a field quoted only when it holds a
comma, a double quote, CR or LF, quotes doubled; null and absent values are empty fields.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    path: str
    key: str
    # (csv column, JSON field) in Cursor's order
    columns: tuple[tuple[str, str], ...]

    @property
    def csv_path(self) -> str:
        return self.path + ".csv"

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(column for column, _ in self.columns)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _columns(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((_snake(n), n) for n in names)


COMMITS = Dataset(
    "commits",
    "/analytics/ai-code/commits",
    "commitHash",
    _columns(
        "commitHash",
        "userId",
        "userEmail",
        "repoName",
        "branchName",
        "isPrimaryBranch",
        "totalLinesAdded",
        "totalLinesDeleted",
        "tabLinesAdded",
        "tabLinesDeleted",
        "composerLinesAdded",
        "composerLinesDeleted",
        "nonAiLinesAdded",
        "nonAiLinesDeleted",
        "message",
        "commitTs",
        "createdAt",
    ),
)
CHANGES = Dataset(
    "changes",
    "/analytics/ai-code/changes",
    "changeId",
    (
        *_columns(
            "changeId",
            "userId",
            "userEmail",
            "source",
            "model",
            "totalLinesAdded",
            "totalLinesDeleted",
            "createdAt",
        ),
        ("metadata_json", "metadata"),
    ),
)
DATASETS: dict[str, Dataset] = {d.name: d for d in (COMMITS, CHANGES)}
MAX_PAGE_SIZE = 1000
MAX_WINDOW_DAYS = 30


def dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset '{name}' (expected one of: {', '.join(DATASETS)})") from None


# --- time --------------------------------------------------------------------------------------------

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


# --- rows --------------------------------------------------------------------------------------------


def row_key(ds: Dataset, item: Mapping[str, Any]) -> str:
    key = item.get(ds.key)
    if not isinstance(key, str) or not key:
        raise ValueError(f"{ds.name} row without a '{ds.key}'")
    return key


def row_created_at(item: Mapping[str, Any]) -> datetime:
    value = item.get("createdAt")
    if not isinstance(value, str):
        raise ValueError("row without a 'createdAt' timestamp")
    try:
        return parse_timestamp(value)
    except ValueError:
        raise ValueError(f"row with an unreadable createdAt '{value}'") from None


def canonical_json(item: Any) -> str:
    return json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(item: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(item).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Row:
    """One upstream object with what storage indexes it by."""

    key: str
    created_at: str  # iso()
    day: str  # YYYY-MM-DD of createdAt (UTC): the S3 and query partition
    user_id: str
    user_email: str
    item: Mapping[str, Any] = field(compare=False)
    digest: str = ""

    @property
    def sort_key(self) -> str:
        return f"{self.created_at}#{self.key}"


def to_row(ds: Dataset, item: Mapping[str, Any]) -> Row:
    created = row_created_at(item)
    user_id = item.get("userId")
    email = item.get("userEmail")
    return Row(
        key=row_key(ds, item),
        created_at=iso(created),
        day=created.date().isoformat(),
        user_id=user_id if isinstance(user_id, str) else "",
        user_email=email.lower() if isinstance(email, str) else "",
        item=item,
        digest=content_hash(item),
    )


@dataclass(frozen=True, slots=True)
class UserFilter:
    """Cursor's `user` parameter: an email, an encoded id (`user_...`) or a numeric id."""

    email: str = ""
    user_id: str = ""


def parse_user(value: str) -> UserFilter:
    text = value.strip()
    if "@" in text:
        return UserFilter(email=text.lower())
    if text.startswith("user_") and len(text) > 5:
        return UserFilter(user_id=text)
    if text.isdigit():
        raise ValueError(
            "numeric user ids are not part of the stored rows; filter by the email or the user_ id"
        )
    raise ValueError("user must be an email, an encoded id (user_...) or a numeric id")


def matches_user(row: Row, user: UserFilter | None) -> bool:
    if user is None:
        return True
    return row.user_email == user.email if user.email else row.user_id == user.user_id


# --- CSV ---------------------------------------------------------------------------------------------

_NEEDS_QUOTES = re.compile(r'[",\r\n]')


def csv_field(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_line(values: Iterable[Any]) -> str:
    return ",".join(csv_field(v) for v in values) + "\r\n"


def csv_header(ds: Dataset) -> str:
    return csv_line(ds.header)


def csv_row(ds: Dataset, item: Mapping[str, Any]) -> str:
    return csv_line(item.get(name) for _, name in ds.columns)


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


# --- stream state ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resume:
    """Where an unfinished pull stopped: the next page to read of a window."""

    window_start: str
    window_end: str
    page: int

    @property
    def window(self) -> Window:
        return Window(date.fromisoformat(self.window_start), date.fromisoformat(self.window_end))


@dataclass(frozen=True, slots=True)
class StreamState:
    """One dataset's pull state, as stored (one item per dataset)."""

    dataset: str
    enabled: bool = True
    disabled_reason: str = ""
    checkpoint: str = ""  # every row with createdAt before it has been pulled (iso())
    last_seen: str = ""  # the greatest createdAt seen
    resume: Resume | None = None
    rows: int = 0
    dirty_days: tuple[str, ...] = ()  # days whose CSV export is out of date
    lease_owner: str = ""
    lease_until: float = 0.0
    last_run: Mapping[str, Any] | None = None
    last_error: str = ""
    last_error_code: str = ""
    last_error_at: str = ""

    def state(self, now: float) -> str:
        if not self.enabled:
            return "disabled"
        if self.lease_owner and self.lease_until > now:
            return "running"
        if self.last_error:
            return "failed"
        return "idle"

    def public(self, now: float) -> dict[str, Any]:
        return {
            "state": self.state(now),
            "checkpoint": self.checkpoint or None,
            "last_seen": self.last_seen or None,
            "resume": (
                {"window": [self.resume.window_start, self.resume.window_end], "page": self.resume.page}
                if self.resume
                else None
            ),
            "last_run": dict(self.last_run) if self.last_run else None,
            "last_error": (
                {"code": self.last_error_code, "message": self.last_error, "at": self.last_error_at}
                if self.last_error
                else None
            ),
            "disabled_reason": self.disabled_reason or None,
            "rows": self.rows,
            "exports_pending": len(self.dirty_days),
        }


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
