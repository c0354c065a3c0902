"""The fake Cursor's `agent.v1.AgentService/Run` (bidirectional): it validates what clients send (first
message is a run request, request context and blobs are answered with matching ids, built-in execs are
refused with the right result type), hands tool turns to tools.py and the post-fact-sheet behaviours to
compat.py, and streams thinking, text, a checkpoint and a turn end per the token's `Behaviour`."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as pb
from cursor_gateway.codec.envelope import encode_envelope
from cursor_gateway.emulator import compat
from cursor_gateway.emulator.agent_stream import AgentBackend, Inbox, next_message, read_client, send
from cursor_gateway.emulator.behaviour import FAILURES, Behaviour
from cursor_gateway.emulator.h2server import H2Stream
from cursor_gateway.emulator.records import ClientClosed, RunRecord, Violation
from cursor_gateway.emulator.tokens import jwt_expired
from cursor_gateway.emulator.tools import HANDLED, agent_tool_turn
from cursor_gateway.emulator.wire import end_stream, send_json, serve_raw, split_text
from cursor_gateway.upstream import agent_wire as msgs


async def serve_agent_run(fake: AgentBackend, stream: H2Stream) -> None:
    content_type = stream.headers.get("content-type", "")
    codec = "json" if content_type == "application/connect+json" else "proto"
    record = RunRecord(stream.path, dict(stream.headers), codec)
    fake.runs.append(record)
    behaviour = fake.behaviour_for(record.bearer)
    if behaviour.mode == "raw":
        await serve_raw(stream, behaviour)
        return
    if behaviour.mode == "deaf":
        while not stream.closed:  # set when the client resets the stream or the connection ends
            await asyncio.sleep(0.05)
        return
    if not content_type.startswith("application/connect+"):
        record.violations.append(f"bad content-type {content_type!r}")
        await send_json(stream, 415, {"code": "invalid_argument", "message": "unsupported content type"})
        return
    if behaviour.mode == "http_error":
        await send_json(stream, behaviour.http_status, behaviour.error, behaviour.http_headers)
        return
    if not record.bearer:
        await send_json(stream, 401, {"code": "unauthenticated", "message": "missing bearer"})
        return
    await stream.respond(200, [("content-type", content_type)])
    if jwt_expired(record.bearer):
        # Like Cursor: an expired session JWT is refused in the end-stream, with HTTP 200.
        await stream.read_all()
        await end_stream(stream, {"error": FAILURES["unauthenticated"]})
        return
    inbox: Inbox = asyncio.Queue()
    reader = asyncio.create_task(read_client(stream, record, inbox))
    try:
        await _script(fake, stream, record, behaviour, inbox)
    except ClientClosed:
        pass
    except Violation as exc:
        record.violations.append(str(exc))
        await end_stream(stream, {"error": {"code": "invalid_argument", "message": str(exc)}})
    finally:
        record.finished = True
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def _script(
    fake: AgentBackend,
    stream: H2Stream,
    record: RunRecord,
    behaviour: Behaviour,
    inbox: Inbox,
) -> None:
    first = await next_message(inbox)
    if first.WhichOneof("message") != "run_request":
        raise Violation("First message must be a run request")
    run = record.run_request = first.run_request
    if not run.HasField("conversation_state"):
        raise Violation("Conversation state is required")
    if behaviour.only_models and run.requested_model.model_id not in behaviour.only_models:
        behaviour = dataclasses.replace(behaviour, mode="answer")
    if behaviour.reset_history_above:
        structured = sum(len(b.value) for b in run.pre_fetched_blobs)
        if structured > behaviour.reset_history_above:
            record.violations.append(f"structured history of {structured} bytes: stream reset")
            stream.reset()
            return
    if fake.catalog_2026:
        problem = compat.requested_model_problem(run)
        if problem:
            await end_stream(stream, {"error": {"code": "invalid_argument", "message": problem}})
            return
    if behaviour.mode == "error":
        await asyncio.sleep(behaviour.first_delay)
        await end_stream(stream, {"error": behaviour.error})
        return
    if behaviour.mode == "stall":
        while not stream.closed:
            await send(
                stream,
                record,
                pb.AgentServerMessage(
                    interaction_update=pb.InteractionUpdate(heartbeat=pb.HeartbeatUpdate())
                ),
            )
            await asyncio.sleep(0.2)
        return

    # 1. Request context: the client must answer with the same id and exec_id.
    await send(
        stream,
        record,
        pb.AgentServerMessage(
            exec_server_message=pb.ExecServerMessage(
                id=1, exec_id="ctx-1", request_context_args=pb.RequestContextArgs()
            )
        ),
    )
    reply = await next_message(inbox)
    exec_reply = reply.exec_client_message
    if not (
        reply.HasField("exec_client_message")
        and exec_reply.id == 1
        and exec_reply.exec_id == "ctx-1"
        and exec_reply.request_context_result.HasField("success")
    ):
        raise Violation("request context was not answered")
    record.request_context_answered = True
    record.context_tools = list(exec_reply.request_context_result.success.request_context.tools)

    # 2. A blob the client must serve (sha256 must match the id).
    roots = list(run.conversation_state.root_prompt_messages_json)
    if behaviour.ask_blob and roots:
        await send(
            stream,
            record,
            pb.AgentServerMessage(
                kv_server_message=pb.KvServerMessage(id=7, get_blob_args=pb.GetBlobArgs(blob_id=roots[0]))
            ),
        )
        reply = await next_message(inbox)
        data = reply.kv_client_message.get_blob_result.blob_data
        if reply.kv_client_message.id != 7 or msgs.blob_id(data) != roots[0]:
            raise Violation("blob answer does not match its id")
        record.blob_answered = True

    if run.action.HasField("resume_action") and (run.requested_model.model_id or "").startswith("composer"):
        # Composer after tool results: a resume action got an empty answer (issue 14); only a user
        # message carrying the results is answered.
        record.tool_log.append("composer:resume-empty")
        behaviour = dataclasses.replace(behaviour, mode="empty_turn")
    if behaviour.mode == "empty_turn" or behaviour.probe_unknowns:
        if behaviour.mode == "empty_turn":
            await compat.empty_turn(fake, stream, record)
            return
        await compat.probe_unknowns(stream, record, inbox)

    # 3. A built-in tool the gateway must refuse with the matching result type.
    if behaviour.send_builtin_exec:
        await send(
            stream,
            record,
            pb.AgentServerMessage(
                exec_server_message=pb.ExecServerMessage(
                    id=2, exec_id="read-2", read_args=pb.PathArgs(path="/etc/passwd")
                )
            ),
        )
        reply = await next_message(inbox)
        if not (
            reply.exec_client_message.id == 2 and reply.exec_client_message.read_result.HasField("rejected")
        ):
            raise Violation("built-in read exec was not refused with read_result.rejected")
        record.builtin_refused = "read_result.rejected"

    await asyncio.sleep(behaviour.first_delay)
    outcome = await agent_tool_turn(fake, stream, record, behaviour, run, inbox)
    if outcome is HANDLED:
        return
    if isinstance(outcome, str):
        behaviour = dataclasses.replace(behaviour, reply=outcome)
    await _answer(fake, stream, record, behaviour, run)


async def _answer(
    fake: AgentBackend, stream: H2Stream, record: RunRecord, behaviour: Behaviour, run: pb.AgentRunRequest
) -> None:
    user_text = run.action.user_message_action.user_message.text
    model = run.requested_model.model_id or run.model_details.model_id
    thinking = behaviour.thinking
    if thinking is None and "thinking" in model:
        thinking = "Let me think about that."
    if thinking:
        for piece in split_text(thinking, 3):
            await fake.send_update(
                stream, record, pb.InteractionUpdate(thinking_delta=pb.ThinkingDeltaUpdate(text=piece))
            )
            await asyncio.sleep(behaviour.delay)
        await fake.send_update(
            stream,
            record,
            pb.InteractionUpdate(thinking_completed=pb.ThinkingCompletedUpdate(thinking_duration_ms=10)),
        )
    reply = behaviour.reply if behaviour.reply is not None else f"{behaviour.echo_prefix}{user_text}"
    pieces = split_text(reply, behaviour.chunks)
    for index, piece in enumerate(pieces):
        await fake.send_update(
            stream, record, pb.InteractionUpdate(text_delta=pb.TextDeltaUpdate(text=piece))
        )
        await fake.send_update(
            stream, record, pb.InteractionUpdate(token_delta=pb.TokenDeltaUpdate(tokens=1))
        )
        if index == len(pieces) // 2:
            await fake.send_update(stream, record, pb.InteractionUpdate(heartbeat=pb.HeartbeatUpdate()))
            if behaviour.mode == "error_after_text":
                await end_stream(stream, {"error": behaviour.error})
                return
            if behaviour.mode == "reset_after_text":
                stream.reset()
                return
        if behaviour.delay:
            await asyncio.sleep(behaviour.delay)
    if behaviour.send_unknown and record.codec == "proto":
        # Drift as Cursor would ship it: a new top-level arm (99) nobody's schema knows yet.
        await stream.write(encode_envelope(b"\x9a\x06\x02\x08\x01"))
    prompt_tokens = (
        sum(len(r) for r in run.conversation_state.root_prompt_messages_json) + len(user_text) // 4 + 100
    )
    await send(
        stream,
        record,
        pb.AgentServerMessage(
            conversation_checkpoint_update=pb.ConversationStateStructure(
                token_details=pb.TokenDetails(used_tokens=prompt_tokens + len(pieces), max_tokens=200000)
            )
        ),
    )
    ended = pb.TurnEndedUpdate()
    if behaviour.usage:
        ended.input_tokens = prompt_tokens
        ended.output_tokens = len(pieces)
        ended.cache_read_tokens = 0
    update = pb.InteractionUpdate(turn_ended=ended)
    if behaviour.send_unknown and record.codec == "proto":
        ended_bytes = ended.SerializeToString() + b"\x48\x07"
        inner = b"\x72" + bytes([len(ended_bytes)]) + ended_bytes
        raw = b"\x0a" + bytes([len(inner)]) + inner
        await stream.write(encode_envelope(raw))
        record.events_sent += 1
    else:
        await fake.send_update(stream, record, update)
    failed_after_end = behaviour.mode == "error_after_turn_end"
    await end_stream(stream, {"error": behaviour.error} if failed_after_end else {})
