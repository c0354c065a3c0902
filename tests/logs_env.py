"""Helpers for the request-log and usage-statistics tests (fixtures in tests/logs/conftest.py): the
template's request-log table, usage-stats table and bodies bucket on a moto server under names unique to
each test, a settable clock, and a way to wait for the recorder's background writes."""

from __future__ import annotations

import gzip
import json
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from cursor_gateway.local.template import load_template, local_resources
from cursor_gateway.storage.request_logs import DynamoRequestLogStore

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
LOGICAL_IDS = ("RequestLogsTable", "UsageStatsTable", "LogBodiesBucket")


@dataclass
class LogAws:
    dynamodb: Any
    s3: Any
    logs_table: str
    stats_table: str
    bucket: str

    def store(self, shards: int = 4) -> DynamoRequestLogStore:
        return DynamoRequestLogStore(
            self.logs_table, self.stats_table, self.bucket, shards=shards, dynamodb=self.dynamodb, s3=self.s3
        )

    def everything_stored(self) -> list[str]:
        """Every item of both tables and every body object, as text (for secret scans)."""
        found = []
        for table in (self.logs_table, self.stats_table):
            for item in self.dynamodb.scan(TableName=table)["Items"]:
                found.append(json.dumps(item))
        for obj in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", []):
            data = self.s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read()
            found.append(gzip.decompress(data).decode())
        return found


def create_log_resources(endpoint: str) -> LogAws:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    s3 = session.client("s3", endpoint_url=endpoint)
    tables, buckets = local_resources(load_template(ROOT / "template.yaml"), region=REGION)
    suffix = uuid.uuid4().hex[:8]
    names: dict[str, str] = {}
    for spec in tables:
        if spec.logical_id in LOGICAL_IDS:
            names[spec.logical_id] = f"{spec.name}-{suffix}"
            dynamodb.create_table(TableName=names[spec.logical_id], **spec.create_args)
    for bucket in buckets:
        if bucket.logical_id in LOGICAL_IDS:
            names[bucket.logical_id] = f"{bucket.name}-{suffix}"
            s3.create_bucket(Bucket=names[bucket.logical_id])
    return LogAws(dynamodb, s3, names["RequestLogsTable"], names["UsageStatsTable"], names["LogBodiesBucket"])


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def set(self, now: float) -> None:
        with self._lock:
            self.now = now


def settle(recorder: Any, timeout: float = 10.0, *, in_flight: int = 0) -> None:
    """Wait until every request (but `in_flight` left pending on purpose) finished and every background
    write ran."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = recorder.health()
        if health["in_flight"] == in_flight and health["log_write_backlog"] == 0:
            return
        time.sleep(0.01)
    raise AssertionError(f"request log writes did not settle: {recorder.health()}")
