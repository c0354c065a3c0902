"""Admin use cases that ask Cursor about pool tokens: `/tokens/refresh`, `/tokens/profile/update` and
`/tokens/config-version/update` (admin-api.md "Tokens").

Each takes a list of aliases and answers one result per alias; a failure of one never stops the others.
Aliases are worked on a few at a time (API Gateway gives a buffered route 29 s). What is learnt is written
with `TokenStore.update_fields`, so a concurrent health update from live traffic is never undone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from cursor_gateway.domain.accounts import StripeProfile, UserInfo
from cursor_gateway.domain.period_usage import PeriodUsage
from cursor_gateway.domain.tokens import (
    JwtError,
    TokenHealth,
    TokenRecord,
    decode_jwt_claims,
    jwt_expiry,
    mask_secret,
)
from cursor_gateway.errors import GatewayError, NotFound, UpstreamAuthError
from cursor_gateway.services.proxies import ProxyService
from cursor_gateway.services.token_details import describe_usage, usage_fields
from cursor_gateway.services.token_pool import TokenPool
from cursor_gateway.services.tokens import ItemResult, batch_answer, unique
from cursor_gateway.settings import Settings
from cursor_gateway.storage.tokens import TokenStore
from cursor_gateway.upstream import account_info
from cursor_gateway.upstream.agent_hosts import parse_agent_urls
from cursor_gateway.upstream.identity import MachineIds
from cursor_gateway.upstream.period_usage import fetch_period_usage
from cursor_gateway.upstream.transport import SYSTEM

log = logging.getLogger("cursor_gateway.services.token_accounts")

# Aliases worked on at once: enough to finish a few dozen within API Gateway's 29 s, few enough not to
# look like a burst from one address to Cursor.
CONCURRENCY = 8


class TokenAccountService:
    def __init__(
        self,
        store: TokenStore,
        pool: TokenPool,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        *,
        proxies: ProxyService | None = None,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.store = store
        self.pool = pool
        self.settings = settings
        self.clock = clock
        # Each token's calls go through its own proxy (unknown or no name: the general proxy).
        self.proxies = proxies
        self._concurrency = max(1, concurrency)

    def _proxy(self, record: TokenRecord) -> str:
        return self.proxies.resolve(record.proxy) if self.proxies is not None else SYSTEM

    # -- POST /tokens/refresh --

    async def refresh(self, aliases: Sequence[str]) -> dict[str, Any]:
        """Session tokens: a new JWT from `/oauth/token` (the pool's refresher); crsr_ keys: exchanged again.
        A token the health rules disabled is healthy again after a successful refresh; a refresh Cursor
        refuses (revoked session, bad key) disables it with that reason."""
        return batch_answer("refreshed", await self._each(aliases, self._refresh_one))

    async def _refresh_one(self, record: TokenRecord) -> ItemResult:
        try:
            if record.kind == "api_key":
                token = await self.pool.refresh_after_auth_failure(record, "")
                expires_at = _expiry(token or "")
                detail = "key exchanged again"
            else:
                if self.pool.refresher is None:
                    return ItemResult(record.alias, "failed", "session refresh is not configured")
                source = record.refresh_token or record.primary_token
                token, expires_at = await self.pool.refresher.refresh(source)
                self.store.store_refreshed_session(record.alias, token, expires_at)
                detail = "new session token"
        except UpstreamAuthError as exc:
            self.pool.report_failure(record.alias, exc)
            return ItemResult(record.alias, "failed", f"{exc.message}; the token is disabled")
        if expires_at:
            detail += f", valid until {int(expires_at)}"
        if record.health.state == "disabled":
            self.store.update_fields(record.alias, {"health": TokenHealth()})
            detail += f"; health reset (was disabled: {record.health.reason or 'no reason'})"
        self.pool.invalidate()
        log.info("token %s refreshed (%s)", record.alias, mask_secret(token or ""))
        return ItemResult(record.alias, "refreshed", detail)

    # -- POST /tokens/profile/update --

    async def update_profile(self, aliases: Sequence[str]) -> dict[str, Any]:
        """Stripe profile (plan, trial days, subscription), dashboard user (email, name) and usable models,
        fetched together and stored on the record. Whatever was fetched is stored even when another part
        failed (`partial`, with what failed in `detail`)."""
        return batch_answer("profile updated", await self._each(aliases, self._profile_one))

    async def _profile_one(self, record: TokenRecord) -> ItemResult:
        bearer = await self.pool.bearer_for(record)
        user_id = record.user_id or _user_id(bearer)
        settings, proxy = self.settings, self._proxy(record)
        stripe, user, models, usage = await asyncio.gather(
            account_info.fetch_stripe_profile(settings, bearer, proxy=proxy),
            account_info.fetch_user_info(settings, user_id, bearer, proxy=proxy)
            if user_id
            else _no_user_id(),
            account_info.fetch_usable_models(settings, bearer, proxy=proxy),
            fetch_period_usage(settings, bearer, proxy=proxy),
            return_exceptions=True,
        )
        changes: dict[str, Any] = {}
        problems: list[str] = []
        got: list[str] = []
        if isinstance(stripe, StripeProfile):
            changes.update(
                membership_type=stripe.membership_type,
                trial_days_remaining=stripe.days_remaining_on_trial,
                subscription_status=stripe.subscription_status,
            )
            new = "" if stripe.known_membership else " (a value new to us, kept as sent)"
            got.append(f"membership {stripe.membership_type}{new}")
        else:
            problems.append(f"stripe profile: {_why(stripe, record.alias)}")
        if isinstance(user, UserInfo):
            changes.update(
                email=user.email,
                user_name=user.name,
                user_updated_at=user.updated_at,
                user_picture=user.picture,
            )
            got.append("user info")
        else:
            problems.append(f"user info: {_why(user, record.alias)}")
        if isinstance(models, tuple):
            changes["usable_models"] = models
            got.append(f"{len(models)} usable models")
        else:
            problems.append(f"usable models: {_why(models, record.alias)}")
        if isinstance(usage, PeriodUsage):
            changes.update(usage_fields(usage, self.clock()))
            got.append(describe_usage(usage))
        else:
            problems.append(f"period usage: {_why(usage, record.alias)}")
        if not changes:
            return ItemResult(record.alias, "failed", "; ".join(problems))
        changes["profile_updated_at"] = self.clock()
        self.store.update_fields(record.alias, changes)
        self.pool.invalidate()
        detail = ", ".join(got) + ("; failed: " + "; ".join(problems) if problems else "")
        return ItemResult(record.alias, "partial" if problems else "updated", detail)

    # -- scheduled: GetCurrentPeriodUsage only --

    async def refresh_usage(self, aliases: Sequence[str]) -> dict[str, Any]:
        """The current billing period of each token (the operator's schedule, USAGE_REFRESH_INTERVAL)."""
        return batch_answer("usage updated", await self._each(aliases, self._usage_one))

    async def _usage_one(self, record: TokenRecord) -> ItemResult:
        bearer = await self.pool.bearer_for(record)
        usage = await fetch_period_usage(self.settings, bearer, proxy=self._proxy(record))
        self.store.update_fields(record.alias, usage_fields(usage, self.clock()))
        self.pool.invalidate()
        return ItemResult(record.alias, "updated", describe_usage(usage))

    # -- POST /tokens/config-version/update --

    async def update_config_version(self, aliases: Sequence[str]) -> dict[str, Any]:
        """`GetServerConfig` with the token's own machine ids; its `config_version` is stored and sent as
        `x-cursor-config-version` from then on."""
        return batch_answer("config version updated", await self._each(aliases, self._config_version_one))

    async def _config_version_one(self, record: TokenRecord) -> ItemResult:
        bearer = await self.pool.bearer_for(record)
        machine = MachineIds(
            machine_id=record.checksum_first,
            mac_machine_id=record.checksum_second,
            client_key=record.client_key,
            session_id=record.session_id,
        )
        payload = await account_info.fetch_server_config(
            self.settings,
            bearer,
            machine,
            timezone=record.timezone,
            now=self.clock(),
            proxy=self._proxy(record),
        )
        version = account_info.config_version_of(payload)
        # The account's agent host comes with its config (regional accounts fail on the global one).
        agent_url = parse_agent_urls(payload).for_mode(self.settings.cursor_ghost_mode)
        detail = f"config version {version}" + (f", agent host {agent_url}" if agent_url else "")
        if (version, agent_url) == (record.config_version, record.agent_url):
            return ItemResult(record.alias, "unchanged", detail)
        self.store.update_fields(record.alias, {"config_version": version, "agent_url": agent_url})
        self.pool.invalidate()
        return ItemResult(record.alias, "updated", detail)

    # -- helpers --

    async def _each(
        self, aliases: Sequence[str], work: Callable[[TokenRecord], Awaitable[ItemResult]]
    ) -> list[ItemResult]:
        gate = asyncio.Semaphore(self._concurrency)

        async def one(alias: str) -> ItemResult:
            async with gate:
                record = self.store.get(alias)
                if record is None:
                    return ItemResult(alias, "not_found", f"no token has the alias '{alias}'")
                try:
                    return await work(record)
                except NotFound:
                    return ItemResult(alias, "not_found", f"the token '{alias}' was deleted meanwhile")
                except GatewayError as exc:  # messages of errors.py classes carry masked credentials only
                    return ItemResult(alias, "failed", exc.message)
                except Exception:
                    log.exception("token %s: unexpected error", alias)
                    return ItemResult(alias, "failed", "internal error (see the gateway's log)")

        return list(await asyncio.gather(*(one(alias) for alias in unique(aliases))))


async def _no_user_id() -> UserInfo:
    raise GatewayError("the token names no Cursor user id (needed for the dashboard cookie)")


def _why(outcome: object, alias: str) -> str:
    if isinstance(outcome, GatewayError):
        return outcome.message
    if isinstance(outcome, BaseException):
        log.error("token %s: unexpected error", alias, exc_info=outcome)
    return "internal error (see the gateway's log)"


def _user_id(jwt: str) -> str:
    """The Cursor user id in a JWT's `sub` (`provider|user_...`): an exchanged crsr_ key's JWT names it."""
    try:
        sub = decode_jwt_claims(jwt).get("sub")
    except JwtError:
        return ""
    return sub.partition("|")[2] if isinstance(sub, str) else ""


def _expiry(jwt: str) -> float:
    try:
        return jwt_expiry(jwt) or 0.0
    except JwtError:
        return 0.0
