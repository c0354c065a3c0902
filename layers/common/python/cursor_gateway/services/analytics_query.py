"""The query side of the analytics store: Cursor's `/analytics/ai-code/<dataset>` answered from our rows,
and the parameters (dataset, date range, user) that the query route and the ad hoc CSV export share.

Bad parameters are InvalidRequest naming the parameter (a 400 on the routes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from cursor_gateway.domain.analytics import Dataset, UserFilter, dataset, parse_user
from cursor_gateway.domain.analytics_time import iso, parse_when, utc
from cursor_gateway.errors import InvalidRequest
from cursor_gateway.storage.analytics_rows import AnalyticsRowStore

MAX_QUERY_DAYS = 366


def dataset_param(name: str) -> Dataset:
    try:
        return dataset(name)
    except ValueError as exc:
        raise InvalidRequest(str(exc), param="dataset") from None


def user_param(user: str | None) -> UserFilter | None:
    if user is None or not user.strip():
        return None
    try:
        return parse_user(user)
    except ValueError as exc:
        raise InvalidRequest(f"user: {exc}", param="user") from None


def date_range(start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    """`startDate`/`endDate` as Cursor reads them (default: the last 7 days); at most MAX_QUERY_DAYS."""
    try:
        lower = parse_when(start or "7d", now)
    except ValueError as exc:
        raise InvalidRequest(f"startDate: {exc}", param="startDate") from None
    try:
        upper = parse_when(end or "now", now, end=True)
    except ValueError as exc:
        raise InvalidRequest(f"endDate: {exc}", param="endDate") from None
    if upper < lower:
        raise InvalidRequest("endDate is before startDate", param="endDate")
    if upper - lower > timedelta(days=MAX_QUERY_DAYS):
        raise InvalidRequest(f"startDate..endDate spans more than {MAX_QUERY_DAYS} days", param="startDate")
    return lower, upper


def range_days(lower: datetime, upper: datetime) -> list[str]:
    """The createdAt days (the rows' partition) that `[lower, upper]` touches."""
    days = []
    day = lower.date()
    while datetime.combine(day, datetime.min.time(), lower.tzinfo) < upper:
        days.append(day.isoformat())
        day += timedelta(days=1)
    return days


class AnalyticsQueries:
    def __init__(self, rows: Mapping[str, AnalyticsRowStore], clock: Callable[[], float]) -> None:
        self.rows = rows
        self.clock = clock

    def range_items(
        self, ds: Dataset, lower: datetime, upper: datetime, user: UserFilter | None
    ) -> Iterator[dict[str, Any]]:
        store = self.rows[ds.name]
        for day in range_days(lower, upper):
            yield from store.day_items(day, iso(lower), iso(upper), user)

    def query(
        self,
        name: str,
        *,
        start: str | None,
        end: str | None,
        page: int,
        page_size: int,
        user: str | None,
    ) -> dict[str, Any]:
        """Cursor's `/analytics/ai-code/<dataset>` answered from our store: rows with createdAt in
        [startDate, endDate], oldest first, `{items, totalCount, page, pageSize}`."""
        ds = dataset_param(name)
        lower, upper = date_range(start, end, utc(self.clock()))
        who = user_param(user)
        store = self.rows[ds.name]
        lo, hi = iso(lower), iso(upper)
        days = range_days(lower, upper)
        counts = [store.count_day(day, lo, hi, who) for day in days]
        skip = (page - 1) * page_size
        items: list[dict[str, Any]] = []
        for day, count in zip(days, counts, strict=True):
            if len(items) >= page_size:
                break
            if skip >= count:
                skip -= count
                continue
            for item in store.day_items(day, lo, hi, who):
                if skip:
                    skip -= 1
                    continue
                items.append(item)
                if len(items) >= page_size:
                    break
        return {"items": items, "totalCount": sum(counts), "page": page, "pageSize": page_size}
