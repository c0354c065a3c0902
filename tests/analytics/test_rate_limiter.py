"""The rate limiter shared through DynamoDB: at most `rpm` grants in any period, per key, however many
processes take grants at once (the local stack's moto server, which applies conditional writes
atomically like DynamoDB; in-process moto does not)."""

from __future__ import annotations

import threading

import boto3
from analytics_env import REGION, Aws, FakeClock
from cursor_gateway.domain.analytics_time import OutOfTime
from cursor_gateway.storage.analytics_limiter import DynamoRateLimiter


def test_sequential_grants_wait_for_the_window_to_slide(aws: Aws, clock: FakeClock) -> None:
    table = aws.names["AnalyticsStateTable"]
    limiter = DynamoRateLimiter(
        table, 2, period=60, margin=0, client=aws.dynamodb, clock=clock, sleep=clock.sleep
    )
    start = clock()
    for _ in range(5):
        limiter.acquire("commits#team")
    assert clock.slept == [60.0, 60.0]
    assert clock() - start == 120.0
    limiter.acquire("changes#team")  # another endpoint has its own budget
    assert clock.slept == [60.0, 60.0]
    assert limiter.grants("commits#team") == [start + 120.0]


def test_margin_widens_the_period(aws: Aws, clock: FakeClock) -> None:
    limiter = DynamoRateLimiter(
        aws.names["AnalyticsStateTable"],
        1,
        period=60,
        margin=1.5,
        client=aws.dynamodb,
        clock=clock,
        sleep=clock.sleep,
    )
    limiter.acquire("k")
    limiter.acquire("k")
    assert clock.slept == [61.5]


def test_a_wait_past_the_deadline_is_out_of_time(aws: Aws, clock: FakeClock) -> None:
    limiter = DynamoRateLimiter(
        aws.names["AnalyticsStateTable"],
        1,
        period=60,
        margin=0,
        client=aws.dynamodb,
        clock=clock,
        sleep=clock.sleep,
    )
    limiter.acquire("k", deadline=clock() + 10)
    try:
        limiter.acquire("k", deadline=clock() + 10)
    except OutOfTime:
        pass
    else:
        raise AssertionError("expected OutOfTime")
    assert clock.slept == []


def test_concurrent_takers_never_exceed_the_rate(aws: Aws, moto_endpoint: str) -> None:
    """Four "instances" (own client each, real clock) take three grants each at 2 per 0.3 s."""
    table = aws.names["AnalyticsStateTable"]
    granted: list[float] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def record(key: str, at: float) -> None:
        with lock:
            granted.append(at)

    limiters = [
        DynamoRateLimiter(
            table,
            2,
            period=0.3,
            margin=0.0,
            client=boto3.session.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
            ).client("dynamodb", endpoint_url=moto_endpoint),
            on_grant=record,
        )
        for _ in range(4)
    ]

    start = threading.Barrier(len(limiters))

    def take(limiter: DynamoRateLimiter) -> None:
        try:
            start.wait(30)  # all four reach for the first grant together
            for _ in range(3):
                limiter.acquire("commits#team")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(granted) == 12
    granted.sort()
    # any three consecutive grants span at least the period: never 3 in 0.3 s
    assert all(granted[i + 2] - granted[i] >= 0.3 for i in range(len(granted) - 2))
    assert sum(limiter.conflicts for limiter in limiters) > 0  # they really raced for the same item
    assert len(limiters[0].grants("commits#team")) <= 2
