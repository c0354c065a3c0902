"""One request being recorded (services/request_log.py explains the flow): what the route reports
(prompt, attempts, events, the outcome) becomes the entry's fields and its S3 body."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

import anyio

from cursor_gateway.domain.chat import ChatRequest, TextDelta, ThinkingDelta, ToolCall, TurnEnded
from cursor_gateway.domain.request_logs import day_of
from cursor_gateway.domain.tokens import mask_secret
from cursor_gateway.errors import GatewayError
from cursor_gateway.settings import Settings
from cursor_gateway.storage.request_logs import RequestLogStore, base_partition, shard_of, sort_key

log = logging.getLogger("cursor_gateway.request_log")
T = TypeVar("T")

MAX_DELAYS = 5_000
TRUNCATED = "\n[truncated by the gateway: {} more bytes]"


class TraceOwner(Protocol):
    """What a trace needs from the recorder that made it (services.request_log.RequestRecorder).

    A protocol rather than an import, so the recorder module imports this one and never the reverse.
    """

    store: RequestLogStore
    settings: Settings
    wait_for_writes: bool

    def finish(self, trace: RequestTrace) -> None: ...


class RequestTrace:
    """One request being recorded. Every method is cheap and never raises into the route."""

    def __init__(self, recorder: TraceOwner, log_id: str, ts_ms: int) -> None:
        self.recorder = recorder
        self.id = log_id
        self.ts_ms = ts_ms
        self.pk = base_partition(day_of(ts_ms), shard_of(log_id, recorder.store.shards))
        self.sk = sort_key(ts_ms, log_id)
        self.started = time.perf_counter()
        self._last = self.started
        self.begun: Future[Any] | None = None
        self.finished: Future[Any] | None = None
        self.submitted = False  # the completion job was handed to the pool (or dropped)
        self.outcome = ""
        self.doc: dict[str, Any] = {
            "id": log_id,
            "ts_ms": ts_ms,
            "status": "pending",
            "attempts": 0,
            "timing": {"total": 0.0, "first": None, "chunks": 0},
        }
        self._keep_bodies = recorder.settings.log_store_bodies
        self._max = recorder.settings.log_body_max_bytes
        self._prompt: list[dict[str, str]] = []
        self._text: list[str] = []
        self._think: list[str] = []
        self._sizes = {"text": 0, "think": 0}
        self._delays: list[list[float]] = []

    def prompt(self, request: ChatRequest) -> None:
        self.doc["upstream_model"] = request.model.cursor_id
        if self._keep_bodies:
            self._prompt = [
                {"role": m.role, "content": m.text + ("" if not m.images else f" [{len(m.images)} image(s)]")}
                for m in request.messages
            ]
        self.doc["has_prompt"] = bool(request.messages) and self._keep_bodies

    def attempt(self, record: Any, profile: str, identity: Any) -> None:
        """A token is tried (called by the chat service per attempt): the last one is the one that served."""
        self.doc["attempts"] = int(self.doc["attempts"]) + 1
        stripe = None
        if getattr(record, "membership_type", ""):
            stripe = {
                "membership_type": record.membership_type,
                "days_remaining_on_trial": record.trial_days_remaining,
                "subscription_status": record.subscription_status or None,
            }
        self.doc["account"] = {
            "alias": record.alias,
            "key": mask_secret(record.primary_token),
            "user_id": getattr(record, "user_id", ""),
            "email": getattr(record, "email", ""),
            "stripe": stripe,
        }
        self.doc["protocol"] = profile
        self.doc["client_identity"] = (
            f"{getattr(identity, 'client_type', '')}/{getattr(identity, 'client_version', '')}"
        )

    def event(self, event: Any) -> None:
        now = time.perf_counter()
        timing = self.doc["timing"]
        if timing["first"] is None:
            timing["first"] = round(now - self.started, 4)
        if isinstance(event, TurnEnded):
            if event.usage is not None:
                u = event.usage
                self.doc["usage"] = {
                    "input": u.input_tokens,
                    "output": u.output_tokens,
                    "cache_read": u.cache_read_tokens,
                    "cache_write": u.cache_write_tokens,
                    "total": u.input_tokens + u.output_tokens,
                    "source": u.source,
                }
            return
        text = event.text if isinstance(event, TextDelta | ThinkingDelta) else ""
        if isinstance(event, ToolCall):
            text = f"[tool call {event.name}] {event.arguments}"
        timing["chunks"] += 1
        if len(self._delays) < MAX_DELAYS:
            self._delays.append([len(text), round(now - self._last, 4)])
        self._last = now
        if self._keep_bodies and text:
            kind = "think" if isinstance(event, ThinkingDelta) else "text"
            self._sizes[kind] += len(text)
            (self._think if kind == "think" else self._text).append(text)
            if kind == "think":
                self.doc["has_think"] = True

    def succeed(self, http_status: int = 200) -> None:
        self._end("success", http_status, None)

    def fail(self, exc: BaseException, http_status: int | None = None) -> None:
        if isinstance(exc, GatewayError):
            error = {"error": exc.code, "details": exc.message, "class": type(exc).__name__}
            status = exc.status
        else:
            error = {"error": "internal_error", "details": "Internal error", "class": type(exc).__name__}
            status = 500
        if http_status is None:
            # After the first byte a stream's status is already 200; its failure went in-band.
            http_status = 200 if self.doc["stream"] and self.doc["timing"]["first"] is not None else status
        self._end("failure", http_status, error)

    def disconnected(self) -> None:
        self._end(
            "failure",
            200 if self.doc["timing"]["first"] is not None else 499,
            {"error": "client_disconnected", "details": "The client closed the connection before the end"},
        )

    def __del__(self) -> None:
        # A streamed response whose body never started (the client left before it) drops its generator
        # without running it: the trace would stay in flight forever. Ending it here keeps the counts.
        if not self.outcome:
            with contextlib.suppress(Exception):
                self.disconnected()

    def _end(self, status: str, http_status: int, error: Any) -> None:
        if self.outcome:
            return  # the first outcome wins (an error rendered after a failure is not a second end)
        self.outcome = status
        self.doc.update({"status": status, "http_status": http_status, "error": error})
        self.doc["timing"]["total"] = round(time.perf_counter() - self.started, 4)
        self.doc["has_delays"] = bool(self._delays)
        try:
            self.recorder.finish(self)
        except Exception:  # never into the route
            log.exception("could not record request %s", self.id)

    def body(self) -> dict[str, Any]:
        limit = self._max
        return {
            "prompt": _cap(self._prompt, limit),
            "think": _cap("".join(self._think), limit),
            "text": _cap("".join(self._text), limit),
            "delays": _cap(self._delays, limit),
        }

    async def watch(self, events: AsyncIterator[T]) -> AsyncIterator[T]:
        """`events` passed through, recorded; how the iteration ends is the request's outcome."""
        try:
            async for event in events:
                if event is not None:
                    self.event(event)
                yield event
        except GatewayError as exc:
            self.fail(exc)
            raise
        except (GeneratorExit, asyncio.CancelledError):
            self.disconnected()
            raise
        except Exception as exc:
            self.fail(exc)
            raise
        else:
            self.succeed()
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                # Shielded: under anyio's cancellation (a client gone) the close must still reach the
                # upstream, as in api.streaming.paced.
                with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                    await aclose()

    async def settled(self, timeout: float = 5.0) -> None:
        """On Lambda: wait (bounded) until this request's writes ran. Elsewhere: return at once."""
        if not self.recorder.wait_for_writes:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.submitted and (self.finished is None or self.finished.done()):
                return
            await asyncio.sleep(0.002)


def _cap(value: Any, limit: int) -> Any:
    """A body field within `limit` bytes of JSON; longer ones become their truncated text plus a marker."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    data = text.encode()
    if len(data) <= limit:
        return value
    return data[:limit].decode(errors="ignore") + TRUNCATED.format(len(data) - limit)
