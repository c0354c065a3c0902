"""Request-log entries as pure data: ids, the `/logs/get` query (parsed and checked), the filter predicate
and the public shape of an entry (logs-stats-pages.md E.3/E.4).

A stored entry is a plain dict (`doc`), the same in DynamoDB (as JSON text) and in memory. Field names:
`id`, `ts_ms`, `model`, `upstream_model`, `endpoint`, `stream`, `status`, `http_status`, `error`
(`{"error", "details"}` or None), `timing` (`total`, `first`, `chunks`, seconds), `account` (`alias`,
`key` (masked), `user_id`, `email`, `stripe`), `api_key` (`id`, `name`), `client` (`ip`, `user_agent`),
`attempts`, `usage` (`input`, `output`, `cache_read`, `cache_write`, `total`, `source`), `protocol`,
`client_identity`, `body_ref`, `has_prompt`, `has_think`, `has_delays`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cursor_gateway.errors import InvalidRequest

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_USER_ID_RE = re.compile(r"^(user_[0-9A-Za-z]{26}|[0-9a-f]{24})$")

STATUSES = ("pending", "success", "failure")
MEMBERSHIPS = ("free", "free_trial", "pro", "pro_plus", "ultra", "enterprise")
INTERRUPTED = "interrupted"


def new_log_id(now_ms: int, entropy: bytes) -> str:
    """A ULID: 48 bits of milliseconds then 80 random bits, Crockford base32, so ids sort by time."""
    value = (now_ms & ((1 << 48) - 1)) << 80 | int.from_bytes(entropy[:10].rjust(10, b"\0"), "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def id_time_ms(log_id: str) -> int | None:
    """The milliseconds inside a well-formed id, else None (a foreign or made-up id)."""
    if not _ID_RE.match(log_id or ""):
        return None
    value = 0
    for char in log_id:
        value = value * 32 + _CROCKFORD.index(char)
    return value >> 80


# -- the /logs/get query ----------------------------------------------------------------------------------

# field -> kind. Reference fields (A.4) first, then ours (E.4).
QUERY_FIELDS: dict[str, str] = {
    "limit": "int",
    "offset": "int",
    "reverse": "bool",
    "from_date": "time",
    "to_date": "time",
    "user_id": "str",
    "email": "str",
    "membership_type": "str",
    "status": "str",
    "model": "str",
    "include_models": "strs",
    "exclude_models": "strs",
    "stream": "bool",
    "has_chain": "bool",
    "has_usage": "bool",
    "has_error": "bool",
    "error": "str",
    "min_total_time": "num",
    "max_total_time": "num",
    "min_tokens": "int",
    "max_tokens": "int",
    "api_key_id": "str",
    "account": "str",
    "endpoint": "str",
    "http_status": "int",
    "upstream_model": "str",
    "min_ttft": "num",
    "max_ttft": "num",
    "include_chain": "bool",
    "cursor": "str",
}


@dataclass
class LogQuery:
    start_ms: int
    end_ms: int
    limit: int = 50
    offset: int = 0
    reverse: bool = False
    cursor: str = ""
    include_chain: bool = False
    # Conditions that no entry can satisfy (an unknown status or membership: the reference answers an
    # empty success for them, not an error).
    impossible: bool = False
    filters: dict[str, Any] = field(default_factory=dict)

    def scoped(self, api_key_id: str) -> LogQuery:
        """The same query forced to one key's entries (a key holder's own; never widened)."""
        self.filters["api_key_id"] = api_key_id
        return self


def _typed(name: str, kind: str, value: Any) -> Any:
    def bad(expected: str) -> InvalidRequest:
        return InvalidRequest(f"Invalid value for '{name}': expected {expected}", param=name)

    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("a boolean")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad("a non-negative integer")
        return value
    if kind == "num":
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise bad("a non-negative number")
        return float(value)
    if kind == "str":
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if kind == "strs":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("an array of strings")
        return list(value)
    if not isinstance(value, str):
        raise bad("an RFC 3339 date-time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad("an RFC 3339 date-time") from None
    if parsed.tzinfo is None:
        raise bad("an RFC 3339 date-time with an offset")
    return int(parsed.timestamp() * 1000)


def parse_log_query(
    raw: Any, *, now_ms: int, max_limit: int, default_window_hours: float = 24, max_window_days: float = 31
) -> LogQuery:
    """`{"query": {...}}`'s inner object, checked field by field: an unknown field, a wrong type, an
    inverted range or a window longer than `max_window_days` is a 400 naming the field."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidRequest("Invalid value for 'query': expected an object", param="query")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        kind = QUERY_FIELDS.get(name)
        if kind is None:
            raise InvalidRequest(f"Unknown query field '{name}'", param=name)
        if value is not None:
            values[name] = _typed(name, kind, value)
    for low, high in (
        ("min_total_time", "max_total_time"),
        ("min_tokens", "max_tokens"),
        ("min_ttft", "max_ttft"),
    ):
        if low in values and high in values and values[low] > values[high]:
            raise InvalidRequest(f"'{low}' is greater than '{high}'", param=high)
    window_ms = int(default_window_hours * 3_600_000)
    end = values.pop("to_date", None)
    start = values.pop("from_date", None)
    if start is None and end is None:
        start, end = now_ms - window_ms, now_ms
    elif start is None:
        start = end - window_ms
    elif end is None:
        end = max(now_ms, start)
    if start > end:
        raise InvalidRequest("'from_date' is after 'to_date'", param="to_date")
    if end - start > max_window_days * 86_400_000:
        raise InvalidRequest(
            f"The window from 'from_date' to 'to_date' exceeds {max_window_days:g} days", param="to_date"
        )
    if "user_id" in values and not _USER_ID_RE.match(values["user_id"]):
        raise InvalidRequest("Invalid value for 'user_id': not a Cursor user id", param="user_id")
    limit = values.pop("limit", 50)
    include_chain = values.pop("include_chain", False)
    cap = min(max_limit, 20) if include_chain else max_limit
    query = LogQuery(
        start_ms=start,
        end_ms=end,
        limit=max(1, min(limit, cap)),
        offset=min(values.pop("offset", 0), 10_000),
        reverse=values.pop("reverse", False),
        cursor=values.pop("cursor", ""),
        include_chain=include_chain,
    )
    query.impossible = ("status" in values and values["status"] not in STATUSES) or (
        "membership_type" in values and values["membership_type"] not in MEMBERSHIPS
    )
    query.filters = values
    return query


