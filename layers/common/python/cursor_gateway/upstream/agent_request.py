"""Building and reading `agent.v1` messages (pure): the run request with its root blobs, the answers a
gateway gives to the server's execs, KV gets and interaction queries, and codec encode/decode.

A gateway has no workspace and no user at the keyboard, so every built-in tool is refused with its own
result type, every question is declined, and only request context, blobs and the client's own tools get
real answers.

Client tools (2026 sheet §6.1) are advertised as MCP tools of one synthetic server (`PROVIDER`) in the run
request and in the request-context answer (the profile sends the allow-list header), with a one-line
signature per tool in the system root because the model may not see MCP descriptions. Replay is
stateless: earlier tool calls and results are root blobs with real `tool-call` / `tool-result` parts,
and the latest results are the new user message (see `build_run`).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format, struct_pb2
from google.protobuf.message import DecodeError
from google.protobuf.message import Message as ProtoMessage

from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as pb
from cursor_gateway.domain.chat import ChatRequest, Message, ToolCall, ToolSpec
from cursor_gateway.domain.tools import EMPTY_SCHEMA, offered_tools, tool_instructions
from cursor_gateway.upstream import drift
from cursor_gateway.upstream.agent_history import flattened_prompt, split_history

REFUSAL = "This client runs no local tools: it is an API gateway without a workspace."
CONTINUE_PROMPT = "Continue."
# The synthetic MCP server the client's tools belong to (provider identifier and server name).
PROVIDER = "cursor-gateway"
# Tool-call kinds the agent may use: MCP calls only, so Cursor's built-in shell/edit/read tools stay off.
ALLOWED_TOOLS = "mcp_tool_call"
MISSING_RESULT = "No result was provided for this tool call."
TOOL_RESULTS_LEAD = "Here are the results of the tool calls you just made:"
TOOL_RESULTS_TAIL = "Continue the task with these results."

CONTENT_TYPES = {"proto": "application/connect+proto", "json": "application/connect+json"}


@dataclass(slots=True)
class RunPlan:
    """Everything one Run needs: the first client message and the blobs the server may ask for."""

    run_request: pb.AgentClientMessage
    blobs: dict[bytes, bytes] = field(default_factory=dict)
    # The client tools advertised in this run (by name) and their MCP definitions and instructions.
    tools: dict[str, ToolSpec] = field(default_factory=dict)
    definitions: list[pb.McpToolDefinition] = field(default_factory=list)
    instructions: str = ""


BLOB_ID_BYTES = 32  # a sha256


def blob_id(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


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


def request_context(
    timezone: str, tools: Sequence[pb.McpToolDefinition] = (), instructions: str = ""
) -> pb.RequestContext:
    context = pb.RequestContext(
        env=pb.RequestContextEnv(os_version="linux", shell="none", time_zone=timezone), tools=list(tools)
    )
    if instructions:
        context.mcp_instructions.append(
            pb.McpInstructions(server_name=PROVIDER, instructions=instructions, server_identifier=PROVIDER)
        )
    return context


# -- answers to the server's questions ------------------------------------------------------------------

_REJECT_BUILTIN: dict[str, tuple[str, str]] = {
    # exec arm -> (result arm, refusal arm inside it)
    "shell_args": ("shell_result", "rejected"),
    "shell_stream_args": ("shell_stream", "rejected"),
    "background_shell_spawn_args": ("background_shell_spawn_result", "rejected"),
    "write_args": ("write_result", "rejected"),
    "delete_args": ("delete_result", "rejected"),
    "read_args": ("read_result", "rejected"),
    "ls_args": ("ls_result", "rejected"),
    "diagnostics_args": ("diagnostics_result", "rejected"),
    "grep_args": ("grep_result", "error"),
    "list_mcp_resources_exec_args": ("list_mcp_resources_exec_result", "rejected"),
    "read_mcp_resource_exec_args": ("read_mcp_resource_exec_result", "rejected"),
    "fetch_args": ("fetch_result", "error"),
    "record_screen_args": ("record_screen_result", "failure"),
    "computer_use_args": ("computer_use_result", "error"),
    "write_shell_stdin_args": ("write_shell_stdin_result", "error"),
}
_TEXT_FIELDS = ("reason", "error")


def answer_exec(
    exec_msg: pb.ExecServerMessage,
    *,
    timezone: str,
    tools: Sequence[pb.McpToolDefinition] = (),
    instructions: str = "",
) -> pb.AgentClientMessage:
    """The one answer every exec gets, in the result arm of the same number. `tools` are the client tools
    advertised in this run: the request context and the MCP state list them, and the MCP allow-list
    precheck admits exactly them. An `mcp_args` that reaches this function is a call to a tool that was
    not advertised (the profile handles calls to ours) and gets `tool_not_found`."""
    arm = exec_msg.WhichOneof("message")
    reply = pb.ExecClientMessage(id=exec_msg.id, exec_id=exec_msg.exec_id)
    names = {t.tool_name for t in tools}
    if arm == "request_context_args":
        reply.request_context_result.success.request_context.CopyFrom(
            request_context(timezone, tools, instructions)
        )
    elif arm == "mcp_args":
        reply.mcp_result.tool_not_found.name = mcp_tool_name(exec_msg.mcp_args)
        reply.mcp_result.tool_not_found.available_tools.extend(sorted(names))
    elif arm == "mcp_state_exec_args":
        reply.mcp_state_exec_result.success.SetInParent()
        if tools:
            reply.mcp_state_exec_result.success.servers.append(
                pb.McpStateServer(server_name=PROVIDER, server_identifier=PROVIDER, tools=list(tools))
            )
    elif arm == "mcp_allowlist_precheck_args":
        precheck = exec_msg.mcp_allowlist_precheck_args
        reply.mcp_allowlist_precheck_result.allowlisted = (
            precheck.provider_identifier in ("", PROVIDER) and _unprefixed(precheck.tool_name) in names
        )
    elif arm in ("shell_allowlist_precheck_args", "web_fetch_allowlist_precheck_args"):
        getattr(reply, arm.replace("_args", "_result")).allowlisted = False
    elif arm in _REJECT_BUILTIN:
        result_arm, refusal_arm = _REJECT_BUILTIN[arm]
        refusal = getattr(getattr(reply, result_arm), refusal_arm)
        for name in _TEXT_FIELDS:
            if name in refusal.DESCRIPTOR.fields_by_name:
                setattr(refusal, name, REFUSAL)
        refusal.SetInParent()
    else:
        # An exec we do not model (Cursor keeps adding them: 45-55 by late 2026): refuse it with a reason,
        # so the server gets an answer instead of waiting forever, and count it as drift.
        kind = arm or _unknown_arm(exec_msg)
        drift.note(f"unanswered exec: {kind}")
        return pb.AgentClientMessage(
            exec_client_control_message=pb.ExecClientControlMessage(
                throw=pb.ExecThrow(id=exec_msg.id, error=f"{REFUSAL} (unsupported exec: {kind})")
            )
        )
    return pb.AgentClientMessage(exec_client_message=reply)


def _unknown_arm(message: ProtoMessage) -> str:
    """`#<field number>` of the arm our schema does not know (binary codec), else `unknown`."""
    numbers = sorted({f.field_number for f in drift.unknown_fields_of(message)})
    return "#" + ",".join(map(str, numbers)) if numbers else "unknown"


# -- client tool calls (mcp_args) ----------------------------------------------------------------------

_PREFIX = re.compile(rf"^(?:mcp_+)?{re.escape(PROVIDER)}[-_:.]+")


def _unprefixed(name: str) -> str:
    """A tool name without our server's prefix (`cursor-gateway-x`, `mcp_cursor-gateway_x`, ...)."""
    return _PREFIX.sub("", name)


