"""The chat use case: pick a token, open the upstream profile, and hold the answer back until its first
domain event, so that any failure before then is a real HTTP status and a retryable one (auth, rate
limit, transport) moves on to another token, up to MAX_TOKEN_ATTEMPTS distinct tokens.

Per attempt: the token comes from the pool (policy from the runtime config, the model's usable list,
health) or is the caller's pinned token (no failover); the protocol profile is the key's override, else
the token's, else the runtime config's; proxy and time zone likewise key > token. Every outcome is
reported to the pool (health bookkeeping runs in a worker thread: it may write to DynamoDB)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
from typing import Any

from cursor_gateway.domain.chat import ChatEvent, ChatRequest, TurnEnded, Usage, estimate_tokens
from cursor_gateway.domain.model_cooldowns import named_scope
from cursor_gateway.domain.tokens import derive_checksum, derive_client_key, derive_session_id
from cursor_gateway.errors import (
    GatewayError,
    NoAvailableTokens,
    UpstreamAuthError,
    UpstreamEmptyTurn,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamRateLimited,
)
from cursor_gateway.settings import Settings
from cursor_gateway.upstream.identity import ClientIdentity, MachineIds
from cursor_gateway.upstream.profile import ChatProfile, UpstreamCredential

log = logging.getLogger("cursor_gateway.chat")


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
        success_reported: bool = False,
        pooled: bool = True,
    ) -> None:
        self._first: ChatEvent | None = first
        self._rest = rest
        self._service = service
        self.request = request
        self.alias = alias
        self.output: list[str] = []
        # A half-open token's success is reported at its first event (closing the circuit at once); a
        # credential that is not in the pool (a dynamic key's own token) has no health to report.
        self._success_reported = success_reported or not pooled
        self._pooled = pooled

    def __aiter__(self) -> AsyncIterator[ChatEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ChatEvent]:
        try:
            if self._first is not None:
                first, self._first = self._first, None
                yield self._finish(first)
            async for event in self._rest:
                yield self._finish(event)
            if not self._success_reported:
                await self._service.report(self.alias, None)
        except UpstreamError as exc:
            scope_rate_limit(exc, self.request.model.cursor_id)
            if self._pooled:
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
        await close_events(self._rest)


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
        self,
        settings: Settings,
        pool: Any,
        profiles: Mapping[str, ChatProfile],
        config: Any,
        proxy_resolver: Callable[[str], str] | None = None,
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.profiles = dict(profiles)
        self.config = config
        # Proxy name -> transport argument (`ProxyService.resolve`: "" and unknown names mean the general
        # proxy); without one, a token's proxy value is used as is.
        self.proxy_resolver = proxy_resolver

    async def report(self, alias: str, exc: GatewayError | None) -> None:
        try:
            if exc is None:
                if not self.pool.is_pristine(alias):
                    await call_off_loop(self.pool.report_success, alias)
            else:
                await call_off_loop(self.pool.report_failure, alias, exc)
        except Exception:  # bookkeeping must never break an answer
            log.exception("could not record the outcome for token %s", alias)

    def _profile(
        self, record: Any = None, overrides: Mapping[str, Any] | None = None, runtime: Any = None
    ) -> tuple[ChatProfile, ClientIdentity]:
        """The protocol profile and identity for one attempt: the key's override, else the token's, else
        the runtime config's (no redeploy). A name no profile has is skipped with a warning."""
        runtime = runtime if runtime is not None else self.config.current()
        choices = (
            ("key", (overrides or {}).get("cursor_protocol")),
            ("token", getattr(record, "cursor_protocol", "")),
            ("config", runtime.cursor_protocol),
        )
        for source, name in choices:
            if not name:
                continue
            profile = self.profiles.get(str(name))
            if profile is not None:
                return profile, self.config.identity_for(profile.name, runtime)
            log.warning("unknown protocol profile %r set on the %s; ignored", name, source)
        raise UpstreamProtocolError(f"Protocol profile '{runtime.cursor_protocol}' is not available")

    async def open(
        self,
        request: ChatRequest,
        *,
        pinned_alias: str = "",
        overrides: Mapping[str, Any] | None = None,
        credential: Any = None,
        on_attempt: Callable[[Any, str, ClientIdentity], None] | None = None,
    ) -> ChatStream:
        """The answer, started on the first token that produces a domain event. `pinned_alias` (an
        `AUTH_TOKEN-<alias>` key, or a key bound to a token) allows that token only; `credential` (the
        token inside a reference-style `sk-` key) is used instead of the pool, without health
        bookkeeping or refresh; `overrides` are the key's settings (cursor_protocol, proxy_name,
        timezone). `on_attempt(record, profile name, identity)` is told of every token tried (the request
        log's attempts and account)."""
        runtime = self.config.current()
        if credential is not None:
            profile, identity = self._profile(credential, overrides, runtime)
            if on_attempt is not None:
                on_attempt(credential, profile.name, identity)
            return await self._open_on(credential, profile, identity, request, overrides, pooled=False)
        model = request.model.cursor_id
        if pinned_alias:
            candidates = [self.pool.pinned(pinned_alias, model)]
        else:
            candidates = list(self.pool.candidates(model, policy=runtime.token_selection))
            if not candidates:
                raise self._nothing_usable(model=model)
        last: UpstreamError | None = None
        tried = 0
        for record in candidates:
            if tried >= self.settings.max_token_attempts:
                break
            trial = self.pool.needs_trial(record)
            if trial and not await call_off_loop(self.pool.claim_trial, record.alias):
                continue  # another request holds this half-open token's one trial
            tried += 1
            try:
                profile, identity = self._profile(record, overrides, runtime)
                if on_attempt is not None:
                    on_attempt(record, profile.name, identity)
                return await self._open_on(record, profile, identity, request, overrides, trial=trial)
            except UpstreamError as exc:
                log.info(
                    "token %s failed before the first event: %s (%s)", record.alias, exc.code, exc.message
                )
                if not exc.retryable:
                    raise
                last = exc
        if not tried:
            raise self._nothing_usable(pinned_alias, model)
        raise self._exhausted(last, pinned_alias, model)

    async def _open_on(
        self,
        record: Any,
        profile: ChatProfile,
        identity: ClientIdentity,
        request: ChatRequest,
        overrides: Mapping[str, Any] | None = None,
        *,
        trial: bool = False,
        pooled: bool = True,
    ) -> ChatStream:
        """One token: open the stream and wait for its first event. An auth failure gets one refresh of
        the credential (session refresh or key re-exchange) before the token is given up. Every failure
        here is reported to the pool before it propagates."""

        async def report(exc: GatewayError | None) -> None:
            if pooled:
                await self.report(record.alias, exc)

        try:
            if pooled or record.kind != "session":
                bearer = await self.pool.bearer_for(record)
            else:
                bearer = record.primary_token  # not in the store: nothing to refresh it through
        except UpstreamError as exc:  # a crsr_ key Cursor will not exchange, a refresh refused ...
            await report(exc)
            raise
        # A session outside the pool cannot be refreshed (the refresh is shared through the store).
        refreshed = not pooled and record.kind == "session"
        while True:
            credential = self.credential(record, bearer, overrides)
            rest = profile.stream(for_token(request, record.alias), credential, identity)
            try:
                first = await anext(rest)
                if is_empty_turn(first):
                    raise UpstreamEmptyTurn("Cursor ended the turn without any text, thinking or tool call")
            except StopAsyncIteration:
                ended = UpstreamError("Cursor ended the stream without an answer")
                await report(ended)
                raise ended from None
            except UpstreamError as exc:
                scope_rate_limit(exc, request.model.cursor_id)
                await close_events(rest)
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
                await report(exc)
                raise
            if trial:
                await report(None)  # the half-open trial answered: close the circuit
            return ChatStream(first, rest, self, request, record.alias, success_reported=trial, pooled=pooled)

    def credential(
        self, record: Any, bearer: str, overrides: Mapping[str, Any] | None = None
    ) -> UpstreamCredential:
        """The bearer plus the token's device identity; records imported before ids were derived (or
        written by hand) get the same deterministic ids `/tokens/add` would have given them. A key's
        proxy and time zone win over the token's."""
        overrides = overrides or {}
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
        proxy = str(overrides.get("proxy_name") or overrides.get("proxy") or record.proxy or "")
        return UpstreamCredential(
            bearer=bearer,
            alias=record.alias,
            proxy=self.proxy_for(proxy),
            timezone=str(overrides.get("timezone") or record.timezone or ""),
            machine=machine,
            base_url=str(getattr(record, "agent_url", "") or ""),
        )

    def proxy_for(self, name: str) -> str:
        return self.proxy_resolver(name) if self.proxy_resolver is not None else name

    def _nothing_usable(self, pinned_alias: str = "", model: str | None = None) -> GatewayError:
        if pinned_alias:
            until = self.pool.earliest_cooldown_end(pinned_alias, model)
            return NoAvailableTokens(
                f"The token '{pinned_alias}' this key is pinned to is busy with its trial after a cooldown",
                status=429,
                retry_after=max(1.0, until - self.pool.clock()) if until else 1.0,
            )
        until = self.pool.earliest_cooldown_end(None, model)
        if until is not None:
            return NoAvailableTokens(
                "Every token is cooling down after rate limits",
                status=429,
                retry_after=max(1.0, until - self.pool.clock()),
            )
        return NoAvailableTokens("No Cursor token is available: add one with POST /tokens/add")

    def _exhausted(
        self, last: UpstreamError | None, pinned_alias: str = "", model: str | None = None
    ) -> GatewayError:
        if isinstance(last, UpstreamRateLimited):
            until = self.pool.earliest_cooldown_end(pinned_alias or None, model)
            last.retry_after = max(1.0, until - self.pool.clock()) if until else last.retry_after
            return last
        if isinstance(last, UpstreamAuthError):
            # The caller's key was fine; our tokens were not. 401 would blame the wrong party.
            if pinned_alias:
                return NoAvailableTokens(
                    f"The pinned token '{pinned_alias}' was rejected by Cursor ({last.message})"
                )
            return NoAvailableTokens(f"Every token tried was rejected by Cursor ({last.message})")
        return last or NoAvailableTokens("No Cursor token could answer")


