"""domain.models.resolve_model with the runtime config's `model_aliases`."""

from __future__ import annotations

from cursor_gateway.domain.config import ModelAlias
from cursor_gateway.domain.models import BUILTIN_MODELS, resolve_model

CATALOG = {m.id: m for m in BUILTIN_MODELS}


def test_model_alias_maps_the_client_id_to_cursor_id_max_mode_and_parameters() -> None:
    aliases = {
        "gpt-4o": ModelAlias("claude-4.6-sonnet", max_mode=True, parameters={"effort": "high", "a": "1"}),
        "claude-3-5-sonnet-20241022": ModelAlias("gpt-5.2"),
        "big": ModelAlias("gpt-5.2-max"),
    }
    choice = resolve_model("gpt-4o", CATALOG, aliases)
    assert (choice.cursor_id, choice.client_id, choice.max_mode) == ("claude-4.6-sonnet", "gpt-4o", True)
    assert choice.parameters == (("a", "1"), ("effort", "high"))
    choice = resolve_model("Claude-3-5-Sonnet-20241022", CATALOG, aliases)  # case-insensitive fallback
    assert (choice.cursor_id, choice.max_mode, choice.supports_thinking) == ("gpt-5.2", False, True)
    assert resolve_model("big", CATALOG, aliases).max_mode is True  # the target's own -max
    plain = resolve_model("gpt-5.2", CATALOG, aliases)
    assert (plain.cursor_id, plain.parameters) == ("gpt-5.2", ())
    assert resolve_model("auto", CATALOG, {}).cursor_id == "default"
