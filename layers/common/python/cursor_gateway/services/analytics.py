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

This module starts runs, pulls the chosen datasets side by side and answers the status; the parts live
beside it: one stream's pull in services/analytics_pull.py, the CSV exports in services/analytics_export.py
and the query side in services/analytics_query.py.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Protocol

from cursor_gateway.domain.analytics import DATASETS, Dataset, dataset
from cursor_gateway.domain.analytics_time import iso, parse_day, utc
from cursor_gateway.errors import GatewayError, InvalidRequest, NotFound
from cursor_gateway.services.analytics_export import AnalyticsExporter
from cursor_gateway.services.analytics_pull import StreamPuller
from cursor_gateway.services.analytics_query import AnalyticsQueries
from cursor_gateway.settings import Settings
from cursor_gateway.storage.analytics_limiter import DynamoRateLimiter
from cursor_gateway.storage.analytics_objects import AnalyticsObjects
from cursor_gateway.storage.analytics_rows import AnalyticsRowStore
from cursor_gateway.storage.analytics_state import AnalyticsStateStore
from cursor_gateway.upstream.admin_api import AdminApiClient

log = logging.getLogger("cursor_gateway.analytics")

LAMBDA_SAFETY_SECONDS = 60.0


class Dispatcher(Protocol):
    def dispatch(self, request: Mapping[str, Any]) -> None: ...


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
        self.queries = AnalyticsQueries(rows, clock)
        self.exporter = AnalyticsExporter(
            settings, rows=rows, objects=objects, queries=self.queries, clock=clock
        )
        self.puller = StreamPuller(
            settings,
            client_factory=client_factory,
            state=state,
            rows=rows,
            objects=objects,
            exporter=self.exporter,
            clock=clock,
        )

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
            return self.puller.pull_stream(ds, since_day, run_id, trigger, deadline)

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

    # -- CSV exports (services/analytics_export.py) and queries (services/analytics_query.py) --

    def export_day(self, name: str, day: str) -> str:
        return self.exporter.export_day(name, day)

    def export(self, name: str, start: str, end: str, user: str | None = None) -> dict[str, Any]:
        """`POST /analytics/export`: one CSV for a date range (and a user), and a presigned URL to it."""
        return self.exporter.export(name, start, end, user)

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
        """Cursor's `/analytics/ai-code/<dataset>` answered from our store."""
        return self.queries.query(name, start=start, end=end, page=page, page_size=page_size, user=user)

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
