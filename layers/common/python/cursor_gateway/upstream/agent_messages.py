"""Building and reading `agent.v1` messages (pure): the run request with its root blobs, the answers a
gateway gives to the server's execs, KV gets and interaction queries, and codec encode/decode.

A gateway has no workspace and no user at the keyboard, so every built-in tool is refused with its own
result type, every question is declined, and only request context, blobs and (later) our own MCP tools
get real answers.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format

from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as pb
from cursor_gateway.domain.chat import ChatRequest
from cursor_gateway.upstream import drift

REFUSAL = "This client runs no local tools: it is an API gateway without a workspace."
CONTINUE_PROMPT = "Continue."

CONTENT_TYPES = {"proto": "application/connect+proto", "json": "application/connect+json"}


@dataclass(slots=True)
class RunPlan:
    """Everything one Run needs: the first client message and the blobs the server may ask for."""

    run_request: pb.AgentClientMessage
    blobs: dict[bytes, bytes] = field(default_factory=dict)


def blob_id(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _root(role: str, text: str) -> bytes:
    message = {"role": role, "content": [{"type": "text", "text": text}]}
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


def build_run(request: ChatRequest, *, timezone: str) -> RunPlan:
    """History is replayed statelessly as root blobs (fits Lambda): the system text as a first user root
    (system roots are ignored by the agent), earlier turns as user/assistant roots, and the latest user
    text as the action's user message."""
    turns = list(request.turns)
    latest = turns.pop() if turns and turns[-1].role == "user" else None
    roots: list[bytes] = []
    if request.system_text:
        roots.append(_root("user", f"<system>\n{request.system_text}\n</system>"))
    roots.extend(_root(m.role, m.text) for m in turns)
    blobs = {blob_id(r): r for r in roots}

    # One root id per turn, in order: identical turns ("ok", "ok") share a blob but not a history slot.
    state = pb.ConversationStateStructure(root_prompt_messages_json=[blob_id(r) for r in roots])
    user_message = pb.UserMessage(
        text=latest.text if latest is not None else CONTINUE_PROMPT,
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
    # An empty tool list is still sent: clients observed the server expecting the field.
    run.mcp_tools.SetInParent()
    run.mcp_file_system_options.enabled = False
    return RunPlan(pb.AgentClientMessage(run_request=run), blobs)


def request_context(timezone: str) -> pb.RequestContext:
    return pb.RequestContext(env=pb.RequestContextEnv(os_version="linux", shell="none", time_zone=timezone))


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


def answer_exec(exec_msg: pb.ExecServerMessage, *, timezone: str) -> pb.AgentClientMessage:
    """The one answer every exec gets, in the result arm of the same number."""
    arm = exec_msg.WhichOneof("message")
    reply = pb.ExecClientMessage(id=exec_msg.id, exec_id=exec_msg.exec_id)
    if arm == "request_context_args":
        reply.request_context_result.success.request_context.CopyFrom(request_context(timezone))
    elif arm == "mcp_args":
        name = exec_msg.mcp_args.tool_name or exec_msg.mcp_args.name
        reply.mcp_result.tool_not_found.name = name
    elif arm == "mcp_state_exec_args":
        reply.mcp_state_exec_result.success.SetInParent()
    elif arm in (
        "shell_allowlist_precheck_args",
        "mcp_allowlist_precheck_args",
        "web_fetch_allowlist_precheck_args",
    ):
        getattr(reply, arm.replace("_args", "_result")).allowlisted = False
    elif arm in _REJECT_BUILTIN:
        result_arm, refusal_arm = _REJECT_BUILTIN[arm]
        refusal = getattr(getattr(reply, result_arm), refusal_arm)
        for name in _TEXT_FIELDS:
            if name in refusal.DESCRIPTOR.fields_by_name:
                setattr(refusal, name, REFUSAL)
        refusal.SetInParent()
    else:
        # An exec we do not model: throw, so the server gets an error instead of waiting forever.
        drift.note(f"unanswered exec: {arm or 'unknown'}")
        return pb.AgentClientMessage(
            exec_client_control_message=pb.ExecClientControlMessage(
                throw=pb.ExecThrow(id=exec_msg.id, error=f"unsupported exec: {arm or 'unknown'}")
            )
        )
    return pb.AgentClientMessage(exec_client_message=reply)


def answer_kv(kv: pb.KvServerMessage, blobs: dict[bytes, bytes]) -> pb.AgentClientMessage:
    reply = pb.KvClientMessage(id=kv.id)
    if kv.WhichOneof("message") == "set_blob_args":
        blobs[bytes(kv.set_blob_args.blob_id)] = bytes(kv.set_blob_args.blob_data)
        reply.set_blob_result.SetInParent()
    else:
        data = blobs.get(bytes(kv.get_blob_args.blob_id))
        if data is None:
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
