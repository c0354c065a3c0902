"""`agent.v1` message building and answering (pure), checked on the generated classes AND on the wire.

Field numbers are asserted against the 2026 sheet (§4.1, §4.4) with a schema-less reader
(`UnknownFieldSet` over `Empty`), so a wrong number in our own .proto cannot hide behind a symmetric
encode/decode through the same generated code.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as pb
from cursor_gateway.domain.chat import ChatRequest, ImagePart, Message, ModelChoice
from cursor_gateway.upstream import agent_answers, agent_wire
from cursor_gateway.upstream import agent_request as msgs
from google.protobuf import empty_pb2
from google.protobuf.unknown_fields import UnknownFieldSet

TZ = "Europe/Berlin"
MODEL = ModelChoice(cursor_id="claude-4.6-sonnet", client_id="claude-4.6-sonnet-max", max_mode=True)


def wire(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) of the top-level fields, without any schema."""
    return [(f.field_number, f.wire_type, f.data) for f in UnknownFieldSet(empty_pb2.Empty.FromString(data))]


def only_field(data: bytes) -> tuple[int, bytes]:
    fields = wire(data)
    assert len(fields) == 1, fields
    number, wire_type, value = fields[0]
    assert wire_type == 2
    return number, value


def field_map(data: bytes) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for number, _, value in wire(data):
        assert number not in out, f"field {number} repeated"
        out[number] = value
    return out


def chat(*messages: Message, model: ModelChoice = MODEL, conversation_id: str = "conv-1") -> ChatRequest:
    return ChatRequest(model=model, messages=messages, conversation_id=conversation_id)


def roots_of(plan: msgs.RunPlan) -> list[dict[str, Any]]:
    ids = list(plan.run_request.run_request.conversation_state.root_prompt_messages_json)
    return [json.loads(plan.blobs[i]) for i in ids]


def root_text(root: dict[str, Any]) -> str:
    assert [part["type"] for part in root["content"]] == ["text"]
    return str(root["content"][0]["text"])


# --- build_run -----------------------------------------------------------------------------------------


def test_build_run_history_as_roots_and_latest_user_as_action() -> None:
    request = chat(
        Message("system", "You are terse."),
        Message("user", "first question"),
        Message("assistant", "first answer"),
        Message("user", "second question"),
    )
    plan = msgs.build_run(request, timezone=TZ)
    run = plan.run_request.run_request
    assert plan.run_request.WhichOneof("message") == "run_request"

    roots = roots_of(plan)
    assert [r["role"] for r in roots] == ["user", "user", "assistant"]
    assert root_text(roots[0]) == "<system>\nYou are terse.\n</system>"
    assert [root_text(r) for r in roots[1:]] == ["first question", "first answer"]

    user_message = run.action.user_message_action.user_message
    assert user_message.text == "second question"
    assert user_message.mode == pb.AGENT_MODE_AGENT
    assert user_message.message_id
    assert not user_message.selected_context.selected_images
    assert run.client_supports_inline_images is False

    assert run.conversation_id == run.conversation_group_id == "conv-1"
    assert run.requested_model.model_id == run.model_details.model_id == "claude-4.6-sonnet"
    assert run.requested_model.max_mode is True
    assert run.HasField("mcp_tools")
    assert run.mcp_file_system_options.enabled is False


def test_root_ids_are_sha256_of_the_blob_bytes_and_prefetched() -> None:
    request = chat(
        Message("system", "sys"), Message("user", "a"), Message("assistant", "b"), Message("user", "c")
    )
    plan = msgs.build_run(request, timezone=TZ)
    run = plan.run_request.run_request
    ids = list(run.conversation_state.root_prompt_messages_json)
    assert len(ids) == 3
    for blob_id in ids:
        assert len(blob_id) == 32
        assert hashlib.sha256(plan.blobs[blob_id]).digest() == blob_id
    prefetched = {bytes(b.id): bytes(b.value) for b in run.pre_fetched_blobs}
    assert prefetched == plan.blobs
    assert set(ids) == set(prefetched)


