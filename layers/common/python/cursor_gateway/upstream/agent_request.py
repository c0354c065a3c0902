"""Building the `agent.v1` run request (pure): the conversation as root blobs, the latest user text or
tool results as the action's user message, and the client's tools as MCP definitions.

Client tools (2026 sheet §6.1) are advertised as MCP tools of one synthetic server (`PROVIDER`) in the run
request and in the request-context answer (the profile sends the allow-list header), with a one-line
signature per tool in the system root because the model may not see MCP descriptions. Replay is
stateless: earlier tool calls and results are root blobs with real `tool-call` / `tool-result` parts,
and the latest results are the new user message (see `build_run`). What the client answers while the run
goes on is in `upstream/agent_answers.py`; the codecs and blob ids are in `upstream/agent_wire.py`.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format, struct_pb2

from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as pb
from cursor_gateway.domain.chat import ChatRequest, Message, ToolCall, ToolSpec
from cursor_gateway.domain.tools import EMPTY_SCHEMA, offered_tools, tool_instructions
from cursor_gateway.upstream.agent_history import flattened_prompt, split_history
from cursor_gateway.upstream.agent_wire import blob_id

CONTINUE_PROMPT = "Continue."
# The synthetic MCP server the client's tools belong to (provider identifier and server name).
PROVIDER = "cursor-gateway"
# Tool-call kinds the agent may use: MCP calls only, so Cursor's built-in shell/edit/read tools stay off.
ALLOWED_TOOLS = "mcp_tool_call"
MISSING_RESULT = "No result was provided for this tool call."
TOOL_RESULTS_LEAD = "Here are the results of the tool calls you just made:"
TOOL_RESULTS_TAIL = "Continue the task with these results."


@dataclass(slots=True)
class RunPlan:
    """Everything one Run needs: the first client message and the blobs the server may ask for."""

    run_request: pb.AgentClientMessage
    blobs: dict[bytes, bytes] = field(default_factory=dict)
    # The client tools advertised in this run (by name) and their MCP definitions and instructions.
    tools: dict[str, ToolSpec] = field(default_factory=dict)
    definitions: list[pb.McpToolDefinition] = field(default_factory=list)
    instructions: str = ""


def _json(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


def _root(role: str, text: str) -> bytes:
    return _json({"role": role, "content": [{"type": "text", "text": text}]})


def tool_definition(spec: ToolSpec) -> pb.McpToolDefinition:
    """Both schema forms: `input_schema` (a serialized `google.protobuf.Value`) and `input_schema_json`."""
    schema = dict(spec.parameters or EMPTY_SCHEMA)
    value = json_format.ParseDict(schema, struct_pb2.Value())
    return pb.McpToolDefinition(
        name=spec.name,
        description=spec.description,
        input_schema=value.SerializeToString(),
        provider_identifier=PROVIDER,
        tool_name=spec.name,
        input_schema_json=json.dumps(schema, ensure_ascii=False, separators=(",", ":")),
    )


def _arguments_value(call: ToolCall) -> Any:
    try:
        return json.loads(call.arguments) if call.arguments.strip() else {}
    except ValueError:
        return {"_raw": call.arguments}


def _call_part(call: ToolCall) -> dict[str, Any]:
    return {"type": "tool-call", "toolCallId": call.id, "toolName": call.name, "args": _arguments_value(call)}


def _result_part(call_id: str, name: str, text: str, is_error: bool) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "tool-result", "toolCallId": call_id, "toolName": name, "result": text}
    if is_error:
        part["isError"] = True
    return part


def history_roots(turns: Sequence[Message]) -> list[bytes]:
    """Turns as Vercel-AI-SDK-shaped roots (2026 sheet §4.3). An assistant turn's tool calls are
    `tool-call` parts; the tool messages that follow become one `tool` root of `tool-result` parts. Pairing
    is repaired, because a backend model rejects a call without a result: a call the client sent no result
    for gets an error result, and a result for an unknown call is kept as user text."""
    roots: list[bytes] = []
    pending: list[ToolCall] = []

    def close_pending(results: Sequence[Message] = ()) -> None:
        parts: list[dict[str, Any]] = []
        names = {c.id: c.name for c in pending}
        for result in results:
            if result.tool_call_id in names:
                name = result.tool_name or names.pop(result.tool_call_id)
                names.pop(result.tool_call_id, None)
                parts.append(_result_part(result.tool_call_id, name, result.text, result.is_error))
            else:
                label = f"[Result of tool call {result.tool_call_id} ({result.tool_name or 'unknown tool'})]"
                orphans.append(_root("user", f"{label}\n{result.text}"))
        parts.extend(_result_part(i, n, MISSING_RESULT, True) for i, n in names.items())
        if parts:
            roots.append(_json({"role": "tool", "content": parts}))
        roots.extend(orphans)
        orphans.clear()
        pending.clear()

    orphans: list[bytes] = []
    index = 0
    while index < len(turns):
        message = turns[index]
        if message.role == "tool":
            results = []
            while index < len(turns) and turns[index].role == "tool":
                results.append(turns[index])
                index += 1
            close_pending(results)
            continue
        close_pending()
        if message.role == "assistant" and message.tool_calls:
            parts: list[dict[str, Any]] = [{"type": "text", "text": message.text}] if message.text else []
            parts.extend(_call_part(c) for c in message.tool_calls)
            roots.append(_json({"role": "assistant", "content": parts}))
            pending.extend(message.tool_calls)
        else:
            roots.append(_root(message.role, message.text))
        index += 1
    close_pending()
    return roots


def tool_results_prompt(calls: Sequence[ToolCall], results: Sequence[Message]) -> str:
    """The latest tool results as the new user message, each next to the call it answers.

    Why not a `resume_action` or a `tool-result` root plus "Continue."? A resume on a fresh stream has no
    pending exec and answers nothing (KonghaYao, 2026 sheet §6.1), and the user message is the one thing
    Cursor certainly presents as the current turn. The calls go into the same text (not into a root) so
    that no root holds a call whose result is elsewhere."""
    by_id = {r.tool_call_id: r for r in results}
    blocks = [TOOL_RESULTS_LEAD, ""]
    for call in calls:
        result = by_id.pop(call.id, None)
        attrs = f'id="{html.escape(call.id)}" name="{html.escape(call.name)}"'
        blocks.append(f"<tool_call {attrs}>{call.arguments or '{}'}</tool_call>")
        if result is None:
            blocks.append(f'<tool_result {attrs} is_error="true">\n{MISSING_RESULT}\n</tool_result>')
        else:
            blocks.append(_result_block(attrs, result))
    for result in by_id.values():  # results whose call is not in the last assistant turn
        attrs = f'id="{html.escape(result.tool_call_id)}" name="{html.escape(result.tool_name)}"'
        blocks.append(_result_block(attrs, result))
    blocks.extend(["", TOOL_RESULTS_TAIL])
    return "\n".join(blocks)


def _result_block(attrs: str, result: Message) -> str:
    error = ' is_error="true"' if result.is_error else ""
    return f"<tool_result {attrs}{error}>\n{result.text}\n</tool_result>"


_RESULT_BLOCK = re.compile(
    r'<tool_result id="([^"]*)" name="([^"]*)"( is_error="true")?>\n(.*?)\n</tool_result>', re.DOTALL
)


def parse_tool_results_prompt(text: str) -> list[tuple[str, str, bool, str]]:
    """(call id, tool name, is_error, result text) of each result in a `tool_results_prompt` text."""
    return [
        (html.unescape(m.group(1)), html.unescape(m.group(2)), bool(m.group(3)), m.group(4))
        for m in _RESULT_BLOCK.finditer(text)
    ]


def _split_latest(request: ChatRequest) -> tuple[list[Message], Message | None, str]:
    """(history turns, the latest user message, the prompt text) of a request."""
    turns = list(request.turns)
    if turns and turns[-1].role == "user":
        latest = turns.pop()
        return turns, latest, latest.text
    if not turns or turns[-1].role != "tool":
        return turns, None, CONTINUE_PROMPT
    results: list[Message] = []
    while turns and turns[-1].role == "tool":
        results.insert(0, turns.pop())
    calls: tuple[ToolCall, ...] = ()
    # A fresh name, not `turns[-1]`: the type checker would keep the `tool` role it narrowed above.
    caller = turns[-1] if turns else None
    if caller is not None and caller.role == "assistant" and caller.tool_calls:
        turns.pop()
        calls = caller.tool_calls
        if caller.text:
            turns.append(Message("assistant", caller.text))
    return turns, None, tool_results_prompt(calls, results)


def build_run(request: ChatRequest, *, timezone: str, flatten_above: int = 0) -> RunPlan:
    """History is replayed statelessly as root blobs (fits Lambda): the system text (with the tool
    contract) as a first user root (system roots are ignored by the agent), earlier turns as
    user/assistant/tool roots, and the latest user text, or the latest tool results, as the action's user
    message. `tool_choice` none advertises no tools; a named tool (or `required` with one tool) advertises
    only that one and says so in the system root; `required` with several tools is a 400. History above
    `flatten_above` bytes is partly flattened into the user message (upstream/agent_history.py)."""
    offered, must_call = offered_tools(request.tools, request.tool_choice, profile="agent")
    definitions = [tool_definition(t) for t in offered]
    instructions = tool_instructions(offered, must_call, server=PROVIDER)
    turns, latest, prompt = _split_latest(request)
    roots: list[bytes] = []
    system = "\n\n".join(t for t in (request.system_text, instructions) if t)
    if system:
        roots.append(_root("user", f"<system>\n{system}\n</system>"))
    older, recent = split_history(history_roots(turns), flatten_above)
    roots.extend(recent)
    prompt = flattened_prompt(older, prompt)
    blobs = {blob_id(r): r for r in roots}

    # One root id per turn, in order: identical turns ("ok", "ok") share a blob but not a history slot.
    state = pb.ConversationStateStructure(root_prompt_messages_json=[blob_id(r) for r in roots])
    user_message = pb.UserMessage(
        text=prompt,
        message_id=str(uuid.uuid4()),
        mode=pb.AGENT_MODE_AGENT,
    )
    for image in latest.images if latest is not None else ():
        user_message.selected_context.selected_images.append(
            pb.SelectedImage(uuid=str(uuid.uuid4()), mime_type=image.mime_type, data=image.data)
        )
    model = request.model
    requested = pb.RequestedModel(model_id=model.cursor_id, max_mode=model.max_mode)
    for key, value in model.parameters:
        requested.parameters.append(pb.RequestedModel.Parameter(id=key, value=value))

    run = pb.AgentRunRequest(
        conversation_state=state,
        action=pb.ConversationAction(user_message_action=pb.UserMessageAction(user_message=user_message)),
        model_details=pb.ModelDetails(model_id=model.cursor_id, max_mode=model.max_mode),
        conversation_id=request.conversation_id,
        conversation_group_id=request.conversation_id,
        requested_model=requested,
        client_supports_inline_images=bool(latest and latest.images),
        pre_fetched_blobs=[pb.PrefetchedBlob(id=k, value=v) for k, v in blobs.items()],
    )
    # The tool list is sent even when empty: clients observed the server expecting the field.
    run.mcp_tools.SetInParent()
    run.mcp_tools.mcp_tools.extend(definitions)
    run.mcp_file_system_options.enabled = False
    return RunPlan(
        pb.AgentClientMessage(run_request=run),
        blobs,
        tools={t.name: t for t in offered},
        definitions=definitions,
        instructions=instructions,
    )
