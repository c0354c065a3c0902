"""The request recorder: one log entry and one exactly-once counter update per chat-like request, written
off the response path.

How a route uses it (chat completions and messages do; any later chat-like route does the same). In the
api layer `api.answering` has it ready: `begin_trace(services, request, caller, endpoint=..., model=...,
stream=...)`, `open_answer(services, chat_request, caller, trace)` and `collect(answer, ..., trace=trace)`.
Underneath, the service API is:

    trace = services.request_log.begin(endpoint="responses", model=body.model, stream=body.stream,
                                       caller=RecordedCaller(key_id, key_name), client_ip=..., user_agent=...)
    try:
        trace.prompt(chat_request)               # upstream model + the prompt body
        answer = await services.chat.open(chat_request, ..., on_attempt=trace.attempt)  # account, attempts
    except Exception as exc:
        trace.fail(exc)                          # before the first byte: http_status = exc.status
        raise
    async for event in trace.watch(paced(...)):  # first byte, per-chunk delays, text, thinking, usage;
        ...                                      # the iteration's end is success, an exception a
                                                 # failure, a close before the end "client_disconnected"
    await trace.settled()                        # after the last byte; waits only on Lambda

A trace ends once (the first outcome wins); `succeed()`, `fail(exc)` and `disconnected()` end it directly
when a route does not iterate through `watch`. A trace dropped without an outcome ends as a disconnect.

`begin` and `finish` never wait for storage: each hands a job to a background thread and returns in
microseconds. The pending entry is written PENDING_DELAY_SECONDS after `begin`, and only if the request is
still running then (so it never competes with the first byte, and a short request writes one entry, not
two); the completion (S3 body, then a conditional transaction that finalises the entry and adds every
counter, storage.request_logs) is chained after the pending write when there was one. Completions of
requests ending within COALESCE_SECONDS of each other share one transaction (services.log_batches:
still conditional per log id, so counted once; not on Lambda, where each writes at once). An instance that
dies within that delay leaves no entry (its request was not counted either, as with any interrupted one).
A failing store never reaches the caller: failures are counted (`health()`), and a backlog over
`MAX_BACKLOG` drops new writes (counted too) instead of growing without bound. On Lambda the process may
freeze once the response ends, so there the routes await `settled()` after their last byte (the client
already has everything); elsewhere `settled()` returns at once.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cursor_gateway.domain.request_logs import day_of, new_log_id
from cursor_gateway.domain.usage_stats import Completed, counter_updates
from cursor_gateway.services.log_batches import CompletionBatcher
from cursor_gateway.services.request_trace import RequestTrace
from cursor_gateway.settings import Settings
from cursor_gateway.storage.request_logs import RequestLogStore
from cursor_gateway.storage.request_logs_batch import Completion

# RequestTrace is re-exported: routes type their traces with it from here.
__all__ = ["MAX_BACKLOG", "PENDING_DELAY_SECONDS", "RecordedCaller", "RequestRecorder", "RequestTrace"]

log = logging.getLogger("cursor_gateway.request_log")

MAX_BACKLOG = 10_000
# The pending entry is written this long after a request starts, if it is still running then: it never
# competes with the request's first byte, and a request that ends sooner writes only its final entry.
PENDING_DELAY_SECONDS = 0.5
# Completions of requests ending within this long of each other are written together (log_batches).
COALESCE_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class RecordedCaller:
    """Who made the request, as logs and counters name it (never a secret)."""

    key_id: str
    key_name: str


class RequestRecorder:
    def __init__(
        self,
        store: RequestLogStore,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        entropy: Callable[[int], bytes] = os.urandom,
        wait_for_writes: bool | None = None,
        pending_delay: float = PENDING_DELAY_SECONDS,
        coalesce: float = COALESCE_SECONDS,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.entropy = entropy
        # Lambda freezes the process when the response ends: writes must finish before that.
        self.wait_for_writes = (
            bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) if wait_for_writes is None else wait_for_writes
        )
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="request-log")
        self._batches = CompletionBatcher(
            store, window=0.0 if self.wait_for_writes else coalesce, done=self._done
        )
        self._lock = threading.Lock()
        self.pending_delay = pending_delay
        # Pending writes not yet due: log id -> (the trace, weakly: one dropped unfinished must still be
        # collected and end as a disconnect; the doc at begin); `_due` orders them by time.
        self._waiting: dict[str, tuple[weakref.ref[RequestTrace], dict[str, Any]]] = {}
        self._due: list[tuple[float, str]] = []
        # Re-entrant: a trace dropped while this is held ends (its __del__) in this same thread.
        self._pending = threading.Condition(threading.RLock())
        self._timer: threading.Thread | None = None
        self.in_flight = 0
        self.backlog = 0
        self.write_failures = 0
        self.dropped = 0
        self.last_failure = ""

    # -- the API routes call ----------------------------------------------------------------------------

    def begin(
        self,
        *,
        endpoint: str,
        model: str,
        stream: bool,
        caller: RecordedCaller,
        client_ip: str = "",
        user_agent: str = "",
    ) -> RequestTrace:
        now = self.clock()
        ts_ms = int(now * 1000)
        log_id = new_log_id(ts_ms, self.entropy(10))
        trace = RequestTrace(self, log_id, ts_ms)
        trace.doc.update(
            {
                "endpoint": endpoint,
                "model": model,
                "stream": stream,
                "api_key": {"id": caller.key_id, "name": caller.key_name},
                "client": {"ip": client_ip, "user_agent": user_agent[:300]},
            }
        )
        with self._lock:
            self.in_flight += 1
        if self.settings.request_recording and self.settings.request_logs_limit > 0:
            with self._pending:
                self._waiting[log_id] = (weakref.ref(trace), dict(trace.doc))
                heapq.heappush(self._due, (time.monotonic() + self.pending_delay, log_id))
                if self._timer is None:
                    self._timer = threading.Thread(
                        target=self._write_due, name="request-log-pending", daemon=True
                    )
                    self._timer.start()
                self._pending.notify()
        return trace

    def health(self) -> dict[str, Any]:
        with self._pending:
            waiting = len(self._waiting)  # pending writes not yet due are writes still to do
        with self._lock:
            return {
                "in_flight": self.in_flight,
                "log_write_backlog": self.backlog + waiting,
                "log_write_failures": self.write_failures,
                "log_writes_dropped": self.dropped,
            }

    async def drain(self, timeout: float = 10.0) -> None:
        """Write the pending entries not yet due, then wait until every submitted write has run (tests,
        shutdown)."""
        self._submit_waiting()
        self._batches.hurry(timeout)
        deadline = time.monotonic() + timeout
        while self.backlog and time.monotonic() < deadline:
            await asyncio.sleep(0.005)

    def flush(self, timeout: float = 5.0) -> None:
        """`drain` for a caller without an event loop: the local stack after its server stopped, which
        must let the last writes reach moto before it closes the saved state under them."""
        self._submit_waiting()
        self._batches.hurry(timeout)
        deadline = time.monotonic() + timeout
        while self.backlog and time.monotonic() < deadline:
            time.sleep(0.005)

    def _submit_waiting(self) -> None:
        with self._pending:
            for log_id in list(self._waiting):
                self._write_pending(log_id)

    # -- internals ----------------------------------------------------------------------------------------

    def _write_due(self) -> None:
        """The timer thread: writes each pending entry once it is due, if its request is still running."""
        with self._pending:
            while True:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._pending.wait(None if not self._due else self._due[0][0] - time.monotonic())
                _, log_id = heapq.heappop(self._due)
                self._write_pending(log_id)

    def _write_pending(self, log_id: str) -> None:
        """Submit a waiting pending write (the caller holds `_pending`)."""
        waiting = self._waiting.pop(log_id, None)
        trace = waiting[0]() if waiting is not None else None
        if waiting is not None and trace is not None:
            trace.begun = self._submit(
                self.store.put_pending, trace.pk, trace.sk, waiting[1], self._entry_expiry(trace.ts_ms)
            )

    def _entry_expiry(self, ts_ms: int) -> int:
        return ts_ms // 1000 + int(self.settings.log_retention_days * 86400)

    def _submit(self, function: Callable[..., Any], *args: Any) -> Future[Any] | None:
        with self._lock:
            if self.backlog >= MAX_BACKLOG:
                self.dropped += 1
                return None
            self.backlog += 1
        try:
            return self._pool.submit(self._run, function, *args)
        except RuntimeError:  # the pool is shut down (interpreter exit)
            self._done(failed=True)
            return None

    def _run(self, function: Callable[..., Any], *args: Any) -> Any:
        try:
            result = function(*args)
        except Exception as exc:  # a log write must never fail a request: count it, log it, go on
            self._done(failed=True, reason=f"{type(exc).__name__}: {exc}")
            log.warning("request log write failed: %s", type(exc).__name__)
            return None
        self._done(failed=False)
        return result

    def _done(self, *, failed: bool, reason: str = "") -> None:
        with self._lock:
            self.backlog -= 1
            if failed:
                self.write_failures += 1
                self.last_failure = reason[:200]

    def finish(self, trace: RequestTrace) -> None:
        with self._lock:
            self.in_flight -= 1
        with self._pending:
            # Ended before its pending write was due: that write is not needed (the completion writes the
            # entry whole). Under the lock: `trace.begun` is final once the trace is not waiting.
            self._waiting.pop(trace.id, None)
            begun = trace.begun
        if not self.settings.request_recording:
            trace.submitted = True
            return
        doc = trace.doc
        usage = doc.get("usage") or {}
        timing = doc["timing"]
        done = Completed(
            ts_ms=trace.ts_ms,
            success=doc["status"] == "success",
            api_key_id=doc["api_key"]["id"],
            api_key_name=doc["api_key"]["name"],
            account=(doc.get("account") or {}).get("alias", ""),
            account_email=(doc.get("account") or {}).get("email", ""),
            model=doc.get("model", ""),
            upstream_model=doc.get("upstream_model") or "",
            input=int(usage.get("input", 0)),
            output=int(usage.get("output", 0)),
            cache_read=int(usage.get("cache_read", 0)),
            cache_write=int(usage.get("cache_write", 0)),
            total_ms=int(timing["total"] * 1000),
            ttft_ms=None if timing.get("first") is None else int(timing["first"] * 1000),
        )
        day = 86400
        ttl = {
            "H": trace.ts_ms // 1000 + int(self.settings.stats_hourly_retention_days * day),
            "D": trace.ts_ms // 1000 + int(self.settings.stats_daily_retention_days * day),
        }
        body = (
            trace.body() if self.settings.log_store_bodies and self.settings.request_logs_limit > 0 else None
        )
        if body is not None:
            doc["body_ref"] = (
                f"logs/{day_of(trace.ts_ms)[:4]}/{day_of(trace.ts_ms)[4:6]}/{day_of(trace.ts_ms)[6:]}/{trace.id}.json.gz"
            )
        entry = (
            (trace.pk, trace.sk, dict(doc), self._entry_expiry(trace.ts_ms))
            if self.settings.request_logs_limit > 0
            else None
        )
        completion = Completion(trace.id, entry, counter_updates(done), ttl)
        body_ref = doc.get("body_ref")

        def submit_completion(_: Any = None) -> None:
            trace.finished = self._submit_completion(completion, body_ref, body)
            trace.submitted = True

        if begun is None or begun.done():
            submit_completion()
        else:
            begun.add_done_callback(submit_completion)  # after the pending write, never before it

    def _submit_completion(
        self, completion: Completion, body_ref: str | None, body: dict[str, Any] | None
    ) -> Future[Any] | None:
        with self._lock:
            if self.backlog >= MAX_BACKLOG:
                self.dropped += 1
                return None
            self.backlog += 1
        return self._batches.add(completion, body_ref, body)
