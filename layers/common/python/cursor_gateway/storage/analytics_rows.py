"""The analytics rows in DynamoDB: one table per dataset (declared in template.yaml, "analytics (issue 7)"),
partition key = Cursor's key (`commitHash` / `changeId`).

Each item keeps the upstream object verbatim (`raw`, JSON) plus what it is found by: `day` + `sk`
(createdAt#key) in the `by-day` index (query routes, exports), `user_id`, `user_email` (lower case) and
`content_hash`. `changed()` compares content hashes first, so writing the same page twice changes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from cursor_gateway.domain.analytics import Dataset, Row, UserFilter
from cursor_gateway.storage.analytics_aws import DynamoTable, aws_call, dynamo_number
from cursor_gateway.storage.tokens import StorageUnavailable

BY_DAY_INDEX = "by-day"


class AnalyticsRowStore(DynamoTable):
    """One dataset's rows (`commits` or `changes`)."""

    def __init__(self, table: str, ds: Dataset, *, client: Any = None) -> None:
        super().__init__(table, client)
        self.ds = ds

    def changed(self, rows: Sequence[Row]) -> tuple[list[Row], set[str]]:
        """The rows whose content differs from what is stored, and which of their keys are new."""
        unique = {row.key: row for row in rows}  # a page may repeat a key; the last one wins
        stored: dict[str, str] = {}
        keys = list(unique)
        for start in range(0, len(keys), 100):
            pending: dict[str, Any] = {
                self.table: {
                    "Keys": [{self.ds.key: {"S": k}} for k in keys[start : start + 100]],
                    "ProjectionExpression": "#k, content_hash",
                    "ExpressionAttributeNames": {"#k": self.ds.key},
                    "ConsistentRead": True,
                }
            }
            attempt = 0
            while pending:
                answer = aws_call(self.client, "batch_get_item", RequestItems=pending)
                for item in answer.get("Responses", {}).get(self.table, []):
                    stored[item[self.ds.key]["S"]] = item.get("content_hash", {}).get("S", "")
                pending = answer.get("UnprocessedKeys") or {}
                attempt = _backoff_unprocessed(pending, attempt)
        changed = [row for row in unique.values() if stored.get(row.key) != row.digest]
        return changed, {row.key for row in changed if row.key not in stored}

    def write(self, rows: Sequence[Row], *, run_id: str, now: float) -> None:
        requests = [{"PutRequest": {"Item": self._item(row, run_id, now)}} for row in rows]
        for start in range(0, len(requests), 25):
            pending: dict[str, Any] = {self.table: requests[start : start + 25]}
            attempt = 0
            while pending:
                answer = aws_call(self.client, "batch_write_item", RequestItems=pending)
                pending = answer.get("UnprocessedItems") or {}
                attempt = _backoff_unprocessed(pending, attempt)

    def _item(self, row: Row, run_id: str, now: float) -> dict[str, Any]:
        return {
            self.ds.key: {"S": row.key},
            "day": {"S": row.day},
            "sk": {"S": row.sort_key},
            "created_at": {"S": row.created_at},
            "user_id": {"S": row.user_id},
            "user_email": {"S": row.user_email},
            "raw": {"S": _raw_for_dynamodb(row.item)},
            "content_hash": {"S": row.digest},
            "run_id": {"S": run_id},
            "pulled_at": {"N": str(dynamo_number(now))},
        }

    def get(self, key: str) -> dict[str, Any] | None:
        answer = aws_call(
            self.client, "get_item", TableName=self.table, Key={self.ds.key: {"S": key}}, ConsistentRead=True
        )
        item = answer.get("Item")
        return json.loads(item["raw"]["S"]) if item else None

    # -- by day --

    def _day_query(
        self, day: str, lower: str, upper: str, user: UserFilter | None, *, count: bool
    ) -> Iterator[dict[str, Any]]:
        names = {"#d": "day", "#s": "sk"}
        values: dict[str, Any] = {":d": {"S": day}, ":lo": {"S": lower}, ":hi": {"S": upper}}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": BY_DAY_INDEX,
            "KeyConditionExpression": "#d = :d AND #s BETWEEN :lo AND :hi",
        }
        if user is not None:
            names["#u"] = "user_email" if user.email else "user_id"
            values[":u"] = {"S": user.email or user.user_id}
            kwargs["FilterExpression"] = "#u = :u"
        kwargs["ExpressionAttributeNames"] = names
        kwargs["ExpressionAttributeValues"] = values
        if count:
            kwargs["Select"] = "COUNT"
        while True:
            answer = aws_call(self.client, "query", **kwargs)
            yield answer
            if "LastEvaluatedKey" not in answer:
                return
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def count_day(self, day: str, lower: str, upper: str, user: UserFilter | None = None) -> int:
        return sum(int(a.get("Count", 0)) for a in self._day_query(day, lower, upper, user, count=True))

    def day_items(
        self, day: str, lower: str, upper: str, user: UserFilter | None = None
    ) -> Iterator[dict[str, Any]]:
        """The upstream objects of one day between two sort keys, oldest first."""
        for answer in self._day_query(day, lower, upper, user, count=False):
            for item in answer.get("Items", []):
                yield json.loads(item["raw"]["S"])


MAX_RAW_BYTES = 350_000  # DynamoDB items stop at 400 KB


def _raw_for_dynamodb(item: Mapping[str, Any]) -> str:
    """The row as JSON. A row too large for a DynamoDB item (a huge commit message, a change touching
    thousands of files) is stored shortened and flagged `_truncated`: `message` cut, `metadata` capped,
    then any long text left out. The S3 raw rows always hold it whole."""

    def dump(value: Mapping[str, Any]) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    raw = dump(item)
    if len(raw.encode()) <= MAX_RAW_BYTES:
        return raw
    shrunk = dict(item, _truncated=True)
    if isinstance(shrunk.get("message"), str):
        shrunk["message"] = shrunk["message"][:10_000]
    if isinstance(shrunk.get("metadata"), list):
        shrunk["metadata"] = shrunk["metadata"][:500]
    raw = dump(shrunk)
    if len(raw.encode()) <= MAX_RAW_BYTES:
        return raw
    return dump({k: v for k, v in shrunk.items() if not isinstance(v, str | list) or len(v) <= 1000})


def _backoff_unprocessed(pending: Mapping[str, Any], attempt: int) -> int:
    """DynamoDB returns unprocessed items when throttled: wait a little longer each time, then give up."""
    if not pending:
        return 0
    if attempt >= 8:
        raise StorageUnavailable("DynamoDB kept returning unprocessed items (throttled)")
    time.sleep(min(2.0, 0.05 * 2**attempt))
    return attempt + 1