def test_roots_are_vercel_shaped_json() -> None:
    plan = msgs.build_run(
        chat(Message("user", 'héllo "quoted"'), Message("assistant", "ok"), Message("user", "next")),
        timezone=TZ,
    )
    raw = [plan.blobs[i] for i in plan.run_request.run_request.conversation_state.root_prompt_messages_json]
    assert json.loads(raw[0]) == {"role": "user", "content": [{"type": "text", "text": 'héllo "quoted"'}]}
    assert "héllo".encode() in raw[0]  # UTF-8, not \u escapes


def test_identical_turns_keep_their_own_root_slot() -> None:
    request = chat(
        Message("user", "ok"),
        Message("assistant", "sure"),
        Message("user", "ok"),
        Message("assistant", "sure"),
        Message("user", "and now?"),
    )
    plan = msgs.build_run(request, timezone=TZ)
    assert [root_text(r) for r in roots_of(plan)] == ["ok", "sure", "ok", "sure"]
    assert len(plan.blobs) == 2  # the blobs themselves are shared
    assert len(plan.run_request.run_request.pre_fetched_blobs) == 2


def test_without_system_text_the_first_root_is_the_first_turn() -> None:
    request = chat(Message("user", "a"), Message("assistant", "b"), Message("user", "c"))
    plan = msgs.build_run(request, timezone=TZ)
    assert [root_text(r) for r in roots_of(plan)] == ["a", "b"]


def test_single_user_message_has_no_roots() -> None:
    plan = msgs.build_run(chat(Message("user", "only")), timezone=TZ)
    run = plan.run_request.run_request
    assert list(run.conversation_state.root_prompt_messages_json) == []
    assert plan.blobs == {}
    assert run.action.user_message_action.user_message.text == "only"
    # conversation_state must be present even when empty ("Conversation state is required")
    assert 1 in field_map(run.SerializeToString())


def test_several_system_messages_are_joined_into_one_root() -> None:
    plan = msgs.build_run(
        chat(Message("system", "one"), Message("system", "two"), Message("user", "q")), timezone=TZ
    )
    assert [root_text(r) for r in roots_of(plan)] == ["<system>\none\n\ntwo\n</system>"]


def test_history_ending_with_assistant_continues() -> None:
    plan = msgs.build_run(chat(Message("user", "a"), Message("assistant", "b")), timezone=TZ)
    assert [root_text(r) for r in roots_of(plan)] == ["a", "b"]
    assert plan.run_request.run_request.action.user_message_action.user_message.text == msgs.CONTINUE_PROMPT


def test_images_become_selected_images_with_raw_bytes() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    jpeg = b"\xff\xd8\xff\xe0fake-jpeg"
    plan = msgs.build_run(
        chat(Message("user", "what is this?", (ImagePart("image/png", png), ImagePart("image/jpeg", jpeg)))),
        timezone=TZ,
    )
    run = plan.run_request.run_request
    images = run.action.user_message_action.user_message.selected_context.selected_images
    assert [(i.mime_type, i.data) for i in images] == [("image/png", png), ("image/jpeg", jpeg)]
    assert all(i.uuid for i in images) and images[0].uuid != images[1].uuid
    assert run.client_supports_inline_images is True
    # on the wire: SelectedImage.data is field 8, raw bytes (not base64)
    image_wire = field_map(images[0].SerializeToString())
    assert image_wire[8] == png
    assert image_wire[7] == b"image/png"


def test_model_parameters_are_sent() -> None:
    model = ModelChoice("gpt-5.2", "gpt-5.2", parameters=(("reasoning_effort", "high"),))
    run = msgs.build_run(chat(Message("user", "q"), model=model), timezone=TZ).run_request.run_request
    assert [(p.id, p.value) for p in run.requested_model.parameters] == [("reasoning_effort", "high")]
    assert run.requested_model.max_mode is False


