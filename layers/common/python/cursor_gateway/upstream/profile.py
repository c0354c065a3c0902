"""The one interface every upstream protocol profile implements (agent, inference, legacy).

A profile turns a domain `ChatRequest` into its RPC and its frames back into domain events; which one
serves a request is runtime config (`cursor_protocol`), so a retired RPC is a config change away.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from cursor_gateway.domain.chat import ChatEvent, ChatRequest
from cursor_gateway.upstream.identity import ClientIdentity, MachineIds


@dataclass(frozen=True, slots=True)
class UpstreamCredential:
    bearer: str
    alias: str = ""
    proxy: str = ""
    timezone: str = ""
    machine: MachineIds = field(default_factory=MachineIds)
    # The account's own agent host (GetServerConfig), used for Run unless config names one; "" = default.
    base_url: str = ""


class ChatProfile(Protocol):
    name: str
    # The client type this profile presents unless config says otherwise (agent: cli, others: ide).
    default_client_type: str

    def stream(
        self, request: ChatRequest, credential: UpstreamCredential, identity: ClientIdentity
    ) -> AsyncIterator[ChatEvent]:
        """Domain events only (text, thinking, tool calls, turn end); raises `UpstreamError`s."""
        ...
