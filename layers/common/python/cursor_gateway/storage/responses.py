"""Stored `/v1/responses` answers, so a follow-up can name `previous_response_id` (DynamoDB, one item
per response, partition key `id`, TTL on `expires_at`).

An item holds the response object (for `GET /v1/responses/{id}`) and the conversation items up to and
including its output (for continuing it), as zlib-compressed JSON in base64 text: images travel as data
URLs and a DynamoDB item is capped at 400 KB, so a body that still does not fit is not stored (`put` says
so).
DynamoDB deletes expired items lazily (up to days late), so readers compare `expires_at` themselves.
"""

from __future__ import annotations

import base64
import json
import threading
import zlib
from dataclasses import dataclass
from typing import Any, Protocol

from cursor_gateway.storage import aws

# DynamoDB's item limit is 400 KB including attribute names and the other attributes.
MAX_BODY_BYTES = 380_000


@dataclass(frozen=True, slots=True)
class StoredResponse:
    id: str
    owner: str  # the caller's key fingerprint: another key cannot read, continue or delete it
    expires_at: int  # epoch seconds
    response: dict[str, Any]
    items: list[dict[str, Any]]


class ResponseStore(Protocol):
    def put(self, record: StoredResponse) -> bool:
        """False when the record is too large to store."""
        ...

    def get(self, response_id: str) -> StoredResponse | None: ...

    def delete(self, response_id: str) -> bool:
        """True when something was deleted."""
        ...


def encode_body(record: StoredResponse) -> str:
    """zlib-compressed JSON as base64 text: a string attribute, which every store (and the local stack's
    JSON-based state) keeps as is, where a binary one would need its own encoding everywhere."""
    text = json.dumps({"response": record.response, "items": record.items}, separators=(",", ":"))
    return base64.b64encode(zlib.compress(text.encode(), 6)).decode()


def decode_body(data: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    body = json.loads(zlib.decompress(base64.b64decode(data)))
    return body["response"], body["items"]


class InMemoryResponseStore:
    """The same encoding and size limit as DynamoDB, without the network (unit and e2e tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[str, int, str]] = {}

    def put(self, record: StoredResponse) -> bool:
        body = encode_body(record)
        if len(body) > MAX_BODY_BYTES:
            return False
        with self._lock:
            self._items[record.id] = (record.owner, record.expires_at, body)
        return True

    def get(self, response_id: str) -> StoredResponse | None:
        with self._lock:
            found = self._items.get(response_id)
        if found is None:
            return None
        owner, expires_at, body = found
        response, items = decode_body(body)
        return StoredResponse(response_id, owner, expires_at, response, items)

    def delete(self, response_id: str) -> bool:
        with self._lock:
            return self._items.pop(response_id, None) is not None


class DynamoResponseStore:
    def __init__(self, table: str, *, client: Any = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.client("dynamodb")
        return self._client

    def put(self, record: StoredResponse) -> bool:
        body = encode_body(record)
        if len(body) > MAX_BODY_BYTES:
            return False
        item = {
            "id": {"S": record.id},
            "owner": {"S": record.owner},
            "expires_at": {"N": str(record.expires_at)},
            "body": {"S": body},
        }
        self.client.put_item(TableName=self.table, Item=item)
        return True

    def get(self, response_id: str) -> StoredResponse | None:
        found = self.client.get_item(
            TableName=self.table, Key={"id": {"S": response_id}}, ConsistentRead=True
        )
        item = found.get("Item")
        if item is None:
            return None
        response, items = decode_body(item["body"]["S"])
        return StoredResponse(response_id, item["owner"]["S"], int(item["expires_at"]["N"]), response, items)

    def delete(self, response_id: str) -> bool:
        result = self.client.delete_item(
            TableName=self.table, Key={"id": {"S": response_id}}, ReturnValues="ALL_OLD"
        )
        return "Attributes" in result
