"""What every RPC module of the fake Cursor shares: the record of one streamed call (what tests assert
on), the two ways a run script stops early, and what the handlers need of the fake itself.

The handlers take the fake as a `Backend` (a Protocol) rather than importing `FakeCursor`: server.py
imports the handlers to route to them, so the handlers must not import it back."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as pb
from cursor_gateway.codec._gen.aiserver.v1 import inference_pb2 as ipb
from cursor_gateway.emulator.behaviour import Behaviour


@dataclass(slots=True)
class RunRecord:
    path: str
    headers: dict[str, str]
    codec: str = "proto"
    run_request: pb.AgentRunRequest | None = None
    # The first request message of the other profiles (RunInference / StreamUnifiedChatWithTools).
    request: Any = None
    # Every decoded client message, of the profile's type (agent Run or RunInference).
    client_messages: list[pb.AgentClientMessage | ipb.RunInferenceClientMessage] = field(default_factory=list)
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


class ClientClosed(Exception):
    """The client ended its side of the stream: the script stops without answering."""


class Violation(Exception):
    """The client broke the protocol: recorded, and the run ends with an `invalid_argument` error."""


class Backend(Protocol):
    """What the streamed RPCs need of the fake (server.FakeCursor): where runs are recorded, the tool calls
    it issued, the catalog switch, and the behaviour scripted for a bearer."""

    runs: list[RunRecord]
    unary_calls: list[tuple[str, dict[str, str]]]
    tool_calls_issued: dict[str, str]
    catalog_2026: bool

    def behaviour_for(self, bearer: str) -> Behaviour: ...
