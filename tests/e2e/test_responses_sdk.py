"""`/v1/responses` end to end with the real `openai` SDK: SDK -> gateway (uvicorn, real socket) -> fake
Cursor (HTTP/2). Plain and streamed, sync and async, the SDK's own stream accumulator (which checks event
identity and order), a function-tool round trip, and `previous_response_id` continuation with GET/DELETE
of stored responses."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from cursor_gateway.codec._gen.aiserver.v1 import inference_pb2 as ipb
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.storage.responses import InMemoryResponseStore
from harness import (
    ADMIN,
    SHARED,
    gateway_settings,
    make_services,
    running_fake,
    running_gateway,
    session_record,
)
from image_server import PNG

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
    },
}
CALL = {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}
RESULT = "18C and sunny"
MODEL = "claude-4.6-sonnet"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeCursor]:
    with running_fake(Behaviour(tool_call=CALL)) as server:
        yield server


@pytest.fixture(scope="module", params=["agent", "inference"])
def profile(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def gateway(fake: FakeCursor, profile: str) -> Iterator[str]:
    settings = gateway_settings(fake, cursor_protocol=profile)
    services = make_services(settings, [session_record("alpha")], response_store=InMemoryResponseStore())
    with running_gateway(settings, services) as url:
        yield url


def client(url: str, key: str = ADMIN) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0)


def role_names(fake: FakeCursor) -> list[str]:
    """Roles of the last RunInference request (the inference profile sends the whole history)."""
    messages = fake.runs[-1].request.messages
    return [ipb.InferenceMessageRole.Name(m.role).removeprefix("INFERENCE_MESSAGE_ROLE_") for m in messages]


# --- plain and streamed ----------------------------------------------------------------------------------


def test_plain_response(gateway: str) -> None:
    answer = client(gateway).responses.create(model=MODEL, input="hello there", instructions="Be brief.")
    assert answer.object == "response" and answer.id.startswith("resp_")
    assert answer.status == "completed"
    assert answer.output_text == "Echo: hello there"
    assert [item.type for item in answer.output] == ["message"]
    assert answer.output[0].role == "assistant" and answer.output[0].status == "completed"
    assert answer.usage is not None and answer.usage.output_tokens > 0 and answer.usage.input_tokens > 0
    assert answer.model == MODEL and answer.instructions == "Be brief."


def test_stream_events_in_order_with_thinking(gateway: str) -> None:
    events = list(
        client(gateway).responses.create(model="claude-4.6-sonnet-thinking", input="think first", stream=True)
    )
    assert [e.sequence_number for e in events] == list(range(len(events)))
    kinds = [e.type for e in events]
    reasoning = [e.delta for e in events if e.type == "response.reasoning_summary_text.delta"]
    text = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert "".join(reasoning) == "Let me think about that."
    assert "".join(text) == "Echo: think first"
    # Collapse the runs of deltas: what is left is the documented order.
    collapsed = [k for i, k in enumerate(kinds) if i == 0 or k != kinds[i - 1] or not k.endswith(".delta")]
    assert collapsed == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    final = events[-1].response
    assert final.status == "completed" and final.usage is not None and final.usage.total_tokens > 0
    assert [item.type for item in final.output] == ["reasoning", "message"]
    assert final.output[0].summary[0].text == "Let me think about that."
    assert final.output_text == "Echo: think first"
    assert {e.response.id for e in events if hasattr(e, "response")} == {final.id}


def test_the_sdk_stream_helper_accumulates_the_events(gateway: str) -> None:
    """`responses.stream()` checks item identities across events and builds the final response."""
    with client(gateway).responses.stream(model=MODEL, input="accumulate me") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == "Echo: accumulate me"
    assert final.output_text == "Echo: accumulate me"


async def test_async_plain_and_stream(gateway: str) -> None:
    async with openai.AsyncOpenAI(base_url=gateway + "/v1", api_key=ADMIN, max_retries=0) as aclient:
        answer = await aclient.responses.create(
            model=MODEL, input=[{"role": "user", "content": [{"type": "input_text", "text": "async hi"}]}]
        )
        assert answer.output_text == "Echo: async hi"
        stream = await aclient.responses.create(model=MODEL, input="async stream", stream=True)
        events = [event async for event in stream]
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    assert events[-1].response.output_text == "Echo: async stream"


def test_images_go_through_the_vision_rule(gateway: str, fake: FakeCursor, profile: str) -> None:
    def ask(url: str) -> Any:
        content = [{"type": "input_text", "text": "what is it?"}, {"type": "input_image", "image_url": url}]
        return client(gateway).responses.create(model="gpt-5.2", input=[{"role": "user", "content": content}])

    assert ask("data:image/png;base64," + base64.b64encode(PNG).decode()).status == "completed"
    if profile == "agent":
        images = fake.runs[
            -1
        ].run_request.action.user_message_action.user_message.selected_context.selected_images
        assert [(i.mime_type, i.data) for i in images] == [("image/png", PNG)]
    # The default vision_ability (base64) refuses URLs before anything is fetched.
    with pytest.raises(openai.BadRequestError) as refused:
        ask("http://127.0.0.1:9/cat.png")
    assert refused.value.body["code"] == "image_url_not_allowed"


# --- tools ---------------------------------------------------------------------------------------------


def function_calls(answer: Any) -> list[Any]:
    return [item for item in answer.output if item.type == "function_call"]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_function_tool_round_trip(gateway: str, fake: FakeCursor, profile: str, stream: bool) -> None:
    sdk = client(gateway)
    question = [{"role": "user", "content": "Weather in Paris?"}]
    if stream:
        with sdk.responses.stream(model=MODEL, input=question, tools=[WEATHER]) as events:
            arguments = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
            first = events.get_final_response()
        assert "".join(arguments) == '{"city":"Paris","days":2}'
    else:
        first = sdk.responses.create(model=MODEL, input=question, tools=[WEATHER])
    calls = function_calls(first)
    assert len(calls) == 1 and calls[0].name == "get_weather" and calls[0].status == "completed"
    assert json.loads(calls[0].arguments) == {"city": "Paris", "days": 2}
    # The client replays the whole conversation (no previous_response_id), as stateless clients do.
    history = [
        *question,
        {
            "type": "function_call",
            "call_id": calls[0].call_id,
            "name": calls[0].name,
            "arguments": calls[0].arguments,
        },
        {"type": "function_call_output", "call_id": calls[0].call_id, "output": RESULT},
    ]
    second = sdk.responses.create(model=MODEL, input=history, tools=[WEATHER], stream=False)
    assert second.output_text == f"The tool get_weather returned: {RESULT}"
    assert function_calls(second) == []
    assert fake.runs[-1].violations == []
    if profile == "inference":
        assert role_names(fake) == ["USER", "ASSISTANT", "TOOL"]


def test_tool_result_continues_a_stored_response(gateway: str, fake: FakeCursor, profile: str) -> None:
    sdk = client(gateway)
    first = sdk.responses.create(
        model=MODEL, input="Weather in Paris?", tools=[WEATHER], instructions="Be brief."
    )
    call = function_calls(first)[0]
    second = sdk.responses.create(
        model=MODEL,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": RESULT}],
        tools=[WEATHER],
    )
    assert second.output_text == f"The tool get_weather returned: {RESULT}"
    assert second.previous_response_id == first.id
    if profile == "inference":
        # Instructions are not carried over (as OpenAI documents); the turns are.
        assert role_names(fake) == ["USER", "ASSISTANT", "TOOL"]


# --- previous_response_id, GET and DELETE --------------------------------------------------------------


def test_previous_response_id_continues_the_conversation(
    gateway: str, fake: FakeCursor, profile: str
) -> None:
    sdk = client(gateway)
    first = sdk.responses.create(model=MODEL, input="my name is Ada")
    second = sdk.responses.create(model=MODEL, input="what is my name?", previous_response_id=first.id)
    assert second.output_text == "Echo: what is my name?"
    if profile == "inference":
        assert role_names(fake) == ["USER", "ASSISTANT", "USER"]
        assert fake.runs[-1].request.messages[1].text == "Echo: my name is Ada"
    else:
        roots = [json.loads(b.value) for b in fake.runs[-1].run_request.pre_fetched_blobs]
        assert any("Echo: my name is Ada" in json.dumps(r) for r in roots)
    fetched = sdk.responses.retrieve(second.id)
    assert fetched.id == second.id and fetched.output_text == second.output_text
    assert fetched.previous_response_id == first.id


def test_get_delete_and_unknown_ids_are_openai_404s(gateway: str) -> None:
    sdk = client(gateway)
    answer = sdk.responses.create(model=MODEL, input="keep me", metadata={"ticket": "42"})
    assert sdk.responses.retrieve(answer.id).metadata == {"ticket": "42"}
    # Another caller cannot see it (the same 404 as an unknown id).
    with pytest.raises(openai.NotFoundError):
        client(gateway, SHARED).responses.retrieve(answer.id)
    sdk.responses.delete(answer.id)
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.responses.retrieve(answer.id)
    assert missing.value.body["message"] == f"Response with id '{answer.id}' not found."
    with pytest.raises(openai.NotFoundError) as unknown:
        sdk.responses.create(model=MODEL, input="go on", previous_response_id="resp_unknown")
    assert unknown.value.body["param"] == "previous_response_id"
    with pytest.raises(openai.NotFoundError):
        sdk.responses.delete("resp_unknown")


def test_store_false_is_not_kept(gateway: str) -> None:
    sdk = client(gateway)
    answer = sdk.responses.create(model=MODEL, input="forget me", store=False)
    assert answer.output_text == "Echo: forget me" and answer.store is False
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(answer.id)


# --- the parameter table -------------------------------------------------------------------------------


def post(url: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        url + "/v1/responses", json=body, headers={"authorization": f"Bearer {ADMIN}"}, timeout=30
    )


def test_ignored_parameters_are_listed_and_rejected_ones_are_400(gateway: str) -> None:
    ok = post(
        gateway,
        {
            "model": MODEL,
            "input": "hi",
            "temperature": 0.2,
            "reasoning": {"summary": "auto"},
            "parallel_tool_calls": False,
            "include": ["reasoning.encrypted_content"],
            "text": {"format": {"type": "text"}, "verbosity": "low"},
        },
    )
    assert ok.status_code == 200, ok.text
    assert (
        ok.headers["x-ignored-params"]
        == "include,parallel_tool_calls,reasoning.summary,temperature,text.verbosity"
    )
    rejected = {
        "tools": ({"tools": [{"type": "web_search"}]}, "tools[0].type", "web_search"),
        "json": (
            {"text": {"format": {"type": "json_schema", "name": "x", "schema": {}}}},
            "text.format",
            "json",
        ),
        "item": ({"input": [{"type": "computer_call_output", "call_id": "c"}]}, "input[0].type", "computer"),
        "background": ({"background": True}, "background", "Background"),
        "file": (
            {"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]},
            "input[0].content[0]",
            "input_file",
        ),
    }
    for name, (fields, param, word) in rejected.items():
        answer = post(gateway, {"model": MODEL, "input": "hi", **fields})
        assert answer.status_code == 400, name
        error = answer.json()["error"]
        assert error["param"] == param and word in error["message"], (name, error)
    missing = post(gateway, {"model": MODEL})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "input"


# --- failures --------------------------------------------------------------------------------------------


@pytest.fixture
def behaviour(fake: FakeCursor) -> Iterator[FakeCursor]:
    """Lets a test change the (module-wide) fake's script; puts the tool script back afterwards."""
    try:
        yield fake
    finally:
        fake.default = Behaviour(tool_call=CALL)


def test_a_failure_after_the_first_byte_ends_with_response_failed(
    gateway: str, behaviour: FakeCursor
) -> None:
    behaviour.default = Behaviour(mode="error_after_text")
    events = list(client(gateway).responses.create(model=MODEL, input="fail midway", stream=True))
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert [e.type for e in events[-4:]] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.failed",
    ]
    failed = events[-1].response
    assert failed.status == "failed" and failed.error is not None and failed.error.message
    # A failed response is not stored: nothing to continue from.
    with pytest.raises(openai.NotFoundError):
        client(gateway).responses.retrieve(failed.id)


def test_a_failure_before_the_first_byte_is_a_real_status(gateway: str, behaviour: FakeCursor) -> None:
    behaviour.default = Behaviour.failing("bad_model")
    with pytest.raises(openai.BadRequestError) as bad:
        client(gateway).responses.create(model="no-such-model", input="hi", stream=True)
    assert bad.value.body["type"] == "invalid_request_error"
