"""The chat use case: pick a token, open the upstream profile, and hold the answer back until its first
domain event, so that any failure before then is a real HTTP status and a retryable one (auth, rate
limit, transport) moves on to another token, up to MAX_TOKEN_ATTEMPTS distinct tokens."""

from __future__ import annotations

import contextlib
import inspect
import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from typing import Any

from cursor_gateway.domain.chat import ChatEvent, ChatRequest, TurnEnded, Usage, estimate_tokens
from cursor_gateway.domain.tokens import derive_checksum, derive_client_key, derive_session_id
from cursor_gateway.errors import (
    GatewayError,
    NoAvailableTokens,
    UpstreamAuthError,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamRateLimited,
)
from cursor_gateway.settings import Settings
from cursor_gateway.upstream.identity import ClientIdentity, MachineIds
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
    def __init__(
        self, settings: Settings, pool: Any, profiles: Mapping[str, ChatProfile], config: Any
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.profiles = dict(profiles)
        self.config = config

    async def report(self, alias: str, exc: GatewayError | None) -> None:
        try:
            if exc is None:
                await _maybe_await(self.pool.report_success(alias))
            elif exc.blames_token:
                await _maybe_await(self.pool.report_failure(alias, exc))
        except Exception:  # bookkeeping must never break an answer
            log.exception("could not record the outcome for token %s", alias)

    def _profile(self) -> tuple[ChatProfile, ClientIdentity]:
        """The protocol profile and identity for this request, from the runtime config (no redeploy)."""
        runtime = self.config.current()
        profile = self.profiles.get(runtime.cursor_protocol)
        if profile is None:
            raise UpstreamProtocolError(f"Protocol profile '{runtime.cursor_protocol}' is not available")
        return profile, self.config.identity_for(profile.name, runtime)

    async def open(self, request: ChatRequest) -> ChatStream:
        candidates = list(self.pool.candidates())
        if not candidates:
            raise self._nothing_usable()
        profile, identity = self._profile()
        last: UpstreamError | None = None
        for record in candidates[: self.settings.max_token_attempts]:
            try:
                return await self._open_on(record, profile, identity, request)
            except UpstreamError as exc:
                log.info(
                    "token %s failed before the first event: %s (%s)", record.alias, exc.code, exc.message
                )
                if not exc.retryable:
                    raise
                last = exc
        raise self._exhausted(last)

    async def _open_on(
        self, record: Any, profile: ChatProfile, identity: ClientIdentity, request: ChatRequest
    ) -> ChatStream:
        """One token: open the stream and wait for its first event. An auth failure gets one refresh of
        the credential (session refresh or key re-exchange) before the token is given up."""
        bearer = await self.pool.bearer_for(record)
        refreshed = False
        while True:
            rest = profile.stream(for_token(request, record.alias), self.credential(record, bearer), identity)
            try:
                first = await anext(rest)
            except StopAsyncIteration:
                raise UpstreamError("Cursor ended the stream without an answer") from None
            except UpstreamError as exc:
                with contextlib.suppress(Exception):
                    await rest.aclose()  # type: ignore[attr-defined]
                if isinstance(exc, UpstreamAuthError) and not refreshed:
                    refreshed = True
                    try:
                        new_bearer = await self.pool.refresh_after_auth_failure(record, bearer)
                    except UpstreamError as refresh_error:
                        log.info("refresh of token %s failed: %s", record.alias, refresh_error.message)
                        new_bearer = None
                    if new_bearer:
                        bearer = new_bearer
                        continue
                await self.report(record.alias, exc)
                raise
            return ChatStream(first, rest, self, request, record.alias)

    @staticmethod
    def credential(record: Any, bearer: str) -> UpstreamCredential:
        """The bearer plus the token's device identity; records imported before ids were derived (or
        written by hand) get the same deterministic ids `/tokens/add` would have given them."""
        first, second = record.checksum_first, record.checksum_second
        if not first:
            first, second = derive_checksum(record.primary_token)
        machine = MachineIds(
            machine_id=first,
            mac_machine_id=second,
            client_key=record.client_key or derive_client_key(record.primary_token),
            session_id=record.session_id or derive_session_id(record.primary_token),
            config_version=record.config_version,
        )
        return UpstreamCredential(
            bearer=bearer, alias=record.alias, proxy=record.proxy, timezone=record.timezone, machine=machine
        )

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


def build_profiles(settings: Settings) -> dict[str, ChatProfile]:
    """Every protocol profile; which one serves a request is runtime config."""
    from cursor_gateway.upstream.agent import AgentProfile
    from cursor_gateway.upstream.inference import InferenceProfile
    from cursor_gateway.upstream.legacy import LegacyProfile

    profiles: list[ChatProfile] = [
        AgentProfile(settings),
        InferenceProfile(settings),
        LegacyProfile(settings),
    ]
    return {profile.name: profile for profile in profiles}


def build_chat_service(settings: Settings, pool: Any, config: Any) -> ChatService:
    return ChatService(settings, pool, build_profiles(settings), config)