def test_run_request_wire_numbers() -> None:
    plan = msgs.build_run(
        chat(Message("system", "s"), Message("user", "u1"), Message("assistant", "a"), Message("user", "u2")),
        timezone=TZ,
    )
    number, body = only_field(plan.run_request.SerializeToString())
    assert number == 1  # AgentClientMessage.run_request
    fields = wire(body)
    numbers = {n for n, _, _ in fields}
    # conversation_state 1, action 2, model_details 3, mcp_tools 4 (sent empty), conversation_id 5,
    # mcp_file_system_options 6, requested_model 9, conversation_group_id 16, pre_fetched_blobs 17
    assert {1, 2, 3, 4, 5, 6, 9, 16, 17} <= numbers
    assert [v for n, _, v in fields if n == 4] == [b""]
    assert [v for n, _, v in fields if n == 5] == [b"conv-1"]
    # action -> user_message_action 1 -> user_message 1 -> text 1
    action = next(v for n, _, v in fields if n == 2)
    n1, user_message_action = only_field(action)
    assert n1 == 1
    user_message = field_map(user_message_action)[1]
    assert field_map(user_message)[1] == b"u2"
    # conversation_state.root_prompt_messages_json is field 1, one 32-byte id per root
    state = next(v for n, _, v in fields if n == 1)
    assert [len(v) for n, _, v in wire(state) if n == 1] == [32, 32, 32]


# --- answer_exec -----------------------------------------------------------------------------------------

# exec arm -> (its field number on ExecServerMessage/ExecClientMessage, refusal arm number in the result)
BUILTIN_REFUSALS: dict[str, tuple[int, int]] = {
    "shell_args": (2, 4),
    "write_args": (3, 6),
    "delete_args": (4, 6),
    "grep_args": (5, 2),
    "read_args": (7, 3),
    "ls_args": (8, 3),
    "diagnostics_args": (9, 3),
    "shell_stream_args": (14, 5),
    "background_shell_spawn_args": (16, 3),
    "list_mcp_resources_exec_args": (17, 3),
    "read_mcp_resource_exec_args": (18, 3),
    "fetch_args": (20, 2),
    "record_screen_args": (21, 4),
    "computer_use_args": (22, 2),
    "write_shell_stdin_args": (23, 2),
}


def exec_message(arm: str, *, id: int = 41, exec_id: str = "exec-41") -> pb.ExecServerMessage:
    message = pb.ExecServerMessage(id=id, exec_id=exec_id)
    getattr(message, arm).SetInParent()
    return message


def test_refusal_table_covers_every_builtin() -> None:
    assert set(BUILTIN_REFUSALS) == set(agent_answers._REJECT_BUILTIN)


@pytest.mark.parametrize("arm", sorted(BUILTIN_REFUSALS))
def test_builtin_exec_is_refused_in_the_matching_result(arm: str) -> None:
    exec_number, refusal_number = BUILTIN_REFUSALS[arm]
    assert pb.ExecServerMessage.DESCRIPTOR.fields_by_name[arm].number == exec_number

    answer = agent_answers.answer_exec(exec_message(arm), timezone=TZ)
    assert answer.WhichOneof("message") == "exec_client_message"
    reply = answer.exec_client_message
    assert (reply.id, reply.exec_id) == (41, "exec-41")
    result_arm, refusal_arm = agent_answers._REJECT_BUILTIN[arm]
    assert reply.WhichOneof("message") == result_arm
    result = getattr(reply, result_arm)
    assert result.WhichOneof(result.DESCRIPTOR.oneofs[0].name) == refusal_arm
    refusal = getattr(result, refusal_arm)
    texts = [getattr(refusal, f) for f in ("reason", "error") if f in refusal.DESCRIPTOR.fields_by_name]
    assert texts == [agent_answers.REFUSAL]

    # The wire, read without our schema.
    number, exec_client = only_field(answer.SerializeToString())
    assert number == 2  # AgentClientMessage.exec_client_message
    fields = field_map(exec_client)
    assert fields[1] == 41  # id
    assert fields[15] == b"exec-41"  # exec_id
    assert set(fields) == {1, 15, exec_number}  # the result sits at the exec arm's own number
    refusal_field, refusal_body = only_field(fields[exec_number])
    assert refusal_field == refusal_number
    assert agent_answers.REFUSAL.encode() in refusal_body


