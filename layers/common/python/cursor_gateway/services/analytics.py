"""Pulls of Cursor's AI code tracking analytics, and what is served from them.

`AnalyticsService.pull` is the one job: the EventBridge schedule (functions/analytics), the command line
(`cursor-gateway analytics pull`) and `POST /analytics/pull` all end there. Per dataset it:

1. takes the stream's lease (another pull holding it -> this dataset is skipped, not run twice);
2. plans windows of at most ANALYTICS_WINDOW_DAYS from the resume point of a run that stopped, else
   from the checkpoint minus ANALYTICS_OVERLAP_HOURS, else (first run) from ANALYTICS_BACKFILL_START;
   an explicit `since` overrides all three;
3. reads every page (the client waits for the shared rate limit and retries 429/5xx), keeps the rows
   that are new or changed: raw JSON lines to S3 under their createdAt day, then DynamoDB; then saves
   the resume point after every page, so a run that dies resumes at the next page;
4. moves the checkpoint when a window is complete, then rewrites the CSV export of every day that
   received rows; a 403 disables the stream until `POST /analytics/streams/<dataset>/enable`.

A run that reaches its deadline (a Lambda's remaining time) stops cleanly as `partial`; the next resumes.

`start_pull` answers at once: locally the pull runs in a background thread of this process; on Lambda
(ANALYTICS_FUNCTION_NAME set) the API function invokes the AnalyticsFunction asynchronously instead,
because a backfill at 5 requests a minute outlives any HTTP request and Mangum cannot run work after the
response.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from cursor_gateway.domain.analytics import (
    DATASETS,
    Dataset,
    Resume,
    Row,
    UserFilter,
    canonical_json,
    csv_header,
    csv_row,
    dataset,
    parse_user,
    to_row,
)
from cursor_gateway.domain.analytics_time import (
    OutOfTime,
    Window,
    advance_checkpoint,
    iso,
    parse_day,
    parse_when,
    plan_windows,
    pull_end,
    pull_start,
    utc,
)
from cursor_gateway.errors import GatewayError, InvalidRequest, NotFound, UpstreamProtocolError
from cursor_gateway.settings import Settings
from cursor_gateway.storage.analytics_limiter import DynamoRateLimiter
from cursor_gateway.storage.analytics_objects import AnalyticsObjects
from cursor_gateway.storage.analytics_rows import AnalyticsRowStore
from cursor_gateway.storage.analytics_state import AnalyticsStateStore, LeaseLost
from cursor_gateway.upstream.admin_api import AdminApiClient, AdminApiForbidden

log = logging.getLogger("cursor_gateway.analytics")

LEASE_SECONDS = 900.0
MAX_QUERY_DAYS = 366
LAMBDA_SAFETY_SECONDS = 60.0


class Dispatcher(Protocol):
    def dispatch(self, request: Mapping[str, Any]) -> None: ...


@dataclass
class _Stats:
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
class _Outcome:
    state: str = "succeeded"
    error: tuple[str, str] | None = None
    disable: str = ""
    stats: _Stats = field(default_factory=_Stats)


class AnalyticsService:
    def __init__(
        self,
        settings: Settings,
        *,
        client_factory: Callable[[], AdminApiClient],
        state: AnalyticsStateStore,
        rows: Mapping[str, AnalyticsRowStore],
        objects: AnalyticsObjects,
        dispatcher: Dispatcher | None = None,
        clock: Callable[[], float] = time.time,
        parallel: bool = True,
    ) -> None:
        self.settings = settings
        self.client_factory = client_factory
        self.state = state
        self.rows = rows
        self.objects = objects
        self.dispatcher = dispatcher or ThreadDispatcher(self)
        self.clock = clock
        self.parallel = parallel

    # -- settings --

    def _datasets(self, names: Sequence[str] | None) -> list[Dataset]:
        chosen = list(names) if names else list(self.settings.analytics_dataset_names)
        try:
            return [dataset(n) for n in dict.fromkeys(chosen)]
        except ValueError as exc:
            raise InvalidRequest(str(exc), param="datasets") from None

    def _since(self, since: str | None, now: datetime) -> Any:
        if not since:
            return None
        try:
            return parse_day(since, now)
        except ValueError as exc:
            raise InvalidRequest(f"since: {exc}", param="since") from None

    # -- starting a run --

    def start_pull(
        self, *, since: str | None = None, datasets: Sequence[str] | None = None, trigger: str = "api"
    ) -> str:
        """Record a queued run and hand it to the dispatcher; returns its id at once."""
        now = utc(self.clock())
        self._since(since, now)
        names = [d.name for d in self._datasets(datasets)]
        run_id = new_run_id(now)
        self.state.put_run(
            {
                "run_id": run_id,
                "state": "queued",
                "trigger": trigger,
                "since": since or "",
                "datasets": names,
                "queued_at": iso(now),
            }
        )
        request = {"action": "pull", "run_id": run_id, "since": since, "datasets": names, "trigger": trigger}
        try:
            self.dispatcher.dispatch(request)
        except GatewayError as exc:
            self.state.put_run(
                {
                    "run_id": run_id,
                    "state": "failed",
                    "trigger": trigger,
                    "datasets": names,
                    "error": exc.message,
                }
            )
            raise
        return run_id

    # -- the pull --

    def pull(
        self,
        *,
        since: str | None = None,
        datasets: Sequence[str] | None = None,
        run_id: str | None = None,
        trigger: str = "cli",
        deadline: float | None = None,
    ) -> dict[str, Any]:
        now = utc(self.clock())
        since_day = self._since(since, now)
        chosen = self._datasets(datasets)
        run_id = run_id or new_run_id(now)
        run: dict[str, Any] = {
            "run_id": run_id,
            "state": "running",
            "trigger": trigger,
            "since": since or "",
            "datasets": [d.name for d in chosen],
            "started_at": iso(now),
        }
        self.state.put_run(run)
        log.info("analytics run %s (%s) started: %s", run_id, trigger, ", ".join(run["datasets"]))

        def one(ds: Dataset) -> dict[str, Any]:
            return self._pull_stream(ds, since_day, run_id, trigger, deadline)

        if self.parallel and len(chosen) > 1:
            # Each endpoint has its own rate limit: the datasets are pulled side by side.
            with ThreadPoolExecutor(max_workers=len(chosen), thread_name_prefix="analytics") as pool:
                results = dict(zip([d.name for d in chosen], pool.map(one, chosen), strict=True))
        else:
            results = {d.name: one(d) for d in chosen}
        states = {r["state"] for r in results.values()}
        overall = next((s for s in ("failed", "partial", "succeeded") if s in states), "skipped")
        run.update(state=overall, finished_at=iso(utc(self.clock())), streams=results)
        self.state.put_run(run)
        log.info("analytics run %s finished: %s", run_id, overall)
        return run

    def _pull_stream(
        self, ds: Dataset, since_day: Any, run_id: str, trigger: str, deadline: float | None
    ) -> dict[str, Any]:
        stream = self.state.acquire(ds.name, run_id, LEASE_SECONDS)
        if stream is None:
            return {"state": "skipped", "reason": "another run is pulling this dataset"}
        started = iso(utc(self.clock()))
        outcome = _Outcome()
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
            self._export_pending(ds, run_id, outcome, deadline)
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
        stats: _Stats,
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
        stats: _Stats,
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

    # -- CSV exports --

    def _export_pending(
        self, ds: Dataset, run_id: str, outcome: _Outcome, deadline: float | None = None
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
                self.export_day(ds.name, day)
                done.append(day)
                if len(done) >= 25:
                    record()
            if done:
                record()
        except GatewayError as exc:
            log.warning("analytics %s exports failed: %s", ds.name, exc)
            if outcome.error is None:
                outcome.state, outcome.error = "failed", (exc.code, exc.message)

    def export_day(self, name: str, day: str) -> str:
        ds = dataset(name)
        key = f"exports/{ds.name}/dt={day}/{ds.name}-{day}.csv"
        # Every sort key of the day starts with "<day>T" (createdAt): the whole day lies between these.
        items = self.rows[ds.name].day_items(day, f"{day}T", f"{day}U")
        self.objects.upload_text(key, _csv(ds, items), "text/csv; charset=utf-8")
        return key

    def export(self, name: str, start: str, end: str, user: str | None = None) -> dict[str, Any]:
        """`POST /analytics/export`: one CSV for a date range (and a user), and a presigned URL to it."""
        ds = self._dataset_param(name)
        now = utc(self.clock())
        lower, upper = self._range(start, end, now)
        who = self._user(user)
        counter = [0]

        def counted() -> Iterator[dict[str, Any]]:
            for item in self._range_items(ds, lower, upper, who):
                counter[0] += 1
                yield item

        key = f"exports/adhoc/{ds.name}/{now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}.csv"
        self.objects.upload_text(key, _csv(ds, counted()), "text/csv; charset=utf-8")
        url = self.objects.presign(key, self.settings.analytics_export_url_seconds)
        return {"url": url, "key": key, "bucket": self.objects.bucket, "rows": counter[0]}

    # -- queries --

    def _dataset_param(self, name: str) -> Dataset:
        try:
            return dataset(name)
        except ValueError as exc:
            raise InvalidRequest(str(exc), param="dataset") from None

    @staticmethod
    def _user(user: str | None) -> UserFilter | None:
        if user is None or not user.strip():
            return None
        try:
            return parse_user(user)
        except ValueError as exc:
            raise InvalidRequest(f"user: {exc}", param="user") from None

    @staticmethod
    def _range(start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
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
            raise InvalidRequest(
                f"startDate..endDate spans more than {MAX_QUERY_DAYS} days", param="startDate"
            )
        return lower, upper

    @staticmethod
    def _days(lower: datetime, upper: datetime) -> list[str]:
        days = []
        day = lower.date()
        while datetime.combine(day, datetime.min.time(), lower.tzinfo) < upper:
            days.append(day.isoformat())
            day += timedelta(days=1)
        return days

    def _range_items(
        self, ds: Dataset, lower: datetime, upper: datetime, user: UserFilter | None
    ) -> Iterator[dict[str, Any]]:
        store = self.rows[ds.name]
        for day in self._days(lower, upper):
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
        ds = self._dataset_param(name)
        lower, upper = self._range(start, end, utc(self.clock()))
        who = self._user(user)
        store = self.rows[ds.name]
        lo, hi = iso(lower), iso(upper)
        days = self._days(lower, upper)
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

    # -- status --

    def status(self) -> dict[str, Any]:
        now = self.clock()
        return {"streams": {name: self.state.stream(name).public(now) for name in DATASETS}}

    def run(self, run_id: str) -> dict[str, Any]:
        found = self.state.run(run_id)
        if found is None:
            raise NotFound(f"no analytics run '{run_id}'")
        return found

    def enable(self, name: str) -> dict[str, Any]:
        if name not in DATASETS:
            raise NotFound(f"no analytics stream '{name}' (expected one of: {', '.join(DATASETS)})")
        return self.state.enable(name).public(self.clock())


def new_run_id(now: datetime) -> str:
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}"


def raw_key(dataset_name: str, day: str, rows: Sequence[Row]) -> str:
    """Named by content: writing the same rows again (a resumed page) overwrites, never duplicates."""
    digest = hashlib.sha256("\n".join(sorted(f"{r.key}:{r.digest}" for r in rows)).encode()).hexdigest()
    return f"analytics/{dataset_name}/dt={day}/part-{digest[:20]}.jsonl"


def raw_lines(rows: Sequence[Row]) -> bytes:
    ordered = sorted(rows, key=lambda r: r.sort_key)
    return "".join(canonical_json(r.item) + "\n" for r in ordered).encode()


def _csv(ds: Dataset, items: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield csv_header(ds)
    for item in items:
        yield csv_row(ds, item)


class ThreadDispatcher:
    """Local stand-in for the asynchronous Lambda invocation: the pull runs in a daemon thread."""

    def __init__(self, service: AnalyticsService) -> None:
        self.service = service
        self.threads: list[threading.Thread] = []

    def dispatch(self, request: Mapping[str, Any]) -> None:
        thread = threading.Thread(
            target=run_request, args=(self.service, dict(request)), name="analytics-pull", daemon=True
        )
        self.threads = [t for t in self.threads if t.is_alive()] + [thread]
        thread.start()

    def join(self, timeout: float | None = None) -> None:
        for thread in list(self.threads):
            thread.join(timeout)


class LambdaDispatcher:
    def __init__(self, invoke_async: Callable[[Mapping[str, Any]], None]) -> None:
        self.invoke_async = invoke_async

    def dispatch(self, request: Mapping[str, Any]) -> None:
        self.invoke_async(request)


def run_request(
    service: AnalyticsService, request: Mapping[str, Any], deadline: float | None = None
) -> dict[str, Any]:
    """Run a queued pull (`start_pull`'s request, or a scheduled event with no run id)."""
    datasets = request.get("datasets")
    return service.pull(
        since=request.get("since") or None,
        datasets=list(datasets) if isinstance(datasets, list) else None,
        run_id=request.get("run_id") or None,
        trigger=str(request.get("trigger") or "schedule"),
        deadline=deadline,
    )


def build_analytics_service(
    settings: Settings, *, clock: Callable[[], float] = time.time
) -> AnalyticsService:
    """Wire the analytics collaborators from settings; nothing here does I/O until used."""
    from cursor_gateway.storage.secrets import SecretReader

    api_key = SecretReader(
        settings.cursor_admin_api_key, settings.cursor_admin_api_key_param, ttl=settings.secrets_cache_seconds
    )
    limiter = DynamoRateLimiter(settings.analytics_state_table, settings.cursor_admin_api_rpm, clock=clock)

    def client_factory() -> AdminApiClient:
        return AdminApiClient(settings.cursor_admin_api_url, api_key, limiter=limiter, clock=clock)

    service = AnalyticsService(
        settings,
        client_factory=client_factory,
        state=AnalyticsStateStore(settings.analytics_state_table, clock=clock),
        rows={
            "commits": AnalyticsRowStore(settings.analytics_commits_table, DATASETS["commits"]),
            "changes": AnalyticsRowStore(settings.analytics_changes_table, DATASETS["changes"]),
        },
        objects=AnalyticsObjects(settings.analytics_bucket),
        clock=clock,
    )
    if settings.analytics_function_name:
        from cursor_gateway.storage.invoker import LambdaInvoker

        service.dispatcher = LambdaDispatcher(LambdaInvoker(settings.analytics_function_name).invoke_async)
    return service


# --- the scheduled Lambda ----------------------------------------------------------------------------

_service: AnalyticsService | None = None
_service_lock = threading.Lock()


def lambda_service() -> AnalyticsService:
    """The warm process's service (built on the first event, reused by the next ones)."""
    global _service
    with _service_lock:
        if _service is None:
            from cursor_gateway.settings import get_settings

            _service = build_analytics_service(get_settings())
        return _service


def handle_event(event: Any, context: Any, service: AnalyticsService | None = None) -> dict[str, Any]:
    """AnalyticsFunction: an EventBridge schedule event, or `start_pull`'s asynchronous invocation."""
    service = service or lambda_service()
    deadline = None
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        deadline = service.clock() + remaining() / 1000.0 - LAMBDA_SAFETY_SECONDS
    request = event if isinstance(event, dict) and event.get("action") == "pull" else {"trigger": "schedule"}
    run = run_request(service, request, deadline)
    return {"run_id": run["run_id"], "state": run["state"]}
