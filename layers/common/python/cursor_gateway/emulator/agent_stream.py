"""The plumbing of one agent Run stream, shared by the Run script (agent.py) and the scripts it hands
turns to (compat.py, tools.py): a reader task decodes client messages into an inbox; the script takes
them one at a time and sends server messages in the stream's codec."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from google.protobuf import json_format
from google.protobuf.message import DecodeError

from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as pb
from cursor_gateway.codec.envelope import EnvelopeDecoder, ProtocolViolation, encode_envelope
from cursor_gateway.emulator.h2server import H2Stream
from cursor_gateway.emulator.records import Backend, ClientClosed, RunRecord, Violation
from cursor_gateway.upstream import agent_wire as msgs

# Client messages for the script, heartbeats left out; None when the client's side ended.
Inbox = asyncio.Queue[pb.AgentClientMessage | None]


class AgentBackend(Backend, Protocol):
    """The fake as the agent Run scripts see it: every interaction update goes out through the fake's
    `send_update` (which writes it with `write_update`), so a test's subclass can watch or hold them."""

    async def send_update(
        self, stream: H2Stream, record: RunRecord, update: pb.InteractionUpdate
    ) -> None: ...


async def read_client(stream: H2Stream, record: RunRecord, inbox: Inbox) -> None:
    decoder = EnvelopeDecoder()
    while (chunk := await stream.read()) is not None:
        try:
            frames = decoder.feed(chunk)
        except ProtocolViolation as exc:
            record.violations.append(f"client framing: {exc}")
            break
        for frame in frames:
            try:
                message = msgs.decode_client(frame.payload, record.codec)
            except (DecodeError, ValueError, json_format.ParseError) as exc:
                record.violations.append(f"undecodable client message: {exc}")
                continue
            record.client_messages.append(message)
            if message.WhichOneof("message") == "client_heartbeat":
                record.heartbeats += 1
                continue
            inbox.put_nowait(message)
    inbox.put_nowait(None)


async def next_message(inbox: Inbox, timeout: float = 10.0) -> pb.AgentClientMessage:
    try:
        message = await asyncio.wait_for(inbox.get(), timeout)
    except TimeoutError as exc:
        raise Violation("client did not answer in time") from exc
    if message is None:
        raise ClientClosed
    return message


async def send(stream: H2Stream, record: RunRecord, message: pb.AgentServerMessage) -> None:
    if stream.closed:
        raise ClientClosed
    await stream.write(encode_envelope(msgs.encode_server(message, record.codec)))


async def write_update(stream: H2Stream, record: RunRecord, update: pb.InteractionUpdate) -> None:
    """An interaction update; text, thinking and turn ends count as answer events."""
    await send(stream, record, pb.AgentServerMessage(interaction_update=update))
    if update.WhichOneof("message") in ("text_delta", "thinking_delta", "turn_ended"):
        record.events_sent += 1
        record.last_event_at = time.monotonic()
