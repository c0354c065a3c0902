"""`aiserver.v1` RunInference messages (pure): building the run and the invocation, reading response
parts into domain events, classifying errors, and the fake's header check.

Field numbers are asserted against the 2026 sheet (§5.1-§5.3) with a schema-less reader, so a wrong
number in our own .proto cannot hide behind a symmetric encode/decode through the same generated code.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cursor_gateway.codec._gen.aiserver.v1 import inference_pb2 as pb
from cursor_gateway.domain.chat import (
    ChatRequest,
    ImagePart,
    Message,
    ModelChoice,
    TextDelta,
    ThinkingDelta,
    TurnEnded,
    Usage,
)
from cursor_gateway.domain.tokens import derive_checksum, derive_client_key
from cursor_gateway.emulator.behaviour import error_detail_b64
from cursor_gateway.emulator.inference_checks import ide_header_problems
from cursor_gateway.errors import (
    ModelNotAllowed,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamUnavailable,
    UpstreamVersionGate,
)
from cursor_gateway.upstream import inference_request as msgs
from cursor_gateway.upstream.checksum import checksum_header
from cursor_gateway.upstream.inference_errors import classify_invocation_end_error, classify_response_error
from cursor_gateway.upstream.inference_reader import EosStripper, InvocationReader, decode_server
from google.protobuf import empty_pb2
from google.protobuf.unknown_fields import UnknownFieldSet

MODEL = ModelChoice(
    cursor_id="claude-4.6-sonnet",
    client_id="claude-4.6-sonnet-max",
    max_mode=True,
    parameters=(("fast", "false"),),
)
EOS = "<" + "|eos|" + ">"


def wire(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) of the top-level fields, without any schema."""
    return [(f.field_number, f.wire_type, f.data) for f in UnknownFieldSet(empty_pb2.Empty.FromString(data))]


def fields(data: bytes, number: int) -> list[Any]:
    return [value for n, _, value in wire(data) if n == number]


def one(data: bytes, number: int) -> Any:
    found = fields(data, number)
    assert len(found) == 1, (number, wire(data))
    return found[0]


def chat(*messages: Message, max_tokens: int | None = None) -> ChatRequest:
    return ChatRequest(model=MODEL, messages=messages, conversation_id="conv-1", max_tokens=max_tokens)


CONVERSATION = (
    Message("system", "Be brief."),
    Message("system", "Answer in English."),
    Message("user", "Hi"),
    Message("assistant", "Hello!"),
    Message("user", "Describe this", images=(ImagePart("image/png", b"\x89PNG-bytes"),)),
)


# --- the run request -------------------------------------------------------------------------------------


def test_run_request_on_the_wire() -> None:
    plan = msgs.build_run(chat(*CONVERSATION), invocation_id="inv-1")
    outer = plan.run_request.SerializeToString()
    run = one(outer, 1)  # RunInferenceClientMessage.run_request
    assert wire(outer)[0][0] == 1
    assert one(run, 1) == b"conv-1"  # conversation_id
    assert one(run, 2) == b"conv-1"  # conversation_group_id
    assert one(run, 5) == b"agent"  # agent_mode
    requested = one(run, 3)
    assert one(requested, 1) == b"claude-4.6-sonnet"
    assert one(requested, 2) == 1  # max_mode
    parameter = one(requested, 3)
    assert (one(parameter, 1), one(parameter, 2)) == (b"fast", b"false")
    # The routing digest: user/assistant text only, roles USER=1, ASSISTANT=2.
    digest = [(one(m, 1), one(m, 2)) for m in fields(run, 4)]
    assert digest == [(1, b"Hi"), (2, b"Hello!"), (1, b"Describe this")]


