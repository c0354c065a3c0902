"""Closed counter buckets are read from the store once per process; only buckets that may still change
(a request that started in them may still be running) are fetched again, and the answer is the same."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cursor_gateway.services.stats_cache import ClosedBucketCache

HOUR = 3_600_000


def sk(ms: int) -> str:
    return "H#" + datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y%m%d%H")


class Store:
    def __init__(self, start_ms: int, hours: int) -> None:
        self.items = {
            sk(start_ms + h * HOUR): {"sk": sk(start_ms + h * HOUR), "requests": h} for h in range(hours)
        }
        self.calls: list[tuple[str, str]] = []

    def fetch(self, pk: str, lo: str, hi: str) -> list[dict[str, Any]]:
        self.calls.append((lo, hi))
        return [dict(v) for k, v in sorted(self.items.items()) if lo <= k <= hi]


def test_warm_reads_fetch_only_the_open_buckets_and_agree_with_the_store() -> None:
    start = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp() * 1000)
    store = Store(start, 24 * 10)
    cache = ClosedBucketCache(store.fetch, settle_seconds=840)
    now = start + 24 * 9 * HOUR + 30 * 60_000  # 9 days and 30 minutes in
    lo, hi = sk(now - 168 * HOUR), sk(now)
    first = cache.read("G", lo, hi, now)
    assert first == store.fetch("G", lo, hi) and len(first) == 169
    store.calls.clear()
    store.items[sk(now)]["requests"] = 1000  # the current hour keeps counting
    second = cache.read("G", lo, hi, now)
    assert second[-1]["requests"] == 1000 and second[:-1] == first[:-1]
    [(fetched_lo, fetched_hi)] = store.calls
    assert fetched_hi == hi and fetched_lo > sk(now - 3 * HOUR)  # only the last open hours

    later = now + 5 * HOUR  # five more hours closed: the covered range grows with them
    store.calls.clear()
    moved = cache.read("G", sk(later - 168 * HOUR), sk(later), later)
    assert moved == store.fetch("G", sk(later - 168 * HOUR), sk(later))
    store.calls.clear()
    cache.read("G", sk(later - 168 * HOUR), sk(later), later)
    [(fetched_lo, _)] = store.calls
    assert fetched_lo > sk(later - 3 * HOUR)

    store.calls.clear()
    older = cache.read("G", sk(start), sk(later), later)  # starts before the covered range: read again
    assert older == store.fetch("G", sk(start), sk(later)) and store.calls[0][0] == sk(start)
