"""A fake of Cursor's Admin API AI code tracking endpoints, as a real HTTP server on 127.0.0.1.

Serves generated commits and changes with Cursor's parameters (`startDate`, `endDate`, `page`,
`pageSize`, `user`), pagination with `totalCount`, Basic auth with the key as user name, a per-endpoint
sliding-window rate limit (429 + Retry-After once `rpm` requests were accepted in `period` seconds), the
two CSV endpoints (streamed with chunked transfer encoding), privacy-mode rows (no `fileName`, null
repo/branch, no `isPrimaryBranch`), a 403 mode, misbehaviours (repeated or short pages) and a hook to
inject failures. Time comes from `clock`, so a test can share one fake clock with the client.

Written independently of the gateway's domain code (its CSV comes from Python's csv module), so that a
bug in our CSV writer is not mirrored here.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

COMMIT_FIELDS = [
    "commitHash",
    "userId",
    "userEmail",
    "repoName",
    "branchName",
    "isPrimaryBranch",
    "totalLinesAdded",
    "totalLinesDeleted",
    "tabLinesAdded",
    "tabLinesDeleted",
    "composerLinesAdded",
    "composerLinesDeleted",
    "nonAiLinesAdded",
    "nonAiLinesDeleted",
    "message",
    "commitTs",
    "createdAt",
]
CHANGE_FIELDS = ["changeId", "userId", "userEmail", "source", "model", "totalLinesAdded", "totalLinesDeleted"]
PATHS = {
    "/analytics/ai-code/commits": ("commits", "commitHash"),
    "/analytics/ai-code/commits.csv": ("commits", "commitHash"),
    "/analytics/ai-code/changes": ("changes", "changeId"),
    "/analytics/ai-code/changes.csv": ("changes", "changeId"),
}
TRICKY_MESSAGES = [
    "Fix parser, again",
    'Say "hello" to the "new" API',
    "Line one\nLine two\r\nLine three",
    "Ünïcödé 提交 ✓ — émojis 🚀",
    'All of it: a, "b",\n c ✓',
    " leading and trailing spaces ",
    "",
]


def _basic_user(handler: BaseHTTPRequestHandler) -> str:
    header = handler.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return ""
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return ""
    return user if password == "" else ""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _snake(name: str) -> str:
    out = []
    for ch in name:
        if ch.isupper():
            out.append("_" + ch.lower())
        else:
            out.append(ch)
    return "".join(out)


@dataclass
class Users:
    count: int = 5

    def email(self, i: int) -> str:
        return f"Dev{i}@Example.com" if i == 0 else f"dev{i}@example.com"

    def user_id(self, i: int) -> str:
        return f"user_{i:04d}abcdefgh"


def generate(
    *,
    start: datetime,
    days: int,
    commits_per_day: int = 3,
    changes_per_day: int = 4,
    users: int = 5,
    seed: int = 7,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Deterministic rows spread over `days` days from `start` (createdAt inside each day)."""
    rng = random.Random(seed)
    people = Users(users)
    commits: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for d in range(days):
        day = start + timedelta(days=d)
        for _i in range(commits_per_day):
            commits.append(
                make_commit(rng, day + timedelta(seconds=rng.randrange(86400)), people, len(commits))
            )
        for _i in range(changes_per_day):
            changes.append(
                make_change(rng, day + timedelta(seconds=rng.randrange(86400)), people, len(changes))
            )
    return commits, changes


def make_commit(rng: random.Random, created: datetime, people: Users, n: int) -> dict[str, Any]:
    u = n % people.count
    tab_a, comp_a, total_a = rng.randrange(20), rng.randrange(50), rng.randrange(70, 200)
    tab_d, comp_d, total_d = rng.randrange(5), rng.randrange(10), rng.randrange(15, 40)
    commit: dict[str, Any] = {
        "commitHash": f"{n:08x}" + f"{rng.getrandbits(128):032x}",
        "userId": people.user_id(u),
        "userEmail": people.email(u),
        "repoName": None if n % 11 == 5 else f"acme/repo-{n % 3}",
        "branchName": None if n % 11 == 5 else ("main" if n % 2 == 0 else f"feature/x-{n}"),
        "isPrimaryBranch": n % 2 == 0,
        "totalLinesAdded": total_a,
        "totalLinesDeleted": total_d,
        "tabLinesAdded": tab_a,
        "tabLinesDeleted": tab_d,
        "composerLinesAdded": comp_a,
        "composerLinesDeleted": comp_d,
        "nonAiLinesAdded": max(0, total_a - tab_a - comp_a),
        "nonAiLinesDeleted": None if n % 13 == 7 else max(0, total_d - tab_d - comp_d),
        "message": TRICKY_MESSAGES[n % len(TRICKY_MESSAGES)] if n % 2 else f"commit {n}",
        "commitTs": _iso(created - timedelta(minutes=3)) if n % 17 != 3 else None,
        "createdAt": _iso(created),
    }
    if n % 11 == 5:
        del commit["isPrimaryBranch"]  # repo info unavailable: Cursor leaves it out
    return commit


