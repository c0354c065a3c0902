"""The `agent` profile: `agent.v1.AgentService/Run`, one bidirectional stream per chat request.

The client opens the stream with a run request, then keeps writing while it reads: it answers the
server's request-context question, KV blob gets, execs and interaction queries, and sends heartbeats
until `turn_ended`. Only text, thinking, tool calls and the turn end leave this module, as domain events.

Client tools (2026 sheet §6.1, stateless): a call to one of the advertised tools arrives as an
`mcp_args` exec. The first one opens a short window (`TOOL_BATCH_SECONDS`) for parallel calls; then the
calls become `ToolCall` events, the turn ends with `tool_calls`, and the stream is closed without a cancel
(the server is left waiting for results that the next request replays). Calls to names that were not
advertised are refused to the server (`tool_not_found`) and never surfaced; calls whose arguments break
the tool's schema get an error result so the model can correct them, at most `MAX_TOOL_REPAIRS` times,
after which they are surfaced as they are (the client's own tool code then reports the problem).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator

from google.protobuf.message import DecodeError

from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as pb
from cursor_gateway.codec.connect_error import EndStreamError, parse_end_stream
from cursor_gateway.domain.chat import (
    ChatEvent,
    ChatRequest,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    TurnEnded,
    Usage,
)
from cursor_gateway.domain.tools import call_problem, canonical_json, in_schema_order
from cursor_gateway.errors import (
    UpstreamEmptyTurn,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from cursor_gateway.settings import Settings
from cursor_gateway.upstream import agent_answers as answers
from cursor_gateway.upstream import agent_request as msgs
from cursor_gateway.upstream import agent_wire as wire
from cursor_gateway.upstream import drift
from cursor_gateway.upstream.agent_hosts import run_base_url
from cursor_gateway.upstream.classify import classify_connect_error
from cursor_gateway.upstream.connect import BidiCall
from cursor_gateway.upstream.identity import ClientIdentity, stream_headers
from cursor_gateway.upstream.profile import UpstreamCredential

log = logging.getLogger("cursor_gateway.upstream.agent")

RUN_PATH = "/agent.v1.AgentService/Run"
# How long after the first client tool call further parallel calls are awaited (the Pi provider: 150 ms).
TOOL_BATCH_SECONDS = 0.15
# How many calls with bad arguments are sent back to the model before one is surfaced as it is.
MAX_TOOL_REPAIRS = 2
# After `turn_ended` the end-stream frame decides success (a non-zero status there is a failure); a server
# that keeps the stream open longer than this after our half-close is taken at its word.
TRAILER_WAIT_SECONDS = 2.0


class AgentProfile:
    name = "agent"
    default_client_type = "cli"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.codec = settings.cursor_agent_codec

    def _headers(
        self, request: ChatRequest, credential: UpstreamCredential, identity: ClientIdentity
    ) -> list[tuple[str, str]]:
        return stream_headers(
            identity,
            bearer=credential.bearer,
            content_type=wire.CONTENT_TYPES[self.codec],
            conversation_id=request.conversation_id,
            request_id=request.request_id or None,
            machine=credential.machine,
            timezone=credential.timezone,
            # Only MCP tool calls are allowed: Cursor's built-in shell/edit/read tools stay off.
            extra={"x-cursor-agent-allowed-tools": msgs.ALLOWED_TOOLS},
        )

    async def stream(
        self, request: ChatRequest, credential: UpstreamCredential, identity: ClientIdentity | None = None
    ) -> AsyncIterator[ChatEvent]:
        settings = self.settings
        identity = identity or ClientIdentity.from_settings(settings)
        timezone = credential.timezone or identity.timezone
        plan = msgs.build_run(request, timezone=timezone, flatten_above=settings.cursor_agent_flatten_bytes)
        call = BidiCall(
            run_base_url(settings.cursor_api_url, credential.base_url, identity.base_url) + RUN_PATH,
            self._headers(request, credential, identity),
            proxy=credential.proxy,
            connect_timeout=settings.cursor_connect_timeout,
            answer_timeout=settings.cursor_first_event_timeout,
        )
        call.send(wire.encode(plan.run_request, self.codec))
        async with call:
            heartbeats = asyncio.create_task(self._heartbeats(call))
            try:
                async for event in self._read(call, plan, timezone):
                    yield event
            finally:
                heartbeats.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeats

    async def _heartbeats(self, call: BidiCall) -> None:
        beat = wire.encode(answers.heartbeat(), self.codec)
        while True:
            await asyncio.sleep(self.settings.cursor_heartbeat_seconds)
            call.send(beat)

    async def _read(self, call: BidiCall, plan: msgs.RunPlan, timezone: str) -> AsyncIterator[ChatEvent]:
        settings = self.settings
        usage = _UsageTracker()
        tools = _ToolCalls(plan)
        answer_exec = functools.partial(
            answers.answer_exec, timezone=timezone, tools=plan.definitions, instructions=plan.instructions
        )
        answered = False
        ended: TurnEnded | None = None  # held until the end-stream status says it was a success
        loop = asyncio.get_running_loop()
        first_event_deadline = loop.time() + settings.cursor_first_event_timeout
        batch_deadline: float | None = None  # set by the first client tool call
        trailer_deadline = 0.0
        after_end: UpstreamError | None = None  # a failure status that came after the turn end

        def read_timeout() -> float:
            # Until the answer starts, a deadline (server heartbeats must not keep us waiting forever);
            # afterwards, an idle timeout between frames; with a tool call in hand, the batch window.
            if ended is not None:
                return trailer_deadline - loop.time()
            if batch_deadline is not None:
                return batch_deadline - loop.time()
            if answered:
                return settings.cursor_idle_timeout
            return first_event_deadline - loop.time()

        try:
            async for frame in call.frames(read_timeout):
                if frame.end_stream:
                    try:
                        error = parse_end_stream(frame.payload)
                    except EndStreamError as exc:
                        raise UpstreamProtocolError(str(exc)) from exc
                    if error is not None and ended is not None:
                        after_end = classify_connect_error(error)
                    elif error is not None and not tools.calls:
                        raise classify_connect_error(error)
                    break
                if ended is not None:
                    continue  # after the turn end only the status matters
                try:
                    message = wire.decode_server(frame.payload, self.codec)
                except (DecodeError, ValueError) as exc:
                    raise UpstreamProtocolError(f"Undecodable agent message: {exc}") from exc
                drift.observe(message)
                arm = message.WhichOneof("message")
                if arm == "interaction_update":
                    event = usage.observe(message.interaction_update)
                    if isinstance(event, TurnEnded) and tools.calls:
                        break  # the calls end the turn, whatever the server thinks
                    if isinstance(event, TurnEnded):
                        if not answered and not usage.output_token_deltas:
                            raise UpstreamEmptyTurn(
                                "Cursor ended the turn without any text, thinking, tool call or tokens "
                                "(the account may be blocked)"
                            )
                        # The turn is over: half-close so the server can finish the stream, and hold the
                        # turn end until its status is known.
                        ended = event
                        trailer_deadline = loop.time() + TRAILER_WAIT_SECONDS
                        call.close_send()
                    elif event is not None:
                        answered = True
                        yield event
                elif arm == "exec_server_message":
                    exec_msg = message.exec_server_message
                    if exec_msg.HasField("mcp_args"):
                        reply = tools.observe(exec_msg)
                        if reply is None:  # a call to hand out: held, not answered
                            if batch_deadline is None:
                                batch_deadline = loop.time() + TOOL_BATCH_SECONDS
                            continue
                    else:
                        reply = answer_exec(exec_msg)
                    call.send(wire.encode(reply, self.codec))
                elif arm == "kv_server_message":
                    call.send(
                        wire.encode(answers.answer_kv(message.kv_server_message, plan.blobs), self.codec)
                    )
                elif arm == "interaction_query":
                    call.send(wire.encode(answers.answer_query(message.interaction_query), self.codec))
                elif arm == "conversation_checkpoint_update":
                    usage.checkpoint(message.conversation_checkpoint_update)
                elif arm is None and self.codec == "json":
                    # The JSON decoder drops unknown keys, so `drift.observe` cannot see this one.
                    drift.note("agent: unknown server message")
                # exec_server_control_message (abort) and unknown arms need no answer.
        except UpstreamTimeout:
            if ended is not None:
                yield ended  # the server kept the stream open after the turn end; nothing said it failed
                return
            if not tools.calls:
                raise
            # The batch window closed: the calls in hand are the whole batch.
        except UpstreamUnavailable:
            if ended is None:
                raise
            log.info("the stream closed without a status after turn_ended; taken as a success")
        if after_end is not None:
            raise after_end
        if ended is not None:
            yield ended
            return
        if tools.calls:
            # Hand the calls to the client and leave without a cancel: the server keeps the turn parked
            # until the stream goes away; the results come back in the next request's replay.
            for tool_call in tools.calls:
                yield tool_call
            yield TurnEnded(usage=usage.final(), finish_reason="tool_calls")
            return
        if not answered:
            raise UpstreamUnavailable("Cursor ended the stream without an answer")
        yield TurnEnded(usage=usage.final())


class _ToolCalls:
    """The client tool calls of one run: which `mcp_args` execs become `ToolCall` events (held, not
    answered) and which get an answer right away (unknown tool, arguments to correct)."""

    def __init__(self, plan: msgs.RunPlan) -> None:
        self.plan = plan
        self.calls: list[ToolCall] = []
        self.repairs = 0

    def observe(self, exec_msg: pb.ExecServerMessage) -> pb.AgentClientMessage | None:
        """None when the call is ours to hand out; otherwise the answer to send to the server."""
        call = answers.read_mcp_call(exec_msg)
        if call.name not in self.plan.tools:
            log.info("refused a call to the unadvertised tool %r", call.name)
            return answers.answer_exec(exec_msg, timezone="", tools=self.plan.definitions)
        problem = call.problem or call_problem(self.plan.tools, call.name, call.arguments)
        if problem and self.repairs < MAX_TOOL_REPAIRS:
            self.repairs += 1
            return answers.mcp_error(
                exec_msg, f"Invalid arguments for {call.name}: {problem}. Call it again."
            )
        arguments = in_schema_order(self.plan.tools[call.name].parameters, call.arguments)
        self.calls.append(ToolCall(id=call.call_id, name=call.name, arguments=canonical_json(arguments)))
        return None


class _UsageTracker:
    """Usage from `turn_ended` when Cursor reports it, else the checkpoint's context size, else none
    (the service then estimates locally and marks it so)."""

    def __init__(self) -> None:
        self.output_token_deltas = 0
        self.checkpoint_used = 0

    def observe(self, update: pb.InteractionUpdate) -> ChatEvent | None:
        arm = update.WhichOneof("message")
        if arm == "text_delta":
            return TextDelta(update.text_delta.text) if update.text_delta.text else None
        if arm == "thinking_delta":
            return ThinkingDelta(update.thinking_delta.text) if update.thinking_delta.text else None
        if arm == "token_delta":
            self.output_token_deltas += max(0, update.token_delta.tokens)
        elif arm == "turn_ended":
            return TurnEnded(usage=self.from_turn_ended(update.turn_ended) or self.final())
        return None

    def checkpoint(self, state: pb.ConversationStateStructure) -> None:
        if state.HasField("token_details") and state.token_details.used_tokens:
            self.checkpoint_used = state.token_details.used_tokens

    @staticmethod
    def from_turn_ended(ended: pb.TurnEndedUpdate) -> Usage | None:
        if not (ended.HasField("input_tokens") or ended.HasField("output_tokens")):
            return None
        return Usage(
            input_tokens=ended.input_tokens,
            output_tokens=ended.output_tokens,
            cache_read_tokens=ended.cache_read_tokens,
            cache_write_tokens=ended.cache_write_tokens,
            reasoning_tokens=ended.reasoning_tokens,
            source="upstream",
        )

    def final(self) -> Usage | None:
        if not self.checkpoint_used:
            return None
        output = self.output_token_deltas
        return Usage(
            input_tokens=max(0, self.checkpoint_used - output), output_tokens=output, source="checkpoint"
        )
