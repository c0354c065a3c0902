"""Which API a chat body was written for, from its fields alone (pure): `/cursor/chat/completions`
takes whatever the Cursor IDE's "Override OpenAI Base URL" sends, which depends on the mode and model.

- `responses`: has `input` and no `messages` (the Responses API);
- `anthropic`: `messages` plus a field or block only the Messages API has (top-level `system`,
  `thinking`, tools with `input_schema`, `tool_use` / `tool_result` / `thinking` blocks, image blocks
  with a `source`, `stop_sequences`, `top_k`, tool_choice `any` / `tool`);
- `chat`: everything else (OpenAI chat completions; its own validation then names what is wrong).
"""

from __future__ import annotations

from typing import Any, Literal

Shape = Literal["chat", "responses", "anthropic"]

_ANTHROPIC_FIELDS = ("system", "thinking", "stop_sequences", "top_k", "anthropic_version")
_ANTHROPIC_BLOCKS = {"tool_use", "tool_result", "thinking", "redacted_thinking", "document"}


def body_shape(body: dict[str, Any]) -> Shape:
    if "input" in body and "messages" not in body:
        return "responses"
    if any(body.get(name) is not None for name in _ANTHROPIC_FIELDS):
        return "anthropic"
    tools = body.get("tools")
    if isinstance(tools, list) and any(isinstance(t, dict) and "input_schema" in t for t in tools):
        return "anthropic"
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") in ("any", "tool"):
        return "anthropic"
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else ():
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else ():
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind in _ANTHROPIC_BLOCKS or (kind == "image" and "source" in block):
                return "anthropic"
    return "chat"
