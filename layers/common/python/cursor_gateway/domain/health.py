"""Token health as a circuit breaker, and the order tokens are tried in (pure: the clock is an argument).

States (stored `TokenHealth.state`; `half_open` is derived, never stored):

    healthy ──401/403 (after one refresh)──► disabled   (until an admin re-enables or refreshes it)
       │
       └──429 / quota──► cooling_down ──cooldown over──► half_open ──one live request──┐
                             ▲                                                     │
                             └──────────────── 429 again: longer cooldown ◄────────┤
                                                            success: healthy ◄─────┘

- Cooldowns back off exponentially: `base * 2**(n-1)` for the n-th rate limit since the last success,
  capped; a `Retry-After` from Cursor is used instead when present (also capped).
- Reports of a token that is already cooling down (requests that were in flight when the first 429 came,
  on this or another instance) are counted but do not double the backoff again: they are the same event.
- Half-open: after the cooldown, one request (the first to claim `trial_until`, across all instances
  through the store's compare-and-set) is the trial; nobody sends probes that would burn quota. Its
  success closes the circuit and resets the backoff; a rate limit reopens it with the next, longer,
  cooldown; any other outcome releases the claim so the next request becomes the trial.
- Score: an exponentially weighted average of outcomes (1 success, 0 failure) that drifts back towards
  1 with time (half-life `SCORE_HALF_LIFE`), so a token that had a bad minute is not starved forever.
  Healthy tokens below `DEGRADED_BELOW` are tried after the others. Transport failures and timeouts
  lower the score without a cooldown (a token behind a broken proxy sinks to the back); a client's bad
  request changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from cursor_gateway.domain.model_cooldowns import kept_after_success
from cursor_gateway.domain.tokens import TokenHealth, TokenRecord

DisplayState = Literal["healthy", "cooling_down", "half_open", "disabled"]
Policy = Literal["round_robin", "fill_first", "most_remaining"]
POLICIES: tuple[str, ...] = ("round_robin", "fill_first", "most_remaining")

SCORE_ALPHA = 0.25  # weight of the newest outcome
SCORE_HALF_LIFE = 600.0  # seconds for the distance to a perfect score to halve without traffic
DEGRADED_BELOW = 0.6  # one failure (0.75) keeps a token in front; two in a row (0.56) do not
_PRISTINE_ABOVE = 0.99
_REASON_LIMIT = 200
PRISTINE = TokenHealth()


def effective_score(health: TokenHealth, now: float) -> float:
    if health.score >= 1.0 or not health.scored_at:
        return health.score
    elapsed = max(0.0, now - health.scored_at)
    return 1.0 - (1.0 - health.score) * math.pow(0.5, elapsed / SCORE_HALF_LIFE)


def _scored(health: TokenHealth, now: float, outcome: float) -> tuple[float, float]:
    current = effective_score(health, now)
    return current + SCORE_ALPHA * (outcome - current), now


scored = _scored  # the public name, for the pool's scoped (per model class) rate limits


def state_at(health: TokenHealth, now: float) -> DisplayState:
    if health.state == "cooling_down" and health.cooldown_until <= now:
        return "half_open"
    return health.state


def cooldown_for(rate_limits: int, base: float, cap: float, retry_after: float | None) -> float:
    """Seconds to rest after the `rate_limits`-th consecutive rate limit (1-based)."""
    if retry_after is not None and retry_after > 0:
        return min(retry_after, cap)
    return min(cap, base * 2.0 ** max(0, rate_limits - 1))


def after_success(health: TokenHealth, now: float) -> TokenHealth:
    """A live answer: the circuit closes, the backoff resets, the score rises. A disabled token stays
    disabled: the answer may come from a request that started before the 401 that disabled it, and only
    an admin (or a refresh) brings such a token back."""
    if health.state == "disabled":
        return health
    score, scored_at = _scored(health, now, 1.0)
    # A model class still resting stays resting: this answer came from another class.
    kept = kept_after_success(health, now, None)
    if score >= _PRISTINE_ABOVE and not kept:
        return PRISTINE
    return TokenHealth(score=score, scored_at=scored_at, model_cooldowns=kept)


def after_rate_limit(
    health: TokenHealth, now: float, reason: str, *, base: float, cap: float, retry_after: float | None
) -> TokenHealth:
    score, scored_at = _scored(health, now, 0.0)
    failures = health.consecutive_failures + 1
    if health.state == "disabled":
        return replace(health, score=score, scored_at=scored_at, consecutive_failures=failures)
    if health.state == "cooling_down" and health.cooldown_until > now:
        # The same episode reported again (in-flight requests): count it, keep the backoff step, and
        # only move the end if Cursor asked for longer.
        until = health.cooldown_until
        if retry_after is not None and retry_after > 0:
            until = max(until, now + min(retry_after, cap))
        return replace(
            health, cooldown_until=until, score=score, scored_at=scored_at, consecutive_failures=failures
        )
    strikes = health.rate_limits + 1
    rest = cooldown_for(strikes, base, cap, retry_after)
    return TokenHealth(
        model_cooldowns=health.model_cooldowns,
        state="cooling_down",
        reason=reason[:_REASON_LIMIT],
        cooldown_until=now + rest,
        score=score,
        consecutive_failures=failures,
        rate_limits=strikes,
        scored_at=scored_at,
    )


def after_auth_failure(health: TokenHealth, now: float, reason: str) -> TokenHealth:
    score, scored_at = _scored(health, now, 0.0)
    return replace(
        health,
        state="disabled",
        reason=reason[:_REASON_LIMIT],
        cooldown_until=0.0,
        trial_until=0.0,
        score=score,
        scored_at=scored_at,
        consecutive_failures=health.consecutive_failures + 1,
    )


def after_soft_failure(health: TokenHealth, now: float, reason: str) -> TokenHealth:
    """Transport failure, timeout, overload: no cooldown (it may not be the token's fault), a lower
    score, and a half-open trial claim is given back."""
    score, scored_at = _scored(health, now, 0.0)
    return replace(
        health,
        reason=reason[:_REASON_LIMIT],
        score=score,
        scored_at=scored_at,
        consecutive_failures=health.consecutive_failures + 1,
        trial_until=0.0,
    )


def release_trial(health: TokenHealth) -> TokenHealth:
    return replace(health, trial_until=0.0) if health.trial_until else health


def needs_trial(health: TokenHealth, now: float) -> bool:
    """Half-open: the cooldown is over but no success has closed the circuit yet."""
    return health.state == "cooling_down" and health.cooldown_until <= now


def claim_trial(health: TokenHealth, now: float, lease: float) -> TokenHealth | None:
    """The health with this request holding the trial, or None when there is nothing to claim (another
    request holds it, or the token is not half-open any more)."""
    if not needs_trial(health, now) or health.trial_until > now:
        return None
    return replace(health, trial_until=now + lease)


def resting_until(health: TokenHealth, now: float) -> float:
    """When a usable token can take a request again (now or earlier: it can)."""
    return max(health.cooldown_until, health.trial_until if needs_trial(health, now) else 0.0)


# --- selection ---------------------------------------------------------------------------------------


def serves_model(record: TokenRecord, model: str | None) -> bool:
    """No model asked, no known list (never refreshed), or the list has it. Auto (`default`) is every
    plan's model."""
    if not model or not record.usable_models or model == "default":
        return True
    return model in record.usable_models


def order_tokens(
    ready: Sequence[TokenRecord], now: float, *, policy: str, turn: int, model: str | None = None
) -> list[TokenRecord]:
    """The order to try `ready` tokens in.

    1. Model: tokens whose usable list has the model (or is unknown). Only when none has it are the others
       returned, and Cursor decides (a stale list must not make a model unreachable).
    2. Policy: `round_robin` rotates a ring sorted by alias, starting `turn` places further on each call;
       `fill_first` keeps the pool's stable order (oldest first, the admin list's index order), so one
       token serves until it fails; `most_remaining` prefers the account with the most plan left.
    3. Health: healthy tokens whose score fell below `DEGRADED_BELOW` go after the others (stable, so the
       policy order holds within each group). A half-open token keeps its place: the breaker, not the
       score, decides when it gets its trial.
    """
    eligible = [r for r in ready if serves_model(r, model)] or list(ready)
    if policy == "fill_first":
        ordered = sorted(eligible, key=lambda r: (r.created_at, r.alias))
    elif policy == "most_remaining":
        # The account with the most plan left first (GetCurrentPeriodUsage); never fetched ones after.
        ordered = sorted(eligible, key=lambda r: (-remaining_of(r), r.created_at, r.alias))
    else:
        ring = sorted(eligible, key=lambda r: r.alias)
        start = turn % len(ring) if ring else 0
        ordered = ring[start:] + ring[:start]
    return sorted(ordered, key=lambda r: degraded(r.health, now))


def remaining_of(record: TokenRecord) -> float:
    """What is left of the plan (its percentage left when only that is known); -inf when unknown."""
    if not record.usage_updated_at:
        return float("-inf")
    if record.plan_remaining >= 0:
        return record.plan_remaining
    if record.plan_percent_used >= 0 and record.plan_limit > 0:
        return record.plan_limit * (1 - record.plan_percent_used / 100)
    return float("-inf")


def degraded(health: TokenHealth, now: float) -> bool:
    return health.state == "healthy" and effective_score(health, now) < DEGRADED_BELOW
