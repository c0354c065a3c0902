"""Request logs and usage counters on DynamoDB + S3 (logs-stats-pages.md E.7), and an in-memory twin.

Logs table (REQUEST_LOGS_TABLE, TTL `expires_at`): `pk = LOG#<yyyymmdd>#<shard>`, `sk = <ts_ms>#<id>`
(13-digit milliseconds, so `sk` sorts by time across every partition and shard); GSI `by-key`
(`kpk = KEY#<api key id>`, `sk`) for a key holder's listing, GSI `by-account` (`apk = ACCT#<alias>`,
`sk`) for the account filter. The entry itself is one JSON attribute `doc` (filters run on it while
paging); `status` is its own attribute because the completion is conditional on it. Bodies (prompt,
thinking, answer, delays) are one gzip JSON object per entry in LOG_BODIES_BUCKET, never in the item.

Stats table (USAGE_STATS_TABLE, TTL `expires_at`): counter items `pk = <scope>`, `sk = H#<yyyymmddhh>` or
`D#<yyyymmdd>` (domain.usage_stats), `META` items for the clear epochs, and `DONE#<id>` markers.

`complete` is the exactly-once step: ONE TransactWriteItems that flips the log item from pending to its
final state (condition: it is absent or still pending) and ADDs every counter; the client request token
is the log id, so a retried call within DynamoDB's idempotency window is a no-op, and later repeats fail
the condition. With request-log entries off, a `DONE#<id>` marker item carries the condition instead.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, cast

from cursor_gateway.domain.usage_stats import CounterUpdate
from cursor_gateway.errors import GatewayError
from cursor_gateway.storage import aws
from cursor_gateway.storage.request_logs_batch import Completion, Entry, complete_many

F = TypeVar("F", bound=Callable[..., Any])


class LogStoreUnavailable(GatewayError):
    status = 503
    code = "log_store_unavailable"


def _translated(method: F) -> F:
    """AWS errors become LogStoreUnavailable (a 503 on the read routes; counted by the recorder)."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return method(*args, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise LogStoreUnavailable(f"The request-log store is unavailable ({type(exc).__name__})") from exc

    return cast(F, wrapper)  # wraps() keeps the signature; mypy cannot see that through the decorator


BY_KEY = "by-key"
BY_ACCOUNT = "by-account"


def sort_key(ts_ms: int, log_id: str) -> str:
    return f"{ts_ms:013d}#{log_id}"


def shard_of(log_id: str, shards: int) -> int:
    return int(hashlib.blake2s(log_id.encode(), digest_size=2).hexdigest(), 16) % max(1, shards)


def base_partition(day: str, shard: int) -> str:
    return f"LOG#{day}#{shard}"


class RequestLogStore(Protocol):
    shards: int

    def put_pending(self, pk: str, sk: str, doc: dict[str, Any], expires_at: int) -> None: ...

    def complete(
        self,
        log_id: str,
        entry: tuple[str, str, dict[str, Any], int] | None,
        counters: Sequence[CounterUpdate],
        ttl: dict[str, int],
    ) -> bool:
        """Write the final entry (pk, sk, doc, expires_at), or only a marker when `entry` is None, and add
        `counters` with `ttl[granularity]` as their expiry, all or nothing. False: already completed."""
        ...

    def complete_many(self, completions: Sequence[Completion]) -> dict[str, bool]:
        """`complete` for several requests at once (fewer writes); log id -> written now."""
        ...

    def get(self, pk: str, sk: str) -> dict[str, Any] | None: ...

    def query(
        self, index: str, partition: str, lo: str, hi: str, *, descending: bool, limit: int
    ) -> list[dict[str, Any]]:
        """Docs with lo <= sk <= hi in one partition of the base table or an index, in sk order."""
        ...

    def count(self, index: str, partition: str, lo: str, hi: str, *, limit: int) -> int:
        """How many entries query() would return, up to `limit`, without reading them out."""
        ...

    def put_body(self, key: str, body: dict[str, Any]) -> None: ...

    def get_body(self, key: str) -> dict[str, Any] | None: ...

    def counters(self, pk: str, lo: str, hi: str) -> list[dict[str, Any]]:
        """Counter items of one scope with lo <= sk <= hi, as {attribute: int | str} (with `sk`)."""
        ...

    def get_meta(self, name: str) -> int: ...

    def set_meta(self, name: str, value: int) -> None: ...

    def ping(self) -> dict[str, str]: ...


