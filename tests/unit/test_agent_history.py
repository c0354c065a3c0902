from __future__ import annotations

import json

from cursor_gateway.domain.chat import Message, ToolCall
from cursor_gateway.upstream.agent_history import flattened_prompt, split_history, transcript
from cursor_gateway.upstream.agent_request import history_roots


def roots() -> list[bytes]:
    return history_roots(
        [
            Message("user", "a" * 100),
            Message("assistant", "", tool_calls=(ToolCall("c1", "lookup", '{"q":"x"}'),)),
            Message("tool", "found it", tool_call_id="c1", tool_name="lookup"),
            Message("assistant", "b" * 50),
            Message("user", "c" * 50),
        ]
    )


def test_nothing_is_flattened_under_the_limit_or_when_off() -> None:
    history = roots()
    assert split_history(history, 10_000) == ([], history)
    assert split_history(history, 0) == ([], history)


def test_the_cut_never_leaves_tool_results_without_their_call() -> None:
    history = roots()
    tail = len(history[-1]) + len(history[-2]) + len(history[-3])  # tool root + the two last turns
    older, recent = split_history(history, tail)
    assert [json.loads(r)["role"] for r in recent] == [
        "assistant",
        "user",
    ]  # the tool root went with its call
    assert older == history[:3]
    text = flattened_prompt(older, "now?")
    assert 'Assistant called the tool lookup (id c1): {"q":"x"}' in text
    assert "Result of lookup (id c1): found it" in text and text.endswith("now?")
    assert transcript([b"not json"]) == ""
