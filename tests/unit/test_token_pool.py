from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from cursor_gateway.domain.tokens import TokenHealth, TokenRecord
from cursor_gateway.errors import (
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from cursor_gateway.services.token_pool import ACCESS_TOKEN_MARGIN, TokenPool
from cursor_gateway.settings import Settings
from cursor_gateway.storage.tokens import InMemoryTokenStore
from fakes.jwts import NOW, api_key, make_jwt


class FakeClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeExchanger:
    """Hands out numbered JWTs valid for `lifetime` seconds from the fake clock's now."""

    def __init__(self, clock: FakeClock, lifetime: float = 3600.0, delay: float = 0.0) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.delay = delay
        self.calls: list[str] = []

    async def exchange(self, key: str) -> tuple[str, float]:
        self.calls.append(key)
        if self.delay:
            await asyncio.sleep(self.delay)
        return f"jwt-{len(self.calls)}", self.clock.now + self.lifetime


def session(alias: str, **changes: object) -> TokenRecord:
    record = TokenRecord(
        alias=alias,
        kind="session",
        primary_token=make_jwt(user_id=f"user_{alias}"),
        expires_at=NOW + 86400,
        created_at=NOW,
    )
    return replace(record, **changes)  # type: ignore[arg-type]


Fixture = tuple[TokenPool, InMemoryTokenStore, FakeClock, FakeExchanger]


def make_pool(records: list[TokenRecord], **settings: object) -> Fixture:
    clock = FakeClock()
    store = InMemoryTokenStore(records, clock=clock)
    exchanger = FakeExchanger(clock)
    pool = TokenPool(store, Settings(**settings), exchanger, clock=clock)  # type: ignore[arg-type]
    return pool, store, clock, exchanger


# --- selection ----------------------------------------------------------------------------------------


def test_round_robin_rotates_the_start_and_keeps_every_token() -> None:
    pool, *_ = make_pool([session("a"), session("b"), session("c")])
    orders = [[r.alias for r in pool.candidates()] for _ in range(4)]
    assert orders == [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"], ["a", "b", "c"]]


def test_first_choice_is_spread_evenly() -> None:
    pool, *_ = make_pool([session(x) for x in "abcd"])
    firsts = [pool.candidates()[0].alias for _ in range(400)]
    assert {a: firsts.count(a) for a in "abcd"} == {a: 100 for a in "abcd"}


def test_unusable_tokens_are_never_candidates() -> None:
    pool, _, clock, _ = make_pool(
        [
            session("ok"),
            session("off", status="disabled"),
            session("dead", health=TokenHealth(state="disabled", reason="401")),
            session("resting", health=TokenHealth(state="cooling_down", cooldown_until=NOW + 30)),
            session("expired", expires_at=NOW - 1),
            replace(session("key"), kind="api_key", primary_token=api_key(), expires_at=0.0),
        ]
    )
    assert {r.alias for r in pool.candidates()} == {"ok", "key"}
    clock.now = NOW + 30  # cooldown over
    assert {r.alias for r in pool.candidates()} == {"ok", "key", "resting"}


def test_no_tokens_no_candidates() -> None:
    pool, *_ = make_pool([])
    assert pool.candidates() == []
    assert pool.earliest_cooldown_end() is None


def test_earliest_cooldown_end() -> None:
    pool, _, clock, _ = make_pool(
        [
            session("a", health=TokenHealth(state="cooling_down", cooldown_until=NOW + 50)),
            session("b", health=TokenHealth(state="cooling_down", cooldown_until=NOW + 20)),
            session("c", status="disabled", health=TokenHealth(state="cooling_down", cooldown_until=NOW + 5)),
        ]
    )
    assert pool.candidates() == []
    assert pool.earliest_cooldown_end() == NOW + 20
    clock.now = NOW + 20
    assert pool.earliest_cooldown_end() == NOW + 50


# --- health -----------------------------------------------------------------------------------------


def test_rate_limit_cools_down_for_the_configured_time_then_returns() -> None:
    pool, store, clock, _ = make_pool([session("a"), session("b")], rate_limit_cooldown=60.0)
    pool.report_failure("a", UpstreamRateLimited("slow down"))
    health = store.get("a").health  # type: ignore[union-attr]
    assert (health.state, health.cooldown_until, health.consecutive_failures) == ("cooling_down", NOW + 60, 1)
    assert [r.alias for r in pool.candidates()] == ["b"]
    assert pool.earliest_cooldown_end() == NOW + 60
    clock.now = NOW + 60
    assert {r.alias for r in pool.candidates()} == {"a", "b"}


def test_retry_after_from_upstream_wins_over_the_default() -> None:
    pool, store, *_ = make_pool([session("a")], rate_limit_cooldown=60.0)
    pool.report_failure("a", UpstreamRateLimited("slow down", retry_after=7))
    assert store.get("a").health.cooldown_until == NOW + 7  # type: ignore[union-attr]


def test_auth_failure_disables_with_reason() -> None:
    pool, store, *_ = make_pool([session("a")])
    pool.report_failure("a", UpstreamAuthError("token revoked"))
    record = store.get("a")
    assert record is not None
    assert (record.health.state, record.health.reason, record.usable) == ("disabled", "token revoked", False)
    assert record.status == "enabled"  # the admin's switch is untouched; health says why it is out
    assert pool.candidates() == []


@pytest.mark.parametrize("exc", [UpstreamUnavailable("reset"), UpstreamBadRequest("bad model")])
def test_failures_that_do_not_blame_the_token_change_nothing(exc: Exception) -> None:
    pool, store, *_ = make_pool([session("a")])
    before = store.get("a")
    pool.report_failure("a", exc)  # type: ignore[arg-type]
    assert store.get("a") == before


def test_success_heals_a_recovered_token_and_costs_nothing_when_healthy() -> None:
    pool, store, clock, _ = make_pool([session("a")])
    pool.report_failure("a", UpstreamRateLimited("slow"))
    clock.now = NOW + 100
    pool.report_success("a")
    health = store.get("a").health  # type: ignore[union-attr]
    assert (health.state, health.consecutive_failures, health.cooldown_until) == ("healthy", 0, 0.0)
    assert 0.5 < health.score < 1.0
    pool.report_success("a")
    version = store.get("a").version  # type: ignore[union-attr]
    assert store.get("a").health == TokenHealth()  # type: ignore[union-attr]
    pool.candidates()
    pool.report_success("a")
    assert store.get("a").version == version  # type: ignore[union-attr]


def test_a_stale_health_write_is_retried_not_lost() -> None:
    """Read-modify-write with the version check: when another writer gets in between our read and our
    write, we re-read and apply our change on top of theirs."""

    class Interleaving(InMemoryTokenStore):
        raced = False

        def update_health(
            self, alias: str, health: TokenHealth, *, expected_version: int | None = None
        ) -> TokenRecord:
            if not self.raced:
                self.raced = True  # another writer lands between the pool's read and its write
                super().update_health(alias, TokenHealth(consecutive_failures=5, score=0.1))
            return super().update_health(alias, health, expected_version=expected_version)

    clock = FakeClock()
    store = Interleaving([session("a")], clock=clock)
    pool = TokenPool(store, Settings(), FakeExchanger(clock), clock=clock)
    pool.report_failure("a", UpstreamRateLimited("slow"))
    health = store.get("a").health  # type: ignore[union-attr]
    assert store.raced
    assert (health.state, health.consecutive_failures, health.score) == ("cooling_down", 6, 0.05)


def test_reports_for_unknown_tokens_are_ignored() -> None:
    pool, store, *_ = make_pool([])
    pool.report_failure("gone", UpstreamAuthError("x"))
    pool.report_success("gone")
    assert store.list() == []


# --- bearer -----------------------------------------------------------------------------------------


async def test_session_bearer_is_the_primary_token() -> None:
    record = session("a")
    pool, _, _, exchanger = make_pool([record])
    assert await pool.bearer_for(record) == record.primary_token
    assert exchanger.calls == []


async def test_api_key_is_exchanged_once_cached_in_the_store_and_renewed_near_expiry() -> None:
    key = api_key()
    pool, store, clock, exchanger = make_pool(
        [replace(session("k"), kind="api_key", primary_token=key, expires_at=0.0)]
    )
    record = store.get("k")
    assert record is not None
    assert await pool.bearer_for(record) == "jwt-1"
    assert exchanger.calls == [key]
    stored = store.get("k")
    assert stored is not None
    assert (stored.access_token, stored.access_expires_at) == ("jwt-1", NOW + 3600)

    # Still fresh: neither this process nor another one (a new pool reading the store) exchanges again.
    clock.now = NOW + 3600 - ACCESS_TOKEN_MARGIN - 1
    assert await pool.bearer_for(record) == "jwt-1"
    other = TokenPool(store, Settings(), exchanger, clock=clock)
    assert await other.bearer_for(stored) == "jwt-1"
    assert len(exchanger.calls) == 1

    # Within 5 minutes of expiry: exchanged again, and the new JWT replaces the cached one.
    clock.now = NOW + 3600 - ACCESS_TOKEN_MARGIN + 1
    assert await pool.bearer_for(stored) == "jwt-2"
    assert store.get("k").access_token == "jwt-2"  # type: ignore[union-attr]
    assert len(exchanger.calls) == 2


async def test_concurrent_requests_share_one_exchange() -> None:
    pool, store, _, exchanger = make_pool([replace(session("k"), kind="api_key", primary_token=api_key())])
    exchanger.delay = 0.01
    record = store.get("k")
    assert record is not None
    bearers = await asyncio.gather(*(pool.bearer_for(record) for _ in range(5)))
    assert bearers == ["jwt-1"] * 5
    assert len(exchanger.calls) == 1


async def test_exchange_failure_propagates_and_caches_nothing() -> None:
    class Refusing:
        async def exchange(self, key: str) -> tuple[str, float]:
            raise UpstreamAuthError("Cursor rejected the API key")

    clock = FakeClock()
    store = InMemoryTokenStore([replace(session("k"), kind="api_key", primary_token=api_key())], clock=clock)
    pool = TokenPool(store, Settings(), Refusing(), clock=clock)
    with pytest.raises(UpstreamAuthError):
        await pool.bearer_for(store.get("k"))  # type: ignore[arg-type]
    assert store.get("k").access_token == ""  # type: ignore[union-attr]
