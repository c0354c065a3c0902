"""Anthropic model names -> Cursor ids, thinking variants, and the approximate count_tokens."""

from __future__ import annotations

from typing import Any

import pytest
from cursor_gateway.domain.chat import ChatRequest, ImagePart, Message, ModelChoice, ToolCall, ToolSpec
from cursor_gateway.domain.model_variants import anthropic_model_id, thinking_variant
from cursor_gateway.domain.models import BUILTIN_MODELS, ModelInfo
from cursor_gateway.services.catalog import ModelCatalog
from cursor_gateway.services.messages import IMAGE_TOKENS, count_input_tokens, resolve_model
from cursor_gateway.settings import Settings

CATALOG = {
    m.id: m
    for m in (
        ModelInfo("claude-4.5-sonnet"),
        ModelInfo("claude-4.5-sonnet-thinking", supports_thinking=True),
        ModelInfo("claude-4.6-opus-high-thinking", supports_thinking=True, supports_max_mode=True),
        ModelInfo("claude-4.6-opus-high", supports_max_mode=True),
        ModelInfo("claude-4-sonnet"),
        ModelInfo("claude-3.7-sonnet"),
        ModelInfo("gpt-5.2", supports_thinking=True),
        ModelInfo("composer-2.5"),
    )
}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("claude-sonnet-4-5", "claude-4.5-sonnet"),
        ("claude-sonnet-4-5-20250929", "claude-4.5-sonnet"),
        ("claude-opus-4-6", "claude-4.6-opus-high"),  # the plainest catalog variant, not -thinking
        ("claude-sonnet-4-20250514", "claude-4-sonnet"),
        ("claude-sonnet-4-0", "claude-4-sonnet"),
        ("claude-3-7-sonnet-latest", "claude-3.7-sonnet"),
        ("claude-haiku-4-5", "claude-4.5-haiku"),  # unknown here: passed on translated
        ("claude-opus-4-1", "claude-4.1-opus"),
        ("gpt-5.2", None),
        ("claude-4.5-sonnet", None),  # already a Cursor id
        ("claude-sonnet", None),
    ],
)
def test_anthropic_names(name: str, expected: str | None) -> None:
    assert anthropic_model_id(name, CATALOG) == expected


def test_thinking_variant_is_chosen_not_appended() -> None:
    plain = ModelChoice(
        "claude-4.5-sonnet", "claude-sonnet-4-5", max_mode=True, parameters=(("effort", "high"),)
    )
    chosen = thinking_variant(plain, CATALOG)
    assert chosen.cursor_id == "claude-4.5-sonnet-thinking" and chosen.supports_thinking
    assert chosen.client_id == "claude-sonnet-4-5" and chosen.parameters == (("effort", "high"),)
    thinker = ModelChoice("gpt-5.2", "gpt-5.2", supports_thinking=True)
    assert thinking_variant(thinker, CATALOG) is thinker  # thinks already: no `gpt-5.2-thinking`
    named = ModelChoice("claude-4.5-sonnet-thinking", "x", supports_thinking=True)
    assert thinking_variant(named, CATALOG) is named  # never `-thinking-thinking`
    lonely = ModelChoice("composer-2.5", "composer-2.5")
    assert thinking_variant(lonely, CATALOG) is lonely  # no sibling: unchanged, not an unknown id


class _Pool:
    def candidates(self) -> list[Any]:
        return []


def test_resolve_model_through_the_catalog() -> None:
    catalog = ModelCatalog(Settings(), _Pool())
    assert {m.id for m in BUILTIN_MODELS} <= set(catalog.models)
    plain = resolve_model(catalog, "claude-sonnet-4-6", None)
    assert (plain.cursor_id, plain.client_id) == ("claude-4.6-sonnet", "claude-sonnet-4-6")
    thinking = resolve_model(catalog, "claude-sonnet-4-6-20260101", True)
    assert thinking.cursor_id == "claude-4.6-sonnet-thinking" and thinking.supports_thinking
    assert resolve_model(catalog, "claude-sonnet-4-6", False).cursor_id == "claude-4.6-sonnet"
    assert resolve_model(catalog, "gpt-5.2", True).cursor_id == "gpt-5.2"
    assert resolve_model(catalog, "auto", None).cursor_id == "default"


def request(*messages: Message, tools: tuple[ToolSpec, ...] = ()) -> ChatRequest:
    return ChatRequest(model=ModelChoice("m", "m"), messages=messages, conversation_id="c", tools=tools)


def test_count_tokens_is_an_estimate_that_grows_with_the_input() -> None:
    short = count_input_tokens(request(Message("user", "hello")))
    longer = count_input_tokens(
        request(Message("system", "Be brief. " * 50), Message("user", "hello " * 100))
    )
    assert 1 <= short < longer
    assert longer == pytest.approx((500 + 600) / 4, rel=0.05)
    with_image = count_input_tokens(request(Message("user", "hello", (ImagePart("image/png", b"x"),))))
    assert with_image == short + IMAGE_TOKENS
    tool = ToolSpec(
        "get_weather", "Weather by city", {"type": "object", "properties": {"city": {"type": "string"}}}
    )
    with_tools = count_input_tokens(request(Message("user", "hello"), tools=(tool,)))
    assert with_tools > short + 300
    call = Message("assistant", "", tool_calls=(ToolCall("t1", "get_weather", '{"city": "Paris"}'),))
    assert count_input_tokens(request(Message("user", "hello"), call)) > short
