"""Model catalog entries and how a client's model name becomes what Cursor is asked for (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from cursor_gateway.domain.chat import ModelChoice
from cursor_gateway.domain.config import ModelAlias
from cursor_gateway.domain.model_parameters import Variant

# Cursor's wire id for Auto is `default`; `auto` is refused upstream ("Unknown model ID: auto").
ALIASES = {"auto": "default", "cursor-auto": "default"}


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    display_name: str = ""
    supports_thinking: bool = False
    supports_images: bool = True
    supports_max_mode: bool = False
    max_only: bool = False
    # Parameter ids and published variants from AvailableModels (domain.model_parameters).
    parameter_ids: tuple[str, ...] = ()
    variants: tuple[Variant, ...] = ()

    def as_openai(self, created: int = 1767225600, owned_by: str = "cursor") -> dict[str, object]:
        return {
            "id": self.id,
            "object": "model",
            "created": created,
            "owned_by": owned_by,
            "display_name": self.display_name or self.id,
            "supports_thinking": self.supports_thinking,
            "supports_images": self.supports_images,
            "supports_max_mode": self.supports_max_mode,
        }


# Used when no token is available to ask Cursor (Cursor's own list wins). The first block is what Cursor
# published in October 2026 (issue 14); the rest are September ids still seen in accounts' usable lists.
BUILTIN_MODELS: tuple[ModelInfo, ...] = (
    ModelInfo("default", "Auto", supports_thinking=False),
    ModelInfo("composer-2.5", "Composer 2.5", parameter_ids=("fast",)),
    ModelInfo("composer-2.5-fast", "Composer 2.5 Fast"),
    ModelInfo("claude-sonnet-5", "Claude Sonnet 5", supports_thinking=True, supports_max_mode=True),
    ModelInfo("claude-opus-4-8", "Claude Opus 4.8", supports_thinking=True, supports_max_mode=True),
    ModelInfo("claude-opus-5-5", "Claude Opus 5.5", supports_thinking=True, supports_max_mode=True),
    ModelInfo("gpt-5.5", "GPT-5.5", supports_thinking=True, supports_max_mode=True),
    ModelInfo("gpt-5.6-sol", "GPT-5.6 Sol", supports_thinking=True, supports_max_mode=True),
    ModelInfo("gemini-3.7-flash", "Gemini 3.7 Flash", supports_thinking=True),
    ModelInfo("claude-4.6-sonnet", "Claude 4.6 Sonnet", supports_max_mode=True),
    ModelInfo(
        "claude-4.6-sonnet-thinking",
        "Claude 4.6 Sonnet (thinking)",
        supports_thinking=True,
        supports_max_mode=True,
    ),
    ModelInfo(
        "claude-4.6-opus-high-thinking",
        "Claude 4.6 Opus (thinking)",
        supports_thinking=True,
        supports_max_mode=True,
    ),
    ModelInfo("gpt-5.2", "GPT-5.2", supports_thinking=True, supports_max_mode=True),
    ModelInfo("gpt-5.3-codex", "GPT-5.3 Codex", supports_thinking=True, supports_max_mode=True),
    ModelInfo("gemini-3.1-pro-preview", "Gemini 3.1 Pro", supports_thinking=True, supports_max_mode=True),
    ModelInfo("gemini-3-flash-preview", "Gemini 3 Flash"),
    ModelInfo("grok-4.7", "Grok 4.7", supports_thinking=True),
    ModelInfo("kimi-k2.5", "Kimi K2.5"),
)


def resolve_model(
    name: str, catalog: Mapping[str, ModelInfo], aliases: Mapping[str, ModelAlias] | None = None
) -> ModelChoice:
    """Known ids keep their catalog flags; `-max` selects max mode on a base model that supports it;
    unknown ids pass through unchanged (Cursor's list drifts faster than ours, and Cursor answers a
    bad name with a clear error that we map to 400 model_not_found).

    `aliases` (the runtime config's `model_aliases`) come first: a client id such as `gpt-4o` or
    `claude-3-5-sonnet-20241022` becomes the configured Cursor id, resolved as above for its flags, with
    the alias's max mode (or the target's own `-max`) and its parameters (`RequestedModel.parameters`).
    The client keeps seeing the id it asked for. Matching is exact, then case-insensitive."""
    alias = _find_alias(name, aliases or {})
    if alias is not None:
        target = _resolve_known(alias.model, catalog)
        return replace(
            target,
            client_id=name,
            max_mode=target.max_mode or alias.max_mode,
            parameters=tuple(sorted(alias.parameters.items())),
        )
    return _resolve_known(name, catalog)


def _find_alias(name: str, aliases: Mapping[str, ModelAlias]) -> ModelAlias | None:
    found = aliases.get(name)
    if found is not None:
        return found
    lowered = name.lower()
    return next((v for k, v in aliases.items() if k.lower() == lowered), None)


def _resolve_known(name: str, catalog: Mapping[str, ModelInfo]) -> ModelChoice:
    wanted = ALIASES.get(name, name)
    info = catalog.get(wanted)
    max_mode = False
    if info is None and wanted.endswith("-max"):
        base = catalog.get(wanted.removesuffix("-max"))
        if base is not None and base.supports_max_mode:
            info, max_mode = base, True
    if info is None:
        return ModelChoice(cursor_id=wanted, client_id=name, supports_thinking="thinking" in wanted)
    return ModelChoice(
        cursor_id=info.id,
        client_id=name,
        max_mode=max_mode or info.max_only,
        supports_images=info.supports_images,
        supports_thinking=info.supports_thinking,
    )