def effective_status(doc: dict[str, Any], now_ms: int, stale_after_ms: int) -> tuple[str, Any]:
    """(status, error): an entry still pending long after any stream could have ended was left by an
    instance that died; it reads as a failure "interrupted"."""
    status = doc.get("status", "pending")
    if status == "pending" and now_ms - int(doc.get("ts_ms", 0)) > stale_after_ms:
        return "failure", {
            "error": INTERRUPTED,
            "details": "The instance serving it stopped before it finished",
        }
    return status, doc.get("error")


def _contains(haystack: Any, needle: str) -> bool:
    return isinstance(haystack, str) and needle.lower() in haystack.lower()


def matches(doc: dict[str, Any], query: LogQuery, now_ms: int, stale_after_ms: int) -> bool:
    """The reference's filter semantics (A.4) plus ours (E.4); every condition combines with AND."""
    if query.impossible:
        return False
    f = query.filters
    account = doc.get("account") or {}
    timing = doc.get("timing") or {}
    usage = doc.get("usage")
    status, error = effective_status(doc, now_ms, stale_after_ms)
    stripe = account.get("stripe") or {}
    checks = (
        ("user_id", lambda v: account.get("user_id") == v),
        ("email", lambda v: _contains(account.get("email"), v)),
        ("membership_type", lambda v: stripe.get("membership_type") == v),
        ("status", lambda v: status == v),
        ("model", lambda v: _contains(doc.get("model"), v)),
        ("include_models", lambda v: doc.get("model") in v),
        ("exclude_models", lambda v: doc.get("model") not in v),
        ("stream", lambda v: bool(doc.get("stream")) == v),
        ("has_chain", lambda v: bool(doc.get("has_prompt") or doc.get("has_think") or usage) == v),
        ("has_usage", lambda v: (usage is not None) == v),
        ("has_error", lambda v: (error is not None) == v),
        ("error", lambda v: error is not None and _contains(_error_text(error), v)),
        ("min_total_time", lambda v: float(timing.get("total") or 0) >= v),
        ("max_total_time", lambda v: float(timing.get("total") or 0) <= v),
        ("min_tokens", lambda v: usage is not None and usage.get("total", 0) >= v),
        ("max_tokens", lambda v: usage is not None and usage.get("total", 0) <= v),
        ("api_key_id", lambda v: (doc.get("api_key") or {}).get("id") == v),
        ("account", lambda v: v in (account.get("alias"), account.get("key"))),
        ("endpoint", lambda v: doc.get("endpoint") == v),
        ("http_status", lambda v: doc.get("http_status") == v),
        ("upstream_model", lambda v: _contains(doc.get("upstream_model"), v)),
        ("min_ttft", lambda v: timing.get("first") is not None and timing["first"] >= v),
        ("max_ttft", lambda v: timing.get("first") is not None and timing["first"] <= v),
    )
    return all(check(f[name]) for name, check in checks if name in f)


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return f"{error.get('error', '')} {error.get('details', '')}"
    return str(error)


