"""The EventBridge schedule's stand-in for `make run`: when CURSOR_ADMIN_API_KEY is set, the local
gateway pulls Cursor's Admin API analytics every ANALYTICS_SCHEDULE_RATE (`rate(...)` only; `off`
disables it), in a daemon thread of the server process, through the same service as AWS."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from cursor_gateway.domain.analytics_time import rate_seconds
from cursor_gateway.settings import Settings

log = logging.getLogger("cursor_gateway.local.scheduler")


class LocalSchedule:
    def __init__(self, interval: float, job: Callable[[], Any], *, first_delay: float = 10.0) -> None:
        self.interval = interval
        self.job = job
        self.first_delay = first_delay
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="analytics-schedule", daemon=True)

    def start(self) -> LocalSchedule:
        self._thread.start()
        return self

    def _loop(self) -> None:
        wait = self.first_delay
        while not self._stop.wait(wait):
            try:
                self.job()
            except Exception:  # a failed run is recorded by the service; the schedule goes on
                log.exception("scheduled analytics pull failed")
            wait = self.interval

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


def start_analytics_schedule(settings: Settings) -> LocalSchedule | None:
    try:
        interval = rate_seconds(settings.analytics_schedule_rate)
    except ValueError as exc:
        log.warning("analytics schedule off: %s", exc)
        return None
    if interval is None or not (settings.cursor_admin_api_key or settings.cursor_admin_api_key_param):
        return None
    from cursor_gateway.services.analytics import build_analytics_service

    service = build_analytics_service(settings)
    log.info(
        "analytics pulls every %ss (ANALYTICS_SCHEDULE_RATE=%s)",
        int(interval),
        settings.analytics_schedule_rate,
    )
    return LocalSchedule(interval, lambda: service.pull(trigger="schedule")).start()
