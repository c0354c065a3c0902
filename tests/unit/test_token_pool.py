from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from cursor_gateway.domain.tokens import TokenHealth, TokenRecord
from cursor_gateway.errors import (
    NoAvailableTokens,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamRateLimited,
    UpstreamUnavailable,
    UpstreamVersionGate,
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


@pytest.mark.parametrize("exc", [UpstreamBadRequest("bad model"), UpstreamVersionGate("update required")])
def test_failures_that_say_nothing_about_the_token_change_nothing(exc: Exception) -> None:
    pool, store, *_ = make_pool([session("a")])
    before = store.get("a")
    pool.report_failure("a", exc)  # type: ignore[arg-type]
    assert store.get("a") == before


def test_transport_failures_lower_the_score_without_a_cooldown() -> None:
    pool, store, clock, _ = make_pool([session("a"), session("b")])
    pool.report_failure("a", UpstreamUnavailable("connection reset"))
    health = store.get("a").health  # type: ignore[union-attr]
    assert (health.state, health.cooldown_until, health.score, health.consecutive_failures) == (
        "healthy",
        0.0,
        0.75,
        1,
    )
    assert {r.alias for r in pool.candidates()} == {"a", "b"}  # still serving
    pool.report_failure("a", UpstreamUnavailable("connection reset"))
    # Two in a row: degraded, so it goes after the healthy token whatever the round-robin turn.
    assert [[r.alias for r in pool.candidates()] for _ in range(3)] == [["b", "a"]] * 3
    clock.now += 600  # half-life: the score drifts back and the token takes its turns again
    assert {pool.candidates()[0].alias for _ in range(2)} == {"a", "b"}


def test_success_heals_a_recovered_token_and_costs_nothing_when_healthy() -> None:
    pool, store, clock, _ = make_pool([session("a")])
    pool.report_failure("a", UpstreamRateLimited("slow"))
    clock.now = NOW + 100
    pool.report_success("a")
    health = store.get("a").health  # type: ignore[union-attr]
    assert (health.state, health.consecutive_failures, health.cooldown_until, health.rate_limits) == (
        "healthy",
        0,
        0.0,
        0,
    )
    assert 0.75 < health.score < 1.0
    for _ in range(20):  # each success closes a quarter of the gap; near 1 it snaps to pristine
        pool.report_success("a")
        if store.get("a").health == TokenHealth():  # type: ignore[union-attr]
            break
    assert store.get("a").health == TokenHealth()  # type: ignore[union-attr]
    version = store.get("a").version  # type: ignore[union-attr]
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
    assert (health.state, health.consecutive_failures) == ("cooling_down", 6)
    assert health.score == pytest.approx(0.075)  # applied on top of the other writer's 0.1


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


# --- backoff and half-open ----------------------------------------------------------------------------


def _rate_limit_at_trial(pool: TokenPool, store: InMemoryTokenStore, clock: FakeClock, alias: str) -> float:
    """Move to the end of the cooldown, take the half-open trial, fail it with a 429: the new cooldown."""
    clock.now = store.get(alias).health.cooldown_until  # type: ignore[union-attr]
    assert pool.needs_trial(store.get(alias))  # type: ignore[arg-type]
    assert pool.claim_trial(alias)
    pool.report_failure(alias, UpstreamRateLimited("again"))
    return store.get(alias).health.cooldown_until - clock.now  # type: ignore[union-attr]


def test_rate_limits_back_off_exponentially_up_to_the_cap_and_a_success_resets() -> None:
    pool, store, clock, _ = make_pool([session("a")], rate_limit_cooldown=60.0, rate_limit_max_cooldown=300.0)
    pool.report_failure("a", UpstreamRateLimited("slow"))
    assert store.get("a").health.cooldown_until == NOW + 60  # type: ignore[union-attr]
    rests = [_rate_limit_at_trial(pool, store, clock, "a") for _ in range(4)]
    assert rests == [120.0, 240.0, 300.0, 300.0]
    assert store.get("a").health.rate_limits == 5  # type: ignore[union-attr]

    clock.now = store.get("a").health.cooldown_until  # type: ignore[union-attr]
    assert pool.claim_trial("a")
    pool.report_success("a")  # the trial answered: closed, backoff reset
    health = store.get("a").health  # type: ignore[union-attr]
    assert (health.state, health.rate_limits, health.trial_until) == ("healthy", 0, 0.0)
    pool.report_failure("a", UpstreamRateLimited("slow"))
    assert store.get("a").health.cooldown_until == clock.now + 60  # type: ignore[union-attr]


def test_retry_after_is_capped() -> None:
    pool, store, *_ = make_pool([session("a")], rate_limit_max_cooldown=600.0)
    pool.report_failure("a", UpstreamRateLimited("quota", retry_after=86400))
    assert store.get("a").health.cooldown_until == NOW + 600  # type: ignore[union-attr]


def test_reports_during_a_cooldown_are_counted_without_escalating() -> None:
    """Requests in flight when the first 429 came report it again: one episode, one backoff step."""
    pool, store, clock, _ = make_pool([session("a")], rate_limit_cooldown=60.0)
    pool.report_failure("a", UpstreamRateLimited("slow"))
    clock.now = NOW + 5
    pool.report_failure("a", UpstreamRateLimited("slow"))
    pool.report_failure("a", UpstreamRateLimited("slow"))
    health = store.get("a").health  # type: ignore[union-attr]
    assert (health.rate_limits, health.consecutive_failures, health.cooldown_until) == (1, 3, NOW + 60)
    pool.report_failure("a", UpstreamRateLimited("slow", retry_after=100))  # Cursor asks for longer
    assert store.get("a").health.cooldown_until == NOW + 105  # type: ignore[union-attr]


def test_half_open_gives_one_trial_across_instances() -> None:
    pool, store, clock, exchanger = make_pool([session("a"), session("b")], rate_limit_cooldown=60.0)
    other = TokenPool(store, Settings(rate_limit_cooldown=60.0), exchanger, clock=clock)  # another instance
    pool.report_failure("a", UpstreamRateLimited("slow"))
    clock.now = NOW + 59
    assert [r.alias for r in pool.candidates()] == ["b"]
    clock.now = NOW + 60
    record = next(r for r in pool.candidates() if r.alias == "a")
    assert pool.needs_trial(record)
    assert pool.claim_trial("a") is True
    assert other.claim_trial("a") is False  # the other instance does not get a second trial
    other.invalidate()
    assert [r.alias for r in other.candidates()] == ["b"]  # nor sends it traffic meanwhile
    assert other.earliest_cooldown_end() == store.get("a").health.trial_until  # type: ignore[union-attr]

    # The trial hit a transport error (not the token's fault): the claim is given back.
    pool.report_failure("a", UpstreamUnavailable("reset"))
    assert store.get("a").health.state == "cooling_down"  # type: ignore[union-attr]
    assert other.claim_trial("a") is True
    other.report_success("a")
    assert store.get("a").health.state == "healthy"  # type: ignore[union-attr]
    assert pool.claim_trial("a") is True  # closed meanwhile: nothing to wait for


def test_an_abandoned_trial_expires() -> None:
    pool, _, clock, _ = make_pool([session("a")], cursor_first_event_timeout=10.0)
    pool.report_failure("a", UpstreamRateLimited("slow"))
    clock.now = NOW + 60
    assert pool.claim_trial("a")  # ... and the instance holding it died
    assert not pool.claim_trial("a")
    clock.now = NOW + 60 + 30  # lease: max(30 s, 2 x first-event timeout)
    assert pool.claim_trial("a")


def test_auth_disabled_tokens_stay_out_whatever_comes_later() -> None:
    pool, store, clock, _ = make_pool([session("a")])
    pool.report_failure("a", UpstreamAuthError("revoked"))
    pool.report_success("a")  # a request that started before the 401 finished fine
    pool.report_failure("a", UpstreamRateLimited("slow"))
    clock.now = NOW + 3600
    health = store.get("a").health  # type: ignore[union-attr]
    assert (health.state, health.reason) == ("disabled", "revoked")
    assert pool.candidates() == []


# --- policies, models, pinning --------------------------------------------------------------------------


def test_fill_first_uses_the_oldest_healthy_token_until_it_fails() -> None:
    pool, _, clock, _ = make_pool(
        [session("zed", created_at=NOW - 30), session("amy", created_at=NOW - 20), session("bob")]
    )
    firsts = {pool.candidates(policy="fill_first")[0].alias for _ in range(10)}
    assert firsts == {"zed"}
    assert [r.alias for r in pool.candidates(policy="fill_first")] == ["zed", "amy", "bob"]
    pool.report_failure("zed", UpstreamRateLimited("slow"))
    assert {pool.candidates(policy="fill_first")[0].alias for _ in range(10)} == {"amy"}
    clock.now = NOW + 60  # half-open: back at the front for its trial
    assert pool.candidates(policy="fill_first")[0].alias == "zed"


def test_model_aware_selection() -> None:
    pool, *_ = make_pool(
        [
            session("pro", usable_models=("claude-4.6-sonnet", "gpt-5.2", "default")),
            session("free", usable_models=("composer-2.5", "default")),
            session("unknown"),
        ]
    )

    def served(model: str) -> set[str]:
        return {r.alias for _ in range(3) for r in pool.candidates(model)}

    assert served("claude-4.6-sonnet") == {"pro", "unknown"}
    assert served("composer-2.5") == {"free", "unknown"}
    assert served("default") == {"pro", "free", "unknown"}
    assert served("") == {"pro", "free", "unknown"}


def test_a_model_no_known_list_has_still_reaches_cursor() -> None:
    pool, *_ = make_pool([session("a", usable_models=("x",)), session("b", usable_models=("y",))])
    assert {r.alias for r in pool.candidates("brand-new-model")} == {"a", "b"}


def test_pinned_token_or_a_clear_error() -> None:
    pool, _, clock, _ = make_pool(
        [
            session("ok"),
            session("off", status="disabled"),
            session("dead", health=TokenHealth(state="disabled", reason="Cursor: revoked")),
            session("resting", health=TokenHealth(state="cooling_down", cooldown_until=NOW + 42)),
        ]
    )
    assert pool.pinned("ok").alias == "ok"
    cases = {
        "missing": (503, "does not exist"),
        "off": (503, "disabled by the admin"),
        "dead": (503, "Cursor: revoked"),
        "resting": (429, "cooling down"),
    }
    for alias, (status, text) in cases.items():
        with pytest.raises(NoAvailableTokens) as caught:
            pool.pinned(alias)
        assert caught.value.status == status and text in caught.value.message, alias
    with pytest.raises(NoAvailableTokens) as caught:
        pool.pinned("resting")
    assert caught.value.retry_after == 42
    clock.now = NOW + 42
    assert pool.pinned("resting").alias == "resting"  # half-open: the pinned caller gets the trial


def test_usable_models_are_stored_only_when_they_change() -> None:
    pool, store, *_ = make_pool([session("a")])
    pool.record_usable_models("a", ["gpt-5.2", "default"])
    stored = store.get("a")
    assert stored is not None and stored.usable_models == ("gpt-5.2", "default")
    pool.record_usable_models("a", ("gpt-5.2", "default"))
    assert store.get("a").version == stored.version  # type: ignore[union-attr]
    pool.record_usable_models("gone", ["x"])  # a deleted token is ignored
