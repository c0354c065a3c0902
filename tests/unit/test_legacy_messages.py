"""`StreamUnifiedChatWithTools` request building and stream decoding (pure).

The request is checked byte for byte against the fact sheet's worked example (§4.7, written out from the
sheet's listing in tests/legacy_example.py, not from our generated code) and field by field with a schema-less reader, so a
wrong number in our .proto cannot hide behind a symmetric encode/decode. Decoding is checked on the real
capture and the synthetic unified capture (shared/testdata).
"""

from __future__ import annotations

import struct
import uuid
from itertools import count
from typing import Any

import pytest
from cursor_gateway.codec._gen.aiserver.v1 import legacy_chat_pb2 as pb
from cursor_gateway.codec.envelope import EnvelopeDecoder, encode_envelope
from cursor_gateway.domain.chat import ChatRequest, ImagePart, Message, ModelChoice, TextDelta, ThinkingDelta
from cursor_gateway.upstream import legacy_messages as msgs
from google.protobuf import empty_pb2
from google.protobuf.message import DecodeError
from google.protobuf.unknown_fields import UnknownFieldSet
from legacy_example import BUBBLE, CONVERSATION, MODEL, SYSTEM, USER, WORKED_EXAMPLE
from testdata import read_fixture

SONNET = ModelChoice(cursor_id=MODEL, client_id=MODEL)
THINKING = ModelChoice(cursor_id="claude-4-sonnet-thinking", client_id="x", supports_thinking=True)


def wire(data: bytes) -> list[tuple[int, int, Any]]:
    return [(f.field_number, f.wire_type, f.data) for f in UnknownFieldSet(empty_pb2.Empty.FromString(data))]


def fields(data: bytes) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for number, _, value in wire(data):
        out.setdefault(number, []).append(value)
    return out


def chat(*messages: Message, model: ModelChoice = SONNET) -> ChatRequest:
    return ChatRequest(model=model, messages=messages, conversation_id="conv")


def build(request: ChatRequest, first_image_id: int = 300) -> pb.StreamUnifiedChatRequest:
    ids = count(1)
    message = msgs.build_request(
        request,
        conversation_id=CONVERSATION,
        new_id=lambda: f"id-{next(ids)}",
        first_image_id=first_image_id,
    )
    return message.stream_unified_chat_request


def inner_bytes(request: ChatRequest, **kwargs: Any) -> bytes:
    return build(request, **kwargs).SerializeToString()


# --- the request ----------------------------------------------------------------------------------------


def test_worked_example_is_byte_exact() -> None:
    request = chat(Message("system", SYSTEM), Message("user", USER))
    message = msgs.build_request(request, conversation_id=CONVERSATION, new_id=lambda: BUBBLE)
    frame = encode_envelope(msgs.encode_request(message), compress=True)
    assert frame.hex() == WORKED_EXAMPLE.hex()
    assert len(frame) == 5 + 232


def test_top_level_is_field_one_of_the_wrapper() -> None:
    data = msgs.encode_request(msgs.build_request(chat(Message("user", "hi"))))
    ((number, wire_type, _),) = wire(data)
    assert (number, wire_type) == (1, 2)


def test_thinking_model_asks_for_high_thinking_and_max_mode_is_sent() -> None:
    model = ModelChoice(cursor_id="gpt-5.2", client_id="gpt-5.2-max", max_mode=True, supports_thinking=True)
    top = fields(inner_bytes(chat(Message("user", "hi"), model=model)))
    assert top[49] == [2]  # thinking_level HIGH
    details = fields(top[5][0])
    assert details[1] == [b"gpt-5.2"]
    assert details[8] == [1]  # max_mode true
    assert details[4] == [b""]  # azure_state present and empty
    assert 35 not in top and 8 not in top  # long context and web search stay unset


def test_blank_system_text_sends_no_explicit_context() -> None:
    top = fields(inner_bytes(chat(Message("system", "  \n"), Message("user", "hi"))))
    assert 3 not in top
    top = fields(inner_bytes(chat(Message("system", "A"), Message("system", "B"), Message("user", "hi"))))
    assert fields(top[3][0])[1] == [b"A\n\nB"]


