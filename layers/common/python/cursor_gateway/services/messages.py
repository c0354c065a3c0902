"""The Anthropic Messages use case's own steps: which model serves a request, and the approximate input
token count of `/v1/messages/count_tokens` (the chat itself is `services.chat`, as for OpenAI)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from cursor_gateway.domain.chat import ChatRequest, ModelChoice, estimate_tokens
from cursor_gateway.domain.model_parameters import effort_from_budget
from cursor_gateway.domain.model_variants import anthropic_model_id, thinking_variant
from cursor_gateway.services.catalog import ModelCatalog

# Anthropic bills an image by its size (about width x height / 750 tokens, ~1,600 at most after its
# resizing); images are not decoded here, so each counts as that maximum.
IMAGE_TOKENS = 1600
# Anthropic adds a tool-use system prompt of a few hundred tokens when tools are present.
TOOLS_OVERHEAD = 300


def resolve_model(catalog: ModelCatalog, name: str, thinking: bool | None) -> ModelChoice:
    """The catalog's resolution (config aliases first), then, for an Anthropic name nothing resolved,
    the Cursor id it corresponds to; with thinking requested, the model's thinking variant."""
    choice = catalog.resolve(name)
    models: Mapping[str, Any] = catalog.models
    if choice.cursor_id == name and name not in models:
        translated = anthropic_model_id(name, models)
        if translated is not None:
            choice = replace(catalog.resolve(translated), client_id=name)
    if thinking:
        choice = thinking_variant(choice, models)
    return choice


def budget_level(body: Any) -> str | None:
    """The reasoning level an enabled Anthropic `thinking.budget_tokens` asks for, or None."""
    thinking = getattr(body, "thinking", None)
    if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "adaptive"):
        return None
    budget = thinking.get("budget_tokens")
    return effort_from_budget(budget) if isinstance(budget, int) and budget > 0 else None


def count_input_tokens(request: ChatRequest) -> int:
    """An estimate, not Anthropic's tokenizer (Cursor offers no counting RPC): about 4 characters per
    token (CJK per character) over the system text, every message, tool calls, tool results and tool
    definitions, plus a flat amount per image and for tool use."""
    total = 0
    for message in request.messages:
        total += estimate_tokens(message.text) + IMAGE_TOKENS * len(message.images)
        for call in message.tool_calls:
            total += estimate_tokens(call.name) + estimate_tokens(call.arguments)
    if request.tools:
        total += TOOLS_OVERHEAD
        for tool in request.tools:
            schema = json.dumps(dict(tool.parameters), ensure_ascii=False)
            total += estimate_tokens(tool.name) + estimate_tokens(tool.description) + estimate_tokens(schema)
    return max(1, total)
