"""Reading request logs: `/logs/get` pages, one entry with its bodies, exports, the clear epoch,
account summaries, and Antigravity's `/api/logs` surface (logs-stats-pages.md E.4).

Every read is bounded: entries are read newest (or oldest) first from one index partition (a key's or an
account's) or from the day partitions of the window, shards merged by sort key; filters run on each
entry; at most `EVALUATION_CAP` entries are looked at per call, which also caps `total`
(`total_is_capped`), and the page's `next_cursor` continues where the page (or the evaluation) stopped.
Expired entries (TTL deletion lags) and entries older than the clear epoch are outside every window.
"""

from __future__ import annotations

import base64
import heapq
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cursor_gateway.domain.request_logs import (
    LogQuery,
    day_of,
    days_between,
    id_time_ms,
    matches,
    present,
    rfc3339,
)
from cursor_gateway.errors import InvalidRequest, NotFound
from cursor_gateway.services.log_formats import (
    ENDPOINT_PATHS,
    PROTOCOLS,
    csv_chunks,
    error_message,
    is_error,
    searchable,
)
from cursor_gateway.settings import Settings
from cursor_gateway.storage.request_logs import (
    BY_ACCOUNT,
    BY_KEY,
    RequestLogStore,
    base_partition,
    shard_of,
    sort_key,
)

