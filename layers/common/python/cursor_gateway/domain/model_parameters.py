"""Model variants and parameters as Cursor's catalog publishes them (pure; issue 14).

`AvailableModels` (with `use_model_parameters`) gives each base model its parameter ids (`effort`,
`reasoning`, `fast`, `thinking`, ...) and its published variants, each a slug with the parameter values
it stands for (`claude-sonnet-5-thinking-high` = {thinking: true, effort: high}). Cursor accepts either
a published slug with no parameters, or the base id with parameters, and rejects the mix. So:

- a client's `reasoning_effort` (or an Anthropic `thinking.budget_tokens`, mapped to a level) becomes
  the base model's effort parameter when it has one, else the variant whose values carry that level;
  when the catalog offers neither, the caller lists the parameter in `x-ignored-params`;
- a slug is always sent bare (parameters dropped);
- a base model with a `fast` parameter gets `fast=false` unless asked otherwise: Cursor defaults to
  fast (billed as `<id>-fast`), which is not what a client naming the base id asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from cursor_gateway.domain.chat import ModelChoice

# Parameter ids Cursor uses for a reasoning level (Anthropic-style models: effort; OpenAI-style: reasoning).
EFFORT_PARAMETERS = ("effort", "reasoning")
LEVELS = ("low", "medium", "high", "xhigh")
_LEVEL_ALIASES = {"minimal": "low", "none": "low", "max": "xhigh", "extra_high": "xhigh", "x-high": "xhigh"}


@dataclass(frozen=True, slots=True)
class Variant:
    """A published variant of a base model: the slug Run accepts bare, and what it stands for."""

    slug: str
    values: tuple[tuple[str, str], ...] = ()
    max_mode: bool = False


def effort_level(value: Any) -> str | None:
    """An OpenAI `reasoning_effort` as one of Cursor's levels, or None when it names none."""
    if not isinstance(value, str):
        return None
    lowered = value.strip().lower()
    lowered = _LEVEL_ALIASES.get(lowered, lowered)
    return lowered if lowered in LEVELS else None


def effort_from_budget(budget: int) -> str:
    """An Anthropic `thinking.budget_tokens` as a level (Claude Code sends 4k / 10k / 32k budgets)."""
    if budget <= 4096:
        return "low"
    if budget <= 16384:
        return "medium"
    if budget <= 32768:
        return "high"
    return "xhigh"


def slug_owners(catalog: Mapping[str, Any]) -> dict[str, str]:
    """Published slug -> its base model id."""
    return {v.slug: base for base, info in catalog.items() for v in getattr(info, "variants", ())}


def with_effort(choice: ModelChoice, catalog: Mapping[str, Any], level: str) -> ModelChoice | None:
    """`choice` asking for reasoning `level` the way the catalog offers it, or None when it offers none."""
    info = catalog.get(choice.cursor_id)
    if info is None:
        base = slug_owners(catalog).get(choice.cursor_id)
        info = catalog.get(base) if base else None
    if info is None:
        return None
    for parameter in EFFORT_PARAMETERS:
        if parameter in info.parameter_ids:
            params = dict(choice.parameters)
            params[parameter] = level
            return replace(choice, cursor_id=info.id, parameters=tuple(sorted(params.items())))
    wanted = dict(slug_values(info, choice.cursor_id))
    candidates = [v for v in info.variants if any(dict(v.values).get(p) == level for p in EFFORT_PARAMETERS)]
    if not candidates:
        return None
    # The variant closest to what was asked otherwise (thinking, fast ... of the requested slug) and mode.
    best = max(
        candidates,
        key=lambda v: (
            v.max_mode == choice.max_mode,
            sum(dict(v.values).get(k) == x for k, x in wanted.items()),
        ),
    )
    return replace(choice, cursor_id=best.slug, parameters=())


def slug_values(info: Any, slug: str) -> tuple[tuple[str, str], ...]:
    for variant in info.variants:
        if variant.slug == slug:
            values: tuple[tuple[str, str], ...] = variant.values
            return values
    return ()


def finalise(choice: ModelChoice, catalog: Mapping[str, Any]) -> ModelChoice:
    """The exclusive rule and the `fast` default, applied last."""
    if choice.cursor_id in slug_owners(catalog):
        return replace(choice, parameters=()) if choice.parameters else choice
    info = catalog.get(choice.cursor_id)
    if info is not None and "fast" in info.parameter_ids and "fast" not in dict(choice.parameters):
        return replace(choice, parameters=tuple(sorted((*choice.parameters, ("fast", "false")))))
    return choice
