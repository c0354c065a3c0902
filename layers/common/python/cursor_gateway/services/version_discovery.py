"""Which CLI build id the gateway presents, and where it came from: `configured` (CURSOR_CLIENT_VERSION
or the stored config pins one), `discovered` (Cursor's installer names a newer build than the floor), or
`default` (the built-in id, which is also the floor).

Discovery never runs on the request path: the first look-up of a process starts it in a background
thread and answers with what is known now; the canary refreshes it too. A result is kept for a day (in
this process and, when a store is given, for every instance through the canary table); a failed or
slow fetch (3 s) changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from cursor_gateway.settings import Settings
from cursor_gateway.upstream import cli_discovery
from cursor_gateway.upstream.cli_discovery import newer, parse_build_id
from cursor_gateway.upstream.identity import DEFAULT_VERSIONS

log = logging.getLogger("cursor_gateway.services.version_discovery")

FETCH_TIMEOUT = 3.0
MAX_AGE = 86400.0
# The canary table keeps the discovered build under this name (never a profile name).
STORE_KEY = "@cli-version"
OFF = ("", "off", "none", "false")

Fetcher = Callable[[str, float], Awaitable[str]]


class VersionDiscovery:
    def __init__(
        self,
        settings: Settings,
        store: Any = None,
        *,
        fetch: Fetcher | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        self.fetch = fetch
        self.clock = clock
        self._lock = threading.Lock()
        self._discovered = ""
        self._checked_at = 0.0
        self._error = ""
        self._started = False

    @property
    def floor(self) -> str:
        return self.settings.cursor_version_floor or DEFAULT_VERSIONS["cli"]

    @property
    def enabled(self) -> bool:
        url = self.settings.cursor_version_discovery_url.strip().lower()
        return url not in OFF and not self.settings.cursor_client_version

    def current(self) -> tuple[str, str]:
        """(version, source) without I/O; starts the background discovery once per process."""
        self.start_background()
        return self._resolved()

    def _resolved(self) -> tuple[str, str]:
        if not self.enabled:
            return self.floor, "default"
        with self._lock:
            discovered = self._discovered
        if discovered and newer(discovered, self.floor):
            return discovered, "discovered"
        return self.floor, "default"

    def start_background(self) -> None:
        with self._lock:
            if self._started or not self.enabled:
                return
            self._started = True
        worker = threading.Thread(
            target=lambda: asyncio.run(self.refresh()), daemon=True, name="cli-discovery"
        )
        worker.start()

    async def refresh(self, *, force: bool = False) -> dict[str, Any]:
        """Look again unless a result younger than a day is known; the report of what is in force."""
        if not self.enabled:
            return self.report()
        now = self.clock()
        if not force and now - self._checked_at < MAX_AGE:
            return self.report()
        if not force and self._adopt_stored(now):
            return self.report()
        try:
            fetch = self.fetch or cli_discovery.fetch_install_script  # looked up late: tests replace it
            script = await asyncio.wait_for(
                fetch(self.settings.cursor_version_discovery_url, FETCH_TIMEOUT), FETCH_TIMEOUT
            )
            found = parse_build_id(script)
            error = "" if found else "the installer names no downloads.cursor.com/lab/<build>/ folder"
        except Exception as exc:  # a network problem must never break anything: keep what we have
            found, error = None, f"{type(exc).__name__}: {exc}"[:200]
        with self._lock:
            self._checked_at = now
            self._error = error
            if found:
                self._discovered = found
        if error:
            log.info("CLI version discovery: %s", error)
        elif self.store is not None:
            try:
                self.store.save(STORE_KEY, {"version": found, "at": now})
            except Exception:
                log.exception("could not store the discovered CLI version")
        return self.report()

    def _adopt_stored(self, now: float) -> bool:
        if self.store is None:
            return False
        try:
            stored = self.store.latest().get(STORE_KEY) or {}
        except Exception:
            log.exception("could not read the stored CLI version")
            return False
        at = float(stored.get("at") or 0)
        if not stored.get("version") or now - at >= MAX_AGE:
            return False
        with self._lock:
            self._discovered, self._checked_at, self._error = str(stored["version"]), at, ""
        return True

    def report(self) -> dict[str, Any]:
        version, source = self._resolved()
        with self._lock:
            return {
                "discovery": "on" if self.enabled else "off",
                "version": version,
                "source": source,
                "floor": self.floor,
                "discovered": self._discovered or None,
                "checked_at": int(self._checked_at) or None,
                "error": self._error or None,
            }