def rfc3339(ts_ms: int, tz: str) -> str:
    moment = datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(ZoneInfo(tz))
    return moment.isoformat(timespec="milliseconds")


def present(
    doc: dict[str, Any], *, now_ms: int, stale_after_ms: int, admin: bool, tz: str = "UTC"
) -> dict[str, Any]:
    """The E.3 shape of one entry (bodies are added by the detail route only)."""
    status, error = effective_status(doc, now_ms, stale_after_ms)
    account = doc.get("account") or {}
    usage = doc.get("usage")
    timing = doc.get("timing") or {}
    entry: dict[str, Any] = {
        "id": doc["id"],
        "timestamp": rfc3339(int(doc["ts_ms"]), tz),
        "model": doc.get("model", ""),
        "upstream_model": doc.get("upstream_model"),
        "endpoint": doc.get("endpoint", ""),
        "stream": bool(doc.get("stream")),
        "status": status,
        "http_status": doc.get("http_status"),
        "error": error,
        "timing": {
            "total": timing.get("total", 0.0),
            "first": timing.get("first"),
            "chunks": timing.get("chunks", 0),
        },
        "token_info": {
            "key": account.get("key", ""),
            "alias": account.get("alias", ""),
            "email": account.get("email") or None,
            "stripe": account.get("stripe"),
        },
        "api_key": doc.get("api_key") or {"id": "", "name": ""},
        "attempts": doc.get("attempts", 0),
        "usage": usage,
        "protocol": doc.get("protocol", ""),
        "client_identity": doc.get("client_identity", ""),
        "chain": {
            "usage": usage,
            "has_prompt": bool(doc.get("has_prompt")),
            "has_think": bool(doc.get("has_think")),
            "has_delays": bool(doc.get("has_delays")),
        },
    }
    if admin:
        entry["client"] = doc.get("client") or {"ip": "", "user_agent": ""}
    return entry


def day_of(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y%m%d")


def days_between(start_ms: int, end_ms: int) -> list[str]:
    """UTC days (yyyymmdd) covering [start_ms, end_ms], oldest first."""
    day = datetime.fromtimestamp(start_ms / 1000, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    last = datetime.fromtimestamp(end_ms / 1000, UTC)
    out = []
    while day <= last:
        out.append(day.strftime("%Y%m%d"))
        day += timedelta(days=1)
    return out