def mcp_tool_name(args: pb.McpArgs) -> str:
    """`tool_name` when present (`name` may carry a server prefix), else `name` without our prefix."""
    return args.tool_name or _unprefixed(args.name)


@dataclass(frozen=True, slots=True)
class McpCall:
    """One `mcp_args` exec, decoded: the call id, the tool name and the arguments object."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    problem: str | None = None  # a value that did not decode


def read_mcp_call(exec_msg: pb.ExecServerMessage) -> McpCall:
    """Arguments arrive as `map<string, Value bytes>`: each value is a serialized `google.protobuf.Value`."""
    args = exec_msg.mcp_args
    arguments: dict[str, Any] = {}
    problem = None
    for key, raw in args.args.items():
        try:
            arguments[key] = json_format.MessageToDict(struct_pb2.Value.FromString(raw))
        except (DecodeError, ValueError):
            problem = f"the value of argument '{key}' could not be decoded"
    call_id = args.tool_call_id or exec_msg.exec_id or f"call_{uuid.uuid4().hex[:24]}"
    return McpCall(call_id=call_id, name=mcp_tool_name(args), arguments=arguments, problem=problem)


def mcp_error(exec_msg: pb.ExecServerMessage, text: str) -> pb.AgentClientMessage:
    """An error result for one call: the turn goes on and the model may call again."""
    reply = pb.ExecClientMessage(id=exec_msg.id, exec_id=exec_msg.exec_id)
    reply.mcp_result.error.error = text
    return pb.AgentClientMessage(exec_client_message=reply)


def answer_kv(kv: pb.KvServerMessage, blobs: dict[bytes, bytes]) -> pb.AgentClientMessage:
    reply = pb.KvClientMessage(id=kv.id)
    if kv.WhichOneof("message") == "set_blob_args":
        blobs[bytes(kv.set_blob_args.blob_id)] = bytes(kv.set_blob_args.blob_data)
        reply.set_blob_result.SetInParent()
    else:
        key = bytes(kv.get_blob_args.blob_id)
        data = blobs.get(key)
        if data is None and len(key) != BLOB_ID_BYTES:
            # Not a sha256 id but a key (Cursor asks for some values by name): what clients answer, and
            # what the server accepts, is the key's own bytes.
            reply.get_blob_result.blob_data = key
        elif data is None:
            reply.get_blob_result.SetInParent()
        else:
            reply.get_blob_result.blob_data = data
    return pb.AgentClientMessage(kv_client_message=reply)


_APPROVAL_QUERIES = {
    "web_search_request_query": "web_search_request_response",
    "switch_mode_request_query": "switch_mode_request_response",
    "exa_search_request_query": "exa_search_request_response",
    "exa_fetch_request_query": "exa_fetch_request_response",
    "web_fetch_request_query": "web_fetch_request_response",
}


def answer_query(query: pb.InteractionQuery) -> pb.AgentClientMessage:
    """Decline whatever the server asks the (absent) user."""
    response = pb.InteractionResponse(id=query.id)
    arm = query.WhichOneof("query")
    if arm in _APPROVAL_QUERIES:
        getattr(response, _APPROVAL_QUERIES[arm]).rejected.reason = REFUSAL
    elif arm == "ask_question_interaction_query":
        response.ask_question_interaction_response.result.rejected.reason = REFUSAL
    elif arm == "create_plan_request_query":
        response.create_plan_request_response.result.error.error = REFUSAL
    elif arm is None:
        # A kind of question newer than our schema: the bare response with its id still unblocks the
        # server (it reads a missing result as "declined"); count it so the canary reports it.
        drift.note(f"unanswered interaction query: {_unknown_arm(query)}")
    return pb.AgentClientMessage(interaction_response=response)


def heartbeat() -> pb.AgentClientMessage:
    return pb.AgentClientMessage(client_heartbeat=pb.ClientHeartbeat())


# -- codecs -------------------------------------------------------------------------------------------


def encode(message: pb.AgentClientMessage, codec: str) -> bytes:
    if codec == "json":
        return json_format.MessageToJson(message, indent=None).encode()
    return message.SerializeToString()


def decode_server(payload: bytes, codec: str) -> pb.AgentServerMessage:
    if codec == "json":
        obj = json.loads(payload)
        _lift_nested_usage(obj)
        return json_format.ParseDict(obj, pb.AgentServerMessage(), ignore_unknown_fields=True)
    return pb.AgentServerMessage.FromString(payload)


def decode_client(payload: bytes, codec: str) -> pb.AgentClientMessage:
    if codec == "json":
        return json_format.Parse(payload, pb.AgentClientMessage(), ignore_unknown_fields=True)
    return pb.AgentClientMessage.FromString(payload)


def encode_server(message: pb.AgentServerMessage, codec: str) -> bytes:
    if codec == "json":
        return json_format.MessageToJson(message, indent=None).encode()
    return message.SerializeToString()


def _lift_nested_usage(obj: Any) -> None:
    """On the JSON codec `turnEnded` usage sometimes arrives nested under `usage`."""
    try:
        ended = obj["interactionUpdate"]["turnEnded"]
    except (KeyError, TypeError):
        return
    nested = ended.pop("usage", None) if isinstance(ended, dict) else None
    if isinstance(nested, dict):
        for key, value in nested.items():
            ended.setdefault(key, value)
