"""Which token serves the next request, which bearer it sends, and what a failure does to its health.

Selection is round robin over the tokens that can serve right now; the starting point rotates on every
call (per process: each warm Lambda spreads its own requests; across instances the spread is
statistical). Health changes are read-modify-write with the store's version check, retried on
conflict, so two instances reporting failures on one token both count.

Kept deliberately simple for now: a rate limit cools a token down for a fixed time, an auth failure
disables it; exponential backoff and half-open probing come later.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from cursor_gateway.domain.tokens import TokenHealth, TokenRecord
from cursor_gateway.errors import GatewayError, NotFound, UpstreamAuthError, UpstreamRateLimited
from cursor_gateway.settings import Settings
from cursor_gateway.storage.tokens import TokenStore, VersionConflict

log = logging.getLogger("cursor_gateway.services.token_pool")

# Exchange a crsr_ key again this long before its JWT expires (what the IDE and other clients do).
ACCESS_TOKEN_MARGIN = 300.0
_MAX_CAS_ATTEMPTS = 5
_REASON_LIMIT = 200
_PRISTINE = TokenHealth()


class Exchanger(Protocol):
    async def exchange(self, api_key: str) -> tuple[str, float]: ...


class Refresher(Protocol):
    async def refresh(self, refresh_token: str) -> tuple[str, float]: ...


class TokenPool:
    def __init__(
        self,
        store: TokenStore,
        settings: Settings,
        exchanger: Exchanger,
        clock: Callable[[], float] = time.time,
        refresher: Refresher | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.exchanger = exchanger
        self.refresher = refresher
        self.clock = clock
        self._turn = itertools.count()
        # Exchanged JWTs seen by this process, so a warm instance skips the store read.
        self._access: dict[str, tuple[str, float]] = {}
        self._exchange_locks: dict[str, asyncio.Lock] = {}
        # Health as of the last listing, so a success on an already pristine token costs no store read.
        self._seen_health: dict[str, TokenHealth] = {}
        # The pool as last listed: one table scan serves every request for POOL_CACHE_SECONDS, instead
        # of one scan per chat request. Our own writes drop it at once; other instances' writes show up
        # within that window.
        self._snapshot: tuple[float, list[TokenRecord]] | None = None

    def _records(self) -> list[TokenRecord]:
        now = self.clock()
        if self._snapshot is not None and 0 <= now - self._snapshot[0] < self.settings.pool_cache_seconds:
            return self._snapshot[1]
        records = self.store.list()
        self._snapshot = (now, records)
        self._seen_health = {r.alias: r.health for r in records}
        return records

    def invalidate(self) -> None:
        self._snapshot = None

    # -- selection --

    def available(self, record: TokenRecord, now: float) -> bool:
        if not record.usable or record.health.cooldown_until > now:
            return False
        # A session JWT past its `exp` cannot authenticate unless a refresh token can renew it;
        # api keys never expire by themselves.
        expired = record.kind == "session" and record.expires_at and record.expires_at <= now
        return not expired or bool(record.refresh_token and self.refresher is not None)

    def candidates(self) -> list[TokenRecord]:
        """Tokens that may serve now, in this call's round-robin order."""
        ready = self._ready()
        if not ready:
            return []
        start = next(self._turn) % len(ready)
        return ready[start:] + ready[:start]

    def usable_count(self) -> int:
        """How many tokens could serve now (for /health; does not move the round robin)."""
        return len(self._ready())

    def _ready(self) -> list[TokenRecord]:
        now = self.clock()
        ready = [r for r in self._records() if self.available(r, now)]
        ready.sort(key=lambda r: r.alias)  # a stable ring, independent of the store's order
        return ready

    def earliest_cooldown_end(self) -> float | None:
        """When the first cooling-down token becomes available again (for Retry-After), or None."""
        now = self.clock()
        ends = [
            r.health.cooldown_until for r in self._records() if r.usable and r.health.cooldown_until > now
        ]
        return min(ends) if ends else None

    # -- bearer --

    async def bearer_for(self, record: TokenRecord) -> str:
        """What to send as `Authorization: Bearer`: the session JWT, or a fresh-enough exchanged JWT for an
        API key. Exchange failures propagate (errors.py classes); the caller reports them."""
        if record.kind == "session":
            if self._needs_refresh(record):
                return await self._refresh_session(record, record.primary_token)
            return record.primary_token
        cached = self._fresh(record.alias, record.access_token, record.access_expires_at)
        if cached:
            return cached
        lock = self._exchange_locks.setdefault(record.alias, asyncio.Lock())
        async with lock:
            # Another task of this process may have exchanged while we waited.
            token, expires_at = self._access.get(record.alias, ("", 0.0))
            cached = self._fresh(record.alias, token, expires_at)
            if cached:
                return cached
            token, expires_at = await self.exchanger.exchange(record.primary_token)
            self._access[record.alias] = (token, expires_at)
            try:
                self.store.cache_access_token(record.alias, token, expires_at)
                self.invalidate()
            except NotFound:
                log.info("token %s was deleted while its key was exchanged", record.alias)
            return token

    def _needs_refresh(self, record: TokenRecord) -> bool:
        """Refresh shortly before expiry (never on every request): the IDE refreshes with weeks to
        spare; SESSION_REFRESH_MARGIN sets how early we do."""
        if self.refresher is None or not record.expires_at:
            return False
        return record.expires_at - self.clock() < self.settings.session_refresh_margin

    async def refresh_after_auth_failure(self, record: TokenRecord, used_bearer: str) -> str | None:
        """Once per failure, before a token is given up: a session token is refreshed (or, if another
        instance already refreshed it, its stored JWT is used); an api key is exchanged again.
        None means there is nothing to try; refresh errors propagate."""
        if record.kind == "api_key":
            self._access.pop(record.alias, None)
            token, expires_at = await self.exchanger.exchange(record.primary_token)
            self._access[record.alias] = (token, expires_at)
            with contextlib.suppress(NotFound):
                self.store.cache_access_token(record.alias, token, expires_at)
            self.invalidate()
            return token
        if self.refresher is None:
            return None
        return await self._refresh_session(record, used_bearer)

    async def _refresh_session(self, record: TokenRecord, used_bearer: str) -> str:
        lock = self._exchange_locks.setdefault(record.alias, asyncio.Lock())
        async with lock:
            stored = self.store.get(record.alias)
            if stored is None:
                raise NotFound(f"Token '{record.alias}' was deleted")
            # Another task or instance may have refreshed while we waited: its JWT is in the store.
            if stored.primary_token != used_bearer and not self._needs_refresh(stored):
                self.invalidate()
                return stored.primary_token
            assert self.refresher is not None
            token, expires_at = await self.refresher.refresh(stored.refresh_token or stored.primary_token)
            self.store.store_refreshed_session(record.alias, token, expires_at)
            self.invalidate()
            return token

    def _fresh(self, alias: str, token: str, expires_at: float) -> str:
        if token and expires_at - self.clock() > ACCESS_TOKEN_MARGIN:
            self._access[alias] = (token, expires_at)
            return token
        return ""

    # -- health --

    def report_success(self, alias: str) -> None:
        if self._seen_health.get(alias) == _PRISTINE:
            return

        def heal(health: TokenHealth) -> TokenHealth:
            return TokenHealth(score=min(1.0, health.score + 0.25))

        self._change_health(alias, heal)

    def report_failure(self, alias: str, exc: GatewayError) -> None:
        if not exc.blames_token:
            return  # the failure says nothing about this token (transport, bad request, version gate)
        now = self.clock()
        reason = exc.message[:_REASON_LIMIT]

        def hurt(health: TokenHealth) -> TokenHealth:
            failures = health.consecutive_failures + 1
            score = max(0.0, health.score * 0.5)
            if isinstance(exc, UpstreamAuthError):
                return TokenHealth("disabled", reason, 0.0, score, failures)
            if isinstance(exc, UpstreamRateLimited):
                rest = exc.retry_after if exc.retry_after is not None else self.settings.rate_limit_cooldown
                return TokenHealth("cooling_down", reason, now + rest, score, failures)
            return replace(health, reason=reason, score=score, consecutive_failures=failures)

        self._change_health(alias, hurt)
        if isinstance(exc, UpstreamAuthError):
            self._access.pop(alias, None)
        log.warning("token %s: %s (%s)", alias, type(exc).__name__, reason)

    def _change_health(self, alias: str, change: Callable[[TokenHealth], TokenHealth]) -> None:
        for _ in range(_MAX_CAS_ATTEMPTS):
            record = self.store.get(alias)
            if record is None:
                return
            new = change(record.health)
            if new != record.health:  # an unchanged health costs no write on the hot path
                try:
                    self.store.update_health(alias, new, expected_version=record.version)
                except VersionConflict:
                    continue
                except NotFound:
                    return
                self.invalidate()
            self._seen_health[alias] = new
            return
        log.warning("gave up updating the health of token %s after %d conflicts", alias, _MAX_CAS_ATTEMPTS)
