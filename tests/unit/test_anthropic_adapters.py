"""The Anthropic Messages adapters: request -> domain, domain events -> stream events / message (pure)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cursor_gateway.adapters.anthropic_request import (
    MessagesIn,
    check_parameters,
    thinking_requested,
    to_chat_request,
)
from cursor_gateway.adapters.anthropic_response import (
    EventWriter,
    error_body,
    error_type,
    message,
    thinking_signature,
)
from cursor_gateway.api.streaming import StreamDeadline
from cursor_gateway.domain.chat import (
    ChatRequest,
    ImagePart,
    Message,
    ModelChoice,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    Transcript,
    TurnEnded,
    Usage,
)
from cursor_gateway.errors import (
    AuthenticationFailed,
    Conflict,
    GatewayError,
    InvalidRequest,
    ModelNotAllowed,
    NoAvailableTokens,
    NotFound,
    PayloadTooLarge,
    UpstreamRateLimited,
    UpstreamUnavailable,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
MODEL = ModelChoice(cursor_id="claude-4.6-sonnet", client_id="claude-sonnet-4-6")


def convert(messages: list[dict[str, Any]], model: ModelChoice = MODEL, **body: Any) -> ChatRequest:
    return to_chat_request(
        MessagesIn(model="claude-sonnet-4-6", max_tokens=64, messages=messages, **body), model
    )


def png_block() -> dict[str, Any]:
    data = base64.b64encode(PNG).decode()
    return {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}


# --- request ----------------------------------------------------------------------------------------------


def test_system_string_or_blocks_with_cache_control_ignored() -> None:
    as_string = convert([{"role": "user", "content": "hi"}], system="Be brief.")
    blocks = [
        {"type": "text", "text": "You are a helper.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "Be brief."},
    ]
    as_blocks = convert([{"role": "user", "content": "hi"}], system=blocks)
    assert as_string.system_text == "Be brief."
    assert as_blocks.system_text == "You are a helper.\n\nBe brief."
    assert [m.role for m in as_blocks.messages] == ["system", "user"]


def test_text_blocks_thinking_history_and_unknown_fields() -> None:
    request = convert(
        [
            {
                "role": "user",
                "content": [{"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}}],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "sig-from-anywhere"},
                    {"type": "redacted_thinking", "data": "opaque"},
                    {"type": "text", "text": "b"},
                ],
            },
            {"role": "user", "content": [{"type": "text", "text": "c"}, {"type": "text", "text": "d"}]},
        ],
        metadata={"user_id": "u1"},
        some_future_field={"x": 1},
    )
    assert request.messages == (
        Message("user", "a"),
        Message("assistant", "b"),
        Message("user", "c\nd"),
    )


def test_tool_use_and_tool_result_become_domain_calls_and_results() -> None:
    request = convert(
        [
            {"role": "user", "content": "weather in Paris?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Let me look."},
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C", "is_error": False},
                    {"type": "text", "text": "and tomorrow?"},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "is_error": True,
                        "content": [{"type": "text", "text": "timeout"}, png_block()],
                    }
                ],
            },
        ],
        tools=[
            {
                "name": "get_weather",
                "description": "Weather by city",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
                "cache_control": {"type": "ephemeral"},
            }
        ],
        tool_choice={"type": "tool", "name": "get_weather"},
    )
    user, assistant, result, follow_up, error_result = request.messages
    assert user == Message("user", "weather in Paris?")
    assert assistant == Message(
        "assistant", "Let me look.", tool_calls=(ToolCall("toolu_1", "get_weather", '{"city": "Paris"}'),)
    )
    assert result == Message("tool", "18C", tool_call_id="toolu_1", tool_name="get_weather")
    assert follow_up == Message("user", "and tomorrow?")
    assert error_result.is_error and error_result.text == "timeout"
    assert error_result.images == (ImagePart("image/png", PNG),)
    assert [t.name for t in request.tools] == ["get_weather"]
    assert request.tools[0].parameters["properties"] == {"city": {"type": "string"}}
    assert request.tool_choice == "get_weather"


@pytest.mark.parametrize(
    ("choice", "expected"),
    [(None, "auto"), ({"type": "auto"}, "auto"), ({"type": "any"}, "required"), ({"type": "none"}, "none")],
)
def test_tool_choice_mapping(choice: dict[str, Any] | None, expected: str) -> None:
    tools = [{"name": "t", "input_schema": {"type": "object"}}]
    assert (
        convert([{"role": "user", "content": "x"}], tools=tools, tool_choice=choice).tool_choice == expected
    )


def test_images_base64_and_url() -> None:
    request = convert(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    png_block(),
                    {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
                ],
            }
        ]
    )
    assert request.messages[0].images == (
        ImagePart("image/png", PNG),
        ImagePart("", b"", url="https://example.com/cat.png"),
    )


@pytest.mark.parametrize(
    ("thinking", "expected"),
    [
        (None, None),
        ({"type": "enabled", "budget_tokens": 2048}, True),
        ({"type": "adaptive"}, True),
        ({"type": "disabled"}, False),
    ],
)
def test_thinking_flag(thinking: dict[str, Any] | None, expected: bool | None) -> None:
    body = MessagesIn(model="m", messages=[{"role": "user", "content": "x"}], thinking=thinking)
    assert thinking_requested(body) is expected
    assert convert([{"role": "user", "content": "x"}], thinking=thinking).thinking is expected


def test_ignored_parameters_are_listed() -> None:
    body = MessagesIn(
        model="m",
        max_tokens=10,
        messages=[{"role": "user", "content": "x"}],
        temperature=0.2,
        top_k=5,
        stop_sequences=["END"],
        anthropic_beta_thing=True,
    )
    assert check_parameters(body) == ["stop_sequences", "temperature", "top_k"]


def bad(messages: list[dict[str, Any]], **body: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        check_parameters(MessagesIn(model="m", messages=messages, **body))
        convert(messages, **body)
    assert info.value.status == 400
    return info.value


USER = [{"role": "user", "content": "x"}]


@pytest.mark.parametrize(
    ("messages", "body", "param"),
    [
        ([], {}, "messages"),
        ([{"role": "system", "content": "x"}], {}, "messages[0].role"),
        ([{"role": "assistant", "content": "x"}], {}, "messages"),
        ([{"role": "user", "content": [{"type": "document", "source": {}}]}], {}, "messages[0].content[0]"),
        (
            [{"role": "user", "content": [{"type": "image", "source": {"type": "file", "file_id": "f"}}]}],
            {},
            "messages[0].content[0].source",
        ),
        (
            [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": "!!"},
                        }
                    ],
                }
            ],
            {},
            "messages[0].content[0].source.data",
        ),
        (
            [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/tiff", "data": "AA=="},
                        }
                    ],
                }
            ],
            {},
            "messages[0].content[0].source.media_type",
        ),
        (
            [
                {
                    "role": "user",
                    "content": [{"type": "image", "source": {"type": "url", "url": "file:///etc"}}],
                }
            ],
            {},
            "messages[0].content[0].source.url",
        ),
        (
            [{"role": "user", "content": [{"type": "tool_result", "content": "x"}]}],
            {},
            "messages[0].content[0]",
        ),
        (
            [{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "n", "input": "x"}]}],
            {},
            "messages[0].content[0].input",
        ),
        (USER, {"system": [{"type": "image", "source": {}}]}, "system[0]"),
        (USER, {"thinking": {"type": "sometimes"}}, "thinking.type"),
        (USER, {"tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "tools[0]"),
        (USER, {"tools": [{"name": "bad name!", "input_schema": {"type": "object"}}]}, "tools[0].name"),
        (USER, {"tools": [{"name": "t", "input_schema": {"type": "array"}}]}, "tools[0].input_schema"),
        (
            USER,
            {"tools": [{"name": "t", "input_schema": {}}, {"name": "t", "input_schema": {}}]},
            "tools[1].name",
        ),
        (USER, {"tool_choice": {"type": "tool", "name": "missing"}}, "tool_choice.name"),
        (USER, {"tool_choice": {"type": "sometimes"}}, "tool_choice.type"),
        (USER, {"mcp_servers": [{"type": "url", "url": "https://x", "name": "x"}]}, "mcp_servers"),
    ],
)
def test_bad_requests_name_the_param(
    messages: list[dict[str, Any]], body: dict[str, Any], param: str
) -> None:
    assert bad(messages, **body).param == param


def test_images_refused_for_a_text_only_model() -> None:
    text_only = ModelChoice(cursor_id="m", client_id="m", supports_images=False)
    with pytest.raises(InvalidRequest, match="does not accept images"):
        convert([{"role": "user", "content": [png_block()]}], model=text_only)


# --- response ---------------------------------------------------------------------------------------------


def run(writer: EventWriter, events: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    out = list(writer.start(7))
    for event in events:
        out.extend(writer.event(event))
    return out


def test_stream_events_text_only() -> None:
    out = run(
        EventWriter(model="claude-sonnet-4-6"),
        [
            TextDelta("Hel"),
            TextDelta("lo"),
            TurnEnded(Usage(input_tokens=30, output_tokens=2, cache_read_tokens=10)),
        ],
    )
    assert [name for name, _ in out] == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = out[0][1]["message"]
    assert start["stop_reason"] is None and start["usage"]["input_tokens"] == 7 and start["content"] == []
    assert out[2][1] == {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    assert out[3][1]["delta"] == {"type": "text_delta", "text": "Hel"}
    final = out[6][1]
    assert final["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    # Anthropic counts cached input apart from input_tokens.
    assert final["usage"] == {
        "input_tokens": 20,
        "output_tokens": 2,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 10,
    }


def test_stream_thinking_then_text_with_signature() -> None:
    out = run(
        EventWriter(model="m", thinking=True),
        [ThinkingDelta("a"), ThinkingDelta("b"), TextDelta("answer"), TurnEnded()],
    )
    kinds = [
        (name, data.get("delta", {}).get("type") or data.get("content_block", {}).get("type"))
        for name, data in out
    ]
    assert kinds[2:9] == [
        ("content_block_start", "thinking"),
        ("content_block_delta", "thinking_delta"),
        ("content_block_delta", "thinking_delta"),
        ("content_block_delta", "signature_delta"),
        ("content_block_stop", None),
        ("content_block_start", "text"),
        ("content_block_delta", "text_delta"),
    ]
    assert out[5][1]["delta"]["signature"] == thinking_signature("ab")
    assert thinking_signature("ab").startswith("cgw1.") and thinking_signature("ab") != thinking_signature(
        "ba"
    )
    assert [data["index"] for name, data in out if name == "content_block_stop"] == [0, 1]


def test_thinking_is_dropped_unless_enabled() -> None:
    out = run(EventWriter(model="m"), [ThinkingDelta("secret"), TextDelta("answer"), TurnEnded()])
    assert "secret" not in json.dumps(out)
    assert [d["content_block"]["type"] for n, d in out if n == "content_block_start"] == ["text"]


def test_stream_tool_use_blocks_and_stop_reason() -> None:
    out = run(
        EventWriter(model="m"),
        [
            TextDelta("Checking."),
            ToolCall("toolu_1", "get_weather", '{"city":"Paris"}'),
            ToolCall("toolu_2", "get_time", ""),
            TurnEnded(finish_reason="tool_calls"),
        ],
    )
    starts = [d for n, d in out if n == "content_block_start"]
    assert [s["content_block"]["type"] for s in starts] == ["text", "tool_use", "tool_use"]
    assert starts[1]["content_block"] == {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "get_weather",
        "input": {},
    }
    deltas = [
        d["delta"] for n, d in out if n == "content_block_delta" and d["delta"]["type"] == "input_json_delta"
    ]
    assert deltas == [
        {"type": "input_json_delta", "partial_json": '{"city":"Paris"}'},
        {"type": "input_json_delta", "partial_json": "{}"},
    ]
    assert [d["index"] for n, d in out if n == "content_block_stop"] == [0, 1, 2]
    assert out[-2][1]["delta"]["stop_reason"] == "tool_use"


@pytest.mark.parametrize(
    ("finish", "calls", "expected"),
    [("stop", False, "end_turn"), ("length", False, "max_tokens"), ("stop", True, "tool_use")],
)
def test_stop_reasons(finish: str, calls: bool, expected: str) -> None:
    transcript = Transcript()
    transcript.add(TextDelta("x"))
    if calls:
        transcript.add(ToolCall("toolu_1", "t", "{}"))
    transcript.add(TurnEnded(finish_reason=finish))
    assert message(transcript, model="m", thinking=False)["stop_reason"] == expected


def test_non_stream_message() -> None:
    transcript = Transcript()
    for event in (
        ThinkingDelta("think "),
        ThinkingDelta("hard"),
        TextDelta("The answer"),
        ToolCall("toolu_9", "lookup", '{"q": "x"}'),
        TurnEnded(Usage(input_tokens=12, output_tokens=5, cache_write_tokens=2), finish_reason="tool_calls"),
    ):
        transcript.add(event)
    body = message(transcript, model="claude-sonnet-4-6", thinking=True)
    assert body["id"].startswith("msg_") and body["type"] == "message" and body["role"] == "assistant"
    assert body["content"] == [
        {"type": "thinking", "thinking": "think hard", "signature": thinking_signature("think hard")},
        {"type": "text", "text": "The answer"},
        {"type": "tool_use", "id": "toolu_9", "name": "lookup", "input": {"q": "x"}},
    ]
    assert body["stop_reason"] == "tool_use" and body["stop_sequence"] is None
    assert body["usage"] == {
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_creation_input_tokens": 2,
        "cache_read_input_tokens": 0,
    }
    without = message(transcript, model="m", thinking=False)
    assert [c["type"] for c in without["content"]] == ["text", "tool_use"]


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (InvalidRequest("x"), "invalid_request_error"),
        (AuthenticationFailed("x"), "authentication_error"),
        (ModelNotAllowed("x"), "permission_error"),
        (NotFound("x"), "not_found_error"),
        (PayloadTooLarge("x"), "request_too_large"),
        (UpstreamRateLimited("x"), "rate_limit_error"),
        (NoAvailableTokens("x"), "overloaded_error"),
        (NoAvailableTokens("x", status=429), "rate_limit_error"),
        (UpstreamUnavailable("x", code="upstream_overloaded"), "overloaded_error"),
        (StreamDeadline("x"), "timeout_error"),
        (Conflict("x"), "invalid_request_error"),
        (GatewayError("x"), "api_error"),
    ],
)
def test_error_types_use_anthropic_names(exc: GatewayError, expected: str) -> None:
    assert error_type(exc) == expected
    assert error_body(exc) == {"type": "error", "error": {"type": expected, "message": "x"}}
