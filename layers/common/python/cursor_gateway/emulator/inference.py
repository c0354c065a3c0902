"""The fake Cursor's `aiserver.v1.InferenceService/RunInference` (2026 sheet §5): a real peer of the
`inference` profile over HTTP/2.

It checks the IDE-shaped headers (client type, version, a checksum whose time part decodes to now, the
client key), requires the run request first, answers `run_ready`, checks the `invoke_model` message list
(real system role, latest user text, images as base64; the checks are in inference_checks.py), hands a
turn with tools to tools.py, streams thinking/text/usage parts per the token's
`Behaviour`, sends `invocation_end`, waits for `finish_run` and ends with `{}`. A `cancel_invocation`
stops the answer at its next part (then `invocation_end`, `finish_run`, `{}` as usual).

`Behaviour.error` may be a Connect error (sent as the end-stream error after `invoke_model`), or one of
the RunInference-specific forms in `INFERENCE_FAILURES`: `{"inference_error": {...}}` (an `error`
response part, then `invocation_end`) or `{"invocation_end": {...}}` (an `invocation_end` carrying the
error).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import time
from typing import Any

from google.protobuf.message import DecodeError

from cursor_gateway.codec._gen.aiserver.v1 import inference_pb2 as pb
from cursor_gateway.codec.envelope import EnvelopeDecoder, ProtocolViolation, encode_envelope
from cursor_gateway.emulator.behaviour import Behaviour, error_detail_b64
from cursor_gateway.emulator.h2server import H2Stream
from cursor_gateway.emulator.inference_checks import ide_header_problems, invoke_problems, message_text
from cursor_gateway.emulator.records import Backend, ClientClosed, RunRecord, Violation
from cursor_gateway.emulator.tools import HANDLED, inference_tool_turn
from cursor_gateway.emulator.wire import end_stream, length_delimited, send_json, serve_raw, split_text

CONTENT_TYPE = "application/connect+proto"
EOS_MARKER = "<" + "|eos|" + ">"
THINKING_SIGNATURE = "sig-emulator-opaque"
CACHE_READ_TOKENS = 40


def _response_error(error_type: int, message: str, **flags: bool) -> dict[str, Any]:
    return {"inference_error": {"error_type": error_type, "message": message, **flags}}


# RunInference-specific failures (2026 sheet §5.3 error types, and an error carried by invocation_end).
INFERENCE_FAILURES: dict[str, dict[str, Any]] = {
    "input_limit": _response_error(
        pb.INFERENCE_ERROR_TYPE_INPUT_TOKEN_LIMIT, "Prompt is too long", is_input_token_limit_error=True
    ),
    "output_limit": _response_error(
        pb.INFERENCE_ERROR_TYPE_OUTPUT_TOKEN_LIMIT,
        "Output token limit reached",
        is_output_token_limit_error=True,
    ),
    "rate_limit": _response_error(pb.INFERENCE_ERROR_TYPE_RATE_LIMIT, "Too many requests"),
    "auth": _response_error(pb.INFERENCE_ERROR_TYPE_AUTHENTICATION, "Not logged in"),
    "permission": _response_error(pb.INFERENCE_ERROR_TYPE_PERMISSION, "Not allowed for this plan"),
    "overloaded": _response_error(pb.INFERENCE_ERROR_TYPE_OVERLOADED, "Provider overloaded"),
    "content_filter": _response_error(pb.INFERENCE_ERROR_TYPE_CONTENT_FILTER, "Blocked by content filter"),
    "untyped_update_required": {
        "inference_error": {"code": "failed_precondition", "message": "Update Required: upgrade Cursor"}
    },
    "end_rate_limited": {
        "invocation_end": {
            "code": "resource_exhausted",
            "message": "Rate limited",
            "details": [error_detail_b64(50, "Rate limited", "Too many requests, slow down.")],
        }
    },
    "end_unavailable": {"invocation_end": {"code": "unavailable", "message": "Provider unavailable"}},
}


async def serve_run_inference(fake: Backend, stream: H2Stream) -> None:
    content_type = stream.headers.get("content-type", "")
    record = RunRecord(stream.path, dict(stream.headers), "proto")
    fake.runs.append(record)
    behaviour = fake.behaviour_for(record.bearer)
    if behaviour.mode == "raw":
        await serve_raw(stream, behaviour)
        return
    if content_type != CONTENT_TYPE:
        record.violations.append(f"bad content-type {content_type!r}")
        await stream.read_all()
        await send_json(stream, 415, {"code": "invalid_argument", "message": "unsupported content type"})
        return
    if behaviour.mode == "http_error":
        await send_json(stream, behaviour.http_status, behaviour.error)
        return
    if not record.bearer:
        await send_json(stream, 401, {"code": "unauthenticated", "message": "missing bearer"})
        return
    await stream.respond(200, [("content-type", CONTENT_TYPE)])
    run = _Run(fake, stream, record, behaviour)
    problems = ide_header_problems(record.headers)
    if problems:
        # Cursor answers a wrong client identity like a dead login (2026 sheet §3.4).
        record.violations.extend(problems)
        record.finished = True
        await run.end({"error": {"code": "unauthenticated", "message": "; ".join(problems)}})
        return
    await run.serve()


class _Run:
    """One RunInference stream: a reader task feeds client messages to the script through `inbox`."""

    def __init__(self, fake: Backend, stream: H2Stream, record: RunRecord, behaviour: Behaviour) -> None:
        self.fake = fake
        self.stream = stream
        self.record = record
        self.behaviour = behaviour
        self.inbox: asyncio.Queue[pb.RunInferenceClientMessage | None] = asyncio.Queue()
        self.invocation_id = ""
        self.cancelled = False
        self.run: pb.RunInferenceRunRequest | None = None

    async def serve(self) -> None:
        reader = asyncio.create_task(self._read_client())
        try:
            await self._script()
        except ClientClosed:
            pass
        except Violation as exc:
            self.record.violations.append(str(exc))
            await self.end({"error": {"code": "invalid_argument", "message": str(exc)}})
        finally:
            self.record.finished = True
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    # -- plumbing -----------------------------------------------------------------------------------------

    async def _read_client(self) -> None:
        decoder = EnvelopeDecoder()
        while (chunk := await self.stream.read()) is not None:
            try:
                frames = decoder.feed(chunk)
            except ProtocolViolation as exc:
                self.record.violations.append(f"client framing: {exc}")
                break
            for frame in frames:
                try:
                    message = pb.RunInferenceClientMessage.FromString(frame.payload)
                except DecodeError as exc:
                    self.record.violations.append(f"undecodable client message: {exc}")
                    continue
                self.record.client_messages.append(message)
                if message.WhichOneof("message") == "cancel_invocation":
                    # Out of band: the answer loop stops at its next part.
                    self.cancelled = True
                    continue
                self.inbox.put_nowait(message)
        self.inbox.put_nowait(None)

    async def next(self, timeout: float = 10.0) -> pb.RunInferenceClientMessage:
        try:
            message = await asyncio.wait_for(self.inbox.get(), timeout)
        except TimeoutError as exc:
            raise Violation("client did not answer in time") from exc
        if message is None:
            raise ClientClosed
        return message

    async def send(self, message: pb.RunInferenceServerMessage) -> None:
        if self.stream.closed:
            raise ClientClosed
        await self.stream.write(encode_envelope(message.SerializeToString()))

    async def end(self, obj: dict[str, Any]) -> None:
        await end_stream(self.stream, obj)

    async def respond(self, response: pb.InferenceStreamResponse) -> None:
        invocation = pb.RunInferenceInvocationResponse(invocation_id=self.invocation_id, response=response)
        await self.send(pb.RunInferenceServerMessage(invocation_response=invocation))
        if response.WhichOneof("part") in ("text_part", "thinking_part"):
            self._count_event()

    async def invocation_end(self, error: dict[str, Any] | None = None) -> None:
        end = pb.RunInferenceInvocationEnd(invocation_id=self.invocation_id)
        if error is not None:
            end.error.code = str(error.get("code", ""))
            end.error.message = str(error.get("message", ""))
            for detail in error.get("details") or []:
                end.error.details.append(base64.b64decode(detail + "=" * (-len(detail) % 4)))
        await self.send(pb.RunInferenceServerMessage(invocation_end=end))
        self._count_event()

    def _count_event(self) -> None:
        self.record.events_sent += 1
        self.record.last_event_at = time.monotonic()

    async def heartbeat(self) -> None:
        await self.send(pb.RunInferenceServerMessage(heartbeat=pb.RunInferenceHeartbeat()))

    # -- the script ---------------------------------------------------------------------------------------

    async def _script(self) -> None:
        first = await self.next()
        if first.WhichOneof("message") != "run_request":
            raise Violation("First message must be a run request")
        run = self.run = first.run_request
        model = run.requested_model.model_id
        if not model:
            raise Violation("run request has no requested model")
        ready = pb.RunInferenceRunReady(resolved_model=model, routed_model_display_name=model)
        received_before_ready = len(self.record.client_messages)
        await self.send(pb.RunInferenceServerMessage(run_ready=ready))
        second = await self.next()
        if second.WhichOneof("message") != "invoke_model":
            raise Violation(f"expected invoke_model after run_ready, got {second.WhichOneof('message')}")
        # Only catches a client that pipelines when its invoke arrived before run_ready went out, but
        # never accuses a client that waited.
        if any(m is second for m in self.record.client_messages[:received_before_ready]):
            raise Violation("invoke_model was sent before run_ready")
        invoke = second.invoke_model
        self.record.request = invoke.request
        problems = invoke_problems(run, invoke)
        if problems:
            raise Violation("; ".join(problems))
        self.invocation_id = invoke.invocation_id

        behaviour = self.behaviour
        if behaviour.mode == "stall":
            while not self.stream.closed:
                await self.heartbeat()
                await asyncio.sleep(0.2)
            return
        await asyncio.sleep(behaviour.first_delay)
        if behaviour.mode == "error":
            await self.fail(behaviour.error)
            return
        await self._answer(invoke.request)

    async def fail(self, error: dict[str, Any]) -> None:
        """The token's scripted failure, in whichever of the three forms `error` is written."""
        if "inference_error" in error:
            await self.respond(
                pb.InferenceStreamResponse(error=pb.InferenceError(**error["inference_error"]))
            )
            await self.invocation_end()
            await self.finish()
        elif "invocation_end" in error:
            await self.invocation_end(error["invocation_end"])
            await self.finish()
        else:
            await self.end({"error": error})

    async def finish(self) -> None:
        """After `invocation_end` the client must finish the run, or invoke again (a tool loop); then the
        stream ends cleanly."""
        message = await self.next()
        if message.WhichOneof("message") == "invoke_model" and self.run is not None:
            invoke = message.invoke_model
            self.record.request = invoke.request
            problems = invoke_problems(self.run, invoke)
            if problems:
                raise Violation("; ".join(problems))
            self.invocation_id = invoke.invocation_id
            await self._answer(invoke.request)
            return
        if message.WhichOneof("message") != "finish_run":
            raise Violation(f"expected finish_run after invocation_end, got {message.WhichOneof('message')}")
        await self.end({})

    async def _answer(self, request: pb.InferenceStreamRequest) -> None:
        outcome = await inference_tool_turn(self.fake, self, request)
        if outcome is HANDLED:
            return
        behaviour = self.behaviour
        if isinstance(outcome, str):
            behaviour = dataclasses.replace(behaviour, reply=outcome)
        user_text = message_text(request.messages[-1])
        model = request.requested_model.model_id or request.model_id
        thinking = behaviour.thinking
        if thinking is None and "thinking" in model:
            thinking = "Let me think about that."
        if thinking:
            for piece in split_text(thinking, 3):
                await self.respond(
                    pb.InferenceStreamResponse(thinking_part=pb.InferenceThinkingPart(text=piece))
                )
                await asyncio.sleep(behaviour.delay)
            # Some models close thinking with an opaque signature and no text.
            signature = pb.InferenceThinkingPart(signature=THINKING_SIGNATURE, is_final=True)
            await self.respond(pb.InferenceStreamResponse(thinking_part=signature))
        reply = behaviour.reply if behaviour.reply is not None else f"Echo: {user_text}"
        pieces = split_text(reply, behaviour.chunks)
        for index, piece in enumerate(pieces):
            if self.cancelled:
                await self.invocation_end()
                await self.finish()
                return
            final = index == len(pieces) - 1
            part = pb.InferenceTextPart(text=piece + EOS_MARKER if final else piece, is_final=final)
            await self.respond(pb.InferenceStreamResponse(text_part=part))
            if index == len(pieces) // 2:
                await self.heartbeat()
                if behaviour.mode == "error_after_text":
                    await self.fail(behaviour.error)
                    return
                if behaviour.mode == "reset_after_text":
                    self.stream.reset()
                    return
            if behaviour.delay:
                await asyncio.sleep(behaviour.delay)
        if behaviour.usage:
            prompt = sum(len(message_text(m)) for m in request.messages) // 4 + 100
            completion = len(pieces)
            # Plain usage counts the whole prompt; extended usage splits off the cached part. The client
            # must prefer the extended one (2026 sheet §5.3).
            usage = pb.InferenceUsage(
                prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
            )
            extended = pb.InferenceExtendedUsage(
                input_tokens=prompt - CACHE_READ_TOKENS,
                output_tokens=completion,
                cache_read_tokens=CACHE_READ_TOKENS,
                cache_write_tokens=0,
                max_tokens=200000,
            )
            await self.respond(pb.InferenceStreamResponse(usage=usage))
            if behaviour.send_unknown:
                # Drift as Cursor would ship it: a field inside extended usage and a whole new server
                # message arm (99) that no schema knows yet.
                usage_bytes = extended.SerializeToString() + b"\x48\x07"  # field 9 = 7
                response = length_delimited(5, usage_bytes)
                invocation = length_delimited(1, self.invocation_id.encode()) + length_delimited(2, response)
                await self.stream.write(encode_envelope(length_delimited(3, invocation)))
                await self.stream.write(encode_envelope(length_delimited(99, b"\x08\x01")))
            else:
                await self.respond(pb.InferenceStreamResponse(extended_usage=extended))
        await self.invocation_end()
        await self.finish()
