"""`api.streaming.paced`: keep-alive ticks during silence, a deadline, and the source always closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from cursor_gateway.api.streaming import StreamDeadline, paced


class Source:
    """An upstream stand-in: yields after the given pauses and records whether it was closed."""

    def __init__(self, pauses: list[float]) -> None:
        self.pauses = pauses
        self.closed = False
        self.sent = 0

    async def events(self) -> AsyncIterator[int]:
        try:
            for pause in self.pauses:
                await asyncio.sleep(pause)
                self.sent += 1
                yield self.sent
        finally:
            self.closed = True


def deadline_in(seconds: float) -> float:
    return asyncio.get_running_loop().time() + seconds


async def test_silence_yields_none_between_events_and_every_event_arrives() -> None:
    source = Source([0.0, 0.35, 0.0])
    got = [e async for e in paced(source.events(), keepalive=0.1, deadline=deadline_in(5))]
    assert [e for e in got if e is not None] == [1, 2, 3]
    ticks = got.index(2) - got.index(1) - 1
    assert 2 <= ticks <= 4  # 0.35 s of silence at 0.1 s per tick
    assert source.closed


async def test_the_deadline_raises_and_closes_the_source() -> None:
    source = Source([0.05] * 100)
    got: list[int | None] = []
    with pytest.raises(StreamDeadline):
        async for event in paced(source.events(), keepalive=1.0, deadline=deadline_in(0.3)):
            got.append(event)
    assert 2 <= len(got) < 100
    assert None not in got  # events kept coming: no keep-alive was needed
    assert source.closed


async def test_cancelling_the_consumer_closes_the_source_while_it_waits() -> None:
    source = Source([0.0, 60.0])
    started = asyncio.Event()

    async def consume() -> None:
        async for _ in paced(source.events(), keepalive=10.0, deadline=deadline_in(120)):
            started.set()

    task = asyncio.create_task(consume())
    await started.wait()
    await asyncio.sleep(0.05)  # now waiting on the 60 s pause
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert source.closed
    assert source.sent == 1


async def test_a_consumer_that_stops_early_closes_the_source() -> None:
    source = Source([0.0] * 10)
    events = paced(source.events(), keepalive=1.0, deadline=deadline_in(5))
    assert await anext(events) == 1
    await events.aclose()
    assert source.closed