def test_invoke_model_on_the_wire_has_a_real_system_role_and_the_full_history() -> None:
    plan = msgs.build_run(chat(*CONVERSATION, max_tokens=256), invocation_id="inv-1")
    outer = plan.invoke.SerializeToString()
    invoke = one(outer, 2)  # RunInferenceClientMessage.invoke_model
    assert one(invoke, 1) == b"inv-1"
    request = one(invoke, 2)
    assert one(request, 5) == b"claude-4.6-sonnet"  # model_id
    assert one(request, 6) == b"inv-1"  # invocation_id
    assert one(one(request, 7), 1) == b"claude-4.6-sonnet"  # requested_model.model_id
    assert one(request, 8) == b"conv-1"  # conversation_id
    assert one(request, 12) == b"conv-1"  # conversation_group_id
    assert one(one(request, 4), 1) == 256  # model_config.max_tokens
    assert fields(request, 2) == []  # no tools advertised

    messages = fields(request, 1)
    assert [one(m, 1) for m in messages] == [4, 1, 2, 1]  # SYSTEM, USER, ASSISTANT, USER
    assert one(messages[0], 2) == b"Be brief.\n\nAnswer in English."
    assert one(messages[1], 2) == b"Hi"
    assert one(messages[2], 2) == b"Hello!"
    latest = messages[3]
    assert fields(latest, 2) == []  # a message with images uses parts, not text
    text_part, image_part = fields(latest, 3)
    assert one(one(text_part, 1), 1) == b"Describe this"
    image = one(image_part, 2)
    assert one(image, 1) == base64.b64encode(b"\x89PNG-bytes")  # base64 text, not raw bytes
    assert one(image, 2) == b"image/png"


def test_no_system_text_means_no_system_message_and_no_model_config() -> None:
    plan = msgs.build_run(chat(Message("user", "only me")))
    request = plan.invoke.invoke_model.request
    assert [m.role for m in request.messages] == [pb.INFERENCE_MESSAGE_ROLE_USER]
    assert not request.HasField("model_config")
    assert plan.invocation_id and request.invocation_id == plan.invocation_id


def test_finish_and_cancel_field_numbers() -> None:
    assert wire(msgs.finish_run().SerializeToString()) == [(4, 2, b"")]
    cancel = msgs.cancel_invocation("inv-9").SerializeToString()
    assert one(one(cancel, 3), 1) == b"inv-9"


def test_server_message_numbers_decode() -> None:
    # invocation_response (3) { invocation_id 1, response 2 { text_part 1 { text 1, is_final 2 } } }
    text_part = b"\x0a\x02hi\x10\x01"
    response = b"\x0a" + bytes([len(text_part)]) + text_part
    inner = b"\x0a\x01x\x12" + bytes([len(response)]) + response
    message = decode_server(b"\x1a" + bytes([len(inner)]) + inner)
    assert message.WhichOneof("message") == "invocation_response"
    part = message.invocation_response.response.text_part
    assert (part.text, part.is_final) == ("hi", True)
    assert decode_server(b"\x0a\x00").WhichOneof("message") == "heartbeat"
    assert decode_server(b"\x12\x00").WhichOneof("message") == "run_ready"
    assert decode_server(b"\x22\x00").WhichOneof("message") == "invocation_end"


def test_response_arm_numbers() -> None:
    arms = {
        1: "text_part",
        2: "tool_call_part",
        3: "usage",
        4: "response_info",
        5: "extended_usage",
        8: "error",
        9: "thinking_part",
    }
    for number, arm in arms.items():
        decoded = pb.InferenceStreamResponse.FromString(bytes([number << 3 | 2, 0]))
        assert decoded.WhichOneof("part") == arm


# --- reading an invocation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([("Hello" + EOS, True)], "Hello"),
        ([("Hel", False), ("lo" + EOS, True)], "Hello"),
        ([("Hello<|e", False), ("os|>", True)], "Hello"),  # the marker split across parts
        ([("a < b", False), (" and <", False), ("| c", True)], "a < b and <| c"),  # look-alikes survive
        ([("x <|", False)], "x <|"),  # a held tail comes back at flush
        ([("mid" + EOS + "dle", True)], "mid" + EOS + "dle"),  # only a trailing marker is dropped
    ],
)
def test_eos_marker_is_stripped(parts: list[tuple[str, bool]], expected: str) -> None:
    strip = EosStripper()
    out = "".join(strip.feed(text, final=final) for text, final in parts) + strip.flush()
    assert out == expected


