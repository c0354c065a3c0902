"""Cursor's AI code tracking data (Admin API `/analytics/ai-code/*`): datasets, rows, the user filter,
CSV lines and a dataset stream's stored state. Pure. The time rules (dates, windows, the checkpoint, the
rate limit) are in `analytics_time`.

Two datasets, each keyed by one field: `commits` (AiCommitMetric, key `commitHash`) and `changes`
(key `changeId`). Every row carries `createdAt`, Cursor's ingestion time: pulls are incremental on it.

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
from datetime import date, datetime
from typing import Any

from cursor_gateway.domain.analytics_time import Window, iso, parse_timestamp


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


def dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset '{name}' (expected one of: {', '.join(DATASETS)})") from None


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
