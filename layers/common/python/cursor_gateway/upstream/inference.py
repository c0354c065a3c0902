"""The `inference` profile: `aiserver.v1.InferenceService/RunInference` (2026 sheet §5), IDE-shaped.

One run per chat request with one invocation: send the run request, wait for `run_ready`, send
`invoke_model` with the full message list (a real system role, the history, the latest user message
with its images), read `invocation_response` parts until `invocation_end`, then `finish_run` and
half-close. Server heartbeats are ignored. Only text, thinking, tool calls and the turn end leave this
module.

Tools are native (2026 sheet §6.2) and fully stateless: the invocation carries the tools and the whole
history, complete tool calls end the turn with `tool_calls`, and the next request's invocation carries
the results. Calls the client must not get (unknown name, bad arguments) go back to the model in another
invocation of the same run, with error results, before the turn ends (`InvocationReader.repair`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator

from google.protobuf.message import DecodeError

from cursor_gateway.codec.connect_error import EndStreamError, parse_end_stream
from cursor_gateway.domain.chat import ChatEvent, ChatRequest
from cursor_gateway.errors import UpstreamError, UpstreamProtocolError, UpstreamUnavailable
from cursor_gateway.settings import Settings
from cursor_gateway.upstream import drift
from cursor_gateway.upstream import inference_request as msgs
from cursor_gateway.upstream.classify import classify_connect_error
from cursor_gateway.upstream.connect import BidiCall
from cursor_gateway.upstream.identity import ClientIdentity, default_identity, stream_headers
from cursor_gateway.upstream.inference_errors import classify_invocation_end_error
from cursor_gateway.upstream.inference_reader import InvocationReader, decode_server
from cursor_gateway.upstream.profile import UpstreamCredential

log = logging.getLogger("cursor_gateway.upstream.inference")

RUN_INFERENCE_PATH = "/aiserver.v1.InferenceService/RunInference"
# After `invocation_end` the answer is complete; the `{}` trailer that follows `finish_run` is awaited
# at most this long in all, so a server that keeps the stream open cannot hold the client's response.
TRAILER_GRACE_SECONDS = 5.0
# How long an abandoned answer waits, in all, for the trailer after its cancel (Cursor may keep streaming).
CANCEL_GRACE_SECONDS = 1.0


class InferenceProfile:
    name = "inference"
    default_client_type = "ide"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _headers(
        self, request: ChatRequest, credential: UpstreamCredential, identity: ClientIdentity
    ) -> list[tuple[str, str]]:
        return stream_headers(
            identity,
            bearer=credential.bearer,
            content_type=msgs.CONTENT_TYPE,
            conversation_id=request.conversation_id,
            request_id=request.request_id or None,
            machine=credential.machine,
            timezone=credential.timezone,
        )

    async def stream(
        self, request: ChatRequest, credential: UpstreamCredential, identity: ClientIdentity | None = None
    ) -> AsyncIterator[ChatEvent]:
        settings = self.settings
        identity = identity or default_identity(self.default_client_type, settings)
        plan = msgs.build_run(request)
        call = BidiCall(
            (identity.base_url or settings.cursor_api_url) + RUN_INFERENCE_PATH,
            self._headers(request, credential, identity),
            proxy=credential.proxy,
            connect_timeout=settings.cursor_connect_timeout,
            answer_timeout=settings.cursor_first_event_timeout,
        )
        call.send(msgs.encode(plan.run_request))
        async with call:
            events = self._read(call, plan)
            try:
                async for event in events:
                    yield event
            finally:
                # Closing the reader here (not at garbage collection) lets it cancel an abandoned answer.
                await events.aclose()

    async def _read(self, call: BidiCall, plan: msgs.RunPlan) -> AsyncGenerator[ChatEvent, None]:
        settings = self.settings
        reader = InvocationReader(plan.tools)
        invoked = False
        loop = asyncio.get_running_loop()
        first_event_deadline = loop.time() + settings.cursor_first_event_timeout
        trailer_deadline: float | None = None  # set once the invocation ended: the answer is complete
        abort_deadline: float | None = None  # set once the caller abandoned the answer

        def read_timeout() -> float:
            # Until the answer starts, one deadline (heartbeats and run_ready do not extend it); then an
            # idle timeout between frames; once the invocation ended or was abandoned, a short grace for
            # the trailer.
            if abort_deadline is not None:
                return abort_deadline - loop.time()
            if trailer_deadline is not None:
                return min(settings.cursor_idle_timeout, trailer_deadline - loop.time())
            if reader.answered:
                return settings.cursor_idle_timeout
            return first_event_deadline - loop.time()

        frames = call.frames(read_timeout)
        try:
            async for frame in frames:
                if frame.end_stream:
                    _raise_for_end_stream(frame.payload)
                    break
                if trailer_deadline is not None:
                    continue  # nothing after invocation_end matters but the trailer
                try:
                    message = decode_server(frame.payload)
                except DecodeError as exc:
                    raise UpstreamProtocolError(f"Undecodable RunInference message: {exc}") from exc
                drift.observe(message)
                arm = message.WhichOneof("message")
                if arm == "run_ready":
                    if not invoked:
                        invoked = True
                        call.send(msgs.encode(plan.invoke))
                elif arm == "invocation_response":
                    if not invoked:
                        raise UpstreamProtocolError("Cursor answered an invocation before run_ready")
                    response = message.invocation_response.response
                    drift.observe(response, "part")
                    for event in reader.observe(response):
                        yield event
                elif arm == "invocation_end":
                    end = message.invocation_end
                    if end.HasField("error") and (end.error.code or end.error.message or end.error.details):
                        raise classify_invocation_end_error(end.error)
                    events = reader.finish()
                    if reader.repair:
                        # Calls the client must not get: the model hears why and tries again, same run.
                        call.send(msgs.encode(msgs.repair_invoke(plan, reader.text, reader.repair)))
                        reader.next_invocation()
                        for event in events:
                            yield event
                        continue
                    trailer_deadline = loop.time() + TRAILER_GRACE_SECONDS
                    # The answer is complete: close the run first, so the trailer is on its way while the
                    # caller handles the last events.
                    call.send(msgs.encode(msgs.finish_run()))
                    call.close_send()
                    for event in events:
                        yield event
                # heartbeat and unknown arms need no answer.
        except UpstreamError as exc:
            if trailer_deadline is None:
                raise
            log.warning("RunInference trailer after a complete answer was not clean: %s", exc.message)
            return
        except (GeneratorExit, asyncio.CancelledError):
            if invoked and trailer_deadline is None:
                # The caller went away mid-answer: ask Cursor to stop generating (it spends quota), and
                # wait briefly for the trailer so the cancel reaches it before the stream is torn down.
                abort_deadline = loop.time() + CANCEL_GRACE_SECONDS
                call.send(msgs.encode(msgs.cancel_invocation(plan.invocation_id)))
                call.send(msgs.encode(msgs.finish_run()))
                call.close_send()
                with contextlib.suppress(UpstreamError):
                    async for frame in frames:
                        if frame.end_stream:
                            break
            raise
        finally:
            await frames.aclose()
        if trailer_deadline is None:
            if reader.answered:
                raise UpstreamUnavailable("Cursor ended the run before the answer was complete")
            raise UpstreamUnavailable("Cursor ended the run without an answer")


def _raise_for_end_stream(payload: bytes) -> None:
    try:
        error = parse_end_stream(payload)
    except EndStreamError as exc:
        raise UpstreamProtocolError(str(exc)) from exc
    if error is not None:
        raise classify_connect_error(error)