def is_empty_turn(first: ChatEvent) -> bool:
    """A turn end as the very first event, with no tool calls and no output tokens: what blocked accounts
    get since September 2026, whatever the profile (the agent profile already refuses it itself)."""
    if not isinstance(first, TurnEnded) or first.finish_reason == "tool_calls":
        return False
    return first.usage is None or first.usage.output_tokens <= 0


def scope_rate_limit(exc: UpstreamError, model: str) -> None:
    """A rate limit whose text names a model or model class rests that class only (domain.model_cooldowns)."""
    if isinstance(exc, UpstreamRateLimited) and not exc.scope:
        exc.scope = named_scope(exc.message, model) or ""


async def call_off_loop(function: Callable[..., Any], *args: Any) -> Any:
    """Pool bookkeeping may do blocking store I/O (and back off on conflicts): run it off the loop."""
    if inspect.iscoroutinefunction(function):
        return await function(*args)
    return await asyncio.to_thread(function, *args)


async def close_events(events: AsyncIterator[Any]) -> None:
    """Close a profile's event stream, quietly. The profiles' `stream` are async generators (they have
    `aclose`, which runs their cleanup: the upstream call is closed), but `ChatProfile` promises an
    `AsyncIterator` only, so this asks rather than assumes."""
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()


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


def build_chat_service(
    settings: Settings, pool: Any, config: Any, proxy_resolver: Callable[[str], str] | None = None
) -> ChatService:
    return ChatService(settings, pool, build_profiles(settings), config, proxy_resolver)
