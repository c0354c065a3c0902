"""LogsFunction (functions/logs/app.py, Mangum) invoked like Lambda with the sample events of infra/events/,
against moto with every table and bucket of template.yaml: it reads what the recorder wrote into the
template's request-log and usage tables (the names the Lambda environment gives it), and /health's admin
view reports those stores."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from cursor_gateway.services.request_log import RequestRecorder
from cursor_gateway.settings import Settings
from cursor_gateway.storage.request_logs import DynamoRequestLogStore
from handler_kit import (
    Stack,
    apply_environment,
    invoke,
    lambda_environment,
    load_function,
    moto_stack,
    sample_event,
)
from log_recording import Spec, record
from logs_env import Clock, settle


@pytest.fixture
def stack() -> Iterator[Stack]:
    with moto_stack() as running, pytest.MonkeyPatch.context() as patch:
        apply_environment(patch, lambda_environment(running))
        yield running


def test_the_logs_function_reads_what_chat_recorded(stack: Stack) -> None:
    settings = Settings.from_env()  # the Lambda environment: table and bucket names from the template
    store = DynamoRequestLogStore(
        stack.tables["RequestLogsTable"],
        stack.tables["UsageStatsTable"],
        settings.log_bodies_bucket,
        shards=settings.log_shards,
        dynamodb=stack.client("dynamodb"),
        s3=stack.client("s3"),
    )
    clock = Clock(0)
    recorder = RequestRecorder(store, settings, clock=clock)
    minute_ago = datetime.fromtimestamp(time.time() - 60, UTC).isoformat()
    log_id = record(recorder, clock, Spec(minute_ago, text="over lambda"))
    settle(recorder)

    logs = load_function("logs")
    status, headers, body = invoke(logs, sample_event("logs-get.json"))
    assert status == 200 and headers["content-type"] == "application/json"
    assert [e["id"] for e in body["logs"]] == [log_id] and body["total"] == 1
    status, _, summary = invoke(logs, sample_event("stats-summary.json"))
    assert (
        status == 200
        and summary["total_requests"] == 1
        and summary["window"]["to"][-6:] in ("+01:00", "+02:00")
    )
    status, _, _ = invoke(logs, sample_event("logs-get.json", auth=None))
    assert status == 401

    status, _, health = invoke(load_function("health"), sample_event("health.json"))
    assert status == 200 and health["storage"]["dynamodb"] == "ok" and health["storage"]["s3"] == "ok"
    assert health["requests"]["errors_today"] == 0
