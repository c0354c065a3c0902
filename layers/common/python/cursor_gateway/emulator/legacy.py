"""The fake Cursor's `aiserver.v1.ChatService/StreamUnifiedChatWithTools` (the `legacy` profile's RPC).

It checks what an IDE-shaped client must send (client type `ide`, a checksum whose time part decodes and
is current, machine ids in hex), reads the single request frame (gzip allowed when declared), checks the
request's shape (conversation and headers 1:1, a human turn last, a model name), records it, and answers
the way the real endpoint did: a stream-start frame, the filled prompt (a debug field clients must not
show), thinking deltas for thinking requests, text deltas, then `{}`. Failure modes follow `Behaviour`.
"""

from __future__ import annotations

import asyncio
import re
import time

from google.protobuf.message import DecodeError

from cursor_gateway.codec._gen.aiserver.v1 import legacy_chat_pb2 as pb
from cursor_gateway.codec.envelope import FLAG_COMPRESSED, EnvelopeDecoder, ProtocolViolation, encode_envelope
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.h2server import H2Stream
from cursor_gateway.emulator.records import Backend, RunRecord
from cursor_gateway.emulator.wire import end_stream, send_json, serve_raw, split_text
from cursor_gateway.upstream.checksum import decode_timestamp_part

CONTENT_TYPE = "application/connect+proto"
DEFAULT_THINKING = "Let me think about that."
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HUMAN = pb.ConversationMessage.MESSAGE_TYPE_HUMAN
_AI = pb.ConversationMessage.MESSAGE_TYPE_AI


class _Invalid(Exception):
    pass


async def serve_legacy_chat(fake: Backend, stream: H2Stream) -> None:
    record = RunRecord(stream.path, dict(stream.headers))
    fake.runs.append(record)
    behaviour = fake.behaviour_for(record.bearer)
    try:
        if behaviour.mode == "raw":
            await serve_raw(stream, behaviour)
            return
        content_type = stream.headers.get("content-type", "")
        if content_type != CONTENT_TYPE:
            record.violations.append(f"bad content-type {content_type!r}")
            await stream.read_all()
            await send_json(stream, 415, {"code": "invalid_argument", "message": "unsupported content type"})
            return
        body = await stream.read_all()
        if behaviour.mode == "http_error":
            await send_json(stream, behaviour.http_status, behaviour.error)
            return
        if not record.bearer:
            await send_json(stream, 401, {"code": "unauthenticated", "message": "missing bearer"})
            return
        await stream.respond(200, [("content-type", CONTENT_TYPE)])
        try:
            _check_ide_headers(stream.headers)
            record.request = _parse_request(body, stream.headers)
        except _Invalid as exc:
            record.violations.append(str(exc))
            await end_stream(stream, {"error": {"code": "invalid_argument", "message": str(exc)}})
            return
        await _play(stream, record, behaviour)
    finally:
        record.finished = True


