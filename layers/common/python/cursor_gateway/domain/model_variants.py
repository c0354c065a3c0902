"""Which Cursor model serves a name the Anthropic API uses, and which one thinks (pure).

Anthropic model names (`claude-sonnet-4-5-20250929`, `claude-opus-4-1`, `claude-3-7-sonnet-latest`)
name the same models as Cursor's `claude-<major>.<minor>-<family>` ids. The runtime config's
`model_aliases` win over this translation: it only applies to a name that resolved to nothing known.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from cursor_gateway.domain.chat import ModelChoice
from cursor_gateway.domain.models import ModelInfo

_ANTHROPIC_NEW = re.compile(r"^claude-(opus|sonnet|haiku)-(\d+)(?:-(\d{1,2}))?(?:-(?:\d{8}|latest))?$")
_ANTHROPIC_OLD = re.compile(r"^claude-(\d+)(?:-(\d{1,2}))?-(opus|sonnet|haiku)(?:-(?:\d{8}|latest))?$")


def anthropic_model_id(name: str, catalog: Mapping[str, ModelInfo]) -> str | None:
    """The Cursor id for an Anthropic model name, or None if `name` is not one: the exact id when the
    catalog has it, else its plainest catalog variant (`claude-4.6-opus` -> `claude-4.6-opus-high`;
    `-thinking` and `-max` variants last, since `thinking_variant` decides thinking), else the translated
    id as is (Cursor's list may know it when ours does not)."""
    new, old = _ANTHROPIC_NEW.match(name.lower()), _ANTHROPIC_OLD.match(name.lower())
    if new:
        family, major, minor = new.groups()
    elif old:
        major, minor, family = old.groups()
    else:
        return None
    # Cursor names models the Anthropic way since Claude 4.7 (`claude-opus-4-8`, `claude-sonnet-5`) and
    # the older way before (`claude-4.6-opus-high`); either form the catalog lists wins.
    anthropic_style = f"claude-{family}-{major}" + (f"-{minor}" if minor not in (None, "0") else "")
    if anthropic_style in catalog:
        return anthropic_style
    version = major if minor in (None, "0") else f"{major}.{minor}"
    cursor_id = f"claude-{version}-{family}"
    if cursor_id in catalog:
        return cursor_id
    variants = sorted(
        (m for m in catalog if m.startswith(cursor_id + "-")),
        key=lambda m: ("thinking" in m, m.endswith("-max"), len(m), m),
    )
    if variants:
        return variants[0]
    return anthropic_style if (int(major), int(minor or 0)) >= (4, 7) else cursor_id


def thinking_variant(choice: ModelChoice, catalog: Mapping[str, ModelInfo]) -> ModelChoice:
    """The model to ask when a client requests thinking (Anthropic `thinking: {type: enabled}`): the model
    itself if it thinks, else its `<id>-thinking` sibling when the catalog lists one that thinks (keeping
    max mode and parameters), else the model unchanged (it answers without thinking). Unlike the
    reference, `-thinking` is never appended blindly: `claude-4.6-sonnet-thinking` stays as it is and a
    model without a thinking sibling is not turned into an unknown id."""
    if choice.supports_thinking:
        return choice
    sibling = catalog.get(f"{choice.cursor_id}-thinking")
    if sibling is None or not sibling.supports_thinking:
        return choice
    return replace(
        choice,
        cursor_id=sibling.id,
        supports_thinking=True,
        supports_images=sibling.supports_images,
        max_mode=choice.max_mode or sibling.max_only,
    )
