"""Closed counter buckets, kept in process: an hour (or day) bucket stops changing once every request that
started in it has finished, i.e. MAX_STREAM_SECONDS (+ a margin) after the bucket's end. Reads of a window
then fetch from the store only the buckets that may still change (the last hour or two), whatever the
window's length: a warm 7-day summary is one small query instead of 168 items. Valid across instances
(closed buckets are the same everywhere); a clear works through the epoch filter applied after the read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MARGIN_SECONDS = 300
MAX_SCOPES = 512


@dataclass
class _Covered:
    lo: str  # every bucket in [lo, hi] is known (absent = no requests)
    hi: str
    items: dict[str, dict[str, Any]] = field(default_factory=dict)


class ClosedBucketCache:
    def __init__(self, fetch: Callable[[str, str, str], list[dict[str, Any]]], settle_seconds: float) -> None:
        self._fetch = fetch
        self._settle_ms = int((settle_seconds + MARGIN_SECONDS) * 1000)
        self._lock = threading.Lock()
        self._scopes: OrderedDict[tuple[str, str], _Covered] = OrderedDict()

    def _closed_below(self, prefix: str, now_ms: int) -> str:
        """The first sort key that may still change: every bucket below it is closed."""
        span = 3_600_000 if prefix == "H#" else 86_400_000
        cutoff = now_ms - self._settle_ms - span  # buckets starting before this have ended + settled
        fmt = "%Y%m%d%H" if prefix == "H#" else "%Y%m%d"
        return prefix + datetime.fromtimestamp(max(cutoff, 0) / 1000, UTC).strftime(fmt)

    def read(self, pk: str, lo: str, hi: str, now_ms: int) -> list[dict[str, Any]]:
        prefix = lo[:2]
        open_from = self._closed_below(prefix, now_ms)
        with self._lock:
            covered = self._scopes.get((pk, prefix))
        if covered is not None and covered.lo <= lo <= _after(covered.hi):
            closed = [item for sk, item in covered.items.items() if lo <= sk <= hi]
            fresh = self._fetch(pk, max(lo, _after(covered.hi)), hi) if hi > covered.hi else []
            if hi > covered.hi:  # the fetched range continues the covered one: extend it
                newly = [i for i in fresh if str(i["sk"]) < open_from]
                with self._lock:
                    covered.items.update({str(i["sk"]): i for i in newly})
                    covered.hi = max(covered.hi, min(hi, _before(open_from)))
                    self._scopes.move_to_end((pk, prefix))
        else:
            fresh = self._fetch(pk, lo, hi)
            closed = []
            if lo < open_from:
                kept = [i for i in fresh if str(i["sk"]) < open_from]
                self._remember(pk, prefix, lo, min(hi, _before(open_from)), kept)
        merged = {str(i["sk"]): i for i in [*closed, *fresh]}
        return [merged[sk] for sk in sorted(merged)]

    def _remember(self, pk: str, prefix: str, lo: str, hi: str, items: list[dict[str, Any]]) -> None:
        with self._lock:
            self._scopes[(pk, prefix)] = _Covered(lo, hi, {str(i["sk"]): i for i in items})
            self._scopes.move_to_end((pk, prefix))
            while len(self._scopes) > MAX_SCOPES:
                self._scopes.popitem(last=False)


def _before(sk: str) -> str:
    """The greatest key below `sk` that a bucket can have (keys are fixed-width digits)."""
    return sk[:-1] + chr(ord(sk[-1]) - 1) + "~"


def _after(sk: str) -> str:
    return sk + "~"
