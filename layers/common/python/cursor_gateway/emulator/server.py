"""The fake Cursor backend: one HTTP/2 server that routes each RPC to its module (agent Run in agent.py,
RunInference in inference.py, StreamUnifiedChatWithTools in legacy.py, account and Tab endpoints in
account.py and tab.py) and serves the small unary routes itself: the model catalog, the API-key exchange,
the session refresh and a control route. It holds what tests assert on (every run's `RunRecord`, every
unary call) and the behaviour scripted per token.

`FakeCursor` and `RunRecord` are imported from here by tests, the benchmark and `cursor-gateway demo`."""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import logging
import random
import time
from typing import Any

from google.protobuf import json_format

from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as pb
from cursor_gateway.codec._gen.aiserver.v1 import models_pb2
from cursor_gateway.emulator.account import PATHS as ACCOUNT_PATHS
from cursor_gateway.emulator.account import AccountState, serve_account, serve_period_usage
from cursor_gateway.emulator.agent import serve_agent_run
from cursor_gateway.emulator.agent_stream import write_update
from cursor_gateway.emulator.behaviour import CHAOS, Behaviour
from cursor_gateway.emulator.compat import CATALOG_2026, add_2026_models
from cursor_gateway.emulator.h2server import H2Server, H2Stream
from cursor_gateway.emulator.inference import serve_run_inference
from cursor_gateway.emulator.legacy import serve_legacy_chat
from cursor_gateway.emulator.records import RunRecord
from cursor_gateway.emulator.tab import PATHS as TAB_PATHS
from cursor_gateway.emulator.tab import TabState, serve_tab
from cursor_gateway.emulator.tokens import fake_jwt
from cursor_gateway.emulator.wire import send_json, serve_raw

__all__ = ["CATALOG", "FakeCursor", "RunRecord", "run_from_args"]

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

    async def send_update(self, stream: H2Stream, record: RunRecord, update: pb.InteractionUpdate) -> None:
        """Every interaction update of an agent Run goes out here: a test's subclass may watch them, or
        hold the rest of an answer back."""
        await write_update(stream, record, update)

    # -- routing ------------------------------------------------------------------------------------------

    async def handle(self, stream: H2Stream) -> None:
        path = stream.path.split("?", 1)[0]
        if path == "/agent.v1.AgentService/Run":
            await serve_agent_run(self, stream)
        elif path == "/aiserver.v1.InferenceService/RunInference":
            await serve_run_inference(self, stream)
        elif path == "/aiserver.v1.ChatService/StreamUnifiedChatWithTools":
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
            await serve_period_usage(self, stream)
        elif path == "/_emulator/behaviour":
            await self._control(stream)
        elif self.default.mode == "raw":
            await serve_raw(stream, self.default)
        else:
            await stream.read_all()
            await send_json(stream, 404, {"code": "unimplemented", "message": f"no route {path}"})

    # -- unary and plain routes ---------------------------------------------------------------------------

    async def _catalog(self, stream: H2Stream, path: str) -> None:
        await stream.read_all()
        self.unary_calls.append((path, dict(stream.headers)))
        bearer = stream.headers.get("authorization", "").removeprefix("Bearer ")
        behaviour = self.behaviour_for(bearer)
        if not bearer or behaviour.mode in ("error", "http_error"):
            await send_json(
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
                add_2026_models(available)
            message: Any = available
        else:
            names = self.usable_by_token.get(bearer) or [name for name, *_ in CATALOG]
            if self.catalog_2026 and not self.usable_by_token.get(bearer):
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
            await send_json(stream, 401, {"error": "Invalid User API Key"})
            return
        token = fake_jwt(
            user_id="user_01APIKEYUSER00000000000000", token_type="api_key_token", exp=time.time() + 3600
        )
        await send_json(stream, 200, {"accessToken": token, "refreshToken": token})

    async def _refresh(self, stream: H2Stream) -> None:
        body = await stream.read_all()
        try:
            request = json.loads(body)
        except ValueError:
            request = {}
        refresh_token = str(request.get("refresh_token", ""))
        if request.get("grant_type") != "refresh_token" or not refresh_token or not request.get("client_id"):
            await send_json(stream, 400, {"error": "invalid_request"})
            return
        self.refresh_calls.append(refresh_token)
        if refresh_token in self.revoked_sessions:
            await send_json(stream, 200, {"access_token": "", "id_token": "", "shouldLogout": True})
            return
        token = fake_jwt(exp=time.time() + 60 * 86400)
        await send_json(stream, 200, {"access_token": token, "id_token": token, "shouldLogout": False})

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
        await send_json(
            stream,
            200,
            {"runs": len(self.runs), "mode": self.default.mode, "faults_played": dict(self.faults_played)},
        )


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
