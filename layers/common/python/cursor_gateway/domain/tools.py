"""Client tools: the rules every API surface and upstream profile shares (pure).

- Names and schemas are checked when a request arrives (a bad definition is the caller's 400).
- `offered_tools` applies `tool_choice`: `none` offers nothing, a named tool offers only that one, and
  `required` is only honoured where it means one tool; Cursor has no way to force a call otherwise.
- Calls coming back from Cursor are checked too (Cursor forwards calls to names nobody advertised, and
  models get arguments wrong): `argument_problem` is a small JSON Schema subset (type, required,
  properties, items, enum, additionalProperties: false) that catches what breaks a client's tool code.
- `signature` / `tool_instructions` give the one-line contract the agent profile puts into the system
  text, because the agent's model may not see MCP descriptions or schemas (2026 sheet §6.1).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cursor_gateway.domain.chat import ToolChoice, ToolSpec
from cursor_gateway.errors import UnsupportedParameter

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
EMPTY_SCHEMA: Mapping[str, Any] = {"type": "object", "properties": {}}
_JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object", "null")


def name_problem(name: object) -> str | None:
    if not isinstance(name, str) or not TOOL_NAME.match(name):
        return "tool names must match ^[a-zA-Z0-9_-]{1,64}$"
    return None


def schema_problem(schema: object) -> str | None:
    """What makes `schema` unusable as a tool's parameters (None when it is fine)."""
    if not isinstance(schema, Mapping):
        return "parameters must be a JSON Schema object"
    kind = schema.get("type", "object")
    if kind != "object":
        return "parameters must be a JSON Schema of type 'object'"
    properties = schema.get("properties", {})
    if not isinstance(properties, Mapping) or not all(isinstance(v, Mapping) for v in properties.values()):
        return "parameters.properties must map names to schemas"
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        return "parameters.required must be a list of property names"
    return None


def offered_tools(
    tools: Sequence[ToolSpec], choice: ToolChoice, *, profile: str
) -> tuple[tuple[ToolSpec, ...], str | None]:
    """(the tools to advertise, the one tool the model is told it must call, if any).

    `required` with several tools is refused: neither Cursor profile has a tool-choice knob, so the most
    a gateway can do is advertise one tool and instruct the model to call it."""
    if choice == "none" or not tools:
        return (), None
    if choice == "auto":
        return tuple(tools), None
    if choice == "required":
        if len(tools) == 1:
            return (tools[0],), tools[0].name
        raise UnsupportedParameter(
            f"tool_choice 'required' with several tools cannot be enforced on the {profile} profile: "
            "Cursor has no way to force a tool call. Send 'auto', or name the one tool to call.",
            param="tool_choice",
        )
    named = [t for t in tools if t.name == choice]
    if not named:
        raise UnsupportedParameter(
            f"tool_choice names '{choice}', which is not in tools", param="tool_choice"
        )
    return (named[0],), named[0].name


def tool_names(tools: Iterable[ToolSpec]) -> set[str]:
    return {t.name for t in tools}


# -- arguments ------------------------------------------------------------------------------------------


def parse_arguments(text: str) -> tuple[Any, str | None]:
    """(the parsed arguments, a problem): arguments must be one JSON object ("" counts as `{}`)."""
    if not text.strip():
        return {}, None
    try:
        value = json.loads(text)
    except ValueError:
        return None, "the arguments are not valid JSON"
    if not isinstance(value, dict):
        return value, "the arguments must be a JSON object"
    return value, None


def argument_problem(schema: Mapping[str, Any], value: Any, path: str = "arguments") -> str | None:
    """The first way `value` breaks `schema` (type, required, properties, items, enum,
    additionalProperties: false), or None. Unknown keywords are not checked."""
    kinds = schema.get("type")
    if isinstance(kinds, str):
        kinds = [kinds]
    if isinstance(kinds, list) and kinds and not any(_is_type(value, k) for k in kinds):
        return f"{path} must be of type {' or '.join(str(k) for k in kinds)}"
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        return f"{path} must be one of {json.dumps(enum)}"
    if isinstance(value, dict):
        properties = schema.get("properties")
        properties = properties if isinstance(properties, Mapping) else {}
        required = schema.get("required")
        for key in required if isinstance(required, list) else ():
            if key not in value:
                return f"{path}.{key} is required"
        if schema.get("additionalProperties") is False:
            extra = sorted(k for k in value if k not in properties)
            if extra:
                return f"{path}.{extra[0]} is not an allowed property"
        for key, item in value.items():
            sub = properties.get(key)
            if isinstance(sub, Mapping):
                problem = argument_problem(sub, item, f"{path}.{key}")
                if problem:
                    return problem
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            for index, item in enumerate(value):
                problem = argument_problem(items, item, f"{path}[{index}]")
                if problem:
                    return problem
    return None


def _is_type(value: Any, kind: object) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "null":
        return value is None
    return kind not in _JSON_TYPES  # an unknown type name is not ours to judge


def call_problem(tools: Mapping[str, ToolSpec], name: str, arguments: Any) -> str | None:
    """Why a call the model made cannot be handed to the client as it is (None: it can)."""
    spec = tools.get(name)
    if spec is None:
        return f"there is no tool named '{name}'; available: {', '.join(sorted(tools)) or 'none'}"
    return argument_problem(spec.parameters or EMPTY_SCHEMA, arguments)


def in_schema_order(schema: Mapping[str, Any], arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments in the order the schema lists its properties (a protobuf map has no order)."""
    properties = schema.get("properties")
    order = list(properties) if isinstance(properties, Mapping) else []
    ordered = {k: arguments[k] for k in order if k in arguments}
    ordered.update((k, v) for k, v in arguments.items() if k not in ordered)
    return ordered


def canonical_json(value: Any) -> str:
    """Arguments as the JSON text clients get: integral floats (protobuf `Value` numbers) as integers."""
    return json.dumps(_ints(value), ensure_ascii=False, separators=(",", ":"))


def _ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


# -- what the model is told -----------------------------------------------------------------------------


def signature(spec: ToolSpec) -> str:
    """`name(a: string, b?: integer | null): first line of the description`."""
    schema = spec.parameters or EMPTY_SCHEMA
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    required = schema.get("required")
    required = set(required) if isinstance(required, list) else set()
    params = ", ".join(
        f"{key}{'' if key in required else '?'}: {_type_text(sub)}" for key, sub in properties.items()
    )
    line = f"{spec.name}({params})"
    description = spec.description.strip().splitlines()[0].strip() if spec.description.strip() else ""
    if len(description) > 200:
        description = description[:197] + "..."
    return f"{line}: {description}" if description else line


def _type_text(schema: Any) -> str:
    if not isinstance(schema, Mapping):
        return "any"
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return " | ".join(json.dumps(v, ensure_ascii=False) for v in enum[:8])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if kind == "array":
        return f"{_type_text(schema.get('items'))}[]"
    return str(kind) if kind else "any"


def tool_instructions(tools: Sequence[ToolSpec], must_call: str | None, *, server: str) -> str:
    """The tool contract for a system text: one signature line per tool, plus the forced choice."""
    if not tools:
        return ""
    lines = [
        f'You can call these tools of the MCP server "{server}"; the caller runs them and sends back '
        "their results. Call a tool only through your tool-calling mechanism, never by writing the call "
        "as text, and use exactly these tool and argument names (? marks an optional argument):",
        *(f"- {signature(t)}" for t in tools),
    ]
    if must_call:
        lines.append(f"In this turn you must call the tool {must_call}.")
    return "\n".join(lines)
