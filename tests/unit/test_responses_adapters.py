"""/v1/responses adapters (pure): input items -> domain messages, and domain events -> output items and
semantic events (ordering, sequence numbers, incomplete and failed endings)."""

from __future__ import annotations

import pytest
from cursor_gateway.adapters.responses_request import ResponsesIn, check_parameters, domain_messages
from cursor_gateway.adapters.responses_response import ResponseWriter, echo_fields
from cursor_gateway.domain.chat import Message, TextDelta, ThinkingDelta, ToolCall, TurnEnded, Usage
from cursor_gateway.errors import InvalidRequest, UnsupportedParameter, UpstreamUnavailable

PNG = "data:image/png;base64,iVBORw0KGgo="


def test_items_become_one_assistant_turn_per_text_and_calls() -> None:
    items = [
        {"role": "developer", "content": "Use tools."},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "opaque"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Checking."}]},
        {"type": "function_call", "call_id": "c1", "name": "a", "arguments": "{}"},
        {"type": "function_call", "call_id": "c2", "name": "b", "arguments": {"x": 1}},
        {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "two"}]},
        {"type": "function_call_output", "call_id": "c1", "output": "one"},
    ]
    messages = domain_messages(items, "Be brief.")
    assert [m.role for m in messages] == ["system", "system", "user", "assistant", "tool", "tool"]
    assistant = messages[3]
    assert assistant.text == "Checking."
    assert [(c.id, c.name, c.arguments) for c in assistant.tool_calls] == [
        ("c1", "a", "{}"),
        ("c2", "b", '{"x": 1}'),
    ]
    assert messages[4] == Message("tool", "two", tool_call_id="c2", tool_name="b")
    assert messages[5].tool_name == "a" and messages[5].text == "one"


def test_images_and_the_errors_name_the_item() -> None:
    user = domain_messages([{"role": "user", "content": [{"type": "input_image", "image_url": PNG}]}], None)
    assert user[0].images[0].mime_type == "image/png"
    with pytest.raises(InvalidRequest) as not_user:
        domain_messages([{"role": "assistant", "content": [{"type": "input_image", "image_url": PNG}]}], None)
    assert not_user.value.param == "input[0].content[0]"
    with pytest.raises(UnsupportedParameter) as file_id:
        domain_messages([{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}], None)
    assert "file_id" in file_id.value.message
    # An item from the stored chain is blamed on previous_response_id, the new input keeps its own index.
    bad = [{"role": "user", "content": "x"}, {"type": "mcp_call"}]
    with pytest.raises(UnsupportedParameter) as chained:
        domain_messages(bad, None, history=2)
    assert chained.value.param == "previous_response_id.type"
    with pytest.raises(UnsupportedParameter) as fresh:
        domain_messages(bad, None, history=1)
    assert fresh.value.param == "input[0].type" and "mcp_call" in fresh.value.message


def test_parameter_table() -> None:
    body = ResponsesIn.model_validate(
        {
            "model": "m",
            "input": "x",
            "max_output_tokens": 10,
            "service_tier": "auto",
            "top_p": 1,
            "top_logprobs": 0,
        }
    )
    assert check_parameters(body) == ["max_output_tokens", "service_tier", "top_logprobs", "top_p"]
    for fields, param in (
        ({"conversation": "conv_1"}, "conversation"),
        ({"prompt": {"id": "pmpt_1"}}, "prompt"),
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"text": {"format": {"type": "json_object"}}}, "text.format"),
    ):
        with pytest.raises(UnsupportedParameter) as rejected:
            check_parameters(ResponsesIn.model_validate({"model": "m", "input": "x", **fields}))
        assert rejected.value.param == param


def writer() -> ResponseWriter:
    return ResponseWriter(model="m", echo=echo_fields(ResponsesIn(model="m", input="x")))


def test_events_follow_the_answer_order_and_number_themselves() -> None:
    w = writer()
    events = w.start()
    for event in (
        ThinkingDelta("hmm"),
        TextDelta("Hi"),
        TextDelta("!"),
        ToolCall("call_1", "f", '{"a":1}'),
        TurnEnded(Usage(input_tokens=3, output_tokens=4), "tool_calls"),
    ):
        events += w.event(event)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert [item["type"] for item in w.output] == ["reasoning", "message", "function_call"]
    assert w.output[1]["content"][0]["text"] == "Hi!"
    assert [e["output_index"] for e in events if e["type"] == "response.output_item.added"] == [0, 1, 2]
    final = events[-1]
    assert final["type"] == "response.completed"
    assert final["response"]["usage"]["total_tokens"] == 7 and "estimated" not in final["response"]["usage"]
    assert final["response"]["output"] == w.output


def test_a_length_stop_is_incomplete_and_a_late_failure_is_failed() -> None:
    w = writer()
    w.start()
    w.event(TextDelta("cut"))
    ended = w.event(TurnEnded(None, "length"))
    assert [e["type"] for e in ended][-1] == "response.incomplete"
    assert ended[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert ended[-1]["response"]["usage"]["estimated"] is True
    w = writer()
    w.start()
    w.event(TextDelta("part"))
    failed = w.fail(UpstreamUnavailable("reset"))
    assert [e["type"] for e in failed] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.failed",
    ]
    assert failed[-1]["response"]["status"] == "failed"
    assert failed[-1]["response"]["error"]["message"] == "reset"
    assert failed[-1]["response"]["output"][0]["content"][0]["text"] == "part"


def test_booleans_are_strict_like_chat() -> None:
    import pydantic
    from cursor_gateway.adapters.responses_request import ResponsesIn

    for field in ("stream", "store", "parallel_tool_calls", "background"):
        with pytest.raises(pydantic.ValidationError) as caught:
            ResponsesIn.model_validate_json(f'{{"model": "m", "input": "x", "{field}": "yes"}}')
        assert caught.value.errors()[0]["loc"] == (field,)
    assert ResponsesIn.model_validate_json('{"model": "m", "input": "x", "stream": true}').stream is True
