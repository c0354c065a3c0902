"""The fake Cursor backend: agent Run (bidirectional), model catalog, API-key exchange, and a control
route. It validates what clients send (first message is a run request, request context and blobs are
answered with matching ids, built-in execs are refused with the right result type) and records every
request for assertions."""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import json
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError

from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as pb
from cursor_gateway.codec._gen.aiserver.v1 import models_pb2
from cursor_gateway.codec.envelope import EnvelopeDecoder, ProtocolViolation, encode_envelope
from cursor_gateway.emulator.account import PATHS as ACCOUNT_PATHS
from cursor_gateway.emulator.account import AccountState, serve_account
from cursor_gateway.emulator.behaviour import CHAOS, FAILURES, Behaviour
from cursor_gateway.emulator.h2server import H2Server, H2Stream
from cursor_gateway.emulator.tab import PATHS as TAB_PATHS
from cursor_gateway.emulator.tab import TabState, serve_tab
from cursor_gateway.emulator.tokens import fake_jwt, jwt_expired
from cursor_gateway.upstream import agent_wire as msgs

log = logging.getLogger("cursor_gateway.emulator")

CATALOG = (
    # (name, supports_thinking, supports_images, supports_max_mode)
    ("default", False, True, False),
    ("composer-2.5", False, True, False),
    ("claude-4.6-sonnet", False, True, True),
    ("claude-4.6-sonnet-thinking", True, True, True),
    ("gpt-5.2", True, True, True),
    ("gemini-3.1-pro-preview", True, True, True),
)


@dataclass(slots=True)
class RunRecord:
    path: str
    headers: dict[str, str]
    codec: str = "proto"
    run_request: pb.AgentRunRequest | None = None
    # The first request message of the other profiles (RunInference / StreamUnifiedChatWithTools).
    request: Any = None
    client_messages: list[pb.AgentClientMessage] = field(default_factory=list)
    heartbeats: int = 0
    violations: list[str] = field(default_factory=list)
    request_context_answered: bool = False
    blob_answered: bool = False
    builtin_refused: str = ""
    # Tool scripts (emulator/tools.py): the tools of the request-context answer, and what happened.
    context_tools: list[pb.McpToolDefinition] = field(default_factory=list)
    tool_log: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    events_sent: int = 0
    last_event_at: float = 0.0
    finished: bool = False

    @property
    def bearer(self) -> str:
        return self.headers.get("authorization", "").removeprefix("Bearer ")


class _ClientClosed(Exception):
    pass


class _Violation(Exception):
    pass


