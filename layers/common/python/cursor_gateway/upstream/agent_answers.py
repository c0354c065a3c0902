"""What the client writes to the `agent.v1` server while a run goes on (pure): the answers to its execs,
KV blob gets and interaction queries, the decoding of a client-tool call (`mcp_args`), and heartbeats.

A gateway has no workspace and no user at the keyboard, so every built-in tool is refused with its own
result type, every question is declined, and only request context, blobs and the client's own tools get
real answers.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format, struct_pb2
from google.protobuf.message import DecodeError
from google.protobuf.message import Message as ProtoMessage

from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as pb
from cursor_gateway.upstream import drift
from cursor_gateway.upstream.agent_request import PROVIDER
from cursor_gateway.upstream.agent_wire import BLOB_ID_BYTES

REFUSAL = "This client runs no local tools: it is an API gateway without a workspace."


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
