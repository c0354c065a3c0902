"""What Cursor started doing after our fact sheet (issue 14), played by the fake so tests can prove the
gateway's answer.

- `empty_turn`: a blocked account gets HTTP 200, a turn end and nothing else (September 2026).
- `error_after_turn_end`: a normal answer whose end-stream status is a failure.
- `probe_unknowns`: before answering, traffic no schema of ours knows: execs 45-55, an interaction query
  of an unknown kind next to a known one, a `get_blob` whose key is not a sha256, and a top-level server
  message of an unknown kind. Each exec and query must be answered (execs with a refusal that carries a
  reason), the odd blob key must come back as its own bytes.
"""

from __future__ import annotations

import json
from typing import Any

from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as pb
from cursor_gateway.codec._gen.aiserver.v1 import models_pb2
from cursor_gateway.codec.envelope import encode_envelope
from cursor_gateway.emulator.agent_stream import AgentBackend, Inbox, next_message, send
from cursor_gateway.emulator.behaviour import connect_error
from cursor_gateway.emulator.h2server import H2Stream
from cursor_gateway.emulator.records import RunRecord, Violation
from cursor_gateway.emulator.wire import end_stream, length_delimited
from cursor_gateway.upstream import agent_wire as msgs

# Exec field numbers newer than our schema (`pi_*` 45-52 and what followed, late 2026).
UNKNOWN_EXECS = tuple(range(45, 56))
UNKNOWN_QUERY_FIELD = 12
UNKNOWN_SERVER_ARM = 99
ODD_BLOB_KEY = b"workspace://notes/todo.md"
# A rate limit that names the model class it applies to (seen from September 2026 on).
CLASS_RATE_LIMITED = connect_error(
    "resource_exhausted",
    50,
    "Rate limited",
    "You've hit the rate limit for Claude models. Try another model or wait a minute.",
)


def unknown_exec_frame(codec: str, exec_number: int, message_id: int) -> bytes:
    """An `ExecServerMessage` whose arm is field `exec_number` (empty), inside an `AgentServerMessage`."""
    exec_id = f"new-{exec_number}"
    if codec == "json":
        obj = {"execServerMessage": {"id": message_id, "execId": exec_id, f"newExec{exec_number}Args": {}}}
        return json.dumps(obj).encode()
    inner = pb.ExecServerMessage(id=message_id, exec_id=exec_id).SerializeToString()
    inner += length_delimited(exec_number, b"")
    return length_delimited(2, inner)


def unknown_query_frame(codec: str, query_id: int) -> bytes:
    if codec == "json":
        return json.dumps({"interactionQuery": {"id": query_id, "newKindOfQuestion": {}}}).encode()
    return length_delimited(
        7, pb.InteractionQuery(id=query_id).SerializeToString() + length_delimited(UNKNOWN_QUERY_FIELD, b"")
    )


def unknown_server_frame(codec: str) -> bytes:
    if codec == "json":
        return json.dumps({"brandNewServerMessage": {"flag": True}}).encode()
    return length_delimited(UNKNOWN_SERVER_ARM, b"\x08\x01")


async def probe_unknowns(stream: H2Stream, record: RunRecord, inbox: Inbox) -> None:
    """Send the unknown traffic and check every answer (a violation ends the run with an error)."""
    codec = record.codec
    await stream.write(encode_envelope(unknown_server_frame(codec)))
    record.tool_log.append("sent:unknown_server_message")
    for offset, number in enumerate(UNKNOWN_EXECS):
        message_id = 100 + offset
        await stream.write(encode_envelope(unknown_exec_frame(codec, number, message_id)))
        reply = await next_message(inbox)
        throw = reply.exec_client_control_message.throw
        if not (reply.HasField("exec_client_control_message") and throw.id == message_id and throw.error):
            raise Violation(f"exec {number} (id {message_id}) was not refused with a reason")
        record.tool_log.append(f"refused:exec{number}")

    web_search = pb.AgentServerMessage(interaction_query=pb.InteractionQuery(id=201))
    web_search.interaction_query.web_search_request_query.SetInParent()
    for query_id, frame in (
        (201, msgs.encode_server(web_search, codec)),
        (202, unknown_query_frame(codec, 202)),
    ):
        await stream.write(encode_envelope(frame))
        reply = await next_message(inbox)
        if not (reply.HasField("interaction_response") and reply.interaction_response.id == query_id):
            raise Violation(f"interaction query {query_id} was not answered")
        record.tool_log.append(f"answered:query{query_id}")

    await send(
        stream,
        record,
        pb.AgentServerMessage(
            kv_server_message=pb.KvServerMessage(id=301, get_blob_args=pb.GetBlobArgs(blob_id=ODD_BLOB_KEY))
        ),
    )
    reply = await next_message(inbox)
    kv = reply.kv_client_message
    if kv.id != 301 or bytes(kv.get_blob_result.blob_data) != ODD_BLOB_KEY:
        raise Violation("a get_blob with a non-sha256 key did not get its key bytes back")
    record.tool_log.append("answered:odd_blob_key")


