"""The in-memory twin of storage.request_logs (tests, and a gateway built without AWS): the same
operations with the same conditions, under one lock; `fail = True` makes every call raise as a store that
is down would."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Sequence
from typing import Any

from cursor_gateway.domain.usage_stats import CounterUpdate
from cursor_gateway.storage.request_logs import (
    BY_ACCOUNT,
    BY_KEY,
    LogStoreUnavailable,
    base_partition,
    shard_of,
    sk_day,
    sort_key,
)
from cursor_gateway.storage.request_logs_batch import Completion


class InMemoryRequestLogStore:
    """The twin for tests; `fail` makes every call raise (a store that is down)."""

    def __init__(self, shards: int = 4) -> None:
        self.shards = shards
        self.fail = False
        self._lock = threading.Lock()
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.stats: dict[tuple[str, str], dict[str, Any]] = {}
        self.bodies: dict[str, bytes] = {}

    def _check(self) -> None:
        if self.fail:
            raise LogStoreUnavailable("The request-log store is unavailable (test double set to fail)")

    def put_pending(self, pk: str, sk: str, doc: dict[str, Any], expires_at: int) -> None:
        self._check()
        with self._lock:
            self.items.setdefault(
                (pk, sk), {"status": "pending", "doc": json.dumps(doc), "expires_at": expires_at}
            )

    def complete_many(self, completions: Sequence[Completion]) -> dict[str, bool]:
        return {c.log_id: self.complete(c.log_id, c.entry, c.counters, c.ttl) for c in completions}

    def complete(
        self,
        log_id: str,
        entry: tuple[str, str, dict[str, Any], int] | None,
        counters: Sequence[CounterUpdate],
        ttl: dict[str, int],
    ) -> bool:
        self._check()
        with self._lock:
            if entry is None:
                if ("DONE#" + log_id, "-") in self.stats:
                    return False
                self.stats[("DONE#" + log_id, "-")] = {}
            else:
                pk, sk, doc, expires_at = entry
                current = self.items.get((pk, sk))
                if current is not None and current["status"] != "pending":
                    return False
                self.items[(pk, sk)] = {
                    "status": doc["status"],
                    "doc": json.dumps(doc),
                    "expires_at": expires_at,
                }
            for update in counters:
                item = self.stats.setdefault((update.pk, update.sk), {})
                for name, value in update.add.items():
                    item[name] = int(item.get(name, 0)) + value
                item.update(update.set)
                item["expires_at"] = ttl[update.granularity]
            return True

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        self._check()
        with self._lock:
            item = self.items.get((pk, sk))
        return json.loads(item["doc"]) if item else None

    def query(
        self, index: str, partition: str, lo: str, hi: str, *, descending: bool, limit: int
    ) -> list[dict[str, Any]]:
        self._check()
        with self._lock:
            docs = [json.loads(v["doc"]) for v in self.items.values()]
        keyed = []
        for doc in docs:
            sk = sort_key(int(doc["ts_ms"]), doc["id"])
            if not lo <= sk <= hi:
                continue
            if index == BY_KEY:
                owner = "KEY#" + (doc.get("api_key") or {}).get("id", "")
            elif index == BY_ACCOUNT:
                owner = "ACCT#" + (doc.get("account") or {}).get("alias", "")
            else:
                owner = base_partition(sk_day(sk), shard_of(doc["id"], self.shards))
            if owner == partition:
                keyed.append((sk, doc))
        keyed.sort(key=lambda pair: pair[0], reverse=descending)
        return [doc for _, doc in keyed[:limit]]

    def count(self, index: str, partition: str, lo: str, hi: str, *, limit: int) -> int:
        return len(self.query(index, partition, lo, hi, descending=False, limit=limit))

    def put_body(self, key: str, body: dict[str, Any]) -> None:
        self._check()
        self.bodies[key] = gzip.compress(json.dumps(body).encode())

    def get_body(self, key: str) -> dict[str, Any] | None:
        self._check()
        data = self.bodies.get(key)
        return json.loads(gzip.decompress(data)) if data else None

    def counters(self, pk: str, lo: str, hi: str) -> list[dict[str, Any]]:
        self._check()
        with self._lock:
            found = [{**v, "sk": sk} for (p, sk), v in self.stats.items() if p == pk and lo <= sk <= hi]
        return sorted(found, key=lambda item: item["sk"])

    def get_meta(self, name: str) -> int:
        self._check()
        return int(self.stats.get(("META", name), {}).get("value", 0))

    def set_meta(self, name: str, value: int) -> None:
        self._check()
        self.stats[("META", name)] = {"value": value}

    def ping(self) -> dict[str, str]:
        state = "error" if self.fail else "ok"
        return {"dynamodb": state, "s3": state}
