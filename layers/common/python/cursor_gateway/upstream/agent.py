"""The `agent` profile: `agent.v1.AgentService/Run`, one bidirectional stream per chat request.

The client opens the stream with a run request, then keeps writing while it reads: it answers the
server's request-context question, KV blob gets, execs and interaction queries, and sends heartbeats
until `turn_ended`. Only text, thinking, tool calls and the turn end leave this module, as domain events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from google.protobuf.message import DecodeError

from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as pb
from cursor_gateway.codec.connect_error import EndStreamError, parse_end_stream
from cursor_gateway.domain.chat import ChatEvent, ChatRequest, TextDelta, ThinkingDelta, TurnEnded, Usage
from cursor_gateway.errors import UpstreamProtocolError, UpstreamUnavailable
from cursor_gateway.settings import Settings
from cursor_gateway.upstream import agent_messages as msgs
from cursor_gateway.upstream import drift
from cursor_gateway.upstream.classify import classify_connect_error
from cursor_gateway.upstream.connect import BidiCall
from cursor_gateway.upstream.identity import ClientIdentity, stream_headers
from cursor_gateway.upstream.profile import UpstreamCredential

log = logging.getLogger("cursor_gateway.upstream.agent")

RUN_PATH = "/agent.v1.AgentService/Run"


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
            content_type=msgs.CONTENT_TYPES[self.codec],
            conversation_id=request.conversation_id,
            request_id=request.request_id or None,
            machine=credential.machine,
            timezone=credential.timezone,
            # Only MCP tool calls are allowed: Cursor's built-in shell/edit/read tools stay off.
            extra={"x-cursor-agent-allowed-tools": "mcp_tool_call"},
        )

    async def stream(
        self, request: ChatRequest, credential: UpstreamCredential, identity: ClientIdentity | None = None
    ) -> AsyncIterator[ChatEvent]:
        settings = self.settings
        identity = identity or ClientIdentity.from_settings(settings)
        timezone = credential.timezone or identity.timezone
        plan = msgs.build_run(request, timezone=timezone)
        call = BidiCall(
            (identity.base_url or settings.cursor_api_url) + RUN_PATH,
            self._headers(request, credential, identity),
            proxy=credential.proxy,
            connect_timeout=settings.cursor_connect_timeout,
        )
        call.send(msgs.encode(plan.run_request, self.codec))
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
        beat = msgs.encode(msgs.heartbeat(), self.codec)
        while True:
            await asyncio.sleep(self.settings.cursor_heartbeat_seconds)
            call.send(beat)

    async def _read(self, call: BidiCall, plan: msgs.RunPlan, timezone: str) -> AsyncIterator[ChatEvent]:
        settings = self.settings
        usage = _UsageTracker()
        answered = False
        loop = asyncio.get_running_loop()
        first_event_deadline = loop.time() + settings.cursor_first_event_timeout

        def read_timeout() -> float:
            # Until the answer starts, a deadline (server heartbeats must not keep us waiting forever);
            # afterwards, an idle timeout between frames.
            if answered:
                return settings.cursor_idle_timeout
            return first_event_deadline - loop.time()

        async for frame in call.frames(read_timeout):
            if frame.end_stream:
                try:
                    error = parse_end_stream(frame.payload)
                except EndStreamError as exc:
                    raise UpstreamProtocolError(str(exc)) from exc
                if error is not None:
                    raise classify_connect_error(error)
                break
            try:
                message = msgs.decode_server(frame.payload, self.codec)
            except (DecodeError, ValueError) as exc:
                raise UpstreamProtocolError(f"Undecodable agent message: {exc}") from exc
            drift.observe(message)
            arm = message.WhichOneof("message")
            if arm == "interaction_update":
                event = usage.observe(message.interaction_update)
                if event is not None:
                    answered = True
                    yield event
                    if isinstance(event, TurnEnded):
                        # The turn is over: half-close so the server can finish the stream cleanly.
                        call.close_send()
                        return
            elif arm == "exec_server_message":
                call.send(
                    msgs.encode(msgs.answer_exec(message.exec_server_message, timezone=timezone), self.codec)
                )
            elif arm == "kv_server_message":
                call.send(msgs.encode(msgs.answer_kv(message.kv_server_message, plan.blobs), self.codec))
            elif arm == "interaction_query":
                call.send(msgs.encode(msgs.answer_query(message.interaction_query), self.codec))
            elif arm == "conversation_checkpoint_update":
                usage.checkpoint(message.conversation_checkpoint_update)
            # exec_server_control_message (abort) and unknown arms need no answer.
        if not answered:
            raise UpstreamUnavailable("Cursor ended the stream without an answer")
        yield TurnEnded(usage=usage.final())


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
