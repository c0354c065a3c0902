"""Pacing a chat answer for long streams on Lambda (architecture.md "What runs where").

- API Gateway drops a stream after 5 minutes without a byte, and thinking models can be silent for long:
  `paced` yields `None` whenever `keepalive` seconds pass without an event, and the route sends an SSE
  comment for it.
- API Gateway ends every stream at 15 minutes but Lambda keeps running (and billing): past `deadline`
  `paced` raises `StreamDeadline`, which the route sends in-band before ending the stream cleanly.
- When the client goes away the route's task is cancelled; `paced` then stops reading the upstream and
  closes the answer (which closes the upstream stream and so releases the token's Cursor session), also
  under anyio's cancellation, which would otherwise interrupt every cleanup await.

Reading happens in a task of its own so that waiting for the next event can time out (for a keep-alive)
without cancelling the read: cancelling `anext()` would close the answer mid-stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

import anyio

from cursor_gateway.errors import GatewayError

T = TypeVar("T")


class StreamDeadline(GatewayError):
    status = 504
    error_type = "timeout_error"
    code = "max_stream_duration"


async def paced(events: AsyncIterator[T], *, keepalive: float, deadline: float) -> AsyncIterator[T | None]:
    """`events` as they come, `None` after every `keepalive` seconds of silence, `StreamDeadline` once the
    event loop's clock passes `deadline`. Always closes `events`."""
    loop = asyncio.get_running_loop()
    pending: asyncio.Future[T] | None = None
    try:
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise StreamDeadline("The answer took longer than MAX_STREAM_SECONDS and was cut off")
            if pending is None:
                pending = asyncio.ensure_future(anext(events))
            done, _ = await asyncio.wait({pending}, timeout=min(keepalive, remaining))
            if not done:
                if loop.time() < deadline:
                    yield None
                continue
            finished, pending = pending, None
            try:
                event = finished.result()
            except StopAsyncIteration:
                return
            yield event
    finally:
        with anyio.CancelScope(shield=True):
            await _close(events, pending)


async def _close(events: AsyncIterator[T], pending: asyncio.Future[T] | None) -> None:
    if pending is not None and not pending.done():
        pending.cancel()  # interrupts the upstream read where it waits; the answer closes itself
        await asyncio.wait({pending})
    if pending is not None and pending.done() and not pending.cancelled():
        pending.exception()  # retrieved, so asyncio does not log it as never retrieved
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()
