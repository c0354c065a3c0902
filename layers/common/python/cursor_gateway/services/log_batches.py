"""The recorder's completion writes, coalesced: requests that end within `window` seconds of each other
have their log bodies put to S3 one after the other and their entries and counters written in one
DynamoDB transaction (`storage.request_logs_batch`: still conditional per log id, so a request is
counted once). Fewer AWS calls per request, and the writes come in bursts between which the gateway's
CPU is the chat's alone. On Lambda the window is 0: an invocation's writes start at once and end before
it does (`RequestTrace.settled`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from cursor_gateway.storage.request_logs import RequestLogStore
from cursor_gateway.storage.request_logs_batch import Completion

log = logging.getLogger("cursor_gateway.request_log")

MAX_BATCH = 50  # completions per burst (each has its own S3 put)


@dataclass
class _Job:
    completion: Completion
    body_ref: str | None
    body: dict[str, Any] | None
    queued: float = field(default_factory=time.monotonic)
    future: Future[bool | None] = field(default_factory=Future)


class CompletionBatcher:
    def __init__(self, store: RequestLogStore, *, window: float, done: Callable[..., None]) -> None:
        """`done(failed=..., reason=...)` is called once per completion, after its writes."""
        self.store = store
        self.window = window
        self._done = done
        self._queue: list[_Job] = []
        self._ready = threading.Condition()
        self._hurry_until = 0.0
        self._thread: threading.Thread | None = None

    def add(self, completion: Completion, body_ref: str | None, body: dict[str, Any] | None) -> Future[Any]:
        job = _Job(completion, body_ref, body)
        with self._ready:
            self._queue.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="request-log-batch", daemon=True)
                self._thread.start()
            self._ready.notify()
        return job.future

    def hurry(self, seconds: float) -> None:
        """For `seconds`, write what comes at once (drain, flush: nothing waits for the window)."""
        with self._ready:
            self._hurry_until = time.monotonic() + seconds
            self._ready.notify()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue:
                    self._ready.wait()
                while len(self._queue) < MAX_BATCH:
                    now = time.monotonic()
                    left = self._queue[0].queued + self.window - now
                    if left <= 0 or now < self._hurry_until:
                        break
                    self._ready.wait(left)
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                self._write(batch)
            except Exception:  # never let the writer thread die: every job is finished by _write
                log.exception("request log batch writer failed")

    def _write(self, batch: list[_Job]) -> None:
        for job in batch:
            if job.body_ref and job.body is not None:
                with contextlib.suppress(Exception):  # a lost body must not lose the entry and its counts
                    self.store.put_body(job.body_ref, job.body)
        try:
            results = self.store.complete_many([job.completion for job in batch])
        except Exception as exc:
            if len(batch) == 1:
                self._finish(batch[0], None, exc)
                return
            for job in batch:  # one at a time: a failure is then that completion's own
                try:
                    one = self.store.complete_many([job.completion])
                except Exception as alone:
                    self._finish(job, None, alone)
                else:
                    self._finish(job, one.get(job.completion.log_id), None)
            return
        for job in batch:
            self._finish(job, results.get(job.completion.log_id), None)

    def _finish(self, job: _Job, result: bool | None, exc: Exception | None) -> None:
        if exc is None:
            self._done(failed=False)
        else:  # a log write must never fail a request: count it, log it, go on
            self._done(failed=True, reason=f"{type(exc).__name__}: {exc}")
            log.warning("request log write failed: %s", type(exc).__name__)
        job.future.set_result(result)