def make_change(rng: random.Random, created: datetime, people: Users, n: int) -> dict[str, Any]:
    u = n % people.count
    files = []
    for f in range(1 + n % 3):
        entry: dict[str, Any] = {
            "fileExtension": ["py", "ts", "md"][f],
            "linesAdded": f + 1,
            "linesDeleted": f,
        }
        if n % 4 != 1:  # privacy mode: no fileName
            entry["fileName"] = f"src/módulo {n},{f}.{entry['fileExtension']}"
        files.append(entry)
    added = sum(e["linesAdded"] for e in files)
    return {
        "changeId": f"chg_{n:06d}_{rng.getrandbits(32):08x}",
        "userId": people.user_id(u),
        "userEmail": people.email(u),
        "source": "TAB" if n % 3 else "COMPOSER",
        "model": None if n % 3 else "claude-4.6-sonnet",
        "totalLinesAdded": added,
        "totalLinesDeleted": sum(e["linesDeleted"] for e in files),
        "createdAt": _iso(created),
        "metadata": files,
    }


@dataclass
class Call:
    path: str
    params: dict[str, str]
    status: int
    at: float


Hook = Callable[["FakeAdminApi", str, dict[str, str]], "tuple[int, dict[str, str], bytes] | None"]


class FakeAdminApi:
    def __init__(
        self,
        *,
        key: str = "key_test_admin",
        commits: list[dict[str, Any]] | None = None,
        changes: list[dict[str, Any]] | None = None,
        rpm: int = 5,
        period: float = 60.0,
        clock: Callable[[], float] = time.time,
        max_window_days: int = 30,
        end_date_whole_day: bool = False,
    ) -> None:
        self.key = key
        self.data: dict[str, list[dict[str, Any]]] = {
            "commits": list(commits or []),
            "changes": list(changes or []),
        }
        self.rpm = rpm
        self.period = period
        self.clock = clock
        self.max_window_days = max_window_days
        self.end_date_whole_day = end_date_whole_day
        self.forbidden = False
        self.repeat_pages = False
        self.short_pages = False
        self.hook: Hook | None = None
        # A request on a connection that already answered one gets no response, only the close (a
        # keep-alive connection a NAT or a load balancer dropped while it sat idle).
        self.drop_idle = False
        self.dropped = 0
        self.calls: list[Call] = []
        self.rate_limited = 0
        self._accepted: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FakeAdminApi:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            served = 0  # requests answered on this connection (one handler per connection)

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if fake.drop_idle and self.served:
                    # The kept-alive connection was dropped while idle: no response, just the close.
                    fake.dropped += 1
                    self.close_connection = True
                    return
                self.served += 1
                fake._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = None

    def __enter__(self) -> FakeAdminApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- helpers for tests --

    def add(self, dataset: str, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            self.data[dataset].extend(rows)

    def calls_to(self, path: str, status: int | None = 200) -> list[Call]:
        return [c for c in self.calls if c.path == path and (status is None or c.status == status)]

    def max_in_any_period(self, path: str) -> int:
        """The most requests this endpoint accepted within any `period` (what the client must keep <= rpm)."""
        times = sorted(c.at for c in self.calls if c.path == path and c.status != 429)
        best = 0
        for i, t in enumerate(times):
            j = i
            while j < len(times) and times[j] < t + self.period:
                j += 1
            best = max(best, j - i)
        return best

    # -- the server --

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        path = parts.path
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        now = self.clock()
        status, headers, body, stream = self._answer(path, params, now, _basic_user(handler))
        with self._lock:
            self.calls.append(Call(path, params, status, now))
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        if stream is not None:
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            for chunk in stream:
                data = chunk.encode()
                if data:
                    handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            handler.wfile.write(b"0\r\n\r\n")
        else:
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

    def _json(self, status: int, payload: Any, **headers: str) -> tuple[int, dict[str, str], bytes, None]:
        return status, {"Content-Type": "application/json", **headers}, json.dumps(payload).encode(), None

    def _answer(
        self, path: str, params: dict[str, str], now: float, user_name: str
    ) -> tuple[int, dict[str, str], bytes, Any]:
        if path not in PATHS:
            return self._json(404, {"error": "Not found"})
        if self.hook is not None:
            injected = self.hook(self, path, params)
            if injected is not None:
                status, headers, body = injected
                return status, headers, body, None
        if user_name != self.key:
            return self._json(401, {"error": "Unauthorized", "message": "Invalid API key"})
        if self.forbidden:
            return self._json(403, {"error": "Forbidden", "message": "Enterprise plan required"})
        with self._lock:
            accepted = self._accepted.setdefault(path, deque())
            while accepted and accepted[0] <= now - self.period:
                accepted.popleft()
            if len(accepted) >= self.rpm:
                self.rate_limited += 1
                wait = math.ceil(accepted[0] + self.period - now)
                return self._json(429, {"error": "Too Many Requests"}, **{"Retry-After": str(max(1, wait))})
            accepted.append(now)
        try:
            rows = self._select(path, params, now)
        except ValueError as exc:
            return self._json(400, {"error": "Bad Request", "message": str(exc)})
        dataset, _ = PATHS[path]
        if path.endswith(".csv"):
            return 200, {"Content-Type": "text/csv; charset=utf-8"}, b"", self._csv(dataset, rows)
        try:
            page = int(params.get("page", "1"))
            size = int(params.get("pageSize", "100"))
        except ValueError:
            return self._json(400, {"error": "Bad Request", "message": "page and pageSize are numbers"})
        if page < 1 or not 1 <= size <= 1000:
            return self._json(400, {"error": "Bad Request", "message": "pageSize must be 1..1000, page >= 1"})
        page_rows = rows[:size] if self.repeat_pages else rows[(page - 1) * size : page * size]
        if self.short_pages and page == 1 and len(page_rows) > 1:
            page_rows = page_rows[:-1]
        return self._json(200, {"items": page_rows, "totalCount": len(rows), "page": page, "pageSize": size})

    def _select(self, path: str, params: dict[str, str], now: float) -> list[dict[str, Any]]:
        dataset, key = PATHS[path]
        moment = datetime.fromtimestamp(now, UTC)
        start = self._when(params.get("startDate", "7d"), moment, end=False)
        end = self._when(params.get("endDate", "now"), moment, end=True)
        if end - start > timedelta(days=self.max_window_days, seconds=1):
            raise ValueError(f"date range exceeds {self.max_window_days} days")
        user = params.get("user", "").strip().lower()
        with self._lock:
            rows = list(self.data[dataset])
        chosen = []
        for row in rows:
            created = datetime.fromisoformat(row["createdAt"].replace("Z", "+00:00"))
            if not start <= created < end:
                continue
            if user and user not in (
                str(row.get("userEmail", "")).lower(),
                str(row.get("userId", "")).lower(),
            ):
                continue
            chosen.append(row)
        chosen.sort(key=lambda r: (r["createdAt"], r[key]))
        return chosen

    def _when(self, value: str, now: datetime, *, end: bool) -> datetime:
        if value == "now":
            return now
        if value.endswith("d") and value[:-1].isdigit():
            return now - timedelta(days=int(value[:-1]))
        if len(value) == 10:
            day = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
            return day + timedelta(days=1) if end and self.end_date_whole_day else day
        return datetime.fromisoformat(value.replace("Z", "+00:00"))

    def _csv(self, dataset: str, rows: list[dict[str, Any]]) -> Any:
        if dataset == "commits":
            header = [_snake(f) for f in COMMIT_FIELDS]
            fields = COMMIT_FIELDS
        else:
            header = [*(_snake(f) for f in CHANGE_FIELDS), "created_at", "metadata_json"]
            fields = [*CHANGE_FIELDS, "createdAt", "metadata"]

        def cell(value: Any) -> Any:
            if value is None:
                return ""
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, list | dict):
                return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            return value

        def lines() -> Any:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow(header)
            for i, row in enumerate(rows):
                writer.writerow([cell(row.get(f)) for f in fields])
                if i % 50 == 49:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()

        return lines()
