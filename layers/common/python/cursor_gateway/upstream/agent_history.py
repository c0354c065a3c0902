"""Large conversations on the agent Run (pure; issue 14).

Structured history (root blobs) above about 64 KiB drew stream resets from Cursor in 2026. Above
CURSOR_AGENT_FLATTEN_BYTES, the older turns are written into the new user message as a transcript and
only the most recent turns stay structured, within the limit. The cut never separates an assistant's
tool calls from the `tool` root that answers them (a backend model rejects a call without its result).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

HISTORY_LEAD = "<conversation_history>\nThe earlier part of this conversation, oldest first:\n"
HISTORY_TAIL = "</conversation_history>\n\n"


def _line(role: str, part: dict[str, Any]) -> str:
    kind = part.get("type")
    if kind == "text":
        return f"{role}: {part.get('text', '')}"
    if kind == "tool-call":
        args = json.dumps(part.get("args", {}), ensure_ascii=False, separators=(",", ":"))
        return (
            f"{role} called the tool {part.get('toolName', '?')} (id {part.get('toolCallId', '?')}): {args}"
        )
    if kind == "tool-result":
        error = " (error)" if part.get("isError") else ""
        result = part.get("result", "")
        text = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)
        return f"Result of {part.get('toolName', '?')} (id {part.get('toolCallId', '?')}){error}: {text}"
    return ""


def transcript(roots: Sequence[bytes]) -> str:
    """Root blobs (Vercel-AI-SDK-shaped JSON) as plain text, one line per part."""
    lines: list[str] = []
    for root in roots:
        try:
            message = json.loads(root)
        except ValueError:
            continue
        role = {"user": "User", "assistant": "Assistant", "tool": "Tool"}.get(message.get("role"), "User")
        for part in message.get("content") or ():
            if isinstance(part, dict) and (line := _line(role, part)):
                lines.append(line)
    return "\n".join(lines)


def split_history(roots: Sequence[bytes], limit: int) -> tuple[list[bytes], list[bytes]]:
    """(older roots to flatten, recent roots to keep structured); nothing is flattened when the whole
    history fits or `limit` is 0 (off)."""
    if limit <= 0 or sum(len(r) for r in roots) <= limit:
        return [], list(roots)
    kept = 0
    start = len(roots)
    for index in range(len(roots) - 1, -1, -1):
        if kept + len(roots[index]) > limit:
            break
        kept += len(roots[index])
        start = index
    # A kept history must not open with tool results whose calls were flattened.
    while start < len(roots) and _role(roots[start]) == "tool":
        start += 1
    return list(roots[:start]), list(roots[start:])


def _role(root: bytes) -> str:
    try:
        role = json.loads(root).get("role")
    except (ValueError, AttributeError):
        return ""
    return role if isinstance(role, str) else ""


def flattened_prompt(older: Sequence[bytes], prompt: str) -> str:
    if not older:
        return prompt
    return f"{HISTORY_LEAD}{transcript(older)}\n{HISTORY_TAIL}{prompt}"