EVALUATION_CAP = 10_000
EXPORT_MAX_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who reads: the admin sees everything; anyone else only the entries of `key_id`."""

    admin: bool
    key_id: str = ""


@dataclass(frozen=True, slots=True)
class _Window:
    """Where a listing reads: sk bounds, the (index, partition) pairs in reading order, and the days
    (empty when one key's or one account's index partition holds everything)."""

    lo: str
    hi: str
    partitions: list[tuple[str, str]]
    days: list[str]


def _sk(doc: dict[str, Any]) -> str:
    return sort_key(int(doc["ts_ms"]), doc["id"])


class LogReader:
    def __init__(
        self, store: RequestLogStore, settings: Settings, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock

    @property
    def stale_after_ms(self) -> int:
        return int((self.settings.max_stream_seconds + 60) * 1000)

    @property
    def max_limit(self) -> int:
        return max(1, min(self.settings.request_logs_limit or 500, 500))

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # -- iteration --------------------------------------------------------------------------------------

    def _stream(
        self, index: str, partition: str, lo: str, hi: str, descending: bool
    ) -> Iterator[dict[str, Any]]:
        batch, last = 100, ""
        while True:
            docs = self.store.query(index, partition, lo, hi, descending=descending, limit=batch)
            fresh = [d for d in docs if _sk(d) != last]
            yield from fresh
            if len(docs) < batch or not fresh:
                return
            last = _sk(fresh[-1])
            hi, lo = (last, lo) if descending else (hi, last)
            batch = 1000  # past the first page, fewer and larger reads (each Query has a fixed cost)

    def _window(self, query: LogQuery, viewer: Viewer, cursor_sk: str) -> _Window:
        now = self.now_ms()
        floor = max(
            query.start_ms,
            self.store.get_meta("logs_epoch"),
            now - int(self.settings.log_retention_days * 86_400_000),
        )
        lo, hi = sort_key(floor, ""), sort_key(query.end_ms, "~")
        if cursor_sk:
            hi, lo = (min(hi, cursor_sk), lo) if query.reverse else (hi, max(lo, cursor_sk))
        key_id = viewer.key_id if not viewer.admin else query.filters.get("api_key_id", "")
        account = query.filters.get("account", "")
        if key_id or account:
            index, partition = (BY_KEY, "KEY#" + key_id) if key_id else (BY_ACCOUNT, "ACCT#" + account)
            return _Window(lo, hi, [(index, partition)], [])
        days = days_between(floor, query.end_ms)
        days = days[::-1] if query.reverse else days
        return _Window(
            lo, hi, [("", base_partition(d, s)) for d in days for s in range(self.store.shards)], days
        )

    def _entries(self, query: LogQuery, viewer: Viewer, cursor_sk: str) -> Iterator[dict[str, Any]]:
        """Entries of the window in order, from the narrowest partition the query allows."""
        return self._read(self._window(query, viewer, cursor_sk), query.reverse, cursor_sk)

    def _read(self, window: _Window, descending: bool, cursor_sk: str) -> Iterator[dict[str, Any]]:
        lo, hi = window.lo, window.hi
        if window.days:
            stream = self._days(window.days, lo, hi, descending)
        else:
            (index, partition), *_ = window.partitions
            stream = self._stream(index, partition, lo, hi, descending)
        for doc in stream:
            if _sk(doc) != cursor_sk:
                yield doc

    def _days(self, days: list[str], lo: str, hi: str, descending: bool) -> Iterator[dict[str, Any]]:
        for day in days:
            shards = [
                self._stream("", base_partition(day, s), lo, hi, descending) for s in range(self.store.shards)
            ]
            yield from heapq.merge(*shards, key=_sk, reverse=descending)

    # -- /logs/get ----------------------------------------------------------------------------------------

    def page(self, query: LogQuery, viewer: Viewer, *, active: int = 0) -> dict[str, Any]:
        if not viewer.admin:
            query.scoped(viewer.key_id)
        cursor_sk = _decode_cursor(query.cursor) if query.cursor else ""
        offset = 0 if cursor_sk else query.offset
        now = self.now_ms()
        window = self._window(query, viewer, cursor_sk)
        if not cursor_sk and offset + query.limit < EVALUATION_CAP and _unfiltered(query, window):
            logs, matched, capped, next_cursor = self._counted_page(query, window, offset)
        else:
            logs, matched, capped, next_cursor = self._evaluated_page(query, window, offset, cursor_sk, now)
        shaped = [self.present(doc, viewer) for doc in logs]
        if query.include_chain:
            for entry, doc in zip(shaped, logs, strict=True):
                entry["chain"].update(self._bodies(doc))
        body: dict[str, Any] = {
            "status": "success",
            "total": matched,
            "total_is_capped": capped,
            "logs": shaped,
            "next_cursor": _encode_cursor(next_cursor, query.reverse) if next_cursor else None,
            "timestamp": rfc3339(now, self.settings.stats_tz),
        }
        if viewer.admin:
            body["active"] = active
        return body

    def _evaluated_page(
        self, query: LogQuery, window: _Window, offset: int, cursor_sk: str, now: int
    ) -> tuple[list[dict[str, Any]], int, bool, str]:
        """The page, the matches counted (capped) and the cursor, filtering entry by entry."""
        logs: list[dict[str, Any]] = []
        matched = 0
        next_cursor, capped = "", False
        for evaluated, doc in enumerate(self._read(window, query.reverse, cursor_sk), start=1):
            if matches(doc, query, now, self.stale_after_ms):
                matched += 1
                if matched > offset and len(logs) < query.limit:
                    logs.append(doc)
                elif len(logs) == query.limit and not next_cursor:
                    next_cursor = _sk(logs[-1])
            if evaluated >= EVALUATION_CAP:
                capped = True
                if len(logs) < query.limit:
                    next_cursor = _sk(doc)  # the evaluation stopped before the page filled: go on from here
                break
        if capped and not next_cursor and logs:
            next_cursor = _sk(logs[-1])
        return logs, matched, capped, next_cursor

    def _counted_page(
        self, query: LogQuery, window: _Window, offset: int
    ) -> tuple[list[dict[str, Any]], int, bool, str]:
        """`_evaluated_page` when every entry matches (the console's first page): the page is read, and the
        rest is counted where it is stored (Select=COUNT, up to the cap) instead of being fetched and
        parsed. Same answer: the page's entries, min(entries, cap), capped at the cap, and a cursor when
        an entry follows the page within the cap."""
        logs: list[dict[str, Any]] = []
        for doc in self._read(window, query.reverse, ""):
            logs.append(doc)
            if len(logs) == offset + query.limit:
                break
        logs = logs[offset:]
        counted = 0
        for index, partition in window.partitions:
            counted += self.store.count(
                index, partition, window.lo, window.hi, limit=EVALUATION_CAP - counted
            )
            if counted >= EVALUATION_CAP:
                break
        matched = min(counted, EVALUATION_CAP)
        more = matched > offset + len(logs)
        return logs, matched, counted >= EVALUATION_CAP, _sk(logs[-1]) if logs and more else ""

    def present(self, doc: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
        return present(
            doc,
            now_ms=self.now_ms(),
            stale_after_ms=self.stale_after_ms,
            admin=viewer.admin,
            tz=self.settings.stats_tz,
        )

    def _bodies(self, doc: dict[str, Any]) -> dict[str, Any]:
        ref = doc.get("body_ref")
        body = self.store.get_body(ref) if ref else None
        if not body:
            return {}
        return {
            "prompt": body.get("prompt"),
            "think": body.get("think"),
            "delays": [body.get("text"), body.get("delays")],
        }

    # -- one entry ----------------------------------------------------------------------------------------

    def find(self, log_id: str, viewer: Viewer) -> dict[str, Any]:
        """The stored doc, or 404 for an unknown, expired, cleared or foreign id (a key holder cannot tell
        another key's entry from one that does not exist)."""
        ts = id_time_ms(log_id)
        doc = None
        if ts is not None:
            doc = self.store.get(
                base_partition(day_of(ts), shard_of(log_id, self.store.shards)), sort_key(ts, log_id)
            )
        retention = self.now_ms() - int(self.settings.log_retention_days * 86_400_000)
        if doc is None or int(doc["ts_ms"]) < max(retention, self.store.get_meta("logs_epoch")):
            raise NotFound(f"No log entry '{log_id}'")
        if not viewer.admin and (doc.get("api_key") or {}).get("id") != viewer.key_id:
            raise NotFound(f"No log entry '{log_id}'")
        return doc

    def detail(self, log_id: str, viewer: Viewer) -> dict[str, Any]:
        doc = self.find(log_id, viewer)
        entry = self.present(doc, viewer)
        entry["chain"].update(self._bodies(doc))
        return entry

    # -- clear, export, accounts --------------------------------------------------------------------------

    def clear(self) -> int:
        epoch = self.now_ms()
        self.store.set_meta("logs_epoch", epoch)
        return epoch

    def export(self, query: LogQuery, viewer: Viewer, fmt: str) -> Iterator[bytes]:
        if fmt not in ("csv", "ndjson"):
            raise InvalidRequest("Invalid value for 'format': expected csv or ndjson", param="format")
        if not viewer.admin:
            query.scoped(viewer.key_id)
        docs = self._export_docs(query, viewer)
        if fmt == "ndjson":
            return (json.dumps(self.present(d, viewer), ensure_ascii=False).encode() + b"\n" for d in docs)
        return csv_chunks(self.present(d, viewer) for d in docs)

    def _export_docs(self, query: LogQuery, viewer: Viewer) -> Iterator[dict[str, Any]]:
        now, rows = self.now_ms(), 0
        for doc in self._entries(query, viewer, ""):
            if rows >= EXPORT_MAX_ROWS:
                return
            if matches(doc, query, now, self.stale_after_ms):
                rows += 1
                yield doc

    # -- Antigravity's /api/logs ----------------------------------------------------------------------------

    def api_entries(self, text: str, errors_only: bool, viewer: Viewer) -> Iterator[dict[str, Any]]:
        """Newest first over the retention window; `filter` and `errorsOnly` combine (AND), and the list
        and the count use this same predicate."""
        now = self.now_ms()
        query = LogQuery(
            start_ms=now - int(self.settings.log_retention_days * 86_400_000), end_ms=now, reverse=True
        )
        if not viewer.admin:
            query.scoped(viewer.key_id)
        needle = text.lower().strip()
        for evaluated, doc in enumerate(self._entries(query, viewer, "")):
            if evaluated >= EVALUATION_CAP:
                return
            if errors_only and not is_error(doc, now, self.stale_after_ms):
                continue
            if needle and needle not in searchable(doc):
                continue
            yield doc

    def antigravity(self, doc: dict[str, Any], viewer: Viewer, *, bodies: bool = False) -> dict[str, Any]:
        usage = doc.get("usage") or {}
        account = doc.get("account") or {}
        entry = {
            "id": doc["id"],
            "timestamp": int(doc["ts_ms"]),
            "method": "POST",
            "url": ENDPOINT_PATHS.get(doc.get("endpoint", ""), "/" + doc.get("endpoint", "")),
            "status": doc.get("http_status") or 0,
            "duration": int(float((doc.get("timing") or {}).get("total") or 0) * 1000),
            "model": doc.get("model"),
            "mapped_model": doc.get("upstream_model"),
            "account_email": account.get("email") or account.get("alias"),
            "client_ip": (doc.get("client") or {}).get("ip") if viewer.admin else None,
            "error": error_message(doc.get("error")),
            "request_body": None,
            "response_body": None,
            "input_tokens": usage.get("input"),
            "output_tokens": usage.get("output"),
            "cached_tokens": usage.get("cache_read"),
            "protocol": PROTOCOLS.get(doc.get("endpoint", ""), "openai"),
            "username": (doc.get("api_key") or {}).get("name"),
        }
        if bodies:
            body = self.store.get_body(doc["body_ref"]) if doc.get("body_ref") else None
            if body:
                entry["request_body"] = json.dumps({"messages": body.get("prompt")}, ensure_ascii=False)
                entry["response_body"] = json.dumps(
                    {"text": body.get("text"), "thinking": body.get("think")}, ensure_ascii=False
                )
        return entry


def _unfiltered(query: LogQuery, window: _Window) -> bool:
    """Every entry of the window matches: no filter beyond the partition the entries are read from."""
    if query.impossible:
        return False
    implied = {BY_KEY: "api_key_id", BY_ACCOUNT: "account"}.get(window.partitions[0][0])
    return all(name == implied for name in query.filters)


def _encode_cursor(sk: str, reverse: bool) -> str:
    raw = json.dumps({"sk": sk, "r": reverse}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        sk = data["sk"]
        if not isinstance(sk, str) or len(sk) < 14:
            raise ValueError
        return sk
    except (ValueError, KeyError, TypeError):
        raise InvalidRequest(
            "Invalid value for 'cursor': not a cursor from a previous page", param="cursor"
        ) from None
