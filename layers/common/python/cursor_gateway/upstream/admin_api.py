"""Client of Cursor's Admin API AI code tracking endpoints (`https://api.cursor.com/analytics/ai-code/*`).

- Auth: HTTP Basic, the Admin API key as the user name and an empty password.
- Rate: 5 requests per minute per team and endpoint. Every request (retries too) first takes a grant
  from a `Limiter` shared by all processes (DynamoDB in production), keyed by endpoint and key.
- 429 and 5xx (and transport failures) are retried with backoff, honouring `Retry-After`.
- 401 -> `AdminApiUnauthorized`; 403 -> `AdminApiForbidden` (usually: the plan has no Admin API, which
  is Enterprise only). Neither is retried.
- Pagination follows `totalCount`. A page that repeats the previous one, or that is short (or empty)
  before `totalCount` is reached, stops the pull with `UpstreamProtocolError` instead of looping or
  silently truncating. Pages shifted by rows ingested meanwhile are tolerated (upserts are idempotent).
- The CSV endpoints are streamed: `open_csv` yields the body in chunks, never the whole file.

Synchronous on purpose: a pull spends its life waiting for the rate limit; it runs in a scheduled Lambda,
a CLI process or a background thread, never on an event loop.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx

from cursor_gateway.domain.analytics import MAX_PAGE_SIZE, Dataset, row_key
from cursor_gateway.domain.analytics_time import OutOfTime, Window
from cursor_gateway.errors import (
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from cursor_gateway.upstream.fresh_retry import FreshRetryClient

log = logging.getLogger("cursor_gateway.upstream.admin_api")

DEFAULT_BASE_URL = "https://api.cursor.com"


class AdminApiUnauthorized(UpstreamAuthError):
    code = "admin_api_unauthorized"
    retryable = False


class AdminApiForbidden(UpstreamError):
    status = 403
    error_type = "permission_error"
    code = "admin_api_forbidden"
    retryable = False


class Limiter(Protocol):
    def acquire(self, key: str, *, deadline: float | None = None) -> None:
        """Block until a request on `key` may go; `OutOfTime` if that is after `deadline`."""
        ...


@dataclass(frozen=True, slots=True)
class Page:
    dataset: str
    window: Window
    page: int
    page_size: int
    total_count: int
    items: list[dict[str, Any]]
    keys: tuple[str, ...]


def _basic(key: str) -> str:
    """Cursor's scheme: the key as the user name, an empty password."""
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def _retry_after(response: httpx.Response, now: float) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        for name in ("message", "error"):
            if isinstance(body.get(name), str):
                return str(body[name])[:200]
    return str(body)[:200]


class AdminApiClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | Callable[[], str],
        *,
        limiter: Limiter | None = None,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 6,
        max_backoff: float = 60.0,
        rng: random.Random | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._limiter = limiter
        self._http = http
        self._own_http = http is None
        self._clock = clock
        self._sleep = sleep
        self._max_attempts = max(1, max_attempts)
        self._max_backoff = max_backoff
        self._rng = rng or random.Random()
        self._timeout = timeout
        self.requests = 0  # requests sent (retries included), for run statistics

    # -- plumbing --

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = FreshRetryClient(
                http2=self.base_url.startswith("https://"),
                timeout=httpx.Timeout(self._timeout, connect=10.0),
                follow_redirects=False,
                headers={"accept": "application/json"},
            )
        return self._http

    def close(self) -> None:
        if self._own_http and self._http is not None:
            self._http.close()
            self._http = None

    def _key(self) -> str:
        key = self._api_key() if callable(self._api_key) else self._api_key
        if not key:
            raise AdminApiUnauthorized(
                "No Cursor Admin API key: set CURSOR_ADMIN_API_KEY (or CURSOR_ADMIN_API_KEY_PARAM in AWS)"
            )
        return key

    def limiter_key(self, path: str, key: str) -> str:
        # Per team (one key = one team) and per endpoint, as Cursor counts; never the key itself.
        return f"{path}#{hashlib.sha256(key.encode()).hexdigest()[:12]}"

    def _wait(self, seconds: float, deadline: float | None) -> None:
        if deadline is not None and self._clock() + seconds > deadline:
            raise OutOfTime(f"the next attempt would start after the deadline (in {seconds:.0f}s)")
        self._sleep(seconds)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self._max_backoff * 5) + self._rng.uniform(0, 0.25)
        return min(self._max_backoff, 2.0**attempt) * self._rng.uniform(0.5, 1.0)

    @contextlib.contextmanager
    def _request(
        self, path: str, params: Mapping[str, str], *, stream: bool, deadline: float | None
    ) -> Iterator[httpx.Response]:
        """One logical request: limiter grant, send, retry 429/5xx/transport failures, map errors.
        Yields a 200 response (streamed or read)."""
        key = self._key()
        url = self.base_url + path
        last: UpstreamError | None = None
        for attempt in range(self._max_attempts):
            if self._limiter is not None:
                self._limiter.acquire(self.limiter_key(path, key), deadline=deadline)
            self.requests += 1
            request = self.http.build_request(
                "GET", url, params=dict(params), headers={"authorization": _basic(key)}
            )
            try:
                response = self.http.send(request, stream=stream)
            except httpx.TimeoutException as exc:
                last = UpstreamTimeout(f"Cursor Admin API {path} timed out")
                last.__cause__ = exc
            except httpx.TransportError as exc:
                last = UpstreamUnavailable(f"Cursor Admin API {path} unreachable: {type(exc).__name__}")
                last.__cause__ = exc
            else:
                try:
                    status = response.status_code
                    if status == 200:
                        yield response
                        return
                    if stream:
                        response.read()
                    if status != 429 and status < 500:
                        raise self._status_error(path, response)
                    retry_after = _retry_after(response, self._clock())
                    last = self._retryable_error(path, status, retry_after)
                    log.info("%s answered %s (attempt %d/%d)", path, status, attempt + 1, self._max_attempts)
                finally:
                    response.close()
            if attempt + 1 < self._max_attempts:
                self._wait(self._backoff(attempt, getattr(last, "retry_after", None)), deadline)
        assert last is not None
        raise last

    @staticmethod
    def _retryable_error(path: str, status: int, retry_after: float | None) -> UpstreamError:
        if status == 429:
            return UpstreamRateLimited(f"Cursor Admin API {path} is rate limited", retry_after=retry_after)
        return UpstreamUnavailable(f"Cursor Admin API {path} answered HTTP {status}", retry_after=retry_after)

    @staticmethod
    def _status_error(path: str, response: httpx.Response) -> UpstreamError:
        status = response.status_code
        detail = _message(response)
        if status == 401:
            return AdminApiUnauthorized(
                f"Cursor Admin API rejected the key (HTTP 401): check CURSOR_ADMIN_API_KEY. {detail}".strip()
            )
        if status == 403:
            return AdminApiForbidden(
                "Cursor Admin API refused access (HTTP 403): the AI code tracking API needs an Enterprise "
                f"plan and a team admin key. {detail}".strip()
            )
        if status in (400, 422):
            return UpstreamBadRequest(f"Cursor Admin API {path} refused the request: {detail}")
        return UpstreamError(f"Cursor Admin API {path} answered HTTP {status}: {detail}")

    # -- JSON pages --

    def page(
        self,
        ds: Dataset,
        window: Window,
        page: int,
        *,
        page_size: int = MAX_PAGE_SIZE,
        user: str | None = None,
        deadline: float | None = None,
    ) -> Page:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        params = {**window.params, "page": str(page), "pageSize": str(page_size)}
        if user:
            params["user"] = user
        with self._request(ds.path, params, stream=False, deadline=deadline) as response:
            try:
                body = response.json()
            except ValueError as exc:
                raise UpstreamProtocolError(f"Cursor Admin API {ds.path} answered non-JSON") from exc
        return self._parse_page(ds, window, page, page_size, body)

    @staticmethod
    def _parse_page(ds: Dataset, window: Window, page: int, page_size: int, body: Any) -> Page:
        where = f"{ds.path} {window.start}..{window.end} page {page}"
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise UpstreamProtocolError(f"{where}: the answer has no 'items' list")
        total = body.get("totalCount")
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            raise UpstreamProtocolError(f"{where}: the answer has no valid 'totalCount'")
        answered = body.get("page", page)
        if answered != page:
            raise UpstreamProtocolError(f"{where}: Cursor answered page {answered} instead")
        items = body["items"]
        if not all(isinstance(i, dict) for i in items):
            raise UpstreamProtocolError(f"{where}: an item is not an object")
        try:
            keys = tuple(row_key(ds, i) for i in items)
        except ValueError as exc:
            raise UpstreamProtocolError(f"{where}: {exc}") from None
        return Page(ds.name, window, page, page_size, total, items, keys)

    def pages(
        self,
        ds: Dataset,
        window: Window,
        *,
        first_page: int = 1,
        page_size: int = MAX_PAGE_SIZE,
        user: str | None = None,
        deadline: float | None = None,
    ) -> Iterator[Page]:
        """Every page of `window` from `first_page`, until `totalCount` rows have been covered."""
        previous: tuple[str, ...] | None = None
        number = first_page
        while True:
            current = self.page(ds, window, number, page_size=page_size, user=user, deadline=deadline)
            covered = (number - 1) * page_size + len(current.items)
            where = f"{ds.path} {window.start}..{window.end} page {number}"
            if current.keys and current.keys == previous:
                raise UpstreamProtocolError(
                    f"{where} repeats page {number - 1}: Cursor ignored the page parameter; stopped "
                    "instead of looping"
                )
            if len(current.items) > page_size:
                raise UpstreamProtocolError(f"{where} holds {len(current.items)} rows, over pageSize")
            short = len(current.items) < page_size and covered < current.total_count
            if short:
                raise UpstreamProtocolError(
                    f"{where} is short ({len(current.items)} rows) but totalCount is "
                    f"{current.total_count}: stopped instead of truncating silently"
                )
            yield current
            if covered >= current.total_count or not current.items:
                return
            previous = current.keys
            number += 1

    # -- CSV --

    @contextlib.contextmanager
    def open_csv(
        self,
        ds: Dataset,
        window: Window,
        *,
        user: str | None = None,
        chunk_size: int = 64 * 1024,
        deadline: float | None = None,
    ) -> Iterator[Iterator[bytes]]:
        """Cursor's CSV export for `window`, as an iterator of byte chunks (streamed, not buffered)."""
        params = dict(window.params)
        if user:
            params["user"] = user
        with self._request(ds.csv_path, params, stream=True, deadline=deadline) as response:
            yield response.iter_bytes(chunk_size)
