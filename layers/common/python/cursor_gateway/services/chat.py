"""The chat use case: pick a token, open the upstream profile, and hold the answer back until its first
domain event, so that any failure before then is a real HTTP status and a retryable one (auth, rate
limit, transport) moves on to another token, up to MAX_TOKEN_ATTEMPTS distinct tokens."""

from __future__ import annotations

import contextlib
import inspect
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from cursor_gateway.domain.chat import ChatEvent, ChatRequest, TurnEnded, Usage, estimate_tokens
from cursor_gateway.errors import (
    GatewayError,
    NoAvailableTokens,
    UpstreamAuthError,
    UpstreamError,
    UpstreamRateLimited,
)
from cursor_gateway.settings import Settings
from cursor_gateway.upstream.agent import AgentProfile
from cursor_gateway.upstream.profile import ChatProfile, UpstreamCredential

log = logging.getLogger("cursor_gateway.chat")


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class ChatStream:
    """An answer that has started: the first event plus the rest. Iterate once; always closes the
    upstream (also when the client goes away) and reports the token's outcome."""

    def __init__(
        self,
        first: ChatEvent,
        rest: AsyncIterator[ChatEvent],
        service: ChatService,
        request: ChatRequest,
        alias: str,
    ) -> None:
        self._first: ChatEvent | None = first
        self._rest = rest
        self._service = service
        self.request = request
        self.alias = alias
        self.output: list[str] = []

    def __aiter__(self) -> AsyncIterator[ChatEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ChatEvent]:
        try:
            if self._first is not None:
                first, self._first = self._first, None
                yield self._finish(first)
            async for event in self._rest:
                yield self._finish(event)
            await self._service.report(self.alias, None)
        except UpstreamError as exc:
            await self._service.report(self.alias, exc)
            raise
        finally:
            await self.aclose()

    def _finish(self, event: ChatEvent) -> ChatEvent:
        if isinstance(event, TurnEnded) and event.usage is None:
            return TurnEnded(
                usage=estimate_usage(self.request, "".join(self.output)), finish_reason=event.finish_reason
            )
        text = getattr(event, "text", None)
        if isinstance(text, str):
            self.output.append(text)
        return event

    async def aclose(self) -> None:
        aclose = getattr(self._rest, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


def for_token(request: ChatRequest, alias: str) -> ChatRequest:
    """Cursor keeps conversations (and their prompt cache) per account, so the conversation id is made
    per token: stable for this conversation on this token, never shared between accounts."""
    conversation = str(uuid.uuid5(uuid.UUID(request.conversation_id), alias))
    return replace(request, conversation_id=conversation)


def estimate_usage(request: ChatRequest, output: str) -> Usage:
    prompt = sum(estimate_tokens(m.text) for m in request.messages)
    return Usage(input_tokens=prompt, output_tokens=estimate_tokens(output), source="estimate")


class ChatService:
    def __init__(self, settings: Settings, pool: Any, profile: ChatProfile) -> None:
        self.settings = settings
        self.pool = pool
        self.profile = profile

    async def report(self, alias: str, exc: GatewayError | None) -> None:
        try:
            if exc is None:
                await _maybe_await(self.pool.report_success(alias))
            elif exc.blames_token:
                await _maybe_await(self.pool.report_failure(alias, exc))
        except Exception:  # bookkeeping must never break an answer
            log.exception("could not record the outcome for token %s", alias)

    async def open(self, request: ChatRequest) -> ChatStream:
        candidates = list(self.pool.candidates())
        if not candidates:
            raise self._nothing_usable()
        last: UpstreamError | None = None
        for record in candidates[: self.settings.max_token_attempts]:
            rest: AsyncIterator[ChatEvent] | None = None
            try:
                bearer = await self.pool.bearer_for(record)
                credential = UpstreamCredential(
                    bearer=bearer, alias=record.alias, proxy=record.proxy, timezone=record.timezone
                )
                rest = self.profile.stream(for_token(request, record.alias), credential)
                first = await anext(rest)
            except StopAsyncIteration:
                last = UpstreamError("Cursor ended the stream without an answer")
                continue
            except UpstreamError as exc:
                await self.report(record.alias, exc)
                if rest is not None:
                    with contextlib.suppress(Exception):
                        await rest.aclose()  # type: ignore[attr-defined]
                log.info(
                    "token %s failed before the first event: %s (%s)", record.alias, exc.code, exc.message
                )
                if not exc.retryable:
                    raise
                last = exc
                continue
            return ChatStream(first, rest, self, request, record.alias)
        raise self._exhausted(last)

    def _nothing_usable(self) -> GatewayError:
        until = self.pool.earliest_cooldown_end()
        if until is not None:
            return NoAvailableTokens(
                "Every token is cooling down after rate limits",
                status=429,
                retry_after=max(1.0, until - time.time()),
            )
        return NoAvailableTokens("No Cursor token is available: add one with POST /tokens/add")

    def _exhausted(self, last: UpstreamError | None) -> GatewayError:
        if isinstance(last, UpstreamRateLimited):
            until = self.pool.earliest_cooldown_end()
            last.retry_after = max(1.0, until - time.time()) if until else last.retry_after
            return last
        if isinstance(last, UpstreamAuthError):
            # The caller's key was fine; our tokens were not. 401 would blame the wrong party.
            return NoAvailableTokens(f"Every token tried was rejected by Cursor ({last.message})")
        return last or NoAvailableTokens("No Cursor token could answer")


def build_chat_service(settings: Settings, pool: Any) -> ChatService:
    return ChatService(settings, pool, AgentProfile(settings))
