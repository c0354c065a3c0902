"""The drift canary: a tiny real chat on each enabled protocol profile, with one token, to notice that
Cursor changed something (a version gate, a retired RPC, new frame types) before users do.

Opt-in and rate-limited (each run spends a little quota): a profile is not run again within
CANARY_MIN_INTERVAL unless forced. The result says how long it took, how it ended (`ok` or the error
code of the gateway's error tree), and which unknown fields or unanswered execs were seen.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from cursor_gateway.domain.chat import ChatRequest, Message, ModelChoice, TextDelta, TurnEnded
from cursor_gateway.errors import GatewayError, UpstreamError, UpstreamProtocolError, UpstreamVersionGate
from cursor_gateway.settings import Settings
from cursor_gateway.storage.canary import CanaryStore
from cursor_gateway.upstream import drift
from cursor_gateway.upstream.profile import ChatProfile

PROMPT = "Reply with the single word OK."
DRIFT_CODES = {UpstreamVersionGate.code, UpstreamProtocolError.code}


class CanaryService:
    def __init__(
        self,
        settings: Settings,
        pool: Any,
        chat: Any,
        store: CanaryStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.chat = chat  # ChatService: its profiles, config and credential plumbing
        self.store = store
        self.clock = clock

    def enabled_profiles(self) -> list[str]:
        return [p for p in self.settings.canary_profiles if p in self.chat.profiles]

    async def run(
        self, profiles: Sequence[str] | None = None, *, force: bool = False
    ) -> list[dict[str, Any]]:
        chosen = list(profiles) if profiles else self.enabled_profiles()
        discovery = getattr(self.chat.config, "discovery", None)
        if discovery is not None:
            await discovery.refresh()  # the canary is the scheduled moment to look for a newer CLI build
        last = self.store.latest()
        results = []
        for name in chosen:
            previous = last.get(name)
            recent = (
                previous and self.clock() - float(previous.get("at", 0)) < self.settings.canary_min_interval
            )
            if recent and not force and previous:
                results.append({**previous, "skipped": "ran recently; use --force to run again"})
                continue
            result = await self._probe(name)
            self.store.save(name, result)
            results.append(result)
        return results

    async def _probe(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = {"profile": name, "at": self.clock(), "ok": False, "drift": False}
        profile: ChatProfile | None = self.chat.profiles.get(name)
        if profile is None:
            return {**result, "outcome": "unknown_profile", "message": f"No profile named '{name}'"}
        candidates = self.pool.candidates()
        if not candidates:
            return {**result, "outcome": "no_token", "message": "No usable token to probe with"}
        record = candidates[0]
        identity = self.chat.config.identity_for(name)
        request = ChatRequest(
            model=ModelChoice(self.settings.canary_model, self.settings.canary_model),
            messages=(Message("user", PROMPT),),
            conversation_id=str(uuid.uuid4()),
        )
        before = drift.snapshot()
        started = time.perf_counter()
        first_event_ms: float | None = None
        text: list[str] = []
        outcome, message = "ok", ""
        try:
            bearer = await self.pool.bearer_for(record)
            stream = profile.stream(request, self.chat.credential(record, bearer), identity)
            async with asyncio.timeout(self.settings.cursor_first_event_timeout + 30):
                async for event in stream:
                    if first_event_ms is None:
                        first_event_ms = (time.perf_counter() - started) * 1000
                    if isinstance(event, TextDelta):
                        text.append(event.text)
                    if isinstance(event, TurnEnded):
                        break
            await self.chat.report(record.alias, None)
        except TimeoutError:
            outcome, message = "timeout", "The canary got no complete answer in time"
        except GatewayError as exc:
            outcome, message = exc.code, exc.message
            if isinstance(exc, UpstreamError):
                await self.chat.report(record.alias, exc)
        unknown = drift.since(before)
        return {
            **result,
            "ok": outcome == "ok",
            "outcome": outcome,
            "message": message,
            "token": record.alias,
            "client_type": identity.client_type,
            "client_version": identity.client_version,
            "client_version_source": self.chat.config.identity_source(name),
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            "first_event_ms": round(first_event_ms, 1) if first_event_ms is not None else None,
            "answer_chars": len("".join(text)),
            "unknown": unknown,
            "drift": outcome in DRIFT_CODES or bool(unknown),
        }