def test_request_context_answer_echoes_ids() -> None:
    answer = agent_answers.answer_exec(
        exec_message("request_context_args", id=1, exec_id="ctx-1"), timezone=TZ
    )
    reply = answer.exec_client_message
    assert (reply.id, reply.exec_id) == (1, "ctx-1")
    assert reply.WhichOneof("message") == "request_context_result"
    env = reply.request_context_result.success.request_context.env
    assert env.time_zone == TZ
    assert env.os_version
    # wire: exec_client_message 2 -> request_context_result 10 -> success 1 -> request_context 1 -> env 4
    number, exec_client = only_field(answer.SerializeToString())
    assert number == 2
    fields = field_map(exec_client)
    assert (fields[1], fields[15]) == (1, b"ctx-1")
    success_number, success = only_field(fields[10])
    assert success_number == 1
    context_number, context = only_field(success)
    assert context_number == 1
    env_fields = field_map(field_map(context)[4])
    assert env_fields[10] == TZ.encode()


def test_mcp_call_to_unknown_tool_is_tool_not_found() -> None:
    mcp = pb.McpArgs(name="srv-lookup", tool_name="lookup")
    message = pb.ExecServerMessage(id=5, exec_id="mcp-5", mcp_args=mcp)
    reply = agent_answers.answer_exec(message, timezone=TZ).exec_client_message
    assert reply.id == 5
    assert reply.mcp_result.WhichOneof("result") == "tool_not_found"
    assert reply.mcp_result.tool_not_found.name == "lookup"
    assert set(field_map(reply.SerializeToString())) == {1, 15, 11}


def test_mcp_state_and_allowlist_prechecks_get_answers_at_the_same_number() -> None:
    for arm, number in [
        ("mcp_state_exec_args", 36),
        ("shell_allowlist_precheck_args", 41),
        ("mcp_allowlist_precheck_args", 42),
        ("web_fetch_allowlist_precheck_args", 43),
    ]:
        reply = agent_answers.answer_exec(exec_message(arm), timezone=TZ).exec_client_message
        assert reply.WhichOneof("message") == arm.replace("_args", "_result")
        assert number in field_map(reply.SerializeToString()), arm
    precheck = agent_answers.answer_exec(exec_message("mcp_allowlist_precheck_args"), timezone=TZ)
    assert precheck.exec_client_message.mcp_allowlist_precheck_result.allowlisted is False


def test_every_exec_arm_in_the_schema_gets_a_result_not_a_throw() -> None:
    # A new arm added to the .proto without an answer would otherwise fall through to `throw`.
    for field in pb.ExecServerMessage.DESCRIPTOR.oneofs_by_name["message"].fields:
        answer = agent_answers.answer_exec(exec_message(field.name), timezone=TZ)
        assert answer.WhichOneof("message") == "exec_client_message", field.name
        result_arm = answer.exec_client_message.WhichOneof("message")
        assert result_arm is not None
        assert pb.ExecClientMessage.DESCRIPTOR.fields_by_name[result_arm].number == field.number


def test_unknown_exec_arm_is_thrown_with_its_id() -> None:
    # An exec arm newer than our schema (e.g. execute_hook_args 27) arrives as an unknown field.
    known = pb.ExecServerMessage(id=9, exec_id="hook-9").SerializeToString()
    tag = 27 << 3 | 2  # field 27, length-delimited: 218, a two-byte varint
    unknown_arm = bytes([tag & 0x7F | 0x80, tag >> 7, 2, 0x0A, 0x00])  # {1: ""}
    message = pb.ExecServerMessage.FromString(known + unknown_arm)
    assert message.WhichOneof("message") is None

    answer = agent_answers.answer_exec(message, timezone=TZ)
    assert answer.WhichOneof("message") == "exec_client_control_message"
    throw = answer.exec_client_control_message.throw
    assert throw.id == 9
    assert "unsupported exec" in throw.error
    # wire: exec_client_control_message 5 -> throw 2 -> id 1
    number, control = only_field(answer.SerializeToString())
    assert number == 5
    throw_number, throw_body = only_field(control)
    assert throw_number == 2
    assert field_map(throw_body)[1] == 9


# --- answer_kv -------------------------------------------------------------------------------------------


