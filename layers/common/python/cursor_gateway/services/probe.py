"""`cursor-gateway probe --alias NAME`: what an operator runs after a Cursor release to see whether the
gateway still fits (issue 14).

With one pooled token, against the real service: per protocol profile one short turn and (where the
profile carries client tools) one tool round trip; then the account's `GetUsableModels` diffed with our
catalog; and every unknown field, server message and exec the drift log saw meanwhile. All of it under
PROBE_BUDGET seconds: each step has its own deadline, and a step that runs out is reported, not waited
for. The probe spends a few requests of quota and reports the token's health like any request would.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from cursor_gateway.domain.chat import (
    ChatEvent,
    ChatRequest,
    Message,
    ModelChoice,
    TextDelta,
    ToolCall,
    ToolSpec,
    TurnEnded,
)
from cursor_gateway.errors import GatewayError, NotFound, UpstreamError
from cursor_gateway.upstream import account_info, drift

PROBE_BUDGET = 28.0
STEP_SECONDS = 8.0
PROMPT = "Reply with the single word OK."
TOOL = ToolSpec(
    name="probe_echo",
    description="Echoes the text it is given.",
    parameters={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
)
TOOL_PROMPT = "Call the probe_echo tool with the text 'ping', then say what it returned."
TOOL_RESULT = "pong"
# Profiles that carry client tools (legacy runs none: its round trip is skipped, not failed).
TOOL_PROFILES = ("agent", "inference")


class Probe:
    def __init__(self, services: Any) -> None:
        self.services = services
        self.settings = services.settings

    async def run(self, alias: str, profiles: list[str] | None = None) -> dict[str, Any]:
        started = time.perf_counter()
        record = self.services.token_store.get(alias)
        if record is None:
            raise NotFound(f"No token has the alias '{alias}'")
        chat = self.services.chat
        chosen = profiles or list(chat.profiles)
        deadline = time.monotonic() + PROBE_BUDGET
        before = drift.snapshot()
        report: dict[str, Any] = {"token": alias, "profiles": {}}
        bearer = await self.services.token_pool.bearer_for(record)
        credential = chat.credential(record, bearer)
        for name in chosen:
            profile = chat.profiles.get(name)
            if profile is None:
                report["profiles"][name] = {"ok": False, "outcome": "unknown_profile"}
                continue
            identity = self.services.config.identity_for(name)
            steps: dict[str, Any] = {
                "client_version": identity.client_version,
                "turn": await self._step(deadline, self._turn(profile, credential, identity)),
            }
            if name in TOOL_PROFILES:
                steps["tool_round_trip"] = await self._step(
                    deadline, self._tools(profile, credential, identity)
                )
            else:
                steps["tool_round_trip"] = {
                    "ok": None,
                    "outcome": "skipped (the profile runs no client tools)",
                }
            steps["ok"] = all(s.get("ok") is not False for s in steps.values() if isinstance(s, dict))
            report["profiles"][name] = steps
        report["models"] = await self._step(deadline, self._models(bearer, record))
        report["unknown"] = drift.since(before)
        report["ok"] = all(p.get("ok") for p in report["profiles"].values()) and report["models"].get("ok")
        report["seconds"] = round(time.perf_counter() - started, 2)
        return report

    async def _step(self, deadline: float, work: Any) -> dict[str, Any]:
        left = min(STEP_SECONDS, deadline - time.monotonic())
        started = time.perf_counter()
        try:
            if left <= 0:
                raise TimeoutError
            async with asyncio.timeout(left):
                result: dict[str, Any] = await work
        except TimeoutError:
            work.close()
            result = {"ok": False, "outcome": "timeout"}
        except GatewayError as exc:
            result = {"ok": False, "outcome": exc.code, "message": exc.message}
        result["ms"] = round((time.perf_counter() - started) * 1000, 1)
        return result

    def _request(self, messages: tuple[Message, ...], tools: tuple[ToolSpec, ...] = ()) -> ChatRequest:
        model = self.settings.canary_model
        return ChatRequest(
            model=ModelChoice(model, model),
            messages=messages,
            conversation_id=str(uuid.uuid4()),
            tools=tools,
        )

    @staticmethod
    async def _events(profile: Any, request: ChatRequest, credential: Any, identity: Any) -> list[ChatEvent]:
        events: list[ChatEvent] = []
        async for event in profile.stream(request, credential, identity):
            events.append(event)
            if isinstance(event, TurnEnded):
                break
        return events

    async def _turn(self, profile: Any, credential: Any, identity: Any) -> dict[str, Any]:
        events = await self._events(profile, self._request((Message("user", PROMPT),)), credential, identity)
        text = "".join(e.text for e in events if isinstance(e, TextDelta))
        return {"ok": bool(text), "outcome": "ok" if text else "no_text", "answer": text[:80]}

    async def _tools(self, profile: Any, credential: Any, identity: Any) -> dict[str, Any]:
        question = (Message("user", TOOL_PROMPT),)
        events = await self._events(profile, self._request(question, (TOOL,)), credential, identity)
        calls = [e for e in events if isinstance(e, ToolCall)]
        if not calls:
            return {"ok": False, "outcome": "no_tool_call"}
        history = (
            *question,
            Message("assistant", "", tool_calls=tuple(calls)),
            *(Message("tool", TOOL_RESULT, tool_call_id=c.id, tool_name=c.name) for c in calls),
        )
        events = await self._events(profile, self._request(history, (TOOL,)), credential, identity)
        text = "".join(e.text for e in events if isinstance(e, TextDelta))
        ok = bool(text)
        return {
            "ok": ok,
            "outcome": "ok" if ok else "no_answer_after_results",
            "calls": len(calls),
            "answer": text[:80],
        }

    async def _models(self, bearer: str, record: Any) -> dict[str, Any]:
        proxy = self.services.chat.proxy_for(record.proxy or "")
        usable = await account_info.fetch_usable_models(self.settings, bearer, proxy=proxy)
        ours = set(self.services.catalog.models)
        return {
            "ok": True,
            "usable": len(usable),
            "new_upstream": sorted(set(usable) - ours),  # Cursor offers, our catalog does not know
            "not_usable": sorted(ours - set(usable) - {"default"}),  # we list, this account may not use
        }


async def run_probe(services: Any, alias: str, profiles: list[str] | None = None) -> dict[str, Any]:
    try:
        return await Probe(services).run(alias, profiles)
    except UpstreamError as exc:  # e.g. the key exchange or refresh refused before any step ran
        return {"token": alias, "ok": False, "outcome": exc.code, "message": exc.message}
