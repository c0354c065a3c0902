"""Which token serves the next request, which bearer it sends, and what each upstream outcome does to
its health (the rules themselves are pure, in `domain.health`: circuit breaker, backoff, score, order).

Selection: `round_robin` (default) or `fill_first`, from the runtime config; tokens that lack the
requested model in their usable list are skipped; degraded tokens go last. The round-robin start rotates
on every call (per process: each warm Lambda spreads its own requests; across instances the spread is
statistical).

Every health change is a read-modify-write with the store's version check, retried on conflict (with a
little jitter), so reports from many instances about one token are all applied, none overwritten. The
half-open trial is claimed the same way, so exactly one request in the whole fleet gets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import time
from collections.abc import Callable
from typing import Protocol

from cursor_gateway.domain import health as rules
from cursor_gateway.domain import model_cooldowns as scoped
from cursor_gateway.domain.tokens import TokenHealth, TokenRecord
from cursor_gateway.errors import (
    GatewayError,
    NoAvailableTokens,
    NotFound,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamRateLimited,
)
from cursor_gateway.settings import Settings
from cursor_gateway.storage.tokens import TokenStore, VersionConflict

log = logging.getLogger("cursor_gateway.services.token_pool")

# Exchange a crsr_ key again this long before its JWT expires (what the IDE and other clients do).
ACCESS_TOKEN_MARGIN = 300.0
# Conflicts are retried this often: enough for dozens of instances reporting on one token at once.
_MAX_CAS_ATTEMPTS = 30


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
        if not record.usable or rules.resting_until(record.health, now) > now:
            return False
        # A session JWT past its `exp` cannot authenticate unless a refresh token can renew it;
        # api keys never expire by themselves.
        expired = record.kind == "session" and record.expires_at and record.expires_at <= now
        return not expired or bool(record.refresh_token and self.refresher is not None)

    def candidates(self, model: str | None = None, *, policy: str = "round_robin") -> list[TokenRecord]:
        """Tokens that may serve now (for `model`, a Cursor model id), in the order to try them. A token
        whose model class rests after a scoped rate limit is left out for that class only."""
        now = self.clock()
        ready = [
            r
            for r in self._records()
            if self.available(r, now) and not scoped.class_resting_until(r.health, model, now)
        ]
        turn = next(self._turn) if policy != "fill_first" else 0
        return rules.order_tokens(ready, now, policy=policy, turn=turn, model=model)

    def pinned(self, alias: str, model: str | None = None) -> TokenRecord:
        """The one token a pinned caller may use, or a clear error: 503 when it does not exist or is
        disabled, 429 with Retry-After while it cools down (no failover to other tokens)."""
        now = self.clock()
        record = next((r for r in self._records() if r.alias == alias), None)
        if record is None:
            raise NoAvailableTokens(f"The token '{alias}' this key is pinned to does not exist")
        if record.status != "enabled":
            raise NoAvailableTokens(f"The token '{alias}' this key is pinned to is disabled by the admin")
        if record.health.state == "disabled":
            raise NoAvailableTokens(
                f"The token '{alias}' this key is pinned to is disabled: {record.health.reason}"
            )
        until = max(
            rules.resting_until(record.health, now), scoped.class_resting_until(record.health, model, now)
        )
        if until > now:
            raise NoAvailableTokens(
                f"The token '{alias}' this key is pinned to is cooling down after a rate limit",
                status=429,
                retry_after=max(1.0, until - now),
            )
        if not self.available(record, now):
            raise NoAvailableTokens(f"The token '{alias}' this key is pinned to has expired")
        return record

    def usable_count(self) -> int:
        """How many tokens could serve now (for /health; does not move the round robin)."""
        now = self.clock()
        return sum(1 for r in self._records() if self.available(r, now))

    def earliest_cooldown_end(self, alias: str | None = None, model: str | None = None) -> float | None:
        """When the first resting token (or `alias`) can serve again (`model`: counting its class's rest),
        for Retry-After, or None."""
        now = self.clock()
        ends = [
            max(rules.resting_until(r.health, now), scoped.class_resting_until(r.health, model, now))
            for r in self._records()
            if r.usable and (alias is None or r.alias == alias)
        ]
        future = [end for end in ends if end > now]
        return min(future) if future else None

    # -- half-open trial --

    def needs_trial(self, record: TokenRecord) -> bool:
        """Whether this token is half-open (its next request is the one trial). No I/O."""
        return rules.needs_trial(record.health, self.clock())

    def claim_trial(self, alias: str) -> bool:
        """Take the single trial of a half-open token (compare-and-set through the store, so one request
        across all instances gets it). True also when the token closed in the meantime."""
        lease = max(30.0, 2 * self.settings.cursor_first_event_timeout)
        claimed = False

        def claim(health: TokenHealth) -> TokenHealth:
            nonlocal claimed
            now = self.clock()
            if not rules.needs_trial(health, now):
                claimed = health.state == "healthy"  # someone's trial already succeeded
                return health
            new = rules.claim_trial(health, now, lease)
            claimed = new is not None
            return new or health

        self._change_health(alias, claim)
        if claimed:
            log.info("token %s: half-open, this request is its trial", alias)
        return claimed

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

    def is_pristine(self, alias: str) -> bool:
        """A success on this token would change nothing (no store read or write needed)."""
        return self._seen_health.get(alias) == rules.PRISTINE

    def report_success(self, alias: str) -> None:
        if self.is_pristine(alias):
            return
        self._change_health(alias, lambda health: rules.after_success(health, self.clock()))

    def report_failure(self, alias: str, exc: GatewayError) -> None:
        """Every upstream outcome of a request on `alias` that did not answer: auth -> disabled, rate limit
        or quota -> cooldown with backoff, transport/timeout/overload -> a lower score; a request Cursor
        refused for its own content (bad request, model not allowed, version gate) says nothing about the
        token and only gives back a half-open trial it held."""
        reason = exc.message
        base = self.settings.rate_limit_cooldown
        cap = max(base, self.settings.rate_limit_max_cooldown)

        def change(health: TokenHealth) -> TokenHealth:
            now = self.clock()
            if isinstance(exc, UpstreamAuthError):
                return rules.after_auth_failure(health, now, reason)
            if isinstance(exc, UpstreamRateLimited) and exc.scope and health.state != "disabled":
                score, scored_at = rules.scored(health, now, 0.0)
                return scoped.after_class_rate_limit(
                    health,
                    now,
                    exc.scope,
                    reason,
                    base=base,
                    cap=cap,
                    retry_after=exc.retry_after,
                    score=score,
                    scored_at=scored_at,
                )
            if isinstance(exc, UpstreamRateLimited):
                return rules.after_rate_limit(
                    health, now, reason, base=base, cap=cap, retry_after=exc.retry_after
                )
            if isinstance(exc, UpstreamError) and exc.retryable:
                return rules.after_soft_failure(health, now, reason)
            return rules.release_trial(health)

        self._change_health(alias, change)
        if isinstance(exc, UpstreamAuthError):
            self._access.pop(alias, None)
        if exc.blames_token:
            log.warning("token %s: %s (%s)", alias, type(exc).__name__, reason)
        elif not isinstance(exc, UpstreamBadRequest):
            log.info("token %s: %s (%s)", alias, type(exc).__name__, reason)

    def record_usable_models(self, alias: str, models: list[str] | tuple[str, ...]) -> None:
        """Store the account's usable model ids (from GetUsableModels) when they changed."""
        wanted = tuple(models)
        current = next((r for r in self._records() if r.alias == alias), None)
        if current is None or current.usable_models == wanted:
            return
        with contextlib.suppress(NotFound):
            self.store.set_usable_models(alias, wanted)
            self.invalidate()

    def _change_health(self, alias: str, change: Callable[[TokenHealth], TokenHealth]) -> None:
        for attempt in range(_MAX_CAS_ATTEMPTS):
            record = self.store.get(alias)
            if record is None:
                return
            new = change(record.health)
            if new != record.health:  # an unchanged health costs no write on the hot path
                try:
                    self.store.update_health(alias, new, expected_version=record.version)
                except VersionConflict:
                    # Another writer got in between: back off a little (jittered, so a crowd of writers
                    # spreads out), re-read, apply our change on top of theirs.
                    time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                    continue
                except NotFound:
                    return
                self.invalidate()
            self._seen_health[alias] = new
            return
        log.warning("gave up updating the health of token %s after %d conflicts", alias, _MAX_CAS_ATTEMPTS)
