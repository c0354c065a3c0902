"""The puller: one dataset stream's pull from Cursor's Admin API into our store (steps 1-4 of the job
described in services/analytics.py).

It takes the stream's lease, reads the planned windows page by page, keeps the new and changed rows (raw
JSON lines to S3 under their createdAt day, then DynamoDB), saves the resume point after every page and
the checkpoint after every window, then has the exporter rewrite the CSV of every day that received
rows, and finally releases the lease with the run's summary (and its error, or the 403 that disables
the stream). Whatever happens, the lease is released and the summary says what happened.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cursor_gateway.domain.analytics import Dataset, Resume, Row, canonical_json, to_row
from cursor_gateway.domain.analytics_time import (
    OutOfTime,
    Window,
    advance_checkpoint,
    iso,
    parse_day,
    plan_windows,
    pull_end,
    pull_start,
    utc,
)
from cursor_gateway.errors import GatewayError, UpstreamProtocolError
from cursor_gateway.services.analytics_export import AnalyticsExporter
from cursor_gateway.settings import Settings
from cursor_gateway.storage.analytics_objects import AnalyticsObjects
from cursor_gateway.storage.analytics_rows import AnalyticsRowStore
from cursor_gateway.storage.analytics_state import AnalyticsStateStore, LeaseLost
from cursor_gateway.upstream.admin_api import AdminApiClient, AdminApiForbidden

log = logging.getLogger("cursor_gateway.analytics")

LEASE_SECONDS = 900.0


@dataclass
class PullStats:
    """What one stream's pull did: the counters of its run summary."""

    windows: int = 0
    pages: int = 0
    rows_seen: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    exported_days: int = 0
    requests: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class PullOutcome:
    """How one stream's pull ended: its state, the error the status shows, why to disable the stream."""

    state: str = "succeeded"
    error: tuple[str, str] | None = None
    disable: str = ""
    stats: PullStats = field(default_factory=PullStats)


