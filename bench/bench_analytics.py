"""Analytics puller benchmark: rows per second of `AnalyticsService.pull` against the fake Admin API.

    .venv/bin/python bench/bench_analytics.py [--commits 20000] [--changes 20000] [--days 60]

The fake Admin API (tests/fakes/admin_api.py) serves generated rows over real HTTP with 1000-row pages;
its rate limit is lifted (and CURSOR_ADMIN_API_RPM raised to match) so that what is measured is the
puller itself: HTTP + JSON, the content-hash diff against DynamoDB, raw rows to S3, the batch writes,
the checkpoint after every page and the daily CSV exports, on the local stack's moto server (the same
embedded moto `make run` uses, so AWS latency is not in the figure). A second pull of the same range
measures the idempotent path (every row unchanged). Against Cursor the bound is the rate limit:
5 pages a minute per endpoint, 1000 rows a page, so about 83 rows/s per dataset at best.
This is a measurement script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers/common/python"))
sys.path.insert(0, str(ROOT / "tests"))

import boto3  # noqa: E402
from cursor_gateway.domain.analytics import DATASETS  # noqa: E402
from cursor_gateway.domain.analytics_time import plan_windows  # noqa: E402
from cursor_gateway.local.moto_server import EmbeddedMoto  # noqa: E402
from cursor_gateway.local.template import load_template, local_resources  # noqa: E402
from cursor_gateway.services.analytics import AnalyticsService  # noqa: E402
from cursor_gateway.settings import Settings  # noqa: E402
from cursor_gateway.storage.analytics_limiter import DynamoRateLimiter  # noqa: E402
from cursor_gateway.storage.analytics_objects import AnalyticsObjects  # noqa: E402
from cursor_gateway.storage.analytics_rows import AnalyticsRowStore  # noqa: E402
from cursor_gateway.storage.analytics_state import AnalyticsStateStore  # noqa: E402
from cursor_gateway.upstream.admin_api import AdminApiClient  # noqa: E402
from fakes.admin_api import FakeAdminApi, generate  # noqa: E402

KEY = "key_bench"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=20000)
    parser.add_argument("--changes", type=int, default=20000)
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()

    now = datetime.now(UTC)
    start = (now - timedelta(days=args.days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    commits, changes = generate(
        start=start,
        days=args.days,
        commits_per_day=max(1, args.commits // args.days),
        changes_per_day=max(1, args.changes // args.days),
    )
    limit = now.timestamp()
    commits = [
        c
        for c in commits
        if datetime.fromisoformat(c["createdAt"].replace("Z", "+00:00")).timestamp() <= limit
    ]
    changes = [
        c
        for c in changes
        if datetime.fromisoformat(c["createdAt"].replace("Z", "+00:00")).timestamp() <= limit
    ]

    moto = EmbeddedMoto("127.0.0.1", 0)
    endpoint = moto.start()
    fake = FakeAdminApi(key=KEY, commits=commits, changes=changes, rpm=1_000_000)
    fake.start()
    try:
        client_only(fake, start.date(), now.date() + timedelta(days=1))
        service = build(endpoint, fake, start.date().isoformat())
        for label in ("first pull (all rows new)", "second pull (all rows unchanged)"):
            began = time.perf_counter()
            run = service.pull(since=start.date().isoformat() if "second" in label else None)
            elapsed = time.perf_counter() - began
            rows = sum(r["rows_seen"] for r in run["streams"].values())
            print(f"{label}: {run['state']}")
            for name, result in run["streams"].items():
                print(
                    f"  {name:8} rows {result['rows_seen']:6}  new {result['inserted']:6}  unchanged "
                    f"{result['unchanged']:6}  pages {result['pages']:3}  requests {result['requests']:3}  "
                    f"csv days {result['exported_days']:3}"
                )
            print(
                f"  {rows} rows in {elapsed:.2f} s = {rows / elapsed:,.0f} rows/s (both datasets in parallel)"
            )
        print("against Cursor: 5 requests/min/endpoint x 1000 rows = ~83 rows/s per dataset at most")
    finally:
        fake.stop()
        moto.stop()
    return 0


def client_only(fake: FakeAdminApi, first: date, end: date) -> None:
    """The upstream half alone: HTTP, JSON, page checks (no storage)."""
    client = AdminApiClient(fake.url, KEY)
    began = time.perf_counter()
    rows = 0
    for ds in DATASETS.values():
        for window in plan_windows(first, end):
            rows += sum(len(page.items) for page in client.pages(ds, window))
    elapsed = time.perf_counter() - began
    client.close()
    print(
        f"client alone (HTTP + JSON + page checks): {rows} rows in {elapsed:.2f} s "
        f"= {rows / elapsed:,.0f} rows/s"
    )


def build(endpoint: str, fake: FakeAdminApi, backfill: str) -> AnalyticsService:
    session = boto3.session.Session(
        aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1"
    )
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    s3 = session.client("s3", endpoint_url=endpoint)
    tables, buckets = local_resources(load_template(ROOT / "template.yaml"), region="us-east-1")
    suffix = uuid.uuid4().hex[:6]
    names: dict[str, str] = {}
    for spec in tables:
        if spec.logical_id.startswith("Analytics"):
            names[spec.logical_id] = f"{spec.name}-{suffix}"
            dynamodb.create_table(TableName=names[spec.logical_id], **spec.create_args)
    bucket = f"{next(b.name for b in buckets if b.logical_id == 'AnalyticsBucket')}-{suffix}"
    s3.create_bucket(Bucket=bucket)
    settings = Settings(
        cursor_admin_api_url=fake.url,
        cursor_admin_api_key=KEY,
        cursor_admin_api_rpm=1_000_000,
        analytics_backfill_start=backfill,
        analytics_state_table=names["AnalyticsStateTable"],
        analytics_bucket=bucket,
    )
    limiter = DynamoRateLimiter(names["AnalyticsStateTable"], settings.cursor_admin_api_rpm, client=dynamodb)
    return AnalyticsService(
        settings,
        client_factory=lambda: AdminApiClient(fake.url, KEY, limiter=limiter),
        state=AnalyticsStateStore(names["AnalyticsStateTable"], client=dynamodb),
        rows={
            name: AnalyticsRowStore(
                names["AnalyticsCommitsTable" if name == "commits" else "AnalyticsChangesTable"],
                ds,
                client=dynamodb,
            )
            for name, ds in DATASETS.items()
        },
        objects=AnalyticsObjects(bucket, client=s3),
    )


if __name__ == "__main__":
    sys.exit(main())
