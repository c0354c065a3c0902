"""The last canary result per protocol profile (DynamoDB item per profile)."""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol

from cursor_gateway.storage import aws


class CanaryStore(Protocol):
    def save(self, profile: str, result: dict[str, Any]) -> None: ...

    def latest(self) -> dict[str, dict[str, Any]]:
        """profile -> last result."""
        ...


class InMemoryCanaryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._results: dict[str, dict[str, Any]] = {}

    def save(self, profile: str, result: dict[str, Any]) -> None:
        with self._lock:
            self._results[profile] = json.loads(json.dumps(result))

    def latest(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            copy: dict[str, dict[str, Any]] = json.loads(json.dumps(self._results))
            return copy


class DynamoCanaryStore:
    def __init__(self, table: str, *, client: Any = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.client("dynamodb")
        return self._client

    def save(self, profile: str, result: dict[str, Any]) -> None:
        # Stored as one JSON string: the shape evolves with the canary and is only ever read whole.
        item = {"profile": {"S": profile}, "result": {"S": json.dumps(result, sort_keys=True)}}
        self.client.put_item(TableName=self.table, Item=item)

    def latest(self) -> dict[str, dict[str, Any]]:
        results: dict[str, dict[str, Any]] = {}
        kwargs: dict[str, Any] = {"TableName": self.table}
        while True:
            page = self.client.scan(**kwargs)
            for item in page.get("Items", []):
                results[item["profile"]["S"]] = json.loads(item["result"]["S"])
            if "LastEvaluatedKey" not in page:
                return results
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