class FakeCursor:
    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.default = behaviour or Behaviour()
        self.by_token: dict[str, Behaviour] = {}
        self.runs: list[RunRecord] = []
        self.unary_calls: list[tuple[str, dict[str, str]]] = []
        self.bad_api_keys: set[str] = set()
        self.refresh_calls: list[str] = []  # the refresh_token of every /oauth/token call
        self.revoked_sessions: set[str] = set()  # refresh tokens answered with shouldLogout
        self.tool_calls_issued: dict[str, str] = {}  # tool call id -> call | unregistered | bad
        # GetUsableModels per bearer (an account whose plan lacks some models); others get the catalog.
        self.usable_by_token: dict[str, list[str]] = {}
        self.accounts = AccountState()  # stripe profile, user info, server config (emulator/account.py)
        self.tab = TabState()  # Copilot++ calls and file-sync state (emulator/tab.py)
        # Also publish the October 2026 catalog with parameters and variants (emulator/compat.py).
        self.catalog_2026 = False
        self.server = H2Server(self.handle)
        # Chaos for soak runs: this share of agent turns plays one of behaviour.CHAOS instead.
        self.fault_rate = 0.0
        self.fault_rng = random.Random(0)
        self.faults_played: collections.Counter[str] = collections.Counter()
        self.fault_names: list[str] = sorted(CHAOS)

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeCursor:
        await self.server.start(host, port)
        return self

    async def close(self) -> None:
        await self.server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def behaviour_for(self, bearer: str) -> Behaviour:
        if self.fault_rate and self.fault_rng.random() < self.fault_rate:
            name = self.fault_rng.choice(self.fault_names)
            self.faults_played[name] += 1
            return CHAOS[name]()
        return self.by_token.get(bearer, self.default)

    # -- routing ------------------------------------------------------------------------------------------

    async def handle(self, stream: H2Stream) -> None:
        path = stream.path.split("?", 1)[0]
        if path == "/agent.v1.AgentService/Run":
            await self._run(stream)
        elif path == "/aiserver.v1.InferenceService/RunInference":
            from cursor_gateway.emulator.inference import serve_run_inference

            await serve_run_inference(self, stream)
        elif path == "/aiserver.v1.ChatService/StreamUnifiedChatWithTools":
            from cursor_gateway.emulator.legacy import serve_legacy_chat

            await serve_legacy_chat(self, stream)
        elif path in (
            "/aiserver.v1.AiService/AvailableModels",
            "/agent.v1.AgentService/GetUsableModels",
            "/aiserver.v1.AiService/GetUsableModels",
        ):
            await self._catalog(stream, path)
        elif path == "/auth/exchange_user_api_key":
            await self._exchange(stream)
        elif path == "/oauth/token":
            await self._refresh(stream)
        elif path in ACCOUNT_PATHS:
            await serve_account(self, stream)
        elif path in TAB_PATHS:
            await serve_tab(self, stream)
        elif path == "/aiserver.v1.DashboardService/GetCurrentPeriodUsage":
            from cursor_gateway.emulator.compat import serve_period_usage

            await serve_period_usage(self, stream)
        elif path == "/_emulator/behaviour":
            await self._control(stream)
        elif self.default.mode == "raw":
            await self._raw(stream, self.default)
        else:
            await stream.read_all()
            await _json(stream, 404, {"code": "unimplemented", "message": f"no route {path}"})

    # -- agent Run ----------------------------------------------------------------------------------------

    async def _run(self, stream: H2Stream) -> None:
        content_type = stream.headers.get("content-type", "")
        codec = "json" if content_type == "application/connect+json" else "proto"
        record = RunRecord(stream.path, dict(stream.headers), codec)
        self.runs.append(record)
        behaviour = self.behaviour_for(record.bearer)
        if behaviour.mode == "raw":
            await self._raw(stream, behaviour)
            return
        if behaviour.mode == "deaf":
            while not stream.closed:  # set when the client resets the stream or the connection ends
                await asyncio.sleep(0.05)
            return
        if not content_type.startswith("application/connect+"):
            record.violations.append(f"bad content-type {content_type!r}")
            await _json(stream, 415, {"code": "invalid_argument", "message": "unsupported content type"})
            return
        if behaviour.mode == "http_error":
            await _json(stream, behaviour.http_status, behaviour.error, behaviour.http_headers)
            return
        if not record.bearer:
            await _json(stream, 401, {"code": "unauthenticated", "message": "missing bearer"})
            return
        await stream.respond(200, [("content-type", content_type)])
        if jwt_expired(record.bearer):
            # Like Cursor: an expired session JWT is refused in the end-stream, with HTTP 200.
            await stream.read_all()
            await self._end(stream, {"error": FAILURES["unauthenticated"]})
            return
        inbox: asyncio.Queue[pb.AgentClientMessage | None] = asyncio.Queue()
        reader = asyncio.create_task(self._read_client(stream, record, inbox))
        try:
            await self._script(stream, record, behaviour, inbox)
        except _ClientClosed:
            pass
        except _Violation as exc:
            record.violations.append(str(exc))
            await self._end(stream, {"error": {"code": "invalid_argument", "message": str(exc)}})
        finally:
            record.finished = True
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _read_client(
        self, stream: H2Stream, record: RunRecord, inbox: asyncio.Queue[pb.AgentClientMessage | None]
    ) -> None:
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

    async def _next(
        self, inbox: asyncio.Queue[pb.AgentClientMessage | None], timeout: float = 10.0
    ) -> pb.AgentClientMessage:
        try:
            message = await asyncio.wait_for(inbox.get(), timeout)
        except TimeoutError as exc:
            raise _Violation("client did not answer in time") from exc
        if message is None:
            raise _ClientClosed
        return message

    async def _send(self, stream: H2Stream, record: RunRecord, message: pb.AgentServerMessage) -> None:
        if stream.closed:
            raise _ClientClosed
        await stream.write(encode_envelope(msgs.encode_server(message, record.codec)))

    async def _end(self, stream: H2Stream, obj: dict[str, Any]) -> None:
        if not stream.closed:
            await stream.write(encode_envelope(json.dumps(obj).encode(), end_stream=True), end=True)

    async def _script(
        self,
        stream: H2Stream,
        record: RunRecord,
        behaviour: Behaviour,
        inbox: asyncio.Queue[pb.AgentClientMessage | None],
    ) -> None:
        first = await self._next(inbox)
        if first.WhichOneof("message") != "run_request":
            raise _Violation("First message must be a run request")
        run = record.run_request = first.run_request
        if not run.HasField("conversation_state"):
            raise _Violation("Conversation state is required")
        if behaviour.only_models and run.requested_model.model_id not in behaviour.only_models:
            behaviour = dataclasses.replace(behaviour, mode="answer")
        if behaviour.reset_history_above:
            structured = sum(len(b.value) for b in run.pre_fetched_blobs)
            if structured > behaviour.reset_history_above:
                record.violations.append(f"structured history of {structured} bytes: stream reset")
                stream.reset()
                return
        if self.catalog_2026:
            from cursor_gateway.emulator.compat import requested_model_problem

            problem = requested_model_problem(run)
            if problem:
                await self._end(stream, {"error": {"code": "invalid_argument", "message": problem}})
                return
        if behaviour.mode == "error":
            await asyncio.sleep(behaviour.first_delay)
            await self._end(stream, {"error": behaviour.error})
            return
        if behaviour.mode == "stall":
            while not stream.closed:
                await self._send(
                    stream,
                    record,
                    pb.AgentServerMessage(
                        interaction_update=pb.InteractionUpdate(heartbeat=pb.HeartbeatUpdate())
                    ),
                )
                await asyncio.sleep(0.2)
            return

        # 1. Request context: the client must answer with the same id and exec_id.
        await self._send(
            stream,
            record,
            pb.AgentServerMessage(
                exec_server_message=pb.ExecServerMessage(
                    id=1, exec_id="ctx-1", request_context_args=pb.RequestContextArgs()
                )
            ),
        )
        reply = await self._next(inbox)
        exec_reply = reply.exec_client_message
        if not (
            reply.HasField("exec_client_message")
            and exec_reply.id == 1
            and exec_reply.exec_id == "ctx-1"
            and exec_reply.request_context_result.HasField("success")
        ):
            raise _Violation("request context was not answered")
        record.request_context_answered = True
        record.context_tools = list(exec_reply.request_context_result.success.request_context.tools)

        # 2. A blob the client must serve (sha256 must match the id).
        roots = list(run.conversation_state.root_prompt_messages_json)
        if behaviour.ask_blob and roots:
            await self._send(
                stream,
                record,
                pb.AgentServerMessage(
                    kv_server_message=pb.KvServerMessage(id=7, get_blob_args=pb.GetBlobArgs(blob_id=roots[0]))
                ),
            )
            reply = await self._next(inbox)
            data = reply.kv_client_message.get_blob_result.blob_data
            if reply.kv_client_message.id != 7 or msgs.blob_id(data) != roots[0]:
                raise _Violation("blob answer does not match its id")
            record.blob_answered = True

        if run.action.HasField("resume_action") and (run.requested_model.model_id or "").startswith(
            "composer"
        ):
            # Composer after tool results: a resume action got an empty answer (issue 14); only a user
            # message carrying the results is answered.
            record.tool_log.append("composer:resume-empty")
            behaviour = dataclasses.replace(behaviour, mode="empty_turn")
        if behaviour.mode == "empty_turn" or behaviour.probe_unknowns:
            from cursor_gateway.emulator import compat

            if behaviour.mode == "empty_turn":
                await compat.empty_turn(self, stream, record)
                return
            await compat.probe_unknowns(self, stream, record, inbox)

        # 3. A built-in tool the gateway must refuse with the matching result type.
        if behaviour.send_builtin_exec:
            await self._send(
                stream,
                record,
                pb.AgentServerMessage(
                    exec_server_message=pb.ExecServerMessage(
                        id=2, exec_id="read-2", read_args=pb.PathArgs(path="/etc/passwd")
                    )
                ),
            )
            reply = await self._next(inbox)
            if not (
                reply.exec_client_message.id == 2
                and reply.exec_client_message.read_result.HasField("rejected")
            ):
                raise _Violation("built-in read exec was not refused with read_result.rejected")
            record.builtin_refused = "read_result.rejected"

        await asyncio.sleep(behaviour.first_delay)
        from cursor_gateway.emulator.tools import HANDLED, agent_tool_turn

        outcome = await agent_tool_turn(self, stream, record, behaviour, run, inbox)
        if outcome is HANDLED:
            return
        if isinstance(outcome, str):
            behaviour = dataclasses.replace(behaviour, reply=outcome)
        await self._answer(stream, record, behaviour, run)

    async def _answer(
        self, stream: H2Stream, record: RunRecord, behaviour: Behaviour, run: pb.AgentRunRequest
    ) -> None:
        user_text = run.action.user_message_action.user_message.text
        model = run.requested_model.model_id or run.model_details.model_id
        thinking = behaviour.thinking
        if thinking is None and "thinking" in model:
            thinking = "Let me think about that."
        if thinking:
            for piece in _split(thinking, 3):
                await self._update(
                    stream, record, pb.InteractionUpdate(thinking_delta=pb.ThinkingDeltaUpdate(text=piece))
                )
                await asyncio.sleep(behaviour.delay)
            await self._update(
                stream,
                record,
                pb.InteractionUpdate(thinking_completed=pb.ThinkingCompletedUpdate(thinking_duration_ms=10)),
            )
        reply = behaviour.reply if behaviour.reply is not None else f"{behaviour.echo_prefix}{user_text}"
        pieces = _split(reply, behaviour.chunks)
        for index, piece in enumerate(pieces):
            await self._update(
                stream, record, pb.InteractionUpdate(text_delta=pb.TextDeltaUpdate(text=piece))
            )
            await self._update(
                stream, record, pb.InteractionUpdate(token_delta=pb.TokenDeltaUpdate(tokens=1))
            )
            if index == len(pieces) // 2:
                await self._update(stream, record, pb.InteractionUpdate(heartbeat=pb.HeartbeatUpdate()))
                if behaviour.mode == "error_after_text":
                    await self._end(stream, {"error": behaviour.error})
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
        await self._send(
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
            await self._update(stream, record, update)
        failed_after_end = behaviour.mode == "error_after_turn_end"
        await self._end(stream, {"error": behaviour.error} if failed_after_end else {})

    async def _update(self, stream: H2Stream, record: RunRecord, update: pb.InteractionUpdate) -> None:
        await self._send(stream, record, pb.AgentServerMessage(interaction_update=update))
        if update.WhichOneof("message") in ("text_delta", "thinking_delta", "turn_ended"):
            record.events_sent += 1
            record.last_event_at = time.monotonic()

    # -- unary and plain routes ---------------------------------------------------------------------------

    async def _catalog(self, stream: H2Stream, path: str) -> None:
        await stream.read_all()
        self.unary_calls.append((path, dict(stream.headers)))
        bearer = stream.headers.get("authorization", "").removeprefix("Bearer ")
        behaviour = self.behaviour_for(bearer)
        if not bearer or behaviour.mode in ("error", "http_error"):
            await _json(
                stream,
                401 if not bearer else behaviour.http_status,
                behaviour.error if bearer else {"code": "unauthenticated", "message": "missing bearer"},
            )
            return
        as_json = stream.headers.get("content-type", "").startswith("application/json")
        if path.endswith("AvailableModels"):
            available = models_pb2.AvailableModelsResponse()
            for name, thinking, images, max_mode in CATALOG:
                available.models.append(
                    models_pb2.AvailableModel(
                        name=name,
                        default_on=True,
                        supports_thinking=thinking,
                        supports_images=images,
                        supports_max_mode=max_mode,
                        supports_non_max_mode=True,
                        client_display_name=name,
                    )
                )
            if self.catalog_2026:
                from cursor_gateway.emulator.compat import add_2026_models

                add_2026_models(available)
            message: Any = available
        else:
            names = self.usable_by_token.get(bearer) or [name for name, *_ in CATALOG]
            if self.catalog_2026 and not self.usable_by_token.get(bearer):
                from cursor_gateway.emulator.compat import CATALOG_2026

                names += [name for name, *_ in CATALOG_2026 if name not in names]
            message = pb.GetUsableModelsResponse(
                models=[pb.ModelDetails(model_id=name, display_name=name) for name in names]
            )
        if as_json:
            body = json_format.MessageToJson(message).encode()
            await stream.respond(200, [("content-type", "application/json")])
        else:
            body = message.SerializeToString()
            await stream.respond(200, [("content-type", "application/proto")])
        await stream.write(body, end=True)

    async def _exchange(self, stream: H2Stream) -> None:
        await stream.read_all()
        key = stream.headers.get("authorization", "").removeprefix("Bearer ")
        self.unary_calls.append((stream.path, dict(stream.headers)))
        if not key.startswith("crsr_") or key in self.bad_api_keys:
            await _json(stream, 401, {"error": "Invalid User API Key"})
            return
        token = fake_jwt(
            user_id="user_01APIKEYUSER00000000000000", token_type="api_key_token", exp=time.time() + 3600
        )
        await _json(stream, 200, {"accessToken": token, "refreshToken": token})

    async def _refresh(self, stream: H2Stream) -> None:
        body = await stream.read_all()
        try:
            request = json.loads(body)
        except ValueError:
            request = {}
        refresh_token = str(request.get("refresh_token", ""))
        if request.get("grant_type") != "refresh_token" or not refresh_token or not request.get("client_id"):
            await _json(stream, 400, {"error": "invalid_request"})
            return
        self.refresh_calls.append(refresh_token)
        if refresh_token in self.revoked_sessions:
            await _json(stream, 200, {"access_token": "", "id_token": "", "shouldLogout": True})
            return
        token = fake_jwt(exp=time.time() + 60 * 86400)
        await _json(stream, 200, {"access_token": token, "id_token": token, "shouldLogout": False})

    async def _control(self, stream: H2Stream) -> None:
        body = await stream.read_all()
        if stream.method == "POST":
            obj = json.loads(body or b"{}")
            if "default" in obj:
                self.default = Behaviour.from_json(obj["default"])
            for token, spec in (obj.get("tokens") or {}).items():
                self.by_token[token] = Behaviour.from_json(spec)
            if "fault_rate" in obj:
                self.fault_rate = float(obj["fault_rate"])
            if obj.get("faults"):
                self.fault_names = [name for name in obj["faults"] if name in CHAOS]
        await _json(
            stream,
            200,
            {"runs": len(self.runs), "mode": self.default.mode, "faults_played": dict(self.faults_played)},
        )

    async def _raw(self, stream: H2Stream, behaviour: Behaviour) -> None:
        await stream.respond(200, [("content-type", behaviour.raw_content_type)])
        body, sizes, offset, index = (
            behaviour.raw_body,
            behaviour.raw_chunks or (len(behaviour.raw_body),),
            0,
            0,
        )
        while offset < len(body):
            size = max(1, sizes[index % len(sizes)])
            await stream.write(body[offset : offset + size])
            offset += size
            index += 1
            await asyncio.sleep(0)
        await stream.end()


def _split(text: str, parts: int) -> list[str]:
    if not text:
        return []
    parts = max(1, min(parts, len(text)))
    size, extra = divmod(len(text), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(text[start:end])
        start = end
    return out


async def _json(stream: H2Stream, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
    body = json.dumps(obj).encode()
    await stream.respond(status, [("content-type", "application/json"), *(headers or {}).items()])
    await stream.write(body, end=True)


def run_from_args(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def main() -> None:
        fake = FakeCursor(Behaviour(delay=args.delay))
        fake.fault_rate = getattr(args, "fault_rate", 0.0)
        fake.fault_rng.seed(getattr(args, "fault_seed", 0))
        await fake.start(args.host, args.port)
        print(f"Fake Cursor upstream (HTTP/2 cleartext) on http://{args.host}:{fake.server.port}", flush=True)
        print(f"Point the gateway at it: CURSOR_API_URL=http://{args.host}:{fake.server.port}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await fake.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0
