from __future__ import annotations

import pytest
from cursor_gateway.domain import health as rules
from cursor_gateway.domain.model_cooldowns import (
    after_class_rate_limit,
    class_resting_until,
    live_cooldowns,
    model_class,
    named_scope,
)
from cursor_gateway.domain.tokens import TokenHealth

NOW = 1_790_000_000.0


@pytest.mark.parametrize(
    ("model", "cls"),
    [
        ("claude-opus-4-8", "claude"),
        ("claude-4.6-sonnet-thinking", "claude"),
        ("gpt-5.6-sol", "gpt"),
        ("gemini-3.7-flash", "gemini"),
        ("grok-4.7", "grok"),
        ("composer-2.5-fast", "composer"),
        ("mystery-9", "mystery"),
    ],
)
def test_model_class(model: str, cls: str) -> None:
    assert model_class(model) == cls


@pytest.mark.parametrize(
    ("text", "model", "scope"),
    [
        ("Rate limited: You've hit the rate limit for Claude models.", "gpt-5.5", "claude"),
        ("Too many requests for claude-opus-4-8, slow down", "claude-opus-4-8", "claude"),
        ("Rate limited: Too many requests, slow down.", "claude-opus-4-8", None),
        ("You've hit your usage limit.", "gpt-5.5", None),
        ("OpenAI capacity reached, try again", "gpt-5.5", "gpt"),
        ("Too many requests for default", "default", None),  # Auto is no class
    ],
)
def test_named_scope(text: str, model: str, scope: str | None) -> None:
    assert named_scope(text, model) == scope


def rest(health: TokenHealth, now: float, retry_after: float | None = None) -> TokenHealth:
    score, scored_at = rules.scored(health, now, 0.0)
    return after_class_rate_limit(
        health,
        now,
        "claude",
        "slow down",
        base=60,
        cap=600,
        retry_after=retry_after,
        score=score,
        scored_at=scored_at,
    )


def test_class_rests_double_survive_other_successes_and_keep_the_account_usable() -> None:
    health = rest(TokenHealth(), NOW)
    assert health.state == "healthy" and health.score < 1.0
    assert class_resting_until(health, "claude-sonnet-5", NOW) == NOW + 60
    assert class_resting_until(health, "gpt-5.5", NOW) == 0.0
    again = rest(health, NOW + 10)  # an in-flight report of the same episode: same end
    assert live_cooldowns(again, NOW + 10) == {"claude": NOW + 60}
    later = rest(again, NOW + 61)  # after it rested: the rest doubles
    assert live_cooldowns(later, NOW + 61) == {"claude": NOW + 61 + 120}
    told = rest(TokenHealth(), NOW, retry_after=300)
    assert live_cooldowns(told, NOW) == {"claude": NOW + 300}

    # A success (of another class) keeps the rest; once it is over, a success clears it.
    kept = rules.after_success(later, NOW + 62)
    assert live_cooldowns(kept, NOW + 62) == {"claude": NOW + 61 + 120}
    cleared = rules.after_success(kept, NOW + 500)
    assert cleared.model_cooldowns == ()
    # An account-wide rate limit keeps the class rests too.
    account = rules.after_rate_limit(kept, NOW + 63, "429", base=60, cap=600, retry_after=None)
    assert account.state == "cooling_down" and account.model_cooldowns == kept.model_cooldowns


def test_unreadable_entries_are_ignored() -> None:
    health = TokenHealth(model_cooldowns=("garbage", f"claude={NOW + 5!r}=1"))
    assert live_cooldowns(health, NOW) == {"claude": NOW + 5}


def test_class_rests_survive_the_store_encoding() -> None:
    from cursor_gateway.domain.tokens import TokenRecord
    from cursor_gateway.storage.token_items import item_to_record, record_to_item

    health = rest(TokenHealth(), NOW)
    record = TokenRecord(alias="a", kind="session", primary_token="x", health=health)
    assert item_to_record(record_to_item(record)).health == health
