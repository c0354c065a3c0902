"""What the emulator says in `cursor-gateway demo`: answers that announce where they come from, some
thinking, a tool call when the client offers tools, and a pause between deltas so streaming shows.

The tool call must be one a real client can run without harm (the demo may be driven by Claude Code,
whose tools include a shell and file writes), so only tools whose names look read-only are called, with
arguments made from the tool's schema (required properties only, harmless placeholder values). When no
offered tool looks safe, the emulator answers with text instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
from collections.abc import Iterator
from typing import Any

from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.emulator.tokens import fake_jwt

DEMO_DELAY = 0.04  # seconds between deltas: slow enough to watch, quick enough not to bore
ECHO_PREFIX = (
    "Hello from the cursor-gateway emulator! This offline demo involves no Cursor account and no model: "
    "the fake Cursor backend streams this scripted answer through the real gateway. You said: "
)
THINKING = "(emulator) Streaming the thinking first, the way a reasoning model would. "
TOOL_TEXT = "The cursor-gateway emulator calls one of your tools to show tool calling. "
TOOL_REPLY = "The emulator got the result of {name}: {result}"

# Most wanted first; a name that also matches _UNSAFE is never called.
_PREFERRED = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (r"weather", r"time|date", r"^glob$", r"^ls$", r"grep", r"^read$", r"^get")
]
_UNSAFE = re.compile(
    r"write|edit|delete|remove|bash|shell|exec|run|kill|command|notebook|create|update|set|post|send|"
    r"move|rename|fetch|web|task|todo",
    re.IGNORECASE,
)
_PLACEHOLDERS = {
    "location": "Paris",
    "city": "Paris",
    "pattern": "README*",
    "path": "README.md",
    "file_path": "README.md",
    "query": "cursor-gateway",
}


@contextlib.contextmanager
def running_demo_emulator(port: int = 0) -> Iterator[tuple[str, str]]:
    """The fake Cursor with the demo's answers on its own event loop in a daemon thread, for as long as
    the block runs; yields its URL and a session token it accepts. OSError if the port is taken."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="emulator", daemon=True)
    thread.start()
    fake = FakeCursor()
    fake.default = demo_behaviour(fake)
    try:
        asyncio.run_coroutine_threadsafe(fake.start("127.0.0.1", port), loop).result(10)
        yield fake.url, fake_jwt()
    finally:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(fake.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def demo_behaviour(fake: FakeCursor) -> Behaviour:
    return Behaviour(
        echo_prefix=ECHO_PREFIX,
        thinking=THINKING,
        chunks=40,
        delay=DEMO_DELAY,
        first_delay=0.2,
        tool_call=lambda advertised: pick_tool_call(fake, advertised),
        tool_text=TOOL_TEXT,
        tool_reply=TOOL_REPLY,
    )


def pick_tool_call(fake: FakeCursor, advertised: list[str]) -> dict[str, Any] | None:
    """The call to make among the advertised tools, or None (answer with text)."""
    for pattern in _PREFERRED:
        for name in advertised:
            if pattern.search(name) and not _UNSAFE.search(name):
                return {"name": name, "arguments": example_arguments(schema_of(fake, advertised, name))}
    return None


def schema_of(fake: FakeCursor, advertised: list[str], name: str) -> dict[str, Any]:
    """The tool's JSON schema from the run that advertised these tools. The tool script is called while
    that run is handled, so the newest run with the same tool list is it (or one from the same client,
    with the same schemas)."""
    for record in reversed(fake.runs):
        run = record.run_request
        if run is None or [d.tool_name for d in run.mcp_tools.mcp_tools] != advertised:
            continue
        for definition in run.mcp_tools.mcp_tools:
            if definition.tool_name == name and definition.HasField("input_schema_json"):
                schema = json.loads(definition.input_schema_json)
                return schema if isinstance(schema, dict) else {}
    return {}


def example_arguments(schema: dict[str, Any]) -> dict[str, Any]:
    """Required properties only, each with a harmless value of its type."""
    declared = schema.get("properties")
    properties: dict[str, Any] = declared if isinstance(declared, dict) else {}
    required = [name for name in schema.get("required") or [] if isinstance(name, str)]
    return {name: _example(name, properties.get(name) or {}) for name in required}


def _example(name: str, schema: dict[str, Any]) -> Any:
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind in ("integer", "number"):
        return max(1, int(schema.get("minimum") or 1))
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        return example_arguments(schema)
    return _PLACEHOLDERS.get(name, "demo")
