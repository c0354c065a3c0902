"""The demo emulator's tool choice: only tools that look read-only are called (Claude Code offers a shell
and file writes), with arguments that satisfy the tool's schema."""

from __future__ import annotations

import json

from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as pb
from cursor_gateway.emulator.demo import example_arguments, pick_tool_call
from cursor_gateway.emulator.server import FakeCursor, RunRecord

WEATHER = {
    "type": "object",
    "properties": {
        "location": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 3},
        "verbose": {"type": "boolean"},
    },
    "required": ["location", "unit", "days"],
}


def fake_with_tools(schemas: dict[str, dict[str, object]]) -> FakeCursor:
    fake = FakeCursor()
    run = pb.AgentRunRequest()
    for name, schema in schemas.items():
        run.mcp_tools.mcp_tools.append(
            pb.McpToolDefinition(name=name, tool_name=name, input_schema_json=json.dumps(schema))
        )
    fake.runs.append(RunRecord(path="/agent.v1.AgentService/Run", headers={}, run_request=run))
    return fake


def test_the_call_fills_the_required_arguments_from_the_schema() -> None:
    fake = fake_with_tools({"get_weather": WEATHER})
    call = pick_tool_call(fake, ["get_weather"])
    assert call == {"name": "get_weather", "arguments": {"location": "Paris", "unit": "celsius", "days": 3}}


def test_never_a_shell_or_a_write_even_when_listed_first() -> None:
    schemas = {
        "Bash": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
        "Write": {
            "type": "object",
            "properties": {"file_path": {"type": "string"}},
            "required": ["file_path"],
        },
        "WebFetch": {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]},
        "Glob": {"type": "object", "properties": {"pattern": {"type": "string"}}, "required": ["pattern"]},
    }
    fake = fake_with_tools(schemas)
    assert pick_tool_call(fake, list(schemas)) == {"name": "Glob", "arguments": {"pattern": "README*"}}
    assert pick_tool_call(fake, ["Bash", "Write", "WebFetch"]) is None  # then it answers with text


def test_example_arguments_by_type() -> None:
    schema = {
        "type": "object",
        "properties": {
            "tags": {"type": "array"},
            "when": {"type": ["null", "string"]},
            "where": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
        "required": ["tags", "when", "where", "undeclared"],
    }
    assert example_arguments(schema) == {
        "tags": [],
        "when": "demo",
        "where": {"city": "Paris"},
        "undeclared": "demo",
    }
