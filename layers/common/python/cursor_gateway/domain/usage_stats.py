"""Pre-aggregated usage counters as pure data (logs-stats-pages.md E.5/E.7).

One counter item per (scope, UTC hour) and (scope, UTC day). Scopes: `G` (global), `K#<api key id>`,
`A#<account alias>`, `M#<requested model>`, `U#<upstream model>`. Every item carries the base counters
(`BASE`); the `G`, `K#` and `A#` items also carry per-dimension breakdowns as flat attributes
`<dim>#<value>#<counter>` (dims: `m` model, `u` upstream model, `a` account, `k` key; counters `n`
requests, `i` input, `o` output, `c` cache read, `w` cache write), so by-model, by-account, by-key and
the trends are answered from the `G` (or the caller's `K#`) items alone: a 7-day summary reads 168 items
whatever the request volume. Flat attributes because DynamoDB cannot `ADD` into a map that does not exist.

Buckets in a time zone: hours are stored in UTC, so every whole-hour-offset zone is answered exactly
(DST included: a local day has 23 or 25 hours, a repeated local hour is one bucket); zones with a
half-hour offset are rounded to the UTC hour. Ranges longer than `HOURLY_READ_LIMIT` hours read the daily
items, whose days are UTC days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cursor_gateway.errors import InvalidRequest

BASE = (
    "requests",
    "success",
    "failure",
    "input",
    "output",
    "cache_read",
    "cache_write",
    "time_ms",
    "ttft_ms",
    "ttft_n",
)
SHORT = {"n": "requests", "i": "input", "o": "output", "c": "cache_read", "w": "cache_write"}
DIMENSIONS = {"G": ("m", "u", "a", "k"), "K": ("m", "u", "a"), "A": ("m", "u", "k")}
SHORT_DIMS = ("m", "u", "a", "k")
HOURLY_READ_LIMIT = 24 * 62
HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class Completed:
    """What one finished request adds to the counters."""

    ts_ms: int
    success: bool
    api_key_id: str
    api_key_name: str
    account: str
    account_email: str
    model: str
    upstream_model: str
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    total_ms: int = 0
    ttft_ms: int | None = None


@dataclass(frozen=True, slots=True)
class CounterUpdate:
    pk: str
    sk: str
    add: dict[str, int]
    set: dict[str, str]
    granularity: str  # "H" or "D"


def hour_sk(ts_ms: int) -> str:
    return "H#" + datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y%m%d%H")


def day_sk(ts_ms: int) -> str:
    return "D#" + datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y%m%d")


def counter_updates(done: Completed) -> list[CounterUpdate]:
    """The ADDs one completed request makes: base counters on every scope's hour and day item,
    breakdowns on the G/K/A items, and the display names (key name, account email) beside them."""
    base = {
        "requests": 1,
        "success": int(done.success),
        "failure": int(not done.success),
        "input": done.input,
        "output": done.output,
        "cache_read": done.cache_read,
        "cache_write": done.cache_write,
        "time_ms": done.total_ms,
        "ttft_ms": done.ttft_ms or 0,
        "ttft_n": int(done.ttft_ms is not None),
    }
    values = {
        "m": done.model,
        "u": done.upstream_model or done.model,
        "a": done.account,
        "k": done.api_key_id,
    }
    numbers = {"n": 1, "i": done.input, "o": done.output, "c": done.cache_read, "w": done.cache_write}
    scopes = [("G", "G"), ("K", f"K#{done.api_key_id}"), ("M", f"M#{done.model}")]
    scopes.append(("U", f"U#{values['u']}"))
    if done.account:
        scopes.append(("A", f"A#{done.account}"))
    names = {f"kname#{done.api_key_id}": done.api_key_name}
    if done.account_email:
        names[f"aemail#{done.account}"] = done.account_email
    updates = []
    for kind, pk in scopes:
        add = {k: v for k, v in base.items() if v}
        for dim in DIMENSIONS.get(kind, ()):
            if values[dim]:
                add.update({f"{dim}#{values[dim]}#{c}": n for c, n in numbers.items() if n})
        labels = names if kind in DIMENSIONS else {}
        for granularity, sk in (("H", hour_sk(done.ts_ms)), ("D", day_sk(done.ts_ms))):
            updates.append(CounterUpdate(pk, sk, add, labels, granularity))
    return updates


# -- reading: windows, buckets, shapes ------------------------------------------------------------------


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequest(f"Invalid value for 'tz': unknown time zone '{name}'", param="tz") from None


@dataclass(frozen=True, slots=True)
class Window:
    start_ms: int  # inclusive, on a UTC hour
    end_ms: int  # exclusive, on a UTC hour
    tz: str

    @property
    def hours(self) -> int:
        return (self.end_ms - self.start_ms) // HOUR_MS

    @property
    def hourly(self) -> bool:
        return self.hours <= HOURLY_READ_LIMIT


def _floor_hour(ms: int) -> int:
    return ms - ms % HOUR_MS


def window(
    granularity: str, count: int, now_ms: int, tz: str, from_ms: int | None = None, to_ms: int | None = None
) -> Window:
    """The UTC hours a route covers: the last `count` hours/days/weeks in `tz` ending with the current
    one, or [from, to] rounded out to whole hours."""
    if from_ms is not None or to_ms is not None:
        end = to_ms if to_ms is not None else now_ms
        start = from_ms if from_ms is not None else end - count * _unit_ms(granularity)
        if start > end:
            raise InvalidRequest("'from' is after 'to'", param="to")
        return Window(_floor_hour(start), _floor_hour(end) + HOUR_MS, tz)
    end = _floor_hour(now_ms) + HOUR_MS
    if granularity == "hour":
        return Window(end - count * HOUR_MS, end, tz)
    local_now = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(zone(tz))
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    if granularity == "day":
        first = midnight.date() - timedelta(days=count - 1)
    else:
        first = midnight.date() - timedelta(days=midnight.weekday() + 7 * (count - 1))
    first_hour = datetime(first.year, first.month, first.day, tzinfo=zone(tz))
    return Window(_floor_hour(int(first_hour.timestamp() * 1000)), end, tz)


def _unit_ms(granularity: str) -> int:
    return {"hour": HOUR_MS, "day": 24 * HOUR_MS, "week": 7 * 24 * HOUR_MS}[granularity]


def label(ts_ms: int, granularity: str, tz: str) -> str:
    local = datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(zone(tz))
    if granularity == "hour":
        return local.strftime("%Y-%m-%d %H:00")
    if granularity == "day":
        return local.strftime("%Y-%m-%d")
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def item_start_ms(sk: str) -> int:
    text = sk[2:]
    fmt = "%Y%m%d%H" if sk.startswith("H#") else "%Y%m%d"
    return int(datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp() * 1000)


def bucket_starts(win: Window) -> list[int]:
    step = HOUR_MS if win.hourly else 24 * HOUR_MS
    start = win.start_ms if win.hourly else win.start_ms - win.start_ms % (24 * HOUR_MS)
    return list(range(start, win.end_ms, step))


def empty_counters() -> dict[str, int]:
    return dict.fromkeys(BASE, 0)


def add_into(target: dict[str, int], item: Mapping[str, Any], prefix: str = "") -> None:
    """Add an item's base counters (or, with `prefix` like `m#gpt-5#`, one breakdown's) into `target`."""
    if prefix:
        for short, name in SHORT.items():
            target[name] = target.get(name, 0) + int(item.get(prefix + short, 0))
        return
    for name in BASE:
        target[name] = target.get(name, 0) + int(item.get(name, 0))


def breakdown_values(items: Iterable[Mapping[str, Any]], dim: str) -> set[str]:
    found = set()
    for item in items:
        for name in item:
            if name.startswith(dim + "#") and name.endswith("#n"):
                found.add(name[len(dim) + 1 : -2])
    return found


def breakdown_dimensions(items: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    """breakdown_values for every dimension at once (one pass over the attribute names)."""
    found: dict[str, set[str]] = {dim: set() for dim in SHORT_DIMS}
    for item in items:
        for name in item:
            if name[1:2] == "#" and name.endswith("#n") and name[0] in found:
                found[name[0]].add(name[2:-2])
    return found


def shaped(counters: Mapping[str, int]) -> dict[str, Any]:
    """Antigravity's counter fields plus ours (E.5 extras)."""
    requests = counters.get("requests", 0)
    ttft_n = counters.get("ttft_n", 0)
    return {
        "total_input_tokens": counters.get("input", 0),
        "total_output_tokens": counters.get("output", 0),
        "total_cached_tokens": counters.get("cache_read", 0),
        "total_tokens": counters.get("input", 0) + counters.get("output", 0),
        "request_count": requests,
        "success_count": counters.get("success", 0),
        "failure_count": counters.get("failure", 0),
        "total_cache_write_tokens": counters.get("cache_write", 0),
        "total_cents": 0,
        "avg_total_time": round(counters.get("time_ms", 0) / requests / 1000, 3) if requests else 0.0,
        "avg_ttft": round(counters.get("ttft_ms", 0) / ttft_n / 1000, 3) if ttft_n else 0.0,
    }


def periods(
    items: Iterable[Mapping[str, Any]], win: Window, granularity: str, dim: str = ""
) -> list[tuple[str, dict[str, Any]]]:
    """Zero-filled, ascending buckets of `win` in its time zone: (label, counters) or, with `dim`,
    (label, {value: total tokens})."""
    out: dict[str, dict[str, Any]] = {}
    starts = bucket_starts(win)
    for start in starts:
        out.setdefault(label(start, granularity, win.tz), {} if dim else empty_counters())
    for item in items:
        start = item_start_ms(str(item["sk"]))
        if not (starts and starts[0] <= start < win.end_ms):
            continue
        bucket = out.get(label(start, granularity, win.tz))
        if bucket is None:
            continue
        if not dim:
            add_into(bucket, item)
            continue
        for value in breakdown_values([item], dim):
            p = f"{dim}#{value}#"
            bucket[value] = bucket.get(value, 0) + int(item.get(p + "i", 0)) + int(item.get(p + "o", 0))
    return list(out.items())