def _check_ide_headers(headers: dict[str, str]) -> None:
    client_type = headers.get("x-cursor-client-type", "")
    if client_type != "ide":
        raise _Invalid(f"x-cursor-client-type must be ide, got {client_type!r}")
    checksum = headers.get("x-cursor-checksum", "")
    if not checksum:
        raise _Invalid("x-cursor-checksum is missing")
    kilo_seconds = decode_timestamp_part(checksum[:8])
    if kilo_seconds is None:
        raise _Invalid("x-cursor-checksum has no valid time part")
    if abs(kilo_seconds - int(time.time() // 1000)) > 1:
        raise _Invalid("x-cursor-checksum time part is not current")
    ids = checksum[8:].split("/")
    if len(ids) > 2 or not all(_HEX64.fullmatch(part) for part in ids):
        raise _Invalid("x-cursor-checksum machine ids must be 64 lowercase hex each")
    if not headers.get("x-cursor-client-version"):
        raise _Invalid("x-cursor-client-version is missing")


def _parse_request(body: bytes, headers: dict[str, str]) -> pb.StreamUnifiedChatRequest:
    decoder = EnvelopeDecoder()
    try:
        frames = decoder.feed(body)
        decoder.finish()
    except ProtocolViolation as exc:
        raise _Invalid(f"client framing: {exc}") from exc
    if len(frames) != 1 or frames[0].end_stream:
        raise _Invalid(f"expected exactly one request frame, got {len(frames)}")
    if frames[0].flags & FLAG_COMPRESSED and headers.get("connect-content-encoding") != "gzip":
        raise _Invalid("compressed request frame without connect-content-encoding: gzip")
    try:
        wrapper = pb.StreamUnifiedChatRequestWithTools.FromString(frames[0].payload)
    except DecodeError as exc:
        raise _Invalid(f"undecodable request: {exc}") from exc
    if wrapper.WhichOneof("request") != "stream_unified_chat_request":
        raise _Invalid("request must carry stream_unified_chat_request")
    request = wrapper.stream_unified_chat_request
    conversation = list(request.conversation)
    if not conversation or conversation[-1].type != _HUMAN:
        raise _Invalid("the conversation must end with a human message")
    bubble_ids = [m.bubble_id for m in conversation]
    if not all(bubble_ids) or len(set(bubble_ids)) != len(bubble_ids):
        raise _Invalid("every message needs its own bubble_id")
    headers_only = [(h.bubble_id, h.type) for h in request.full_conversation_headers_only]
    if headers_only != [(m.bubble_id, m.type) for m in conversation]:
        raise _Invalid("full_conversation_headers_only must match the conversation 1:1")
    if any(m.type == _AI and not m.server_bubble_id for m in conversation):
        raise _Invalid("assistant messages need a server_bubble_id")
    if not request.model_details.model_name:
        raise _Invalid("model_details.model_name is missing")
    if not request.conversation_id:
        raise _Invalid("conversation_id is missing")
    return request


async def _play(stream: H2Stream, record: RunRecord, behaviour: Behaviour) -> None:
    request: pb.StreamUnifiedChatRequest = record.request
    compress = "gzip" in stream.headers.get("connect-accept-encoding", "")
    if behaviour.mode == "stall":
        # Empty frames only (the real stream has them): they must not count as an answer.
        while not stream.closed:
            await stream.write(encode_envelope(b""))
            await asyncio.sleep(0.2)
        return
    await asyncio.sleep(behaviour.first_delay)
    if behaviour.mode == "error":
        await end_stream(stream, {"error": behaviour.error})
        return
    await _send(stream, pb.StreamUnifiedChatResponseWithTools(stream_start=pb.StreamStart(padding="x" * 16)))
    await _send(
        stream,
        _chunk(pb.StreamUnifiedChatResponse(filled_prompt=_filled_prompt(request))),
        compress=compress,
    )
    model = request.model_details.model_name
    thinking = behaviour.thinking
    if thinking is None and (
        request.thinking_level == pb.StreamUnifiedChatRequest.THINKING_LEVEL_HIGH or "thinking" in model
    ):
        thinking = DEFAULT_THINKING
    if thinking:
        pieces = split_text(thinking, 3)
        for index, piece in enumerate(pieces):
            chunk = pb.ThinkingChunk(text=piece, is_last_thinking_chunk=index == len(pieces) - 1)
            await _event(stream, record, _chunk(pb.StreamUnifiedChatResponse(thinking=chunk)))
            await asyncio.sleep(behaviour.delay)
    user_text = request.conversation[-1].text
    reply = behaviour.reply if behaviour.reply is not None else f"Echo: {user_text}"
    pieces = split_text(reply, behaviour.chunks)
    for index, piece in enumerate(pieces):
        await _event(stream, record, _chunk(pb.StreamUnifiedChatResponse(text=piece)))
        if index == len(pieces) // 2:
            if behaviour.mode == "error_after_text":
                await end_stream(stream, {"error": behaviour.error})
                return
            if behaviour.mode == "reset_after_text":
                stream.reset()
                return
        if behaviour.delay:
            await asyncio.sleep(behaviour.delay)
    await end_stream(stream, {})


def _chunk(inner: pb.StreamUnifiedChatResponse) -> pb.StreamUnifiedChatResponseWithTools:
    return pb.StreamUnifiedChatResponseWithTools(stream_unified_chat_response=inner)


def _filled_prompt(request: pb.StreamUnifiedChatRequest) -> str:
    parts = [f"<|BEGIN_SYSTEM|>\n{request.explicit_context.context}\n<|END_SYSTEM|>"]
    for message in request.conversation:
        role = "USER" if message.type == _HUMAN else "ASSISTANT"
        parts.append(f"<|BEGIN_{role}|>\n{message.text}\n<|END_{role}|>")
    return "\n".join(parts)


async def _send(
    stream: H2Stream, message: pb.StreamUnifiedChatResponseWithTools, *, compress: bool = False
) -> None:
    if not stream.closed:
        await stream.write(encode_envelope(message.SerializeToString(), compress=compress))


async def _event(stream: H2Stream, record: RunRecord, message: pb.StreamUnifiedChatResponseWithTools) -> None:
    await _send(stream, message)
    record.events_sent += 1
    record.last_event_at = time.monotonic()
