"""The recorder's pure parts and its in-memory twin: time-sortable ids, body truncation with a marker,
bounded delays, and the outcome of a watched stream (success, failure, a client that went away)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from cursor_gateway.domain.chat import TextDelta, TurnEnded
from cursor_gateway.domain.request_logs import id_time_ms, new_log_id
from cursor_gateway.errors import UpstreamUnavailable
from cursor_gateway.services.request_log import RecordedCaller, RequestRecorder
from cursor_gateway.settings import Settings
from cursor_gateway.storage.request_logs_memory import InMemoryRequestLogStore
from log_recording import Spec, record
from logs_env import Clock, settle


def test_ids_sort_by_time_and_carry_it() -> None:
    ids = [
        new_log_id(ms, bytes([255 - ms % 256]) * 10) for ms in (1, 2, 1_700_000_000_000, 1_800_000_000_001)
    ]
    assert ids == sorted(ids) and all(len(i) == 26 for i in ids)
    assert [id_time_ms(i) for i in ids] == [1, 2, 1_700_000_000_000, 1_800_000_000_001]
    assert id_time_ms("not-an-id") is None and id_time_ms("I" * 26) is None


def test_each_body_field_is_cut_at_the_limit_with_a_marker() -> None:
    store = InMemoryRequestLogStore()
    clock = Clock(1_780_000_000.0)
    recorder = RequestRecorder(store, Settings(log_body_max_bytes=40), clock=clock)
    log_id = record(recorder, clock, Spec("2026-05-28T10:00:00+00:00", text="x" * 100))
    settle(recorder)
    [body] = [store.get_body(k) for k in store.bodies]
    assert body is not None
    assert body["text"].startswith("x" * 40) and body["text"].endswith(
        "[truncated by the gateway: 60 more bytes]"
    )
    assert isinstance(body["prompt"], str) and "truncated by the gateway" in body["prompt"]
    assert log_id in next(iter(store.bodies))


def test_bodies_off_keeps_entries_and_counts_without_s3() -> None:
    store = InMemoryRequestLogStore()
    clock = Clock(1_780_000_000.0)
    recorder = RequestRecorder(store, Settings(log_store_bodies=False), clock=clock)
    record(recorder, clock, Spec("2026-05-28T10:00:00+00:00"))
    settle(recorder)
    assert store.bodies == {} and len(store.items) == 1
    assert store.stats[("G", "H#2026052810")]["requests"] == 1


async def events(fail_after: int | None = None) -> AsyncIterator[object]:
    for i in range(3):
        if fail_after is not None and i == fail_after:
            raise UpstreamUnavailable("upstream went away")
        yield TextDelta(f"part {i} ")
        await asyncio.sleep(0)
    yield TurnEnded()


@pytest.mark.parametrize(
    ("fail_after", "close_early", "status", "error"),
    [
        (None, False, "success", None),
        (1, False, "failure", "upstream_unavailable"),
        (None, True, "failure", "client_disconnected"),
    ],
)
async def test_a_watched_stream_records_how_it_ended(
    fail_after: int | None, close_early: bool, status: str, error: str | None
) -> None:
    store = InMemoryRequestLogStore()
    recorder = RequestRecorder(store, Settings(), clock=Clock(1_780_000_000.0))
    trace = recorder.begin(
        endpoint="responses", model="m", stream=True, caller=RecordedCaller("admin", "admin")
    )
    watched = trace.watch(events(fail_after))
    try:
        async for _ in watched:
            if close_early:
                break
    except UpstreamUnavailable:
        pass
    await watched.aclose()
    await recorder.drain()
    [item] = store.items.values()
    assert item["status"] == status
    assert trace.doc["http_status"] == 200  # after the first byte a stream's status is already sent
    assert (trace.doc["error"] or {}).get("error") == error
    assert recorder.health()["in_flight"] == 0


def test_a_trace_dropped_unfinished_ends_as_a_disconnect() -> None:
    import gc

    store = InMemoryRequestLogStore()
    recorder = RequestRecorder(store, Settings(), clock=Clock(1_780_000_000.0))
    trace = recorder.begin(
        endpoint="messages", model="m", stream=True, caller=RecordedCaller("admin", "admin")
    )
    del trace
    gc.collect()
    settle(recorder)
    [item] = store.items.values()
    assert item["status"] == "failure" and '"client_disconnected"' in item["doc"]


def test_flush_writes_the_pending_entries_not_yet_due_before_the_stack_closes() -> None:
    # The local stack calls flush() after its server stopped (no event loop left), before moto goes.
    store = InMemoryRequestLogStore()
    recorder = RequestRecorder(store, Settings(), clock=Clock(1_780_000_000.0))
    trace = recorder.begin(endpoint="chat", model="m", stream=True, caller=RecordedCaller("admin", "admin"))
    assert store.items == {}  # the pending write waits (PENDING_DELAY_SECONDS) for a request still running
    recorder.flush()
    [item] = store.items.values()
    assert item["status"] == "pending" and recorder.health()["log_write_backlog"] == 0
    assert trace.id in item["doc"]
