from __future__ import annotations

import pytest
from cursor_gateway.domain.chat import ModelChoice
from cursor_gateway.domain.model_parameters import (
    Variant,
    effort_from_budget,
    effort_level,
    finalise,
    with_effort,
)
from cursor_gateway.domain.model_variants import anthropic_model_id
from cursor_gateway.domain.models import BUILTIN_MODELS, ModelInfo

BUILTIN = {m.id: m for m in BUILTIN_MODELS}


def test_builtin_list_has_the_late_2026_ids() -> None:
    wanted = {
        "default",
        "composer-2.5",
        "composer-2.5-fast",
        "claude-sonnet-5",
        "claude-opus-4-8",
        "claude-opus-5-5",
        "gpt-5.5",
        "gpt-5.6-sol",
        "grok-4.7",
        "gemini-3.7-flash",
    }
    assert wanted <= set(BUILTIN)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("claude-opus-4-8-20261001", "claude-opus-4-8"),
        ("claude-sonnet-5-20261015", "claude-sonnet-5"),
        ("claude-opus-5-5-latest", "claude-opus-5-5"),
        ("claude-haiku-4-9", "claude-haiku-4-9"),  # unknown and newer than 4.7: the Anthropic-style id
        ("claude-sonnet-4-5", "claude-4.5-sonnet"),  # older: Cursor's old naming
    ],
)
def test_anthropic_names_map_to_the_current_ids(name: str, expected: str | None) -> None:
    assert anthropic_model_id(name, BUILTIN) == expected


@pytest.mark.parametrize(
    ("value", "level"),
    [("high", "high"), ("minimal", "low"), ("XHIGH", "xhigh"), ("max", "xhigh"), ("banana", None), (3, None)],
)
def test_effort_level(value: object, level: str | None) -> None:
    assert effort_level(value) == level


def test_budget_levels() -> None:
    assert [effort_from_budget(b) for b in (1024, 10000, 32000, 64000)] == ["low", "medium", "high", "xhigh"]


def test_slug_and_parameters_are_never_both_sent() -> None:
    catalog = {
        "m": ModelInfo(
            "m", variants=(Variant("m-hi", (("effort", "high"),)), Variant("m-lo", (("effort", "low"),)))
        )
    }
    slug = ModelChoice("m-hi", "x", parameters=(("effort", "high"),))
    assert finalise(slug, catalog).parameters == ()
    assert with_effort(ModelChoice("m-hi", "x"), catalog, "low") == ModelChoice("m-lo", "x")
    assert with_effort(ModelChoice("m", "x"), catalog, "medium") is None  # no such variant: ignored
    assert with_effort(ModelChoice("nope", "x"), catalog, "low") is None
