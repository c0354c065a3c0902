"""Recording synthetic requests through the recorder's public API (begin -> prompt -> attempt -> events ->
end), at times set on an injected clock, for the filter, paging and statistics tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cursor_gateway.domain.chat import (
    ChatRequest,
    Message,
    ModelChoice,
    TextDelta,
    ThinkingDelta,
    TurnEnded,
    Usage,
)
from cursor_gateway.errors import UpstreamRateLimited
from cursor_gateway.services.request_log import RecordedCaller, RequestRecorder
from cursor_gateway.services.request_trace import RequestTrace
from harness import session_record
from logs_env import Clock


@dataclass
class Spec:
    at: str  # ISO time with offset
    model: str = "gpt-5.2"
    upstream: str = "gpt-5.2-high"
    endpoint: str = "chat.completions"
    stream: bool = False
    key: tuple[str, str] = ("admin", "admin")
    alias: str = "alpha"
    email: str = "alpha@example.com"
    membership: str = "pro"
    user_id: str = "user_01ALPHA0000000000000000000"
    usage: tuple[int, int] | None = (100, 20)
    fail: bool = False
    text: str = "hello"
    think: str = ""


def pending(recorder: RequestRecorder, clock: Clock, at: str, model: str) -> RequestTrace:
    """A request that never ends here (its instance died, or it is still streaming). Keep the trace: one
    that is dropped unfinished ends as a disconnect."""
    clock.set(at_ms(at) / 1000)
    trace = recorder.begin(
        endpoint="chat.completions", model=model, stream=True, caller=RecordedCaller("admin", "admin")
    )
    return trace


def at_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def record(recorder: RequestRecorder, clock: Clock, spec: Spec) -> str:
    clock.set(at_ms(spec.at) / 1000)
    trace = recorder.begin(
        endpoint=spec.endpoint,
        model=spec.model,
        stream=spec.stream,
        caller=RecordedCaller(*spec.key),
        client_ip="10.1.2.3",
        user_agent="test-agent/1.0",
    )
    request = ChatRequest(
        model=ModelChoice(cursor_id=spec.upstream, client_id=spec.model),
        messages=(Message(role="user", text="question " + spec.text),),
        conversation_id="00000000-0000-4000-8000-000000000000",
    )
    trace.prompt(request)
    record_ = session_record(
        spec.alias, email=spec.email, membership_type=spec.membership, user_id=spec.user_id
    )
    trace.attempt(record_, "agent", None)
    if spec.fail:
        trace.fail(UpstreamRateLimited("Cursor says slow down"))
        return trace.id
    if spec.think:
        trace.event(ThinkingDelta(spec.think))
    trace.event(TextDelta(spec.text))
    usage = Usage(input_tokens=spec.usage[0], output_tokens=spec.usage[1]) if spec.usage else None
    trace.event(TurnEnded(usage=usage))
    trace.succeed()
    return trace.id
