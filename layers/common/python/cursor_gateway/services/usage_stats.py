"""Token-usage statistics from the pre-aggregated counters (never from request logs): Antigravity's
`/api/stats/token/*` answers plus ours (logs-stats-pages.md E.5, domain.usage_stats).

A request for a window reads the counter items of ONE scope: `G` for the admin, `K#<key>` for a key
holder (forced) or an admin asking for `api_key_id`, `A#<account>` for an `account` filter. A key holder
(or an admin) asking for one account within one key reads the key's items and that account's breakdown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cursor_gateway.domain.request_logs import rfc3339
from cursor_gateway.domain.usage_stats import (
    HOUR_MS,
    Window,
    add_into,
    breakdown_dimensions,
    breakdown_values,
    empty_counters,
    item_start_ms,
    periods,
    shaped,
    window,
    zone,
)
from cursor_gateway.errors import InvalidRequest
from cursor_gateway.services.stats_cache import ClosedBucketCache
from cursor_gateway.settings import Settings
from cursor_gateway.storage.request_logs import RequestLogStore

# parameter -> (default, maximum) per route family
LIMITS = {"hours": (168, 24 * 400), "days": (7, 400), "weeks": (4, 104)}
COMMON_PARAMS = {"tz", "from", "to", "api_key_id", "account"}
DIM_OF = {"account": "a", "model": "m", "upstream": "u", "key": "k"}


@dataclass(frozen=True, slots=True)
class StatsQuery:
    window: Window
    api_key_id: str
    account: str
    extra: Mapping[str, str]


class UsageStatsService:
    def __init__(
        self, store: RequestLogStore, settings: Settings, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.cache = ClosedBucketCache(store.counters, settings.max_stream_seconds)

    # -- parameters ---------------------------------------------------------------------------------------

    def parse(
        self,
        params: Mapping[str, str],
        granularity: str,
        count_param: str,
        *,
        scope_key: str = "",
        extra: frozenset[str] = frozenset(),
    ) -> StatsQuery:
        """The route's query string, checked: an unknown parameter, a wrong type, an inverted range or a
        count over its maximum is a 400 naming the parameter. `scope_key` (a key holder's) wins over any
        `api_key_id` sent."""
        allowed = COMMON_PARAMS | {count_param} | extra
        for name in params:
            if name not in allowed:
                raise InvalidRequest(f"Unknown query parameter '{name}'", param=name)
        default, maximum = LIMITS[count_param]
        raw = params.get(count_param)
        try:
            count = default if raw in (None, "") else int(raw)
        except ValueError:
            raise InvalidRequest(
                f"Invalid value for '{count_param}': expected an integer", param=count_param
            ) from None
        if not 1 <= count <= maximum:
            raise InvalidRequest(f"'{count_param}' must be between 1 and {maximum}", param=count_param)
        tz = params.get("tz") or self.settings.stats_tz
        zone(tz)
        bounds = {name: _instant(params.get(name), name) for name in ("from", "to")}
        win = window(granularity, count, int(self.clock() * 1000), tz, bounds["from"], bounds["to"])
        if win.hours > 24 * 800:
            raise InvalidRequest("The window from 'from' to 'to' is longer than 800 days", param="to")
        key = scope_key or params.get("api_key_id", "")
        return StatsQuery(win, key, params.get("account", ""), {k: params[k] for k in extra if k in params})

    # -- reads ----------------------------------------------------------------------------------------------

    def _items(self, query: StatsQuery) -> list[dict[str, Any]]:
        win = query.window
        if query.api_key_id:
            pk = "K#" + query.api_key_id
        elif query.account:
            pk = "A#" + query.account
        else:
            pk = "G"
        if win.hourly:
            lo, hi = "H#" + _utc(win.start_ms, "%Y%m%d%H"), "H#" + _utc(win.end_ms - HOUR_MS, "%Y%m%d%H")
        else:
            lo, hi = "D#" + _utc(win.start_ms, "%Y%m%d"), "D#" + _utc(win.end_ms - HOUR_MS, "%Y%m%d")
        items = self.cache.read(pk, lo, hi, int(self.clock() * 1000))
        epoch = self.store.get_meta("stats_epoch")
        if epoch:
            # The bucket holding the clear is dropped whole: "cleared" reads as zero at once.
            span = HOUR_MS if win.hourly else 24 * HOUR_MS
            items = [i for i in items if item_start_ms(str(i["sk"])) > epoch - (epoch % span)]
        if query.api_key_id and query.account:
            # One account within one key: that breakdown's counters stand in for the item's own.
            prefix = f"a#{query.account}#"
            narrowed = []
            for item in items:
                counters: dict[str, Any] = {"sk": item["sk"]}
                add_into(counters, item, prefix)
                narrowed.append(counters)
            items = narrowed
        return items

    def summary(self, query: StatsQuery, *, admin: bool) -> dict[str, Any]:
        items = self._items(query)
        total = empty_counters()
        for item in items:
            add_into(total, item)
        result = shaped(total)
        result.pop("request_count")
        result["total_requests"] = total["requests"]
        dims = breakdown_dimensions(items)
        result["unique_accounts"] = len(dims["a"])
        result["unique_models"] = len(dims["m"])
        result["unique_api_keys"] = len(dims["k"]) if admin else (1 if total["requests"] else 0)
        tz = query.window.tz
        result["window"] = {
            "from": rfc3339(query.window.start_ms, tz),
            "to": rfc3339(query.window.end_ms, tz),
        }
        return result

    def series(self, query: StatsQuery, granularity: str) -> list[dict[str, Any]]:
        return [
            {"period": label, **shaped(c)}
            for label, c in periods(self._items(query), query.window, granularity)
        ]

    def trend(self, query: StatsQuery, granularity: str, dimension: str) -> list[dict[str, Any]]:
        field = "model_data" if dimension == "model" else "account_data"
        dim = DIM_OF[dimension]
        items = self._items(query)
        out = []
        for label, data in periods(items, query.window, granularity, dim):
            if dimension == "account":
                data = {_email_of(items, k) or k: v for k, v in data.items()}
            out.append({"period": label, field: data})
        return out

    def by(self, query: StatsQuery, dimension: str) -> list[dict[str, Any]]:
        items = self._items(query)
        dim = DIM_OF[dimension]
        rows = []
        for value in breakdown_values(items, dim):
            counters: dict[str, int] = {}
            for item in items:
                add_into(counters, item, f"{dim}#{value}#")
            row = shaped(counters)
            # Breakdowns count requests and tokens only; success/failure and timing live on scope items.
            for name in ("success_count", "failure_count", "avg_total_time", "avg_ttft"):
                row.pop(name)
            if dimension == "account":
                row = {"account_email": _email_of(items, value) or value, "account_alias": value, **row}
            elif dimension == "key":
                row = {"api_key_id": value, "api_key_name": _name_of(items, value), **row}
            else:
                row = {"model": value, **row}
            rows.append(row)
        rows.sort(key=lambda r: (-r["total_tokens"], -r["request_count"]))
        return rows

    def own_key_row(self, query: StatsQuery) -> list[dict[str, Any]]:
        """by-key for a key holder: its own row only."""
        items = self._items(query)
        total = empty_counters()
        for item in items:
            add_into(total, item)
        if not total["requests"]:
            return []
        return [
            {
                "api_key_id": query.api_key_id,
                "api_key_name": _name_of(items, query.api_key_id),
                **shaped(total),
            }
        ]

    def today_errors(self) -> int:
        now = int(self.clock() * 1000)
        sk = "D#" + _utc(now, "%Y%m%d")
        items = self.store.counters("G", sk, sk)
        return int(items[0].get("failure", 0)) if items else 0

    def served_accounts(self, key_id: str) -> set[str]:
        """Accounts that served a key's requests within the log retention (from its daily counters)."""
        now = int(self.clock() * 1000)
        start = now - int(self.settings.log_retention_days * 86_400_000)
        items = self.store.counters("K#" + key_id, "D#" + _utc(start, "%Y%m%d"), "D#" + _utc(now, "%Y%m%d"))
        return breakdown_values(items, "a")

    def clear(self) -> int:
        epoch = int(self.clock() * 1000)
        self.store.set_meta("stats_epoch", epoch)
        return epoch


def _utc(ms: int, fmt: str) -> str:
    from datetime import UTC

    return datetime.fromtimestamp(ms / 1000, UTC).strftime(fmt)


def _instant(raw: str | None, name: str) -> int | None:
    if raw in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(
            f"Invalid value for '{name}': expected an RFC 3339 date-time", param=name
        ) from None
    if parsed.tzinfo is None:
        raise InvalidRequest(f"Invalid value for '{name}': the date-time needs an offset", param=name)
    return int(parsed.timestamp() * 1000)


def _email_of(items: list[dict[str, Any]], alias: str) -> str:
    for item in items:
        email = item.get(f"aemail#{alias}")
        if email:
            return str(email)
    return ""


def _name_of(items: list[dict[str, Any]], key_id: str) -> str:
    for item in reversed(items):
        name = item.get(f"kname#{key_id}")
        if name:
            return str(name)
    return ""