def response(**arm: Any) -> pb.InferenceStreamResponse:
    return pb.InferenceStreamResponse(**arm)


def test_reader_maps_parts_and_prefers_extended_usage() -> None:
    reader = InvocationReader()
    events = []
    events += reader.observe(response(thinking_part=pb.InferenceThinkingPart(text="hmm")))
    events += reader.observe(
        response(thinking_part=pb.InferenceThinkingPart(signature="opaque", is_final=True))
    )
    events += reader.observe(response(text_part=pb.InferenceTextPart(text="Hi")))
    events += reader.observe(response(text_part=pb.InferenceTextPart(text=" there" + EOS, is_final=True)))
    events += reader.observe(response(usage=pb.InferenceUsage(prompt_tokens=100, completion_tokens=2)))
    events += reader.observe(
        response(
            extended_usage=pb.InferenceExtendedUsage(
                input_tokens=60, output_tokens=2, cache_read_tokens=40, cache_write_tokens=5
            )
        )
    )
    events += reader.observe(
        response(tool_call_part=pb.InferenceToolCallPart(tool_name="x", is_complete=True))
    )
    events += reader.finish()
    assert events == [
        ThinkingDelta("hmm"),
        TextDelta("Hi"),
        TextDelta(" there"),
        TurnEnded(
            usage=Usage(input_tokens=60, output_tokens=2, cache_read_tokens=40, cache_write_tokens=5),
            finish_reason="stop",
        ),
    ]


def test_plain_usage_when_no_extended_usage() -> None:
    reader = InvocationReader()
    reader.observe(
        response(usage=pb.InferenceUsage(prompt_tokens=100, completion_tokens=2, total_tokens=102))
    )
    (ended,) = reader.finish()
    assert ended == TurnEnded(usage=Usage(input_tokens=100, output_tokens=2))
    (no_usage,) = InvocationReader().finish()
    assert no_usage == TurnEnded(usage=None)


def test_response_info_text_only_when_nothing_streamed() -> None:
    final = pb.InferenceResponseInfo(
        messages=[
            pb.InferenceCoreMessage(role=pb.INFERENCE_MESSAGE_ROLE_USER, text="question"),
            pb.InferenceCoreMessage(role=pb.INFERENCE_MESSAGE_ROLE_ASSISTANT, text="final answer" + EOS),
        ]
    )
    reader = InvocationReader()
    assert reader.observe(response(response_info=final)) == []
    assert reader.finish()[0] == TextDelta("final answer")

    streamed = InvocationReader()
    streamed.observe(response(text_part=pb.InferenceTextPart(text="final answer")))
    streamed.observe(response(response_info=final))
    assert [type(e) for e in streamed.finish()] == [TurnEnded]


def test_output_limit_after_content_ends_with_length() -> None:
    reader = InvocationReader()
    reader.observe(response(text_part=pb.InferenceTextPart(text="partial")))
    limit = pb.InferenceError(error_type=pb.INFERENCE_ERROR_TYPE_OUTPUT_TOKEN_LIMIT, message="max tokens")
    assert reader.observe(response(error=limit)) == []
    assert reader.finish()[-1] == TurnEnded(usage=None, finish_reason="length")


def test_output_limit_before_content_raises() -> None:
    limit = pb.InferenceError(is_output_token_limit_error=True, message="max tokens")
    with pytest.raises(UpstreamBadRequest) as info:
        InvocationReader().observe(response(error=limit))
    assert info.value.code == "output_limit_exceeded"


