"""The `legacy` profile: `aiserver.v1.ChatService/StreamUnifiedChatWithTools` (fact sheet §4-§5).

The RPC of the reference implementation, retired for most accounts in 2026 (2026 sheet §2) and kept for
the accounts it still serves and as the reference-compatible mode. It is server-streaming in practice:
one request frame (gzip when that helps), a half-close, then data frames and an end-stream frame. It
presents the IDE identity (checksum, client key, session id). The stream reports no usage, so the turn
ends with `usage=None` and the chat service estimates it (and marks it as an estimate).

It runs no client tools: its tool channel (`client_side_tool_v2_call`, 2026 sheet §6.3) belongs to a
retired RPC, so a request that offers tools is a 400 pointing at the agent and inference profiles.
Tool calls and results already in the history are sent as plain turns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from google.protobuf.message import DecodeError

from cursor_gateway.codec.connect_error import EndStreamError, parse_end_stream
from cursor_gateway.domain.chat import ChatEvent, ChatRequest, TurnEnded
from cursor_gateway.domain.tools import offered_tools
from cursor_gateway.errors import UnsupportedParameter, UpstreamProtocolError, UpstreamUnavailable
from cursor_gateway.settings import Settings
from cursor_gateway.upstream import drift
from cursor_gateway.upstream import legacy_messages as msgs
from cursor_gateway.upstream.classify import classify_connect_error
from cursor_gateway.upstream.connect import BidiCall
from cursor_gateway.upstream.identity import ClientIdentity, default_identity, stream_headers
from cursor_gateway.upstream.profile import UpstreamCredential

log = logging.getLogger("cursor_gateway.upstream.legacy")


class LegacyProfile:
    name = "legacy"
    default_client_type = "ide"

    def __init__(
        self,
        settings: Settings,
        *,
        new_id: Callable[[], str] = msgs.new_uuid,
        first_image_id: Callable[[], int] = msgs.image_counter_start,
    ) -> None:
        self.settings = settings
        # Randomness is injectable so tests can check the request byte for byte.
        self._new_id = new_id
        self._first_image_id = first_image_id

    def build(self, request: ChatRequest) -> bytes:
        message = msgs.build_request(
            request,
            conversation_id=self._new_id(),
            new_id=self._new_id,
            first_image_id=self._first_image_id(),
        )
        return msgs.encode_request(message)

    async def stream(
        self, request: ChatRequest, credential: UpstreamCredential, identity: ClientIdentity | None = None
    ) -> AsyncIterator[ChatEvent]:
        if offered_tools(request.tools, request.tool_choice, profile="legacy")[0]:
            raise UnsupportedParameter(
                "Tool calling is not available on the legacy protocol profile; "
                "the agent and inference profiles support it",
                param="tools",
            )
        settings = self.settings
        identity = identity or default_identity(self.default_client_type, settings)
        headers = stream_headers(
            identity,
            bearer=credential.bearer,
            content_type=msgs.CONTENT_TYPE,
            conversation_id=request.conversation_id,
            request_id=request.request_id or None,
            machine=credential.machine,
            timezone=credential.timezone,
            # Request frames of 1 KiB or more are gzipped when that makes them smaller (flag 0x01).
            extra={"connect-content-encoding": "gzip"},
        )
        call = BidiCall(
            (identity.base_url or settings.cursor_api_url) + msgs.RPC_PATH,
            headers,
            proxy=credential.proxy,
            connect_timeout=settings.cursor_connect_timeout,
            answer_timeout=settings.cursor_first_event_timeout,
            compress_requests=True,
        )
        # The whole request is one frame; half-close right away so the server starts answering.
        call.send(self.build(request))
        call.close_send()
        async with call:
            async for event in self._read(call):
                yield event

    async def _read(self, call: BidiCall) -> AsyncIterator[ChatEvent]:
        settings = self.settings
        answered = False
        reader = msgs.PayloadReader()
        bare_noted = False
        loop = asyncio.get_running_loop()
        first_event_deadline = loop.time() + settings.cursor_first_event_timeout

        def read_timeout() -> float:
            # A deadline until the answer starts (empty keep-alive frames must not extend it), then an
            # idle timeout between frames.
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
                piece = reader.read(frame.payload)
            except DecodeError as exc:
                raise UpstreamProtocolError(f"Undecodable legacy chat frame: {exc}") from exc
            if piece.message is not None:
                drift.observe(piece.message, "response")
            if piece.form == "bare" and not bare_noted:
                # The wrapper is what this RPC should send; bare payloads are the older StreamChat format.
                bare_noted = True
                drift.note("legacy:bare StreamChatResponse payloads")
            if piece.filled_prompt is not None:
                log.debug("legacy stream: filled prompt of %d characters ignored", len(piece.filled_prompt))
            for event in piece.events():
                answered = True
                yield event
        if not answered:
            raise UpstreamUnavailable("Cursor ended the stream without an answer")
        # This RPC reports no usage; the chat service estimates it and marks it so.
        yield TurnEnded(usage=None)