def sk_day(sk: str) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(int(sk[:13]) / 1000, UTC).strftime("%Y%m%d")


def _client(service: str) -> Any:
    """Like storage.aws.client, without botocore's client-side parameter validation: every request here
    is built by this module, the service validates anyway, and the check cost ~1-4 ms of CPU per counter
    transaction, taken from the event loop of the process that serves the chat."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=5,
        read_timeout=10,
        parameter_validation=False,
    )
    return boto3.session.Session().client(service, region_name=aws.region(), config=config)


def _number(value: Any) -> dict[str, str]:
    return {"N": str(int(value))}


class DynamoRequestLogStore:
    def __init__(
        self,
        logs_table: str,
        stats_table: str,
        bucket: str,
        *,
        shards: int = 4,
        dynamodb: Any = None,
        s3: Any = None,
    ) -> None:
        self.logs_table = logs_table
        self.stats_table = stats_table
        self.bucket = bucket
        self.shards = shards
        self._dynamodb = dynamodb
        self._s3 = s3

    @property
    def dynamodb(self) -> Any:
        if self._dynamodb is None:
            self._dynamodb = _client("dynamodb")
        return self._dynamodb

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = _client("s3")
        return self._s3

    def item(self, pk: str, sk: str, doc: dict[str, Any], expires_at: int) -> dict[str, Any]:
        item = {
            "pk": {"S": pk},
            "sk": {"S": sk},
            "status": {"S": doc.get("status", "pending")},
            "doc": {"S": json.dumps(doc, separators=(",", ":"))},
            "expires_at": _number(expires_at),
            "kpk": {"S": "KEY#" + (doc.get("api_key") or {}).get("id", "")},
        }
        alias = (doc.get("account") or {}).get("alias")
        if alias:
            item["apk"] = {"S": "ACCT#" + alias}
        return item

    @_translated
    def put_pending(self, pk: str, sk: str, doc: dict[str, Any], expires_at: int) -> None:
        self.dynamodb.put_item(
            TableName=self.logs_table,
            Item=self.item(pk, sk, doc, expires_at),
            ConditionExpression="attribute_not_exists(sk)",
        )

    @_translated
    def complete(
        self,
        log_id: str,
        entry: tuple[str, str, dict[str, Any], int] | None,
        counters: Sequence[CounterUpdate],
        ttl: dict[str, int],
    ) -> bool:
        actions = [self.completion_action(log_id, entry, ttl)]
        for update in counters:
            actions.append({"Update": self.counter_update(update, ttl[update.granularity])})
        try:
            self.dynamodb.transact_write_items(TransactItems=actions, ClientRequestToken=log_id[:36])
        except self.dynamodb.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or []
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            raise
        return True

    def completion_action(self, log_id: str, entry: Entry | None, ttl: dict[str, int]) -> dict[str, Any]:
        """The conditional write that makes a completion happen once: the final entry over a pending one
        or none, or (entries off) a DONE# marker that must not exist yet."""
        if entry is None:
            marker = {"pk": {"S": "DONE#" + log_id}, "sk": {"S": "-"}, "expires_at": _number(ttl["H"])}
            return {
                "Put": {
                    "TableName": self.stats_table,
                    "Item": marker,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        pk, sk, doc, expires_at = entry
        # A Put, not an Update: the final doc replaces the pending one whole (and also lands when the
        # pending write was lost), but only over a pending entry or none.
        return {
            "Put": {
                "TableName": self.logs_table,
                "Item": self.item(pk, sk, doc, expires_at),
                "ConditionExpression": "attribute_not_exists(sk) OR #s = :pending",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":pending": {"S": "pending"}},
            }
        }

    @_translated
    def complete_many(self, completions: Sequence[Completion]) -> dict[str, bool]:
        return complete_many(self, completions)

    def counter_update(self, update: CounterUpdate, expires_at: int) -> dict[str, Any]:
        names: dict[str, str] = {"#ttl": "expires_at"}
        values: dict[str, Any] = {":ttl": _number(expires_at)}
        adds, sets = [], ["#ttl = :ttl"]
        for i, (name, value) in enumerate(update.add.items()):
            names[f"#a{i}"] = name
            values[f":a{i}"] = _number(value)
            adds.append(f"#a{i} :a{i}")
        for i, (name, text) in enumerate(update.set.items()):
            names[f"#s{i}"] = name
            values[f":s{i}"] = {"S": text}
            sets.append(f"#s{i} = :s{i}")
        expression = "SET " + ", ".join(sets) + (" ADD " + ", ".join(adds) if adds else "")
        return {
            "TableName": self.stats_table,
            "Key": {"pk": {"S": update.pk}, "sk": {"S": update.sk}},
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    @_translated
    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self.dynamodb.get_item(
            TableName=self.logs_table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ProjectionExpression="doc"
        ).get("Item")
        return json.loads(item["doc"]["S"]) if item else None

    def _key_condition(self, index: str, partition: str, lo: str, hi: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "TableName": self.logs_table,
            "KeyConditionExpression": "#p = :p AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeNames": {"#p": {BY_KEY: "kpk", BY_ACCOUNT: "apk"}.get(index, "pk")},
            "ExpressionAttributeValues": {":p": {"S": partition}, ":lo": {"S": lo}, ":hi": {"S": hi}},
        }
        if index in (BY_KEY, BY_ACCOUNT):
            kwargs["IndexName"] = index
        return kwargs

    @_translated
    def query(
        self, index: str, partition: str, lo: str, hi: str, *, descending: bool, limit: int
    ) -> list[dict[str, Any]]:
        kwargs = self._key_condition(index, partition, lo, hi)
        kwargs.update(ScanIndexForward=not descending, Limit=limit)
        if "IndexName" not in kwargs:
            kwargs["ProjectionExpression"] = "doc"
        docs: list[dict[str, Any]] = []
        while len(docs) < limit:
            page = self.dynamodb.query(**kwargs)
            docs.extend(json.loads(item["doc"]["S"]) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            kwargs["Limit"] = limit - len(docs)
        return docs[:limit]

    @_translated
    def count(self, index: str, partition: str, lo: str, hi: str, *, limit: int) -> int:
        kwargs = self._key_condition(index, partition, lo, hi)
        kwargs.update(Select="COUNT", Limit=limit)
        counted = 0
        while counted < limit:
            page = self.dynamodb.query(**kwargs)
            counted += int(page.get("Count", 0))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            kwargs["Limit"] = limit - counted
        return min(counted, limit)

    @_translated
    def put_body(self, key: str, body: dict[str, Any]) -> None:
        data = gzip.compress(json.dumps(body, ensure_ascii=False).encode(), compresslevel=5)
        self.s3.put_object(
            Bucket=self.bucket, Key=key, Body=data, ContentType="application/json", ContentEncoding="gzip"
        )

    @_translated
    def get_body(self, key: str) -> dict[str, Any] | None:
        try:
            obj = self.s3.get_object(Bucket=self.bucket, Key=key)
        except self.s3.exceptions.NoSuchKey:
            return None
        body: dict[str, Any] = json.loads(gzip.decompress(obj["Body"].read()))
        return body

    @_translated
    def counters(self, pk: str, lo: str, hi: str) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.stats_table,
            "KeyConditionExpression": "pk = :p AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": {":p": {"S": pk}, ":lo": {"S": lo}, ":hi": {"S": hi}},
        }
        found = []
        while True:
            page = self.dynamodb.query(**kwargs)
            for item in page.get("Items", []):
                found.append(
                    {k: (int(v["N"]) if "N" in v else v.get("S", "")) for k, v in item.items() if k != "pk"}
                )
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    @_translated
    def get_meta(self, name: str) -> int:
        item = self.dynamodb.get_item(
            TableName=self.stats_table, Key={"pk": {"S": "META"}, "sk": {"S": name}}, ConsistentRead=True
        ).get("Item")
        return int(item["value"]["N"]) if item else 0

    @_translated
    def set_meta(self, name: str, value: int) -> None:
        self.dynamodb.put_item(
            TableName=self.stats_table, Item={"pk": {"S": "META"}, "sk": {"S": name}, "value": _number(value)}
        )

    def ping(self) -> dict[str, str]:
        """Reachability as /health reports it: one cheap read of each store."""
        result = {}
        try:
            self.dynamodb.get_item(TableName=self.stats_table, Key={"pk": {"S": "META"}, "sk": {"S": "ping"}})
            result["dynamodb"] = "ok"
        except Exception:  # any failure is the answer here, not an error of /health
            result["dynamodb"] = "error"
        try:
            self.s3.head_bucket(Bucket=self.bucket)
            result["s3"] = "ok"
        except Exception:
            result["s3"] = "error"
        return result
