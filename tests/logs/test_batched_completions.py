"""Completions written together (services/log_batches.py, storage/request_logs_batch.py), on moto:
each request still counted exactly once when a batch is retried whole or in part, batches over
DynamoDB's 100 actions split, and the recorder coalescing requests that end together."""

from __future__ import annotations

from typing import Any

import pytest
from cursor_gateway.domain.usage_stats import Completed, counter_updates
from cursor_gateway.services.request_log import RequestRecorder
from cursor_gateway.services.usage_stats import UsageStatsService
from cursor_gateway.settings import Settings
from cursor_gateway.storage.request_logs import DynamoRequestLogStore
from cursor_gateway.storage.request_logs_batch import MAX_ITEMS, Completion
from log_recording import Spec, at_ms, record
from logs_env import Clock, LogAws, settle

T0 = at_ms("2026-03-10T11:00:00+00:00")


class CountingDynamoDB:
    """The real client, with the size of every transaction it sends noted."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.exceptions = client.exceptions
        self.transactions: list[int] = []

    def transact_write_items(self, **kwargs: Any) -> Any:
        self.transactions.append(len(kwargs["TransactItems"]))
        return self.client.transact_write_items(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def store_of(log_aws: LogAws) -> tuple[DynamoRequestLogStore, CountingDynamoDB]:
    dynamodb = CountingDynamoDB(log_aws.dynamodb)
    store = DynamoRequestLogStore(
        log_aws.logs_table, log_aws.stats_table, log_aws.bucket, dynamodb=dynamodb, s3=log_aws.s3
    )
    return store, dynamodb


def completion(n: int, *, account: str = "alpha", model: str = "gpt-5.2", entry: bool = True) -> Completion:
    log_id = f"{T0:013d}-test-{n:04d}"
    done = Completed(
        ts_ms=T0 + n,
        success=True,
        api_key_id="admin",
        api_key_name="admin",
        account=account,
        account_email=f"{account}@example.com",
        model=model,
        upstream_model=model,
        input=10,
        output=n,
        cache_read=0,
        cache_write=0,
        total_ms=100,
        ttft_ms=5,
    )
    doc = {"id": log_id, "ts_ms": T0 + n, "status": "success", "api_key": {"id": "admin", "name": "admin"}}
    ttl = {"H": T0 // 1000 + 86400, "D": T0 // 1000 + 86400 * 30}
    item = (f"LOG#20260310#{n % 4}", f"{T0 + n:013d}#{log_id}", doc, T0 // 1000 + 86400) if entry else None
    return Completion(log_id, item, counter_updates(done), ttl)


def global_counts(store: DynamoRequestLogStore) -> dict[str, Any]:
    hours = [c for c in store.counters("G", "H#", "H#~")]
    assert len(hours) == 1
    return hours[0]


@pytest.mark.parametrize("entries", [True, False], ids=["with-entries", "entries-off"])
def test_a_batch_retried_in_part_or_whole_counts_each_request_once(log_aws: LogAws, entries: bool) -> None:
    store, _ = store_of(log_aws)
    first, second, third = (completion(n, entry=entries) for n in (1, 2, 3))
    assert store.complete_many([first]) == {first.log_id: True}
    # `first` is recorded already: it is dropped and the other two are written, in another transaction.
    assert store.complete_many([first, second, third]) == {
        first.log_id: False,
        second.log_id: True,
        third.log_id: True,
    }
    assert store.complete_many([first, second, third]) == dict.fromkeys(
        (first.log_id, second.log_id, third.log_id), False
    )
    assert store.complete(second.log_id, second.entry, second.counters, second.ttl) is False
    counts = global_counts(store)
    assert (counts["requests"], counts["input"], counts["output"]) == (3, 30, 1 + 2 + 3)
    stored = log_aws.dynamodb.scan(TableName=log_aws.logs_table)["Items"]
    assert len(stored) == (3 if entries else 0)


def test_a_batch_over_the_transaction_limit_is_split(log_aws: LogAws) -> None:
    store, dynamodb = store_of(log_aws)
    # Each request on its own account and model: about 7 counter items of its own per request.
    batch = [completion(n, account=f"acct{n}", model=f"model-{n}") for n in range(40)]
    assert store.complete_many(batch) == {c.log_id: True for c in batch}
    assert len(dynamodb.transactions) > 1 and max(dynamodb.transactions) <= MAX_ITEMS
    assert global_counts(store)["requests"] == 40
    assert len(log_aws.dynamodb.scan(TableName=log_aws.logs_table)["Items"]) == 40


def test_the_recorder_writes_requests_ending_together_in_one_transaction(log_aws: LogAws) -> None:
    store, dynamodb = store_of(log_aws)
    settings = Settings()
    clock = Clock(T0 / 1000)
    recorder = RequestRecorder(store, settings, clock=clock, coalesce=30.0)  # only flush() ends the wait
    for minute in range(5):
        record(recorder, clock, Spec(f"2026-03-10T11:0{minute}:00+00:00", usage=(7, 3)))
    recorder.flush()
    settle(recorder)
    assert len(dynamodb.transactions) == 1
    stats = UsageStatsService(store, settings, clock=clock)
    summary = stats.summary(stats.parse({}, "hour", "hours"), admin=True)
    assert summary["total_requests"] == 5 and summary["total_input_tokens"] == 35
    assert len(log_aws.s3.list_objects_v2(Bucket=log_aws.bucket).get("Contents", [])) == 5
    assert recorder.health()["log_write_failures"] == 0