@pytest.mark.parametrize(
    ("error", "expected", "code"),
    [
        (pb.InferenceError(error_type=2, message="too long"), UpstreamBadRequest, "context_length_exceeded"),
        (pb.InferenceError(is_input_token_limit_error=True), UpstreamBadRequest, "context_length_exceeded"),
        (pb.InferenceError(error_type=3), UpstreamBadRequest, "output_limit_exceeded"),
        (pb.InferenceError(error_type=4, message="slow down"), UpstreamRateLimited, "rate_limit_exceeded"),
        (pb.InferenceError(error_type=5), UpstreamAuthError, "upstream_auth_failed"),
        (pb.InferenceError(error_type=6), ModelNotAllowed, "model_not_allowed"),
        (pb.InferenceError(error_type=7), UpstreamUnavailable, "upstream_overloaded"),
        (pb.InferenceError(error_type=8), UpstreamBadRequest, "content_filter"),
        (
            pb.InferenceError(code="failed_precondition", message="Update Required"),
            UpstreamVersionGate,
            "upstream_version_gate",
        ),
        (pb.InferenceError(code="unauthenticated", message="x"), UpstreamAuthError, "upstream_auth_failed"),
        (pb.InferenceError(message="something odd"), UpstreamError, "upstream_error"),
    ],
)
def test_response_error_classification(error: pb.InferenceError, expected: type, code: str) -> None:
    exc = classify_response_error(error)
    assert type(exc) is expected
    assert exc.code == code
    assert exc.message.startswith("Cursor")
    assert error.message in exc.message


def test_invocation_end_error_uses_error_details() -> None:
    detail = base64.b64decode(error_detail_b64(28, "Update Required", "Please update Cursor.", padded=True))
    gate = pb.RunInferenceInvocationError(
        code="resource_exhausted", message="Error", details=[detail, b"\xff"]
    )
    assert type(classify_invocation_end_error(gate)) is UpstreamVersionGate
    plain = pb.RunInferenceInvocationError(code="resource_exhausted", message="Rate limited")
    assert type(classify_invocation_end_error(plain)) is UpstreamRateLimited


# --- the fake's header check -----------------------------------------------------------------------------

NOW = 1_790_000_000.0
MACHINE, MAC = derive_checksum("tok")


def ide_headers(**changes: str | None) -> dict[str, str]:
    headers = {
        "x-cursor-client-type": "ide",
        "x-cursor-client-version": "3.21.12",
        "connect-protocol-version": "1",
        "x-client-key": derive_client_key("tok"),
        "x-cursor-checksum": checksum_header(MACHINE, MAC, now=NOW),
    }
    for key, value in changes.items():
        if value is None:
            headers.pop(key.replace("_", "-"), None)
        else:
            headers[key.replace("_", "-")] = value
    return headers


def test_ide_headers_pass() -> None:
    assert ide_header_problems(ide_headers(), now=NOW) == []
    standard = checksum_header(MACHINE, "", now=NOW, alphabet="standard")
    assert ide_header_problems(ide_headers(x_cursor_checksum=standard), now=NOW) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"x_cursor_client_type": "cli"}, "x-cursor-client-type"),
        ({"x_cursor_client_version": "cli-2026.09.18-9a7762b"}, "not an IDE version"),
        ({"x_client_key": None}, "x-client-key"),
        ({"x_cursor_checksum": None}, "x-cursor-checksum is missing"),
        ({"x_cursor_checksum": "!!!!!!!!" + MACHINE}, "does not decode"),
        ({"x_cursor_checksum": checksum_header(MACHINE, now=NOW - 86400)}, "expected about"),
        ({"x_cursor_checksum": checksum_header("abc", now=NOW)}, "not 64 hex"),
    ],
)
def test_ide_header_problems(changes: dict[str, str | None], problem: str) -> None:
    problems = ide_header_problems(ide_headers(**changes), now=NOW)
    assert len(problems) == 1
    assert problem in problems[0]
