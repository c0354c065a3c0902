"""Issue 14 against the fake Cursor over real HTTP/2: empty turns fail closed, a failure status after
`turn_ended` is a failure, and nothing the server sends that our schema does not know is left
unanswered (execs 45-55, interaction queries, odd blob keys), with drift counted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from cursor_gateway.domain.chat import ChatEvent, ChatRequest, Message, ModelChoice, TextDelta, TurnEnded
from cursor_gateway.emulator.behaviour import FAILURES, Behaviour
from cursor_gateway.emulator.compat import ODD_BLOB_KEY, UNKNOWN_EXECS
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.errors import UpstreamEmptyTurn, UpstreamRateLimited, UpstreamUnavailable
from cursor_gateway.settings import Settings
from cursor_gateway.upstream import drift
from cursor_gateway.upstream.agent import AgentProfile
from cursor_gateway.upstream.agent_history import HISTORY_LEAD
from cursor_gateway.upstream.profile import UpstreamCredential

SAFETY = 30.0
MODEL = ModelChoice(cursor_id="claude-4.6-sonnet", client_id="claude-4.6-sonnet")


@pytest.fixture
async def fake() -> AsyncIterator[FakeCursor]:
    server = FakeCursor()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def request(text: str = "hello") -> ChatRequest:
    return ChatRequest(
        model=MODEL,
        messages=(Message("user", text),),
        conversation_id="5b0e4c1e-2f0a-4d8e-9a51-7d1f3b8c9e20",
    )


async def collect(fake: FakeCursor, codec: str = "proto") -> list[ChatEvent]:
    settings = Settings(cursor_api_url=fake.url, cursor_agent_codec=codec)  # type: ignore[arg-type]
    stream = AgentProfile(settings).stream(request(), UpstreamCredential("tok"))

    async def run() -> list[ChatEvent]:
        return [event async for event in stream]

    return await asyncio.wait_for(run(), SAFETY)


@pytest.mark.parametrize("codec", ["proto", "json"])
async def test_empty_turn_fails_closed(fake: FakeCursor, codec: str) -> None:
    fake.default = Behaviour(mode="empty_turn")
    with pytest.raises(UpstreamEmptyTurn) as caught:
        await collect(fake, codec)
    assert caught.value.status == 502 and caught.value.code == "empty_turn"
    assert caught.value.retryable  # moves to another token before the first byte
    assert fake.runs[0].request_context_answered


async def test_a_failure_status_after_turn_ended_is_a_failure(fake: FakeCursor) -> None:
    fake.default = Behaviour(
        mode="error_after_turn_end", reply="partial", error=dict(FAILURES["rate_limited"])
    )
    events: list[ChatEvent] = []
    with pytest.raises(UpstreamRateLimited):
        async for event in AgentProfile(Settings(cursor_api_url=fake.url)).stream(
            request(), UpstreamCredential("tok")
        ):
            events.append(event)
    # The text streamed, but the turn end was never handed out as a success.
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "partial"
    assert not any(isinstance(e, TurnEnded) for e in events)


async def test_a_clean_status_after_turn_ended_is_a_success(fake: FakeCursor) -> None:
    events = await collect(fake)
    assert isinstance(events[-1], TurnEnded)


@pytest.mark.parametrize("codec", ["proto", "json"])
async def test_unknown_execs_queries_and_blob_keys_are_all_answered(fake: FakeCursor, codec: str) -> None:
    fake.default = Behaviour(probe_unknowns=True, reply="fine")
    before = drift.snapshot()
    events = await collect(fake, codec)
    record = fake.runs[0]
    assert record.violations == []
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "fine"
    assert [f"refused:exec{n}" for n in UNKNOWN_EXECS] == [
        entry for entry in record.tool_log if entry.startswith("refused:exec")
    ]
    assert {"answered:query201", "answered:query202", "answered:odd_blob_key"} <= set(record.tool_log)
    throws = [
        m.exec_client_control_message.throw
        for m in record.client_messages
        if m.HasField("exec_client_control_message")
    ]
    assert len(throws) == len(UNKNOWN_EXECS) and all("no local tools" in t.error for t in throws)
    found = drift.since(before)
    unknown_message = "AgentServerMessage#99" if codec == "proto" else "agent: unknown server message"
    assert found.get(unknown_message) == 1
    assert sum(v for k, v in found.items() if k.startswith("unanswered exec")) == len(UNKNOWN_EXECS)
    assert sum(v for k, v in found.items() if k.startswith("unanswered interaction query")) == 1
    if codec == "proto":
        assert found.get("unanswered exec: #47") == 1  # the field number names the new exec
    assert ODD_BLOB_KEY.decode() not in str(found)


# --- large conversations --------------------------------------------------------------------------------


def big_conversation(turns: int = 100, size: int = 4096) -> ChatRequest:
    messages = [Message("system", "Be brief.")]
    for index in range(turns):
        role = "user" if index % 2 == 0 else "assistant"
        messages.append(Message(role, f"turn {index}: " + "x" * size))
    messages.append(Message("user", "Sum it up."))
    return ChatRequest(
        model=MODEL, messages=tuple(messages), conversation_id="5b0e4c1e-2f0a-4d8e-9a51-7d1f3b8c9e21"
    )


async def run_big(fake: FakeCursor, **settings: object) -> list[ChatEvent]:
    stream = AgentProfile(Settings(cursor_api_url=fake.url, **settings)).stream(  # type: ignore[arg-type]
        big_conversation(), UpstreamCredential("tok")
    )

    async def run() -> list[ChatEvent]:
        return [event async for event in stream]

    return await asyncio.wait_for(run(), SAFETY)


async def test_a_400_kb_conversation_is_flattened_and_paced_by_flow_control() -> None:
    fake = FakeCursor(Behaviour(reply="ok", reset_history_above=64 * 1024))
    fake.server.window = 16 * 1024  # a small receive window: the client must pace ~400 KB
    await fake.start()
    try:
        assert sum(len(m.text) for m in big_conversation().messages) > 400_000
        events = await run_big(fake)
        assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "ok"
        record = fake.runs[-1]
        assert record.violations == []
        run = record.run_request
        assert run is not None
        structured = sum(len(b.value) for b in run.pre_fetched_blobs)
        assert structured <= 64 * 1024
        text = run.action.user_message_action.user_message.text
        assert text.startswith(HISTORY_LEAD) and "User: turn 0: xxx" in text and text.endswith("Sum it up.")
        assert "turn 99:" not in text  # the newest turns stay structured
        assert fake.server.received_bytes > 400_000
        assert fake.server.window_updates >= 400_000 // (16 * 1024)  # it waited for the window many times

        # Without flattening, the same conversation is reset by the server, as Cursor did.
        with pytest.raises(UpstreamUnavailable):
            await run_big(fake, cursor_agent_flatten_bytes=0)
        assert "stream reset" in fake.runs[-1].violations[0]
    finally:
        await fake.close()


async def test_the_fake_answers_a_composer_resume_with_an_empty_turn(
    fake: FakeCursor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an older client met (and why tool results go in a user message): a resume action on Composer
    gets nothing, which the gateway refuses as `empty_turn` instead of passing an empty answer on."""
    from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as pb
    from cursor_gateway.upstream import agent_request

    real_build_run = agent_request.build_run

    def resuming(*args: object, **kwargs: object) -> agent_request.RunPlan:
        plan = real_build_run(*args, **kwargs)  # type: ignore[arg-type]
        plan.run_request.run_request.action.CopyFrom(pb.ConversationAction(resume_action=pb.ResumeAction()))
        return plan

    monkeypatch.setattr(agent_request, "build_run", resuming)
    composer = ChatRequest(
        model=ModelChoice("composer-2.5", "composer-2.5"),
        messages=(Message("user", "hello"),),
        conversation_id="5b0e4c1e-2f0a-4d8e-9a51-7d1f3b8c9e22",
    )
    stream = AgentProfile(Settings(cursor_api_url=fake.url)).stream(composer, UpstreamCredential("tok"))
    with pytest.raises(UpstreamEmptyTurn):
        await asyncio.wait_for(anext(stream), SAFETY)
    assert fake.runs[-1].tool_log == ["composer:resume-empty"]
