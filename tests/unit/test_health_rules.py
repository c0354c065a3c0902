"""domain.health: the circuit breaker, backoff, score and order, as pure functions of a clock value."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cursor_gateway.domain import health as rules
from cursor_gateway.domain.tokens import TokenHealth, TokenRecord

NOW = 1_800_000_000.0


def record(alias: str, created_at: float = 0.0, **health: object) -> TokenRecord:
    return TokenRecord(
        alias=alias,
        kind="session",
        primary_token="x.y.z",
        created_at=created_at,
        health=TokenHealth(**health),  # type: ignore[arg-type]
    )


def test_cooldown_doubles_from_the_base_and_is_capped() -> None:
    assert [rules.cooldown_for(n, 60, 1000, None) for n in range(1, 7)] == [60, 120, 240, 480, 960, 1000]
    assert rules.cooldown_for(3, 60, 1000, 7) == 7  # Cursor's Retry-After instead of the backoff
    assert rules.cooldown_for(1, 60, 1000, 5000) == 1000


def test_score_drifts_back_with_a_half_life() -> None:
    health = TokenHealth(score=0.5, scored_at=NOW)
    assert rules.effective_score(health, NOW) == 0.5
    assert rules.effective_score(health, NOW + rules.SCORE_HALF_LIFE) == pytest.approx(0.75)
    assert rules.effective_score(health, NOW + 2 * rules.SCORE_HALF_LIFE) == pytest.approx(0.875)
    assert rules.effective_score(TokenHealth(), NOW) == 1.0


def test_success_failure_ewma() -> None:
    h = rules.after_soft_failure(TokenHealth(), NOW, "reset")
    assert h.score == 0.75 and h.state == "healthy"
    h = rules.after_soft_failure(h, NOW, "reset")
    assert h.score == pytest.approx(0.5625)
    h = rules.after_success(h, NOW)
    assert h.score == pytest.approx(0.671875) and h.consecutive_failures == 0 and h.reason == ""


def test_states_over_time() -> None:
    h = rules.after_rate_limit(TokenHealth(), NOW, "429", base=60, cap=3600, retry_after=None)
    assert rules.state_at(h, NOW + 59) == "cooling_down"
    assert rules.state_at(h, NOW + 60) == "half_open"
    assert rules.needs_trial(h, NOW + 60)
    claimed = rules.claim_trial(h, NOW + 60, lease=30)
    assert claimed is not None and rules.claim_trial(claimed, NOW + 61, lease=30) is None
    assert rules.resting_until(claimed, NOW + 61) == NOW + 90
    assert rules.state_at(rules.after_success(claimed, NOW + 62), NOW + 62) == "healthy"
    again = rules.after_rate_limit(claimed, NOW + 62, "429", base=60, cap=3600, retry_after=None)
    assert (again.rate_limits, again.cooldown_until, again.trial_until) == (2, NOW + 62 + 120, 0.0)
    assert rules.state_at(rules.after_auth_failure(again, NOW, "401"), NOW) == "disabled"


def test_degraded_healthy_tokens_go_last_but_half_open_ones_keep_their_turn() -> None:
    weak = record("a", score=0.5, scored_at=NOW)
    strong = record("b")
    half_open = record("c", state="cooling_down", cooldown_until=NOW - 1, score=0.3, scored_at=NOW)
    order = rules.order_tokens([weak, strong, half_open], NOW, policy="round_robin", turn=0)
    assert [r.alias for r in order] == ["b", "c", "a"]
    order = rules.order_tokens([weak, strong, half_open], NOW, policy="round_robin", turn=2)
    assert [r.alias for r in order] == ["c", "b", "a"]


def test_fill_first_order_is_the_pools_index_order() -> None:
    tokens = [record("b", created_at=2), record("c", created_at=1), record("a", created_at=3)]
    for turn in range(3):
        order = rules.order_tokens(tokens, NOW, policy="fill_first", turn=turn)
        assert [r.alias for r in order] == ["c", "b", "a"]


def test_serves_model() -> None:
    plan = replace(record("a"), usable_models=("gpt-5.2",))
    assert rules.serves_model(plan, "gpt-5.2") and rules.serves_model(plan, "default")
    assert rules.serves_model(plan, None) and not rules.serves_model(plan, "claude-4.6-sonnet")
    assert rules.serves_model(record("unknown"), "anything")