class StreamPuller:
    def __init__(
        self,
        settings: Settings,
        *,
        client_factory: Callable[[], AdminApiClient],
        state: AnalyticsStateStore,
        rows: Mapping[str, AnalyticsRowStore],
        objects: AnalyticsObjects,
        exporter: AnalyticsExporter,
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self.client_factory = client_factory
        self.state = state
        self.rows = rows
        self.objects = objects
        self.exporter = exporter
        self.clock = clock

    def pull_stream(
        self, ds: Dataset, since_day: Any, run_id: str, trigger: str, deadline: float | None
    ) -> dict[str, Any]:
        stream = self.state.acquire(ds.name, run_id, LEASE_SECONDS)
        if stream is None:
            return {"state": "skipped", "reason": "another run is pulling this dataset"}
        started = iso(utc(self.clock()))
        outcome = PullOutcome()
        lease_lost = False
        client = self.client_factory()
        try:
            if not stream.enabled:
                # Skipped, keeping the error that disabled it (the 403) for the status.
                outcome.state = "disabled"
                outcome.error = (
                    stream.last_error_code or "stream_disabled",
                    stream.last_error or stream.disabled_reason or "the stream is disabled",
                )
            else:
                self._read_windows(ds, stream, since_day, run_id, deadline, client, outcome.stats)
        except OutOfTime as exc:
            outcome.state = "partial"
            log.info("analytics %s stopped at its deadline (%s); the next run resumes", ds.name, exc)
        except AdminApiForbidden as exc:
            outcome.state, outcome.error, outcome.disable = "failed", (exc.code, exc.message), exc.message
            log.warning("analytics %s disabled: %s", ds.name, exc.message)
        except LeaseLost as exc:
            outcome.state, outcome.error = "failed", (exc.code, exc.message)
            lease_lost = True
        except GatewayError as exc:
            outcome.state, outcome.error = "failed", (exc.code, exc.message)
            log.warning("analytics %s failed: %s", ds.name, exc.message)
        except Exception as exc:  # a run must always release its lease and say what happened
            log.exception("analytics %s failed unexpectedly", ds.name)
            outcome.state, outcome.error = "failed", ("internal_error", f"{type(exc).__name__}: {exc}")
        finally:
            outcome.stats.requests = client.requests
            client.close()
        if outcome.state != "partial" and not lease_lost:
            self.export_pending(ds, run_id, outcome, deadline)
        summary = {
            "run_id": run_id,
            "trigger": trigger,
            "state": outcome.state,
            "started_at": started,
            "finished_at": iso(utc(self.clock())),
            **outcome.stats.as_dict(),
        }
        if outcome.error:
            summary["error"] = outcome.error[1]
        try:
            self.state.release(
                ds.name, run_id, last_run=summary, error=outcome.error, disable=outcome.disable
            )
        except GatewayError as exc:  # the lease then simply expires
            log.warning("analytics %s: could not release the stream: %s", ds.name, exc.message)
        return summary

    def _read_windows(
        self,
        ds: Dataset,
        stream: Any,
        since_day: Any,
        run_id: str,
        deadline: float | None,
        client: AdminApiClient,
        stats: PullStats,
    ) -> None:
        settings = self.settings
        now = utc(self.clock())
        end = pull_end(now)
        first_page = 1
        if since_day is None and stream.resume is not None:
            resumed = stream.resume.window
            windows = [resumed, *plan_windows(resumed.end, end, settings.analytics_window_days)]
            first_page = stream.resume.page
        else:
            backfill = parse_day(settings.analytics_backfill_start, now)
            start = pull_start(
                stream.checkpoint,
                since=since_day,
                backfill=backfill,
                overlap=timedelta(hours=settings.analytics_overlap_hours),
            )
            windows = plan_windows(start, end, settings.analytics_window_days)
        checkpoint, last_seen = stream.checkpoint, stream.last_seen
        for index, window in enumerate(windows):
            pages = client.pages(
                ds,
                window,
                first_page=first_page if index == 0 else 1,
                page_size=settings.analytics_page_size,
                deadline=deadline,
            )
            for page in pages:
                seen, inserted, days = self._store_page(ds, window, page.page, page.items, run_id, stats)
                last_seen = max(last_seen, seen)
                self.state.save_page(
                    ds.name,
                    run_id,
                    resume=Resume(window.start.isoformat(), window.end.isoformat(), page.page + 1),
                    last_seen=last_seen,
                    inserted=inserted,
                    days=days,
                    lease_seconds=LEASE_SECONDS,
                )
            stats.windows += 1
            checkpoint = advance_checkpoint(checkpoint, window, last_seen, utc(self.clock()))
            following = windows[index + 1] if index + 1 < len(windows) else None
            self.state.save_window(
                ds.name,
                run_id,
                checkpoint=checkpoint,
                resume=Resume(following.start.isoformat(), following.end.isoformat(), 1)
                if following
                else None,
            )

    def _store_page(
        self,
        ds: Dataset,
        window: Window,
        number: int,
        items: list[dict[str, Any]],
        run_id: str,
        stats: PullStats,
    ) -> tuple[str, int, set[str]]:
        """Keep a page's new and changed rows (S3 first, then DynamoDB). Returns the latest createdAt,
        how many rows were new and the days that received rows."""
        try:
            rows = [to_row(ds, item) for item in items]
        except ValueError as exc:
            raise UpstreamProtocolError(
                f"{ds.path} {window.start}..{window.end} page {number}: {exc}"
            ) from None
        store = self.rows[ds.name]
        changed, new_keys = store.changed(rows)
        by_day: dict[str, list[Row]] = {}
        for row in changed:
            by_day.setdefault(row.day, []).append(row)
        for day, day_rows in sorted(by_day.items()):
            self.objects.put(raw_key(ds.name, day, day_rows), raw_lines(day_rows), "application/x-ndjson")
        store.write(changed, run_id=run_id, now=self.clock())
        stats.pages += 1
        stats.rows_seen += len(rows)
        stats.inserted += len(new_keys)
        stats.updated += len(changed) - len(new_keys)
        stats.unchanged += len({r.key for r in rows}) - len(changed)
        return max((r.created_at for r in rows), default=""), len(new_keys), set(by_day)

    def export_pending(
        self, ds: Dataset, run_id: str, outcome: PullOutcome, deadline: float | None = None
    ) -> None:
        """Rewrite the CSV of every day that received rows (also those left by an earlier run). Done days
        are cleared 25 at a time; the rest wait for the next run if the deadline comes first (a day
        exported twice after a crash is merely rewritten)."""
        done: list[str] = []

        def record() -> None:
            self.state.exported(ds.name, run_id, done)
            outcome.stats.exported_days += len(done)
            done.clear()

        try:
            for day in self.state.stream(ds.name).dirty_days:
                if deadline is not None and self.clock() > deadline:
                    if outcome.state == "succeeded":
                        outcome.state = "partial"
                    break
                self.exporter.export_day(ds.name, day)
                done.append(day)
                if len(done) >= 25:
                    record()
            if done:
                record()
        except GatewayError as exc:
            log.warning("analytics %s exports failed: %s", ds.name, exc)
            if outcome.error is None:
                outcome.state, outcome.error = "failed", (exc.code, exc.message)


def raw_key(dataset_name: str, day: str, rows: Sequence[Row]) -> str:
    """Named by content: writing the same rows again (a resumed page) overwrites, never duplicates."""
    digest = hashlib.sha256("\n".join(sorted(f"{r.key}:{r.digest}" for r in rows)).encode()).hexdigest()
    return f"analytics/{dataset_name}/dt={day}/part-{digest[:20]}.jsonl"


def raw_lines(rows: Sequence[Row]) -> bytes:
    ordered = sorted(rows, key=lambda r: r.sort_key)
    return "".join(canonical_json(r.item) + "\n" for r in ordered).encode()
