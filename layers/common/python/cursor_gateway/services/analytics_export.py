"""CSV exports of the analytics rows in Cursor's own CSV columns: the file of one createdAt day (rewritten
by the puller after every pull that touched the day) and the ad hoc export of a date range
(`POST /analytics/export`), handed back as a presigned URL. Both stream rows to S3, never all in memory."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cursor_gateway.domain.analytics import Dataset, csv_header, csv_row, dataset
from cursor_gateway.domain.analytics_time import utc
from cursor_gateway.services.analytics_query import AnalyticsQueries, dataset_param, date_range, user_param
from cursor_gateway.settings import Settings
from cursor_gateway.storage.analytics_objects import AnalyticsObjects
from cursor_gateway.storage.analytics_rows import AnalyticsRowStore


class AnalyticsExporter:
    def __init__(
        self,
        settings: Settings,
        *,
        rows: Mapping[str, AnalyticsRowStore],
        objects: AnalyticsObjects,
        queries: AnalyticsQueries,
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self.rows = rows
        self.objects = objects
        self.queries = queries
        self.clock = clock

    def export_day(self, name: str, day: str) -> str:
        ds = dataset(name)
        key = f"exports/{ds.name}/dt={day}/{ds.name}-{day}.csv"
        # Every sort key of the day starts with "<day>T" (createdAt): the whole day lies between these.
        items = self.rows[ds.name].day_items(day, f"{day}T", f"{day}U")
        self.objects.upload_text(key, csv_lines(ds, items), "text/csv; charset=utf-8")
        return key

    def export(self, name: str, start: str, end: str, user: str | None = None) -> dict[str, Any]:
        """`POST /analytics/export`: one CSV for a date range (and a user), and a presigned URL to it."""
        ds = dataset_param(name)
        now = utc(self.clock())
        lower, upper = date_range(start, end, now)
        who = user_param(user)
        counter = [0]

        def counted() -> Iterator[dict[str, Any]]:
            for item in self.queries.range_items(ds, lower, upper, who):
                counter[0] += 1
                yield item

        key = f"exports/adhoc/{ds.name}/{now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}.csv"
        self.objects.upload_text(key, csv_lines(ds, counted()), "text/csv; charset=utf-8")
        url = self.objects.presign(key, self.settings.analytics_export_url_seconds)
        return {"url": url, "key": key, "bucket": self.objects.bucket, "rows": counter[0]}


def csv_lines(ds: Dataset, items: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield csv_header(ds)
    for item in items:
        yield csv_row(ds, item)
