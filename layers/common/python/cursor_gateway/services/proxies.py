"""Proxies as a use case: the admin routes (`/proxies/*`) and `resolve`, which turns the proxy name a token or
key carries into the argument of the transports (`upstream.transport`: "" direct, "sys" environment, or a
URL). The table is cached per process for PROXIES_CACHE_SECONDS, so resolving costs no store read per
request; a change made here is seen at once by this instance and within that time by the others."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from cursor_gateway.domain.proxies import NON, SYS, ProxyTable, expectation, masked, table_from_stored
from cursor_gateway.errors import GatewayError
from cursor_gateway.settings import Settings
from cursor_gateway.storage.proxies import ProxiesConflict, ProxyStore
from cursor_gateway.upstream.transport import DIRECT, SYSTEM

log = logging.getLogger("cursor_gateway.services.proxies")

_CONFLICT_RETRIES = 8


class ProxyService:
    def __init__(
        self, store: ProxyStore, settings: Settings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, ProxyTable] | None = None

    # -- for the transports -----------------------------------------------------------------------------

    def current(self) -> ProxyTable:
        now = self.clock()
        cached = self._cached
        if cached is not None and now - cached[0] < self.settings.proxies_cache_seconds:
            return cached[1]
        try:
            _version, data = self.store.load()
        except GatewayError as exc:
            # Chat must not fail because the proxy table cannot be read: keep what we had (or the default).
            log.warning("proxy table unavailable, using the last known one: %s", exc.message)
            return cached[1] if cached is not None else ProxyTable()
        table = table_from_stored(data)
        with self._lock:
            self._cached = (now, table)
        return table

    def resolve(self, proxy_name: str | None) -> str:
        """The transport's proxy argument for a token's or key's proxy name: "" (direct, proxy environment
        variables ignored) for `non`, "sys" (environment / default egress) for `sys`, else the proxy URL.
        An unknown or empty name means the general proxy."""
        value = self.current().value_for(proxy_name)
        if value == NON:
            return DIRECT
        if value == SYS:
            return SYSTEM
        return value

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None

    # -- admin use cases --------------------------------------------------------------------------------

    def get(self) -> dict[str, Any]:
        self.invalidate()
        table = self.current()
        return {
            "status": "success",
            "proxies": table.as_json(),
            "proxies_count": len(table.proxies),
            "general_proxy": table.general,
        }

    def set(self, proxies: Mapping[str, Any], general: str | None) -> dict[str, Any]:
        table = self._change(lambda current: current.replaced(proxies, general))
        return _counted(table, f"Proxies replaced: {len(table.proxies)}, general '{table.general}'")

    def add(self, proxies: Mapping[str, Any]) -> dict[str, Any]:
        ignored: list[str] = []

        def change(current: ProxyTable) -> ProxyTable:
            table, existing = current.added(proxies)
            ignored[:] = existing
            return table

        table = self._change(change)
        added = len(proxies) - len(ignored)
        message = f"{added} proxies added"
        if ignored:
            message += f", {len(ignored)} already existed and were left unchanged ({', '.join(ignored)})"
        return _counted(table, message)

    def delete(self, names: Iterable[str], expectation_: str | None) -> dict[str, Any]:
        mode = expectation(expectation_)
        names = list(names)
        failed: list[str] = []

        def change(current: ProxyTable) -> ProxyTable:
            table, missing = current.deleted(names)
            failed[:] = missing
            return table

        table = self._change(change)
        answer: dict[str, Any] = {"status": "success"}
        if mode in ("updated_proxies", "detailed"):
            answer["updated_proxies"] = table.as_json()
        if mode in ("failed_names", "detailed"):
            answer["failed_names"] = failed
        return answer

    def set_general(self, name: str) -> dict[str, Any]:
        table = self._change(lambda current: current.with_general(name))
        return {"status": "success", "message": f"General proxy set to '{table.general}'"}

    def _change(self, change: Callable[[ProxyTable], ProxyTable]) -> ProxyTable:
        """Read, change, conditional write; a concurrent write makes us re-read and re-apply the change."""
        for attempt in range(_CONFLICT_RETRIES):
            if attempt:
                # Jittered backoff: writers that collided should not collide again in lockstep.
                time.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 5)))
            version, data = self.store.load()
            table = change(table_from_stored(data))
            try:
                self.store.save(table.as_json(), version)
            except ProxiesConflict:
                continue
            self.invalidate()
            log.info(
                "proxies now %s (general %s)",
                {name: masked(value) for name, value in table.proxies.items()},
                table.general,
            )
            return table
        raise ProxiesConflict("Proxies kept changing concurrently; try again")


def _counted(table: ProxyTable, message: str) -> dict[str, Any]:
    return {"status": "success", "proxies_count": len(table.proxies), "message": message}


def build_proxy_service(settings: Settings) -> ProxyService:
    from cursor_gateway.storage.proxies import DynamoProxyStore

    return ProxyService(DynamoProxyStore(settings.config_table), settings)