# Where `agentUrlConfig` sits in the binary GetServerConfig answer is not public; the fake puts it at 21
# (agentUrl 1, agentnUrl 2) and the gateway must find it by content (upstream/agent_hosts.py).
AGENT_URL_CONFIG_FIELD = 21


def agent_url_config(agent_url: str, agentn_url: str) -> bytes:
    inner = b""
    for number, url in ((1, agent_url), (2, agentn_url)):
        if url:
            inner += length_delimited(number, url.encode())
    return length_delimited(AGENT_URL_CONFIG_FIELD, inner)


# The catalog as Cursor published it in October 2026 (FakeCursor.catalog_2026): base ids with parameter
# ids, and published variant slugs with the values they stand for.
CATALOG_2026: tuple[tuple[str, bool, tuple[str, ...], tuple[tuple[str, dict[str, str]], ...]], ...] = (
    ("composer-2.5", False, ("fast",), (("composer-2.5-fast", {"fast": "true"}),)),
    (
        "claude-sonnet-5",
        True,
        (),
        (
            ("claude-sonnet-5-thinking-low", {"thinking": "true", "effort": "low"}),
            ("claude-sonnet-5-thinking-high", {"thinking": "true", "effort": "high"}),
        ),
    ),
    ("claude-opus-4-8", True, ("effort",), ()),
    ("gpt-5.5", True, ("reasoning",), ()),
    ("grok-4.7", True, (), ()),
)
MIXED_SLUG_ERROR = "Model variant slugs cannot be combined with model parameters"


def add_2026_models(available: models_pb2.AvailableModelsResponse) -> None:
    for name, thinking, parameters, variants in CATALOG_2026:
        model = models_pb2.AvailableModel(
            name=name,
            default_on=True,
            supports_thinking=thinking,
            supports_images=True,
            supports_max_mode=True,
            supports_non_max_mode=True,
            client_display_name=name,
        )
        model.parameter_definitions.extend(
            models_pb2.ModelParameterDefinition(id=p, name=p) for p in parameters
        )
        for slug, values in variants:
            model.variants.append(
                models_pb2.ModelVariant(
                    variant_string_representation=slug,
                    display_name=slug,
                    parameter_values=[
                        models_pb2.ModelParameterValue(id=k, value=v) for k, v in values.items()
                    ],
                )
            )
        available.models.append(model)


def requested_model_problem(run: pb.AgentRunRequest) -> str | None:
    """What Cursor refuses about the requested model: a published slug sent together with parameters."""
    slugs = {slug for _, _, _, variants in CATALOG_2026 for slug, _ in variants}
    requested = run.requested_model
    if requested.model_id in slugs and len(requested.parameters):
        return f"{MIXED_SLUG_ERROR} ({requested.model_id})"
    return None


def default_usage() -> dict[str, Any]:
    """A pro plan at the start of its cycle, in Cursor's Connect JSON shape (int64 as strings)."""
    return {
        "billingCycleStart": "1790812800000",
        "billingCycleEnd": "1793491200000",
        "planUsage": {
            "limit": 2000,
            "remaining": 2000,
            "totalPercentUsed": 0,
            "autoPercentUsed": 0,
            "apiPercentUsed": 0,
        },
    }


async def empty_turn(fake: AgentBackend, stream: H2Stream, record: RunRecord) -> None:
    """HTTP 200, a turn end without usage, a clean end-stream: what a blocked account gets."""
    await fake.send_update(stream, record, pb.InteractionUpdate(turn_ended=pb.TurnEndedUpdate()))
    await end_stream(stream, {})
