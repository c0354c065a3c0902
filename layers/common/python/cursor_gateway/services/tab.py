"""Cursor Tab (Copilot++) on the token pool: which token serves a Tab RPC, with chat's rules.

Same auth, pinning and failover as chat (`services.chat`): an `AUTH_TOKEN-<alias>` or bound key uses its
one token, a dynamic key its own credential, everyone else the pool (config token_selection, half-open
trials claimed, auth failures get one refresh); a retryable failure before the first byte moves on to
the next token, up to MAX_TOKEN_ATTEMPTS. Every outcome is reported to the pool.

Two Tab-specific choices:
- A caller that sends `x-client-key` starts on the same token every time while that token is usable
  (rendezvous hashing over the candidates): file-sync state lives with one account, so uploads, syncs
  and completions of one editor must not be spread across the pool.
- A refusal keeps Cursor's Connect error (`TabRefused`), because the routes answer in the reference's
  shapes, which carry the upstream error enum and details.

Nothing on this path reads the catalog or reloads config beyond the cached `config.current()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import anyio
from google.protobuf.message import DecodeError

from cursor_gateway.adapters.tab_events import STREAM_END, events_of
from cursor_gateway.codec._gen.aiserver.v1 import tab_pb2 as pb
from cursor_gateway.codec.connect_error import EndStreamError, connect_error_from_json, parse_end_stream
from cursor_gateway.codec.tab_errors import tab_error
from cursor_gateway.errors import GatewayError, UpstreamAuthError, UpstreamError
from cursor_gateway.services.chat import ChatService, call_off_loop
from cursor_gateway.services.tab_geo import GeoHosts
from cursor_gateway.upstream.classify import classify_connect_error
from cursor_gateway.upstream.tab import TabCredential, TabStreamCall, TabUpstream, UnaryReply, gcpp_host

log = logging.getLogger("cursor_gateway.services.tab")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CallerSession:
    """What the caller's editor brings for its file-sync session (forwarded, never stored)."""

    client_key: str = ""
    cookie: str = ""


class TabRefused(Exception):
    """Cursor refused the call: its Connect error as sent, plus what it means for the token."""

    def __init__(
        self, connect: dict[str, Any], failure: UpstreamError, reply: UnaryReply | None = None
    ) -> None:
        super().__init__(failure.message)
        self.connect = connect
        self.failure = failure
        self.reply = reply


