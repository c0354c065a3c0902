"""The Admin API client against the fake over real HTTP: pagination and its misbehaviours, retries that
honour Retry-After, 401/403, streamed CSV. Time is the fake clock, so waits cost nothing."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from analytics_env import KEY, FakeClock, before
from cursor_gateway.domain.analytics import CHANGES, COMMITS
from cursor_gateway.domain.analytics_time import OutOfTime, Window, admit
from cursor_gateway.errors import UpstreamBadRequest, UpstreamProtocolError, UpstreamUnavailable
from cursor_gateway.upstream.admin_api import (
    AdminApiClient,
    AdminApiForbidden,
    AdminApiUnauthorized,
    _retry_after,
)
from fakes.admin_api import FakeAdminApi, generate

JAN = Window(date(2026, 1, 1), date(2026, 1, 31))
COMMITS_PATH = "/analytics/ai-code/commits"


class MemoryLimiter:
    """The sliding-window rule in one process (the shared one is tested against DynamoDB)."""

    def __init__(self, rpm: int, clock: FakeClock, period: float = 60.0) -> None:
        self.rpm, self.clock, self.period = rpm, clock, period
        self.grants: dict[str, list[float]] = {}

    def acquire(self, key: str, *, deadline: float | None = None) -> None:
        while True:
            wait, live = admit(self.grants.get(key, []), self.clock(), self.rpm, self.period)
            if wait == 0:
                self.grants[key] = live
                return
            if deadline is not None and self.clock() + wait > deadline:
                raise OutOfTime("after the deadline")
            self.clock.sleep(wait)


@pytest.fixture
def server(clock: FakeClock) -> Iterator[FakeAdminApi]:
    commits, changes = generate(
        start=datetime(2026, 1, 1, tzinfo=UTC), days=40, commits_per_day=5, changes_per_day=2
    )
    with FakeAdminApi(key=KEY, commits=before(commits, clock()), changes=changes, clock=clock) as fake:
        yield fake


def client_for(
    fake: FakeAdminApi, clock: FakeClock, *, key: str = KEY, limiter: object = None
) -> AdminApiClient:
    return AdminApiClient(
        fake.url,
        key,
        limiter=limiter,
        clock=clock,
        sleep=clock.sleep,
        rng=random.Random(3),
        timeout=10,  # type: ignore[arg-type]
    )


def january(fake: FakeAdminApi) -> list[dict[str, object]]:
    return sorted(
        (r for r in fake.data["commits"] if "2026-01-01" <= str(r["createdAt"])[:10] < "2026-01-31"),
        key=lambda r: (str(r["createdAt"]), str(r["commitHash"])),
    )


def test_pages_follow_total_count(server: FakeAdminApi, clock: FakeClock) -> None:
    client = client_for(server, clock, limiter=MemoryLimiter(5, clock))
    pages = list(client.pages(COMMITS, JAN, page_size=40))
    expected = january(server)
    assert len(expected) == 150
    assert [p.page for p in pages] == [1, 2, 3, 4]
    assert [len(p.items) for p in pages] == [40, 40, 40, 30]
    assert {p.total_count for p in pages} == {150}
    assert [i for p in pages for i in p.items] == expected
    sent = [c.params for c in server.calls_to(COMMITS_PATH)]
    assert sent[0] == {"startDate": "2026-01-01", "endDate": "2026-01-31", "page": "1", "pageSize": "40"}
    assert [s["page"] for s in sent] == ["1", "2", "3", "4"]
    # five requests a minute: the fourth page needed no wait, a limiter grant per request was taken
    assert client.requests == 4 and server.rate_limited == 0


def test_a_page_that_repeats_the_previous_one_stops_the_pull(server: FakeAdminApi, clock: FakeClock) -> None:
    server.repeat_pages = True  # ignores `page`, like a broken proxy
    client = client_for(server, clock)
    with pytest.raises(UpstreamProtocolError, match="repeats page 1"):
        list(client.pages(COMMITS, JAN, page_size=40))
    assert len(server.calls_to(COMMITS_PATH)) == 2


def test_a_short_page_before_total_count_stops_instead_of_truncating(
    server: FakeAdminApi, clock: FakeClock
) -> None:
    server.short_pages = True
    client = client_for(server, clock)
    with pytest.raises(UpstreamProtocolError, match="short"):
        list(client.pages(COMMITS, JAN, page_size=40))


def test_429_is_retried_after_retry_after(server: FakeAdminApi, clock: FakeClock) -> None:
    server.rpm = 2
    client = client_for(server, clock)  # no limiter: this client runs into Cursor's limit
    pages = list(client.pages(COMMITS, JAN, page_size=40))
    assert sum(len(p.items) for p in pages) == 150
    assert server.rate_limited > 0
    rejected = server.calls_to(COMMITS_PATH, status=429)
    # every wait after a 429 is at least what Retry-After said
    assert len(clock.slept) == len(rejected)
    assert all(s >= 1 for s in clock.slept)
    assert server.max_in_any_period(COMMITS_PATH) == 2


def test_5xx_is_retried_then_reported(server: FakeAdminApi, clock: FakeClock) -> None:
    failures = {"left": 2}

    def flaky(
        fake: FakeAdminApi, path: str, params: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes] | None:
        if failures["left"]:
            failures["left"] -= 1
            return 503, {"Retry-After": "7"}, b"{}"
        return None

    server.hook = flaky
    client = client_for(server, clock)
    page = client.page(COMMITS, JAN, 1, page_size=10)
    assert len(page.items) == 10 and client.requests == 3
    assert clock.slept[0] >= 7 and clock.slept[1] >= 7

    server.hook = lambda fake, path, params: (500, {}, b"boom")
    client = client_for(server, clock)
    with pytest.raises(UpstreamUnavailable, match="HTTP 500"):
        client.page(COMMITS, JAN, 1)
    assert client.requests == 6  # max_attempts


def test_a_wait_past_the_deadline_raises_out_of_time(server: FakeAdminApi, clock: FakeClock) -> None:
    server.hook = lambda fake, path, params: (429, {"Retry-After": "120"}, b"{}")
    client = client_for(server, clock)
    with pytest.raises(OutOfTime):
        client.page(COMMITS, JAN, 1, deadline=clock() + 60)
    assert client.requests == 1 and clock.slept == []


def test_401_and_403_are_reported_and_never_retried(server: FakeAdminApi, clock: FakeClock) -> None:
    client = client_for(server, clock, key="key_wrong")
    with pytest.raises(AdminApiUnauthorized, match="HTTP 401"):
        client.page(COMMITS, JAN, 1)
    assert client.requests == 1
    with pytest.raises(AdminApiUnauthorized, match="CURSOR_ADMIN_API_KEY"):
        client_for(server, clock, key="").page(COMMITS, JAN, 1)

    server.forbidden = True
    client = client_for(server, clock)
    with pytest.raises(AdminApiForbidden, match="Enterprise") as caught:
        client.page(COMMITS, JAN, 1)
    assert caught.value.status == 403 and caught.value.code == "admin_api_forbidden"
    assert client.requests == 1


def test_a_refused_range_is_a_bad_request(server: FakeAdminApi, clock: FakeClock) -> None:
    client = client_for(server, clock)
    with pytest.raises(UpstreamBadRequest, match="exceeds 30 days"):
        client.page(COMMITS, Window(date(2026, 1, 1), date(2026, 3, 1)), 1)


def test_csv_is_streamed_in_chunks(server: FakeAdminApi, clock: FakeClock) -> None:
    client = client_for(server, clock)
    with client.open_csv(CHANGES, Window(date(2026, 1, 1), date(2026, 1, 31)), chunk_size=1024) as chunks:
        received = list(chunks)
    assert len(received) > 3  # arrived piece by piece, never as one body
    text = b"".join(received).decode()
    lines = text.split("\r\n")
    assert lines[0] == (
        "change_id,user_id,user_email,source,model,total_lines_added,total_lines_deleted,created_at,metadata_json"
    )
    assert text.count("chg_") == 60
    assert server.calls_to("/analytics/ai-code/changes.csv")[0].params == {
        "startDate": "2026-01-01",
        "endDate": "2026-01-31",
    }


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert _retry_after(httpx.Response(429, headers={"retry-after": "12"}), 0) == 12
    now = datetime(2026, 1, 1, tzinfo=UTC)
    when = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert _retry_after(httpx.Response(429, headers={"retry-after": when}), now.timestamp()) == 30
    assert _retry_after(httpx.Response(429, headers={"retry-after": "soon"}), 0) is None
    assert _retry_after(httpx.Response(429), 0) is None