def test_kv_get_returns_the_blob() -> None:
    data = b'{"role":"user","content":[]}'
    blobs = {agent_wire.blob_id(data): data}
    kv = pb.KvServerMessage(id=7, get_blob_args=pb.GetBlobArgs(blob_id=agent_wire.blob_id(data)))
    answer = agent_answers.answer_kv(kv, blobs)
    reply = answer.kv_client_message
    assert reply.id == 7
    assert reply.get_blob_result.blob_data == data
    number, body = only_field(answer.SerializeToString())
    assert number == 3  # AgentClientMessage.kv_client_message
    fields = field_map(body)
    assert fields[1] == 7
    assert field_map(fields[2])[1] == data  # get_blob_result 2 -> blob_data 1


def test_kv_get_of_an_unknown_blob_answers_empty() -> None:
    answer = agent_answers.answer_kv(
        pb.KvServerMessage(id=8, get_blob_args=pb.GetBlobArgs(blob_id=b"\x00" * 32)), {}
    )
    reply = answer.kv_client_message
    assert reply.id == 8
    assert reply.WhichOneof("message") == "get_blob_result"
    assert not reply.get_blob_result.HasField("blob_data")


def test_kv_set_stores_the_blob() -> None:
    blobs: dict[bytes, bytes] = {}
    blob = b"server-side state"
    kv = pb.KvServerMessage(
        id=9, set_blob_args=pb.SetBlobArgs(blob_id=agent_wire.blob_id(blob), blob_data=blob)
    )
    reply = agent_answers.answer_kv(kv, blobs).kv_client_message
    assert reply.id == 9
    assert reply.WhichOneof("message") == "set_blob_result"
    assert blobs == {agent_wire.blob_id(blob): blob}
    assert set(field_map(reply.SerializeToString())) == {1, 3}


# --- answer_query ----------------------------------------------------------------------------------------

QUERY_ARMS = [f.name for f in pb.InteractionQuery.DESCRIPTOR.oneofs_by_name["query"].fields]


def test_query_arms_are_the_documented_set() -> None:
    assert QUERY_ARMS == [
        "web_search_request_query",
        "ask_question_interaction_query",
        "switch_mode_request_query",
        "exa_search_request_query",
        "exa_fetch_request_query",
        "create_plan_request_query",
        "web_fetch_request_query",
    ]


@pytest.mark.parametrize("arm", QUERY_ARMS)
def test_every_query_is_declined_in_the_arm_of_the_same_number(arm: str) -> None:
    query = pb.InteractionQuery(id=12)
    getattr(query, arm).SetInParent()
    answer = agent_answers.answer_query(query)
    response = answer.interaction_response
    assert response.id == 12
    response_arm = response.WhichOneof("result")
    assert response_arm is not None
    number = pb.InteractionQuery.DESCRIPTOR.fields_by_name[arm].number
    assert pb.InteractionResponse.DESCRIPTOR.fields_by_name[response_arm].number == number
    body = getattr(response, response_arm)
    if arm == "ask_question_interaction_query":
        assert body.result.rejected.reason == agent_answers.REFUSAL
    elif arm == "create_plan_request_query":
        assert body.result.error.error == agent_answers.REFUSAL
    else:
        assert body.WhichOneof("result") == "rejected"
        assert body.rejected.reason == agent_answers.REFUSAL
    outer, inner = only_field(answer.SerializeToString())
    assert outer == 6  # AgentClientMessage.interaction_response
    fields = field_map(inner)
    assert fields[1] == 12
    assert number in fields
    assert agent_answers.REFUSAL.encode() in fields[number]


def test_heartbeat_is_field_7_empty() -> None:
    assert wire(agent_answers.heartbeat().SerializeToString()) == [(7, 2, b"")]


# --- codecs ----------------------------------------------------------------------------------------------


def test_content_types() -> None:
    assert agent_wire.CONTENT_TYPES == {
        "proto": "application/connect+proto",
        "json": "application/connect+json",
    }


@pytest.mark.parametrize("codec", ["proto", "json"])
def test_client_messages_round_trip(codec: str) -> None:
    png = bytes(range(200))
    plan = msgs.build_run(
        chat(
            Message("system", "s"), Message("user", "a"), Message("user", "b", (ImagePart("image/png", png),))
        ),
        timezone=TZ,
    )
    messages = [
        plan.run_request,
        agent_answers.answer_exec(exec_message("request_context_args"), timezone=TZ),
        agent_answers.answer_exec(exec_message("shell_args"), timezone=TZ),
        agent_answers.answer_kv(
            pb.KvServerMessage(id=3, get_blob_args=pb.GetBlobArgs(blob_id=next(iter(plan.blobs)))), plan.blobs
        ),
        agent_answers.heartbeat(),
    ]
    for message in messages:
        assert agent_wire.decode_client(agent_wire.encode(message, codec), codec) == message