class TabStream:
    """A StreamCpp answer whose first upstream frame has arrived: its events, then the rest. Iterate
    once; always closes the upstream call and reports the token's outcome. Yields the event dicts of
    each frame (the `error` and `stream_end` of the end-of-stream frame included); transport failures
    raise."""

    def __init__(
        self, call: TabStreamCall, frames: AsyncGenerator[Any, None], first: list[dict[str, Any]], done: bool
    ) -> None:
        self.call = call
        self._frames = frames
        self._first = first
        self._done = done
        self.on_close: Callable[[GatewayError | None], Awaitable[None]] | None = None
        self.alias = ""

    def __aiter__(self) -> AsyncIterator[list[dict[str, Any]]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[list[dict[str, Any]]]:
        """The events of each upstream frame together (one write per frame, not per event)."""
        outcome: GatewayError | None = None
        try:
            yield self._first
            if self._done:
                return
            async for frame in self._frames:
                events, finished = decode_frame(frame)
                if finished and events and events[0]["type"] == "error":
                    # Cursor ended the answer with an error: the caller sees the event, the pool the cause.
                    outcome = classify_connect_error(connect_error_from_json(parse_error(frame.payload)))
                if events:
                    yield events
                if finished:
                    return
        except UpstreamError as exc:
            outcome = exc
            raise
        finally:
            await self.aclose(outcome)

    async def aclose(self, outcome: GatewayError | None = None) -> None:
        with contextlib.suppress(Exception):
            await self._frames.aclose()
        with contextlib.suppress(Exception):
            await self.call.__aexit__(None, None, None)
        on_close, self.on_close = self.on_close, None
        if on_close is not None:
            await on_close(outcome)


def decode_frame(frame: Any) -> tuple[list[dict[str, Any]], bool]:
    """(events, stream finished) of one Connect frame: a StreamCppResponse, or the end-of-stream JSON
    (`stream_end`, or an `error` in the reference's shape)."""
    if frame.end_stream:
        try:
            error = parse_end_stream(frame.payload)
        except EndStreamError:
            return [tab_error({"code": "unknown"}).sse_event()], True
        if error is None:
            return [STREAM_END], True
        return [tab_error(error.raw).sse_event()], True
    try:
        message = pb.StreamCppResponse.FromString(frame.payload)
    except DecodeError:
        log.info("skipped an undecodable StreamCpp frame (%d bytes)", len(frame.payload))
        return [], False
    return events_of(message), False


def sticky_order(candidates: list[Any], client_key: str) -> list[Any]:
    """The caller's own token first (highest rendezvous hash of key+alias), the rest as the pool gave."""
    if not client_key or len(candidates) < 2:
        return candidates

    def weight(record: Any) -> bytes:
        return hashlib.sha256(f"{client_key}\0{record.alias}".encode()).digest()

    preferred = max(candidates, key=weight)
    return [preferred, *(r for r in candidates if r is not preferred)]


class TabService:
    def __init__(self, accounts: ChatService, upstream: TabUpstream | None = None) -> None:
        # ChatService without profiles: its credential building, outcome reporting and "nothing
        # usable" answers are the pool rules Tab shares with chat.
        self.accounts = accounts
        self.settings = accounts.settings
        self.pool = accounts.pool
        self.upstream = upstream or TabUpstream(self.settings)
        self.geo = GeoHosts(self.upstream) if self.settings.cursor_tab_geo_host else None

    # -- the five RPCs ------------------------------------------------------------------------------------

    async def unary(self, rpc: str, payload: bytes, session: CallerSession, **caller: Any) -> UnaryReply:
        """Cursor's reply (its status and headers included). A refusal raises `TabRefused`."""

        async def attempt(credential: TabCredential) -> UnaryReply:
            reply = await self.upstream.unary(rpc, payload, credential)
            if reply.failure is not None and reply.error is not None:
                raise TabRefused(reply.error, reply.failure, reply)
            return reply

        return await self._with_token(attempt, session, **caller)

    async def stream(self, payload: bytes, session: CallerSession, **caller: Any) -> TabStream:
        """StreamCpp, started: returns once the first upstream frame decoded (failover before that)."""

        async def attempt(credential: TabCredential) -> TabStream:
            call = self.upstream.stream_call(payload, credential)
            try:
                await call.__aenter__()
            except UpstreamError as exc:
                if call.refusal is not None:
                    raise TabRefused(call.refusal, exc) from exc
                raise
            loop = asyncio.get_running_loop()
            first_deadline = loop.time() + self.settings.cursor_tab_timeout
            last_deadline = loop.time() + self.settings.max_stream_seconds
            started = False

            def read_timeout() -> float:
                # Tab frames follow each other closely: the same bound before and between frames, and
                # MAX_STREAM_SECONDS for the whole answer, keep a stalled or endless completion inside the
                # function's timeout (it ends with an in-band `error` event).
                if not started:
                    return first_deadline - loop.time()
                return min(self.settings.cursor_tab_timeout, last_deadline - loop.time())

            frames = call.frames(read_timeout)
            try:
                while True:
                    frame = await anext(frames)
                    events, finished = decode_frame(frame)
                    if finished and events and events[0]["type"] == "error":
                        # An end-of-stream error before anything else: a refusal (failover applies).
                        error = parse_error(frame.payload)
                        raise TabRefused(error, classify_connect_error(connect_error_from_json(error)))
                    if events or finished:
                        started = True
                        return TabStream(call, frames, events, finished)
            except BaseException:  # a refusal, a broken stream, or the caller gone (cancelled): close it
                with anyio.CancelScope(shield=True):  # anyio would cancel each cleanup await otherwise
                    with contextlib.suppress(Exception):
                        await frames.aclose()
                    with contextlib.suppress(Exception):
                        await call.__aexit__(None, None, None)
                raise

        return await self._with_token(attempt, session, **caller)

    # -- tokens -------------------------------------------------------------------------------------------

    async def _with_token(
        self,
        attempt: Callable[[TabCredential], Awaitable[T]],
        session: CallerSession,
        *,
        pinned_alias: str = "",
        overrides: Mapping[str, Any] | None = None,
        credential: Any = None,
    ) -> T:
        overrides = overrides or {}
        if credential is not None:
            return await self._on(credential, attempt, session, overrides, pooled=False)
        if pinned_alias:
            candidates = [self.pool.pinned(pinned_alias)]
        else:
            policy = self.accounts.config.current().token_selection
            candidates = sticky_order(list(self.pool.candidates(None, policy=policy)), session.client_key)
            if not candidates:
                # chat's answers for an empty or cooling pool (503, or 429 with Retry-After)
                raise self.accounts._nothing_usable()
        last: UpstreamError | TabRefused | None = None
        tried = 0
        for record in candidates:
            if tried >= self.settings.max_token_attempts:
                break
            trial = self.pool.needs_trial(record)
            if trial and not await call_off_loop(self.pool.claim_trial, record.alias):
                continue
            tried += 1
            try:
                return await self._on(record, attempt, session, overrides, trial=trial)
            except (UpstreamError, TabRefused) as exc:
                failure = exc.failure if isinstance(exc, TabRefused) else exc
                log.info("token %s failed a Tab call: %s (%s)", record.alias, failure.code, failure.message)
                if not failure.retryable:
                    raise
                last = exc
        if last is None:  # every candidate was a half-open token whose one trial another request holds
            raise self.accounts._nothing_usable(pinned_alias)
        raise last

    async def _on(
        self,
        record: Any,
        attempt: Callable[[TabCredential], Awaitable[T]],
        session: CallerSession,
        overrides: Mapping[str, Any],
        *,
        trial: bool = False,
        pooled: bool = True,
    ) -> T:
        async def report(exc: GatewayError | None) -> None:
            if pooled:
                await self.accounts.report(record.alias, exc)

        try:
            if pooled or record.kind != "session":
                bearer = await self.pool.bearer_for(record)
            else:
                bearer = record.primary_token  # a dynamic key's session: not in the store, no refresh
        except UpstreamError as exc:
            await report(exc)
            raise
        refreshed = not pooled
        while True:
            credential = await self._credential(record, bearer, overrides, session)
            try:
                result = await attempt(credential)
            except (UpstreamError, TabRefused) as exc:
                failure = exc.failure if isinstance(exc, TabRefused) else exc
                if isinstance(failure, UpstreamAuthError) and not refreshed:
                    refreshed = True
                    with contextlib.suppress(UpstreamError):
                        new_bearer = await self.pool.refresh_after_auth_failure(record, bearer)
                        if new_bearer:
                            bearer = new_bearer
                            continue
                await report(failure)
                raise
            if isinstance(result, TabStream):
                result.alias = record.alias
                if trial:
                    await report(None)
                elif pooled:
                    result.on_close = report
            elif pooled:
                await report(None)
            return result

    async def _credential(
        self, record: Any, bearer: str, overrides: Mapping[str, Any], session: CallerSession
    ) -> TabCredential:
        base = self.accounts.credential(record, bearer, overrides)
        region = str(overrides.get("gcpp_host") or record.gcpp_host or "")
        credential = TabCredential(
            bearer=base.bearer,
            machine=base.machine,
            gcpp_host=gcpp_host(region, self.settings.general_gcpp_host),
            proxy=base.proxy,
            timezone=base.timezone,
            fs_client_key=session.client_key,
            cookie=session.cookie,
        )
        if region or self.geo is None:
            return credential
        named = await self.geo.host_for(record.alias, credential)
        return replace(credential, gcpp_host=named) if named else credential


def parse_error(payload: bytes) -> dict[str, Any]:
    """The `error` object of an end-of-stream frame known to hold one."""
    error = parse_end_stream(payload)
    return error.raw if error is not None and error.raw else {"code": "unknown"}


def build_tab_service(settings: Any, pool: Any, config: Any, proxy_resolver: Any) -> TabService:
    return TabService(ChatService(settings, pool, {}, config, proxy_resolver))