def test_turns_get_bubble_ids_headers_and_server_ids_for_assistant_turns() -> None:
    request = build(
        chat(Message("user", "one"), Message("assistant", "two"), Message("user", "three"), model=THINKING)
    )
    conversation = list(request.conversation)
    assert [(m.text, m.type) for m in conversation] == [("one", 1), ("two", 2), ("three", 1)]
    assert [m.bubble_id for m in conversation] == ["id-1", "id-2", "id-4"]
    assert conversation[1].server_bubble_id == "id-3"
    assert not conversation[0].HasField("server_bubble_id")
    assert all(m.unified_mode == 1 for m in conversation)
    headers = [(h.bubble_id, h.server_bubble_id, h.type) for h in request.full_conversation_headers_only]
    assert headers == [("id-1", "", 1), ("id-2", "id-3", 2), ("id-4", "", 1)]
    assert request.full_conversation_headers_only[1].HasField("server_bubble_id")
    assert request.conversation_id == CONVERSATION


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ((), [("", 1)]),
        ((Message("system", "only a system prompt"),), [("", 1)]),
        ((Message("assistant", "a"), Message("user", "u")), [("", 1), ("a", 2), ("u", 1)]),
        ((Message("user", "u"), Message("assistant", "a")), [("u", 1), ("a", 2), ("", 1)]),
        ((Message("user", "u1"), Message("user", "u2")), [("u1", 1), ("u2", 1)]),  # not merged
    ],
)
def test_conversation_starts_and_ends_with_a_human_turn(
    messages: tuple[Message, ...], expected: list[tuple[str, int]]
) -> None:
    request = build(chat(*messages))
    assert [(m.text, m.type) for m in request.conversation] == expected
    assert len(request.full_conversation_headers_only) == len(expected)


def test_empty_conversation_message_is_marked_not_a_capability_iteration() -> None:
    (message,) = build(chat()).conversation
    assert message.HasField("is_capability_iteration")
    assert message.is_capability_iteration is False
    (message,) = build(chat(Message("user", "hi"))).conversation
    assert not message.HasField("is_capability_iteration")


def png(width: int, height: int) -> bytes:
    return (
        b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + struct.pack(">II", width, height) + b"\x08\x06\0\0\0"
    )


def test_images_are_raw_bytes_with_dimensions_and_counter_ids() -> None:
    first, second, third = png(640, 480), png(3, 2), b"GIF89a" + struct.pack("<HH", 7, 9)
    request = chat(
        Message("user", "look", images=(ImagePart("image/png", first), ImagePart("image/png", second))),
        Message("assistant", "ok", images=(ImagePart("image/png", first),)),  # assistant images are dropped
        Message("user", "and this", images=(ImagePart("image/gif", third),)),
    )
    data = inner_bytes(request, first_image_id=256)
    conversation = [fields(m) for m in fields(data)[1]]
    images = [[fields(i) for i in m.get(10, [])] for m in conversation]
    assert [len(i) for i in images] == [2, 0, 1]
    assert images[0][0][1] == [first]  # field 1: raw bytes, not base64
    assert images[0][0][3] == [b"256"] and images[0][1][3] == [b"257"] and images[2][0][3] == [b"258"]
    assert fields(images[0][0][2][0]) == {1: [640], 2: [480]}
    assert fields(images[2][0][2][0]) == {1: [7], 2: [9]}


def test_images_are_left_out_for_a_model_without_image_support() -> None:
    model = ModelChoice(cursor_id="text-only", client_id="text-only", supports_images=False)
    request = build(chat(Message("user", "look", images=(ImagePart("image/png", png(1, 1)),)), model=model))
    assert list(request.conversation[0].images) == []


def test_image_counter_starts_in_the_reference_range() -> None:
    assert all(256 <= msgs.image_counter_start() < 384 for _ in range(50))


def test_conversation_id_is_fresh_per_request_by_default() -> None:
    ids = {
        msgs.build_request(chat(Message("user", "hi"))).stream_unified_chat_request.conversation_id
        for _ in "ab"
    }
    assert len(ids) == 2
    assert all(uuid.UUID(i).version == 4 for i in ids)


@pytest.mark.parametrize(
    ("data", "size"),
    [
        (png(1920, 1080), (1920, 1080)),
        (b"GIF87a" + struct.pack("<HH", 16, 32), (16, 32)),
        # JPEG: SOI, an APP0 segment, then SOF0 with height 200, width 300
        (
            b"\xff\xd8" + b"\xff\xe0\x00\x04ab" + b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", 200, 300),
            (300, 200),
        ),
        (
            b"RIFF\0\0\0\0WEBPVP8X" + b"\0" * 8 + (99).to_bytes(3, "little") + (49).to_bytes(3, "little"),
            (100, 50),
        ),
        (b"RIFF\0\0\0\0WEBPVP8L" + b"\0" * 4 + b"\x2f" + ((9) | (4 << 14)).to_bytes(4, "little"), (10, 5)),
        (b"not an image", None),
        (b"\xff\xd8\x00", None),
    ],
)
def test_image_dimensions(data: bytes, size: tuple[int, int] | None) -> None:
    assert msgs.image_dimensions(data) == size


