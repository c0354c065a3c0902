"""Rate limits scoped to what they limit (pure; issue 14).

Cursor limits some accounts per model class ("You've hit the rate limit for Claude models"). Cooling the
whole token for such an error made a one-token pool answer 429 to every model for a minute. When the
error names a model or a model class, only that class rests; otherwise the whole account does, as before.

The per-class rests live in `TokenHealth.model_cooldowns` as `"<class>=<until>=<strikes>"` strings (a
flat tuple of strings stores as-is in DynamoDB and in memory); expired entries are dropped on the next
change. A class's strikes double its rest like the account's backoff does.
"""

from __future__ import annotations

import re
from dataclasses import replace

from cursor_gateway.domain.tokens import TokenHealth

# Class -> words that name it in Cursor's error texts (and in model ids). `default` (Auto) is no class:
# Cursor routes it to whichever model it likes.
CLASS_WORDS: dict[str, tuple[str, ...]] = {
    "claude": ("claude", "anthropic", "sonnet", "opus", "haiku"),
    "gpt": ("gpt", "openai", "codex"),
    "gemini": ("gemini", "google"),
    "grok": ("grok", "xai"),
    "composer": ("composer",),
    "kimi": ("kimi", "moonshot"),
}


def model_class(model_id: str) -> str:
    """The class a Cursor model id belongs to (`claude-opus-4-8` -> claude); unknown families are their own
    class (their first dash-separated word)."""
    lowered = model_id.lower()
    for name, words in CLASS_WORDS.items():
        if any(word in lowered for word in words):
            return name
    return lowered.split("-", 1)[0]


def named_scope(text: str, model_id: str) -> str | None:
    """The model class a rate-limit text names, or None when it names none (the account is limited)."""
    lowered = text.lower()
    if (
        model_id
        and model_id != "default"
        and re.search(rf"(?<![\w.-]){re.escape(model_id.lower())}", lowered)
    ):
        return model_class(model_id)
    for name, words in CLASS_WORDS.items():
        if any(re.search(rf"\b{word}\b", lowered) for word in words):
            return name
    return None


def _entries(health: TokenHealth) -> dict[str, tuple[float, int]]:
    found: dict[str, tuple[float, int]] = {}
    for entry in health.model_cooldowns:
        try:
            name, until, strikes = entry.split("=")
            found[name] = (float(until), int(strikes))
        except ValueError:
            continue  # written by a newer version in a shape we do not know: ignore
    return found


def _pack(entries: dict[str, tuple[float, int]]) -> tuple[str, ...]:
    return tuple(f"{name}={until!r}={strikes}" for name, (until, strikes) in sorted(entries.items()))


def class_resting_until(health: TokenHealth, model_id: str | None, now: float) -> float:
    """When the model's class may be asked again on this token (<= now: it may)."""
    if not model_id or not health.model_cooldowns:
        return 0.0
    until, _ = _entries(health).get(model_class(model_id), (0.0, 0))
    return until if until > now else 0.0


def live_cooldowns(health: TokenHealth, now: float) -> dict[str, float]:
    """Class -> end of its rest, for the classes still resting (for `/tokens/get`)."""
    return {name: until for name, (until, _) in _entries(health).items() if until > now}


def after_class_rate_limit(
    health: TokenHealth,
    now: float,
    scope: str,
    reason: str,
    *,
    base: float,
    cap: float,
    retry_after: float | None,
    score: float,
    scored_at: float,
) -> TokenHealth:
    """One class rests; the account stays usable for the others. A report while the class already rests
    (in-flight requests) keeps the step; one after it has rested doubles the rest."""
    entries = {k: v for k, v in _entries(health).items() if v[0] > now or k == scope}
    until, strikes = entries.get(scope, (0.0, 0))
    if until > now:
        if retry_after:
            until = max(until, now + min(retry_after, cap))
    else:
        strikes += 1
        rest = min(retry_after, cap) if retry_after else min(cap, base * 2.0 ** (strikes - 1))
        until = now + rest
    entries[scope] = (until, strikes)
    return replace(
        health,
        model_cooldowns=_pack(entries),
        reason=f"{scope} models: {reason}"[:200],
        score=score,
        scored_at=scored_at,
        consecutive_failures=health.consecutive_failures + 1,
        trial_until=0.0,
    )


def kept_after_success(health: TokenHealth, now: float, model_id: str | None) -> tuple[str, ...]:
    """The class rests a success leaves in place: all live ones but the class that just answered."""
    answered = model_class(model_id) if model_id else None
    entries = {k: v for k, v in _entries(health).items() if v[0] > now and k != answered}
    return _pack(entries)
