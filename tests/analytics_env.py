"""Helpers for the analytics tests (fixtures in tests/analytics/conftest.py): fresh tables and a bucket
per test created from template.yaml on the local stack's moto server, a fake clock shared by the client,
the shared rate limiter and the fake Admin API, and the service wired to all of them."""

from __future__ import annotations

import random
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from cursor_gateway.domain.analytics import DATASETS
from cursor_gateway.local.template import load_template, local_resources
from cursor_gateway.services.analytics import AnalyticsService
from cursor_gateway.settings import Settings
from cursor_gateway.storage.analytics_limiter import DynamoRateLimiter
from cursor_gateway.storage.analytics_objects import AnalyticsObjects
from cursor_gateway.storage.analytics_rows import AnalyticsRowStore
from cursor_gateway.storage.analytics_state import AnalyticsStateStore
from cursor_gateway.upstream.admin_api import AdminApiClient
from fakes.admin_api import FakeAdminApi

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
KEY = "key_test_admin"
# The fake's "now": 2026-03-16 12:00 UTC. The usual data covers 2026-02-20 .. now, pulled in 10-day
# windows (three of them) of 20-row pages; the full backfill test uses Cursor's 30-day windows over 75 days.
NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC).timestamp()
DATA_START = datetime(2026, 2, 20, tzinfo=UTC)
DATA_DAYS = 25


class FakeClock:
    """Time for the client, the limiter, the service and the fake server: `sleep` advances it at once."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


@dataclass
class Aws:
    dynamodb: Any
    s3: Any
    names: dict[str, str]


def create_analytics_resources(endpoint: str) -> Aws:
    """The template's analytics tables and bucket, under names unique to this test."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    s3 = session.client("s3", endpoint_url=endpoint)
    tables, buckets = local_resources(load_template(ROOT / "template.yaml"), region=REGION)
    suffix = uuid.uuid4().hex[:8]
    names: dict[str, str] = {}
    for spec in tables:
        if spec.logical_id.startswith("Analytics"):
            name = f"{spec.name}-{suffix}"
            dynamodb.create_table(TableName=name, **spec.create_args)
            names[spec.logical_id] = name
    bucket = next(b for b in buckets if b.logical_id == "AnalyticsBucket")
    names["AnalyticsBucket"] = f"{bucket.name}-{suffix}"
    s3.create_bucket(Bucket=names["AnalyticsBucket"])
    return Aws(dynamodb, s3, names)


def settings_for(aws: Aws, fake: FakeAdminApi, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "auth_token": "admin-token",
        "shared_token": "shared-token",
        "cursor_admin_api_url": fake.url,
        "cursor_admin_api_key": KEY,
        "cursor_admin_api_rpm": fake.rpm,
        "analytics_backfill_start": DATA_START.date().isoformat(),
        "analytics_page_size": 20,
        "analytics_window_days": 10,
        "analytics_commits_table": aws.names["AnalyticsCommitsTable"],
        "analytics_changes_table": aws.names["AnalyticsChangesTable"],
        "analytics_state_table": aws.names["AnalyticsStateTable"],
        "analytics_bucket": aws.names["AnalyticsBucket"],
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Env:
    settings: Settings
    service: AnalyticsService
    fake: FakeAdminApi
    clock: FakeClock
    aws: Aws
    limiter: DynamoRateLimiter

    def rows(self, dataset: str) -> AnalyticsRowStore:
        return self.service.rows[dataset]

    def count(self, dataset: str) -> int:
        table = self.aws.names["AnalyticsCommitsTable" if dataset == "commits" else "AnalyticsChangesTable"]
        pages = self.aws.dynamodb.get_paginator("scan").paginate(TableName=table, Select="COUNT")
        return sum(p["Count"] for p in pages)


def build_service(
    aws: Aws, fake: FakeAdminApi, clock: FakeClock, *, parallel: bool = False, **overrides: Any
) -> Env:
    settings = settings_for(aws, fake, **overrides)
    limiter = DynamoRateLimiter(
        settings.analytics_state_table,
        settings.cursor_admin_api_rpm,
        period=fake.period,
        margin=0.0,
        client=aws.dynamodb,
        clock=clock,
        sleep=clock.sleep,
    )

    def client_factory() -> AdminApiClient:
        return AdminApiClient(
            settings.cursor_admin_api_url,
            settings.cursor_admin_api_key,
            limiter=limiter,
            clock=clock,
            sleep=clock.sleep,
            rng=random.Random(1),
            timeout=10.0,
        )

    service = AnalyticsService(
        settings,
        client_factory=client_factory,
        state=AnalyticsStateStore(settings.analytics_state_table, client=aws.dynamodb, clock=clock),
        rows={
            name: AnalyticsRowStore(
                aws.names["AnalyticsCommitsTable" if name == "commits" else "AnalyticsChangesTable"],
                ds,
                client=aws.dynamodb,
            )
            for name, ds in DATASETS.items()
        },
        objects=AnalyticsObjects(settings.analytics_bucket, client=aws.s3),
        clock=clock,
        parallel=parallel,
    )
    return Env(settings, service, fake, clock, aws, limiter)


def before(rows: list[dict[str, Any]], moment: float) -> list[dict[str, Any]]:
    limit = datetime.fromtimestamp(moment, UTC)
    return [r for r in rows if datetime.fromisoformat(r["createdAt"].replace("Z", "+00:00")) <= limit]
