"""OpenAI request -> domain `ChatRequest`, domain events -> OpenAI chunks/completions, and model
resolution (all pure)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cursor_gateway.adapters.openai_request import (
    ChatCompletionIn,
    check_parameters,
    conversation_id_for,
    to_chat_request,
)
from cursor_gateway.adapters.openai_response import ChunkWriter, completion, stream_error, usage_json
from cursor_gateway.domain.chat import (
    ChatEvent,
    ImagePart,
    Message,
    ModelChoice,
    Role,
    TextDelta,
    ThinkingDelta,
    Transcript,
    TurnEnded,
    Usage,
)
from cursor_gateway.domain.models import BUILTIN_MODELS, ModelInfo, resolve_model
from cursor_gateway.errors import InvalidRequest, UnsupportedParameter, UpstreamRateLimited

MODEL = ModelChoice(cursor_id="claude-4.6-sonnet", client_id="claude-4.6-sonnet")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(64))


def body(**fields: Any) -> ChatCompletionIn:
    fields.setdefault("model", "claude-4.6-sonnet")
    fields.setdefault("messages", [{"role": "user", "content": "hi"}])
    return ChatCompletionIn.model_validate(fields)


def convert(messages: list[dict[str, Any]], model: ModelChoice = MODEL, **fields: Any) -> tuple[Message, ...]:
    return to_chat_request(body(messages=messages, **fields), model).messages


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def image_message(url: object, role: str = "user") -> dict[str, Any]:
    parts = [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": url}]
    return {"role": role, "content": parts}


# --- messages --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("system", "system"),
        ("developer", "system"),
        ("user", "user"),
        ("human", "user"),
        ("assistant", "assistant"),
        ("ai", "assistant"),
        ("Human", "user"),
        ("AI", "assistant"),
    ],
)
def test_role_aliases(role: str, expected: str) -> None:
    messages = convert([{"role": role, "content": "x"}, {"role": "user", "content": "q"}])
    assert messages[0].role == expected


def test_unknown_role_is_400_naming_the_message() -> None:
    with pytest.raises(InvalidRequest) as info:
        convert([{"role": "user", "content": "q"}, {"role": "function", "content": "x"}])
    assert info.value.status == 400
    assert info.value.param == "messages[1].role"


def test_content_string_parts_and_null() -> None:
    messages = convert(
        [
            {
                "role": "system",
                "content": [{"type": "text", "text": "a"}, {"type": "input_text", "text": "b"}],
            },
            {"role": "user", "content": "plain"},
            {"role": "assistant", "content": None},
            {"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]},
        ]
    )
    assert [(m.role, m.text) for m in messages] == [
        ("system", "a\nb"),
        ("user", "plain"),
        ("assistant", ""),
        ("user", "one\ntwo"),
    ]
    assert all(m.images == () for m in messages)


def test_unknown_content_part_is_400() -> None:
    with pytest.raises(InvalidRequest) as info:
        convert([{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}])
    assert info.value.param == "messages[0].content"
    assert "input_audio" in info.value.message


@pytest.mark.parametrize("as_object", [True, False])
def test_base64_data_url_image_is_decoded(as_object: bool) -> None:
    url = data_url(PNG)
    messages = convert([image_message({"url": url, "detail": "high"} if as_object else url)])
    assert messages[0].text == "look"
    assert messages[0].images == (ImagePart("image/png", PNG),)


def test_jpg_mime_is_normalised() -> None:
    messages = convert([image_message({"url": data_url(b"\xff\xd8\xff", "image/jpg")})])
    assert messages[0].images == (ImagePart("image/jpeg", b"\xff\xd8\xff"),)


@pytest.mark.parametrize("url", ["https://example.com/cat.png", "http://127.0.0.1/cat.png"])
def test_http_image_url_is_left_for_the_guarded_fetch(url: str) -> None:
    # The pure adapter only marks it; services.images fetches or refuses it (vision_ability, SSRF guard).
    messages = convert([image_message({"url": url})])
    assert messages[0].images == (ImagePart("", b"", url=url),)


@pytest.mark.parametrize("url", ["ftp://example.com/cat.png", "file:///etc/passwd", "cat.png"])
def test_other_image_url_schemes_are_400(url: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        convert([image_message({"url": url})])
    assert info.value.status == 400
    assert info.value.code == "image_url_not_allowed"
    assert info.value.param == "messages[0].content"


@pytest.mark.parametrize(
    "url",
    [
        "data:image/png;base64,!!!not-base64!!!",
        "data:image/png;base64,iVBORw0KGgo",  # truncated: bad padding
        "data:image/png," + base64.b64encode(PNG).decode(),  # not marked base64
        data_url(b"hello", "text/plain"),
    ],
)
def test_bad_image_data_is_400(url: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        convert([image_message({"url": url})])
    assert info.value.status == 400
    assert info.value.param == "messages[0].content"


def test_images_only_in_user_messages_and_only_for_image_models() -> None:
    with pytest.raises(InvalidRequest):
        convert([{"role": "user", "content": "q"}, image_message({"url": data_url(PNG)}, role="assistant")])
    text_only = ModelChoice(cursor_id="m", client_id="m", supports_images=False)
    with pytest.raises(InvalidRequest) as info:
        convert([image_message({"url": data_url(PNG)})], model=text_only)
    assert "'m'" in info.value.message


def test_empty_messages_is_400() -> None:
    with pytest.raises(InvalidRequest) as info:
        convert([])
    assert info.value.status == 400
    assert info.value.param == "messages"


def test_messages_without_a_user_turn_is_400() -> None:
    with pytest.raises(InvalidRequest) as info:
        convert([{"role": "system", "content": "s"}])
    assert info.value.param == "messages"


def test_request_fields_carry_through() -> None:
    request = to_chat_request(body(stream=True), MODEL, request_id="req-1")
    assert request.stream is True
    assert request.request_id == "req-1"
    assert request.model is MODEL


# --- parameters ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"audio": {"voice": "alloy"}}, "audio"),
        ({"functions": [{"name": "f"}]}, "functions"),
        ({"function_call": "auto"}, "function_call"),
    ],
)
def test_rejected_parameters_name_the_param(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(UnsupportedParameter) as info:
        check_parameters(body(**fields))
    assert info.value.param == param
    assert info.value.status == 400
    assert info.value.code == "unsupported_parameter"
    assert info.value.error_type == "invalid_request_error"


def test_harmless_values_of_rejectable_parameters_pass() -> None:
    assert check_parameters(body(n=1, logprobs=False, modalities=["text"], tools=[])) == []


def test_ignored_parameters_are_returned_sorted() -> None:
    ignored = check_parameters(
        body(temperature=0.2, top_p=0.9, max_tokens=10, seed=1, some_future_param=1, stop=None)
    )
    assert ignored == ["max_tokens", "seed", "temperature", "top_p"]


# --- conversation id -------------------------------------------------------------------------------------


def conv(*messages: tuple[Role, str], hint: str | None = None) -> str:
    return conversation_id_for(tuple(Message(role, text) for role, text in messages), hint)


def test_conversation_id_is_stable_across_turns() -> None:
    first = conv(("system", "S"), ("user", "Q1"))
    later = conv(("system", "S"), ("user", "Q1"), ("assistant", "A1"), ("user", "Q2"))
    assert first == later
    assert len(first) == 36  # a UUID


def test_conversation_id_differs_with_system_or_first_user() -> None:
    base = conv(("system", "S"), ("user", "Q1"))
    assert conv(("system", "other"), ("user", "Q1")) != base
    assert conv(("system", "S"), ("user", "Q2")) != base
    assert conv(("user", "Q1")) != base
    # the separator keeps "S" + "Q1" apart from "SQ" + "1"
    assert conv(("system", "SQ"), ("user", "1")) != base


def test_conversation_id_explicit_hint_and_user_field() -> None:
    pinned = conv(("user", "Q1"), hint="thread-7")
    assert pinned == conv(("user", "something else"), hint="thread-7")
    assert pinned != conv(("user", "Q1"))
    via_user = to_chat_request(body(user="thread-7", messages=[{"role": "user", "content": "x"}]), MODEL)
    assert via_user.conversation_id == pinned
    via_header = to_chat_request(body(user="ignored"), MODEL, conversation_hint="thread-7")
    assert via_header.conversation_id == pinned


# --- ChunkWriter -----------------------------------------------------------------------------------------


def run_writer(writer: ChunkWriter, events: list[ChatEvent]) -> list[dict[str, Any]]:
    chunks = [chunk for event in events for chunk in writer.event(event)]
    for chunk in chunks:
        json.dumps(chunk)  # every chunk is plain JSON
    return chunks


def deltas(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c["choices"][0]["delta"] for c in chunks if c["choices"]]


def content_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(d.get("content", "") for d in deltas(chunks))


UPSTREAM_USAGE = Usage(input_tokens=100, output_tokens=7, cache_read_tokens=60, reasoning_tokens=3)
EVENTS: list[ChatEvent] = [
    ThinkingDelta("hm"),
    ThinkingDelta("m."),
    TextDelta("Hello"),
    TextDelta(" there"),
    TurnEnded(usage=UPSTREAM_USAGE),
]


def test_chunks_role_first_model_everywhere_and_finish() -> None:
    writer = ChunkWriter(model="my-model")
    chunks = run_writer(writer, EVENTS)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert sum("role" in d for d in deltas(chunks)) == 1
    assert {c["model"] for c in chunks} == {"my-model"}
    assert {c["id"] for c in chunks} == {writer.id}
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert all(c["created"] == writer.created for c in chunks)
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None] * (len(chunks) - 1) + ["stop"]
    assert chunks[-1]["choices"][0]["delta"] == {}
    assert all("usage" not in c for c in chunks)  # no include_usage: no usage key at all


def test_thinking_as_reasoning_content() -> None:
    chunks = run_writer(ChunkWriter(model="m"), EVENTS)
    assert [d.get("reasoning_content") for d in deltas(chunks) if "reasoning_content" in d] == ["hm", "m."]
    assert content_of(chunks) == "Hello there"


def test_thinking_as_think_tags_closed_before_text() -> None:
    chunks = run_writer(ChunkWriter(model="m", thinking_output="think_tags"), EVENTS)
    assert content_of(chunks) == "<think>hmm.</think>Hello there"
    assert not any("reasoning_content" in d for d in deltas(chunks))


def test_think_tag_closed_at_the_end_when_no_text_follows() -> None:
    chunks = run_writer(
        ChunkWriter(model="m", thinking_output="think_tags", thinking_tag="reasoning"),
        [ThinkingDelta("only thoughts"), TurnEnded()],
    )
    assert content_of(chunks) == "<reasoning>only thoughts</reasoning>"
    # the closing tag comes before the finish chunk
    assert chunks[-2]["choices"][0]["delta"] == {"content": "</reasoning>"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_no_think_tags_without_thinking() -> None:
    chunks = run_writer(ChunkWriter(model="m", thinking_output="think_tags"), [TextDelta("hi"), TurnEnded()])
    assert content_of(chunks) == "hi"


def test_usage_chunk_only_with_include_usage() -> None:
    chunks = run_writer(ChunkWriter(model="m", include_usage=True), EVENTS)
    assert all(c["usage"] is None for c in chunks[:-1])
    last = chunks[-1]
    assert last["choices"] == []
    assert last["model"] == "m"
    assert last["usage"] == {
        "prompt_tokens": 100,
        "completion_tokens": 7,
        "total_tokens": 107,
        "prompt_tokens_details": {"cached_tokens": 60},
        "completion_tokens_details": {"reasoning_tokens": 3},
    }
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    ("usage", "source"),
    [
        (None, "estimate"),
        (Usage(5, 2, source="checkpoint"), "checkpoint"),
        (Usage(5, 2, source="estimate"), "estimate"),
    ],
)
def test_non_upstream_usage_is_marked_estimated(usage: Usage | None, source: str) -> None:
    chunks = run_writer(ChunkWriter(model="m", include_usage=True), [TextDelta("x"), TurnEnded(usage=usage)])
    reported = chunks[-1]["usage"]
    assert reported["estimated"] is True
    assert reported["usage_source"] == source
    assert "estimated" not in usage_json(UPSTREAM_USAGE)


def test_finish_reason_comes_from_the_event() -> None:
    chunks = run_writer(ChunkWriter(model="m"), [TextDelta("x"), TurnEnded(finish_reason="length")])
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_stream_error_shape() -> None:
    error = stream_error(UpstreamRateLimited("Cursor: slow down"))
    assert error == {
        "error": {
            "message": "Cursor: slow down",
            "type": "rate_limit_error",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }


# --- completion ------------------------------------------------------------------------------------------


def transcript_of(events: list[ChatEvent]) -> Transcript:
    transcript = Transcript()
    for event in events:
        transcript.add(event)
    return transcript


def test_completion_shape_with_reasoning_content() -> None:
    result = completion(
        transcript_of(EVENTS), model="my-model", thinking_output="reasoning_content", thinking_tag="think"
    )
    assert result["object"] == "chat.completion"
    assert result["id"].startswith("chatcmpl-")
    assert result["model"] == "my-model"
    assert isinstance(result["created"], int)
    assert result["choices"] == [
        {
            "index": 0,
            "logprobs": None,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": "Hello there", "reasoning_content": "hmm."},
        }
    ]
    assert result["usage"]["total_tokens"] == 107
    assert "estimated" not in result["usage"]


def test_completion_with_think_tags_and_no_usage() -> None:
    result = completion(
        transcript_of([ThinkingDelta("t"), TextDelta("answer")]),
        model="m",
        thinking_output="think_tags",
        thinking_tag="think",
    )
    assert result["choices"][0]["message"] == {"role": "assistant", "content": "<think>t</think>answer"}
    assert result["choices"][0]["finish_reason"] == "stop"
    assert result["usage"]["estimated"] is True


def test_completion_without_thinking_has_no_reasoning_key() -> None:
    result = completion(
        transcript_of([TextDelta("a"), TurnEnded()]),
        model="m",
        thinking_output="reasoning_content",
        thinking_tag="think",
    )
    assert result["choices"][0]["message"] == {"role": "assistant", "content": "a"}


# --- resolve_model ---------------------------------------------------------------------------------------

CATALOG = {m.id: m for m in BUILTIN_MODELS}


@pytest.mark.parametrize("name", ["auto", "cursor-auto", "default"])
def test_auto_resolves_to_default(name: str) -> None:
    choice = resolve_model(name, CATALOG)
    assert choice.cursor_id == "default"
    assert choice.client_id == name
    assert choice.max_mode is False


def test_known_model_keeps_catalog_flags() -> None:
    choice = resolve_model("claude-4.6-sonnet-thinking", CATALOG)
    assert choice.cursor_id == "claude-4.6-sonnet-thinking"
    assert choice.max_mode is False
    assert choice.supports_thinking is True


def test_max_suffix_selects_max_mode_on_a_capable_base() -> None:
    choice = resolve_model("claude-4.6-sonnet-max", CATALOG)
    assert choice.cursor_id == "claude-4.6-sonnet"
    assert choice.client_id == "claude-4.6-sonnet-max"
    assert choice.max_mode is True


def test_max_suffix_on_a_base_without_max_mode_passes_through() -> None:
    choice = resolve_model("composer-2.5-max", CATALOG)
    assert choice.cursor_id == "composer-2.5-max"
    assert choice.max_mode is False


def test_max_only_model_is_always_max() -> None:
    catalog = {"big": ModelInfo("big", supports_max_mode=True, max_only=True)}
    assert resolve_model("big", catalog).max_mode is True


def test_unknown_model_passes_through() -> None:
    choice = resolve_model("brand-new-model-thinking", CATALOG)
    assert choice.cursor_id == choice.client_id == "brand-new-model-thinking"
    assert choice.max_mode is False
    assert choice.supports_thinking is True
    assert resolve_model("brand-new-model", CATALOG).supports_thinking is False
