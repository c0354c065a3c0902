"""Local stack storage benchmark: what a write, a query and a start cost as DATA_DIR grows.

    .venv/bin/python bench/bench_local_store.py [--sizes 0,10000,100000] [--writes 200] [--backfill 4300]

One process, the embedded moto `make run` uses, wrapped by `local.state` (SQLite in a temporary
DATA_DIR). Tables are filled straight into SQLite and moto (the fast path a restart uses), then the
writes are measured through boto3 over HTTP as the gateway makes them:

- PutItem (new items) and UpdateItem (existing items) p50/p99 at each size, on a table shaped like the
  analytics tables (hash key + a GSI). Baselines in the same run: the empty table (the target is p50 at
  the largest size within 1.5x of it, and under 5 ms) and the same table in moto without persistence.
- TransactWriteItems of 3 items at the largest size.
- Query on the GSI (one partition, Limit 50) at the largest size: moto walks the whole table for it.
- Start-up of `cursor-gateway serve` (what `make run` runs) on the DATA_DIR holding the largest table:
  process start to banner (target: under 10 s at 100,000 items).
- The analytics backfill of `bench_analytics.py`'s data set (`--backfill` rows over 60 days), with and
  without persistence: against Cursor the bound is 5 pages/min/endpoint (~83 rows/s per dataset).

This is a measurement script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers/common/python"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import boto3  # noqa: E402
import botocore.config  # noqa: E402
from cursor_gateway.local.moto_server import EmbeddedMoto  # noqa: E402
from cursor_gateway.local.state import LocalState  # noqa: E402
from cursor_gateway.local.state_store import item_key_id  # noqa: E402
from cursor_gateway.local.template import load_template, local_resources  # noqa: E402

REGION = "us-east-1"
TEMPLATE = ROOT / "template.yaml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,10000,100000")
    parser.add_argument("--writes", type=int, default=200, help="writes measured per figure")
    parser.add_argument("--backfill", type=int, default=4300, help="analytics rows (0: skip)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    data_dir = Path(tempfile.mkdtemp(prefix="cgw-bench-store-"))
    tables, buckets = local_resources(load_template(TEMPLATE), region=REGION)
    table = next(t for t in tables if t.logical_id == "AnalyticsCommitsTable")
    reference = f"{table.name}-empty"  # persisted, never filled: the baseline each write is compared with
    state = LocalState(
        data_dir,
        tables=[t.name for t in tables] + [reference],
        buckets=[b.name for b in buckets],
        ttl_attributes={t.name: t.ttl_attribute for t in tables},
        region=REGION,
    )
    moto = EmbeddedMoto("127.0.0.1", 0, wrap=state.wrap)
    endpoint = moto.start()
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    dynamodb: Any = session.client(
        "dynamodb", endpoint_url=endpoint, config=botocore.config.Config(max_pool_connections=16)
    )
    s3: Any = session.client("s3", endpoint_url=endpoint)
    state.dynamodb, state.s3 = dynamodb, s3
    for spec in tables:
        dynamodb.create_table(TableName=spec.name, **spec.create_args)
    for bucket in buckets:
        s3.create_bucket(Bucket=bucket.name)
    memory = f"{table.name}-in-memory"  # not in the state's tables: moto only, the no-persistence baseline
    dynamodb.create_table(TableName=memory, **table.create_args)
    dynamodb.create_table(TableName=reference, **table.create_args)
    state.restore()
    state.saving = True
    print(f"DATA_DIR {data_dir} (SQLite WAL, synchronous=NORMAL); {args.writes} writes per figure")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work slows every figure)")
    print("each write to the filled table alternates with one to an empty persisted table and one to the")
    print("same items in moto without persistence, so that the ratios compare like with like\n")

    try:
        filled = 0
        for size in sizes:
            began = time.perf_counter()
            fill(state, table.name, memory, filled, size)
            filled = size
            print(f"{size:>7,} items (filled in {time.perf_counter() - began:.1f} s)")
            figures = measure_writes(
                dynamodb, {"filled": table.name, "empty": reference, "moto": memory}, size, args.writes
            )
            for op in ("PutItem", "UpdateItem"):
                for target, label in (
                    ("filled", "persisted"),
                    ("empty", "persisted, empty table"),
                    ("moto", "moto only"),
                ):
                    p50, p99 = figures[op][target]
                    print(f"    {op:10} {label:24} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
                mine, empty, moto_only = (figures[op][t][0] for t in ("filled", "empty", "moto"))
                print(
                    f"    {op:10} p50 {mine / empty:.2f}x the empty table (target <= 1.5x), "
                    f"{mine / moto_only:.2f}x moto without persistence"
                )
        largest = sizes[-1]

        state.store.db.execute("PRAGMA synchronous=FULL")  # what LOCAL_STATE_FSYNC=true does
        full = timed(
            lambda i: dynamodb.put_item(TableName=table.name, Item=item(f"fsync-{i}", i)), args.writes
        )
        state.store.db.execute("PRAGMA synchronous=NORMAL")
        print(
            f"\nPutItem at {largest:,} with LOCAL_STATE_FSYNC=true: "
            f"p50 {full[0]:.2f} ms  p99 {full[1]:.2f} ms"
        )

        transact = timed(
            lambda i: dynamodb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table.name, "Item": item(f"tx-{i}-{part}", i)}} for part in range(3)
                ]
            ),
            50,
        )
        print(
            f"\nTransactWriteItems (3 puts) at {largest:,}: "
            f"p50 {transact[0]:.2f} ms  p99 {transact[1]:.2f} ms"
        )
        query = timed(
            lambda i: dynamodb.query(
                TableName=table.name,
                IndexName="by-day",
                KeyConditionExpression="#d = :d",
                ExpressionAttributeNames={"#d": "day"},
                ExpressionAttributeValues={":d": {"S": day(i)}},
                Limit=50,
            ),
            10,
        )
        get = timed(lambda i: dynamodb.get_item(TableName=table.name, Key={"commitHash": {"S": f"c{i}"}}), 50)
        print(
            f"Query on GSI by-day (Limit 50) at {largest:,}: p50 {query[0]:.1f} ms  p99 {query[1]:.1f} ms"
            f"   (GetItem by key: p50 {get[0]:.2f} ms; {query[0] / get[0]:,.0f}x)"
        )
        state.close()
        empty_dir = Path(tempfile.mkdtemp(prefix="cgw-bench-empty-"))
        baseline, _ = serve_until_banner(empty_dir)
        shutil.rmtree(empty_dir, ignore_errors=True)
        elapsed, restored = serve_until_banner(data_dir)
        print(f"\nstart-up of `cursor-gateway serve` to its banner: {elapsed:.1f} s with {largest:,}+ items")
        print(f"    (restored: {restored}); {baseline:.1f} s with an empty DATA_DIR, so loading the items")
        print(f"    took {elapsed - baseline:.1f} s. Target: under 10 s at 100,000 items.")
        if args.backfill:
            backfill(args.backfill)
    finally:
        moto.stop()
        state.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


def day(i: int) -> str:
    return f"2026-01-{i % 28 + 1:02d}"


def item(key: str, i: int) -> dict[str, Any]:
    """About the size of an analytics commit row."""
    return {
        "commitHash": {"S": key},
        "day": {"S": day(i)},
        "sk": {"S": f"2026-01-{i % 28 + 1:02d}T12:00:00Z#{key}"},
        "userEmail": {"S": f"user{i % 50}@example.com"},
        "repoName": {"S": "example/repo"},
        "branchName": {"S": "main"},
        "totalLinesAdded": {"N": str(i % 500)},
        "totalLinesDeleted": {"N": str(i % 70)},
        "message": {"S": "fix: something that needed fixing " * 3},
    }


def fill(state: LocalState, table: str, memory: str, start: int, end: int) -> None:
    """Rows straight into SQLite and moto, as a restart loads them (the measured writes go through HTTP)."""
    items = [item(f"c{i}", i) for i in range(start, end)]
    keys = state.moto.key_attributes(table)
    with state.store.transaction() as db:
        for it in items:
            state.store.put_item(db, table, item_key_id(it, keys), it, None)
    state.moto.load(table, items)
    state.moto.load(memory, items)


def measure_writes(
    dynamodb: Any, targets: dict[str, str], size: int, writes: int
) -> dict[str, dict[str, tuple[float, float]]]:
    """p50/p99 per operation and target; the targets take turns, write by write."""
    tag = uuid.uuid4().hex[:6]
    existing = max(size, 1)

    def put(name: str, i: int) -> None:
        dynamodb.put_item(TableName=name, Item=item(f"new-{tag}-{i}", i))

    def update(name: str, i: int) -> None:
        # Filled tables: an item from the fill; the empty one: an item the puts above made.
        key = f"c{i * 7919 % existing}" if size and name != targets["empty"] else f"new-{tag}-{i % writes}"
        dynamodb.update_item(
            TableName=name,
            Key={"commitHash": {"S": key}},
            UpdateExpression="SET totalLinesAdded = totalLinesAdded + :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    figures: dict[str, dict[str, tuple[float, float]]] = {}
    for op, call in (("PutItem", put), ("UpdateItem", update)):
        samples: dict[str, list[float]] = {target: [] for target in targets}
        for i in range(-1, writes):  # -1: warm-up, not counted
            for target, name in targets.items():
                began = time.perf_counter()
                call(name, i)
                if i >= 0:
                    samples[target].append((time.perf_counter() - began) * 1000)
        figures[op] = {target: percentiles(values) for target, values in samples.items()}
    return figures


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def timed(call: Callable[[int], Any], count: int) -> tuple[float, float]:
    call(-1)  # warm the connection
    samples = []
    for i in range(count):
        began = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - began) * 1000)
    return percentiles(samples)


def serve_until_banner(data_dir: Path) -> tuple[float, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "layers/common/python"),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("MOTO_PORT", None)
    command = [sys.executable, "-m", "cursor_gateway.cli", "serve", "--port", "0", "--moto-port", "0"]
    command += ["--data-dir", str(data_dir), "--template", str(TEMPLATE)]
    began = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    restored = ""
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "restored:" in line:
                restored = line.split("restored:", 1)[1].strip(" )\n")
            if line.strip().startswith("stop"):
                break
        elapsed = time.perf_counter() - began
    finally:
        process.terminate()
        process.wait(timeout=30)
    return elapsed, restored


def backfill(rows: int) -> None:
    import bench_analytics
    from cursor_gateway.local.moto_server import EmbeddedMoto as Moto
    from fakes.admin_api import FakeAdminApi, generate

    days = 60
    now = datetime.now(UTC)
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    commits, changes = generate(
        start=start,
        days=days,
        commits_per_day=max(1, rows // 2 // days),
        changes_per_day=max(1, rows // 2 // days),
    )
    limit = now.timestamp()

    def past(row: dict[str, Any]) -> bool:
        return datetime.fromisoformat(row["createdAt"].replace("Z", "+00:00")).timestamp() <= limit

    commits, changes = [c for c in commits if past(c)], [c for c in changes if past(c)]
    print(
        f"\nanalytics backfill, {len(commits) + len(changes):,} rows over {days} days (bench_analytics data):"
    )
    for label in ("in-memory moto", "persisted"):
        data_dir = Path(tempfile.mkdtemp(prefix="cgw-bench-backfill-"))
        state = LocalState(data_dir, tables=[], buckets=[], region=REGION)
        moto = Moto("127.0.0.1", 0, wrap=state.wrap if label == "persisted" else None)
        endpoint = moto.start()
        fake = FakeAdminApi(key=bench_analytics.KEY, commits=commits, changes=changes, rpm=1_000_000)
        fake.start()
        try:
            service = bench_analytics.build(endpoint, fake, start.date().isoformat())
            if label == "persisted":  # bench_analytics names its tables; persist them all
                session = boto3.session.Session(
                    aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
                )
                client = session.client("dynamodb", endpoint_url=endpoint)
                state.tables.extend(client.list_tables()["TableNames"])
                state.s3 = session.client("s3", endpoint_url=endpoint)
                state.buckets.extend(b["Name"] for b in state.s3.list_buckets()["Buckets"])
                state.restore()
                state.saving = True
            began = time.perf_counter()
            run = service.pull(since=None)
            elapsed = time.perf_counter() - began
            seen = sum(r["rows_seen"] for r in run["streams"].values())
            print(
                f"    {label:15} {run['state']}: {seen} rows in {elapsed:.1f} s "
                f"= {seen / elapsed:,.0f} rows/s"
            )
        finally:
            fake.stop()
            moto.stop()
            state.close()
            shutil.rmtree(data_dir, ignore_errors=True)
    print("    against Cursor: 5 requests/min/endpoint x 1000 rows = ~83 rows/s per dataset at most")


if __name__ == "__main__":
    sys.exit(main())