# --- reading the stream ---------------------------------------------------------------------------------


def wrapped(inner: pb.StreamUnifiedChatResponse) -> bytes:
    return pb.StreamUnifiedChatResponseWithTools(stream_unified_chat_response=inner).SerializeToString()


def test_unified_text_and_thinking_in_one_frame_keep_both() -> None:
    payload = wrapped(pb.StreamUnifiedChatResponse(text="answer", thinking=pb.ThinkingChunk(text="hmm")))
    piece = msgs.decode_payload(payload)
    assert piece.form == "unified"
    assert piece.events() == [ThinkingDelta("hmm"), TextDelta("answer")]


def test_filled_prompt_is_never_text() -> None:
    piece = msgs.decode_payload(wrapped(pb.StreamUnifiedChatResponse(filled_prompt="<|BEGIN_SYSTEM|>...")))
    assert piece.filled_prompt == "<|BEGIN_SYSTEM|>..."
    assert piece.events() == []


def test_stream_start_is_ignored_not_read_as_bare_text() -> None:
    payload = pb.StreamUnifiedChatResponseWithTools(
        stream_start=pb.StreamStart(padding="pad")
    ).SerializeToString()
    assert msgs.decode_payload(payload).form == "ignored"
    assert msgs.decode_payload(payload).events() == []


def test_short_bare_text_that_parses_as_an_empty_tool_call_falls_back() -> None:
    payload = pb.StreamChatResponse(text="hi").SerializeToString()  # 0a 02 68 69: a valid empty tool call
    assert pb.StreamUnifiedChatResponseWithTools.FromString(payload).WhichOneof("response") == (
        "client_side_tool_v2_call"
    )
    piece = msgs.decode_payload(payload)
    assert (piece.form, piece.events()) == ("bare", [TextDelta("hi")])


def test_a_real_tool_call_gives_no_text() -> None:
    call = pb.ClientSideToolV2Call(tool=19, tool_call_id="call-1", name="mcp", raw_args='{"a": 1}')
    payload = pb.StreamUnifiedChatResponseWithTools(client_side_tool_v2_call=call).SerializeToString()
    assert msgs.decode_payload(payload).events() == []


def bare(text: str) -> bytes:
    return pb.StreamChatResponse(text=text).SerializeToString()


def test_reader_remembers_the_form_of_the_stream() -> None:
    # "px" is 0a 02 70 78: a tool call with is_streaming (14) set, so on its own it reads as a tool call.
    assert pb.StreamUnifiedChatResponseWithTools.FromString(bare("px")).client_side_tool_v2_call.is_streaming
    assert msgs.decode_payload(bare("px")).events() == []

    in_bare_stream = msgs.PayloadReader()
    assert in_bare_stream.read(bare("我是")).events() == [TextDelta("我是")]  # not a parseable wrapper
    assert in_bare_stream.form == "bare"
    assert in_bare_stream.read(bare("px")).events() == [TextDelta("px")]

    in_unified_stream = msgs.PayloadReader()
    assert in_unified_stream.read(wrapped(pb.StreamUnifiedChatResponse(text="a"))).events() == [
        TextDelta("a")
    ]
    assert in_unified_stream.form == "unified"
    assert in_unified_stream.read(bare("hi")).events() == []  # an empty tool call here, not text


def test_empty_payload_and_garbage() -> None:
    assert msgs.decode_payload(b"").form == "ignored"
    with pytest.raises(DecodeError):
        msgs.decode_payload(b"\x0f\x01")  # wire type 7 exists in neither reading


@pytest.mark.parametrize(
    ("name", "form"),
    [("cursor-stream-capture.bin", "bare"), ("cursor-stream-capture.synthetic-unified.bin", "unified")],
)
def test_captures_decode_to_the_expected_text(name: str, form: str) -> None:
    frames = EnvelopeDecoder().feed(read_fixture(name))
    pieces = [msgs.decode_payload(f.payload) for f in frames if not f.end_stream]
    events = [e for p in pieces for e in p.events()]
    assert all(isinstance(e, TextDelta) for e in events)
    assert len(events) == 39
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text.encode() == read_fixture("cursor-stream-capture.expected.txt")
    assert pieces[0].filled_prompt is not None and len(pieces[0].filled_prompt.encode()) == 2403
    assert {p.form for p in pieces[2:]} == {form}