def test_json_codec_is_proto3_json() -> None:
    png = b"\x00\x01\xfe\xff"
    plan = msgs.build_run(
        chat(Message("user", "a"), Message("user", "b", (ImagePart("image/png", png),))), timezone=TZ
    )
    obj = json.loads(agent_wire.encode(plan.run_request, "json"))
    run = obj["runRequest"]  # camelCase keys
    assert run["conversationId"] == "conv-1"
    root_id = run["conversationState"]["rootPromptMessagesJson"][0]
    assert base64.b64decode(root_id) in plan.blobs  # bytes are base64
    image = run["action"]["userMessageAction"]["userMessage"]["selectedContext"]["selectedImages"][0]
    assert base64.b64decode(image["data"]) == png
    assert run["action"]["userMessageAction"]["userMessage"]["mode"] == "AGENT_MODE_AGENT"  # enums by name
    assert json.loads(agent_wire.encode(agent_answers.heartbeat(), "json")) == {"clientHeartbeat": {}}


@pytest.mark.parametrize("codec", ["proto", "json"])
def test_server_messages_round_trip(codec: str) -> None:
    messages = [
        pb.AgentServerMessage(
            interaction_update=pb.InteractionUpdate(text_delta=pb.TextDeltaUpdate(text="hé"))
        ),
        pb.AgentServerMessage(
            interaction_update=pb.InteractionUpdate(
                turn_ended=pb.TurnEndedUpdate(input_tokens=10, output_tokens=0, cache_read_tokens=5)
            )
        ),
        pb.AgentServerMessage(exec_server_message=exec_message("read_args")),
        pb.AgentServerMessage(
            kv_server_message=pb.KvServerMessage(id=2, get_blob_args=pb.GetBlobArgs(blob_id=b"x"))
        ),
    ]
    for message in messages:
        decoded = agent_wire.decode_server(agent_wire.encode_server(message, codec), codec)
        assert decoded == message
    ended = agent_wire.decode_server(
        agent_wire.encode_server(messages[1], codec), codec
    ).interaction_update.turn_ended
    assert ended.HasField("output_tokens")  # an explicit 0 survives (optional field)


def test_json_turn_ended_usage_is_lifted_from_nested_usage() -> None:
    payload = json.dumps(
        {
            "interactionUpdate": {
                "turnEnded": {
                    "usage": {
                        "inputTokens": "1200",
                        "outputTokens": "34",
                        "cacheReadTokens": "1000",
                        "cacheWriteTokens": "7",
                        "reasoningTokens": "5",
                    }
                }
            }
        }
    ).encode()
    ended = agent_wire.decode_server(payload, "json").interaction_update.turn_ended
    assert (
        ended.input_tokens,
        ended.output_tokens,
        ended.cache_read_tokens,
        ended.cache_write_tokens,
        ended.reasoning_tokens,
    ) == (1200, 34, 1000, 7, 5)


def test_json_turn_ended_flat_usage_wins_over_nested() -> None:
    payload = json.dumps(
        {
            "interactionUpdate": {
                "turnEnded": {
                    "inputTokens": "10",
                    "usage": {"inputTokens": "99", "outputTokens": "3"},
                }
            }
        }
    ).encode()
    ended = agent_wire.decode_server(payload, "json").interaction_update.turn_ended
    assert (ended.input_tokens, ended.output_tokens) == (10, 3)


def test_json_decode_ignores_fields_newer_than_the_schema() -> None:
    payload = json.dumps({"interactionUpdate": {"textDelta": {"text": "hi", "newField": 1}}}).encode()
    assert agent_wire.decode_server(payload, "json").interaction_update.text_delta.text == "hi"
    payload = json.dumps({"ttftBreakdown": {"ms": "12"}}).encode()
    assert agent_wire.decode_server(payload, "json").WhichOneof("message") is None
