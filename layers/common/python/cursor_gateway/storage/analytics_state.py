"""Storage of the Admin API analytics pulls: rows and state in DynamoDB, raw rows and CSVs in S3.

Tables (declared in template.yaml, "analytics (issue 7)"):

- rows, one table per dataset, partition key = Cursor's key (`commitHash` / `changeId`). Each item keeps
  the upstream object verbatim (`raw`, JSON) plus what it is found by: `day` + `sk` (createdAt#key) in
  the `by-day` index (query routes, exports), `user_id`, `user_email` (lower case) and `content_hash`.
  `changed()` compares content hashes first, so writing the same page twice changes nothing.
- state, partition key `pk`: `stream#<dataset>` (checkpoint, resume point, lease, last run/error,
  counters), `run#<id>` (one pull; expires after 30 days through TTL `expires_at`) and
  `limit#<endpoint>#<team>` (the shared rate limiter's recent grants).

Every write to a stream item is conditional on holding its lease, so two pulls (the schedule and an
on-demand run, or two Lambda instances) never interleave their checkpoints.

S3 (the analytics bucket):

    analytics/<dataset>/dt=YYYY-MM-DD/part-<digest>.jsonl   rows new or changed in a page, by createdAt day
    exports/<dataset>/dt=YYYY-MM-DD/<dataset>-YYYY-MM-DD.csv the day's rows in Cursor's CSV columns
    exports/adhoc/<dataset>/<stamp>-<id>.csv                on-demand exports (expire after 7 days)
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from cursor_gateway.domain.analytics import Dataset, Resume, Row, StreamState, UserFilter
from cursor_gateway.domain.analytics_time import OutOfTime, admit
from cursor_gateway.errors import Conflict
from cursor_gateway.storage.tokens import StorageUnavailable

Clock = Callable[[], float]
RUN_RETENTION_SECONDS = 30 * 86400
BY_DAY_INDEX = "by-day"


class LeaseLost(Conflict):
    code = "analytics_lease_lost"


class _ConditionFailed(Exception):
    pass


def _call(client: Any, operation: str, *, conditional: bool = False, **kwargs: Any) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        result: dict[str, Any] = getattr(client, operation)(**kwargs)
        return result
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if conditional and code == "ConditionalCheckFailedException":
            raise _ConditionFailed from exc
        where = kwargs.get("TableName") or kwargs.get("Bucket") or ""
        raise StorageUnavailable(f"{operation} {where} failed: {code or exc}") from exc
    except BotoCoreError as exc:
        raise StorageUnavailable(f"{operation} failed: {exc}") from exc


def _lazy_client(service: str) -> Any:
    from cursor_gateway.storage import aws

    return aws.client(service)


def _serializer() -> tuple[Any, Any]:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def _plain(value: Any) -> Any:
    """DynamoDB's Decimals and sets as plain JSON-able Python values."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    return value


def _number(value: float) -> Decimal:
    return Decimal(repr(float(value))) if isinstance(value, float) else Decimal(value)


class _Dynamo:
    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self._client = client
        self._ser, self._de = _serializer()

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _lazy_client("dynamodb")
        return self._client

    def _encode(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {k: self._ser.serialize(v) for k, v in values.items()}

    def _decode(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {k: _plain(self._de.deserialize(v)) for k, v in item.items()}


# --- rows --------------------------------------------------------------------------------------------


class AnalyticsRowStore(_Dynamo):
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
                answer = _call(self.client, "batch_get_item", RequestItems=pending)
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
                answer = _call(self.client, "batch_write_item", RequestItems=pending)
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
            "pulled_at": {"N": str(_number(now))},
        }

    def get(self, key: str) -> dict[str, Any] | None:
        answer = _call(
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
            answer = _call(self.client, "query", **kwargs)
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


# --- streams and runs --------------------------------------------------------------------------------


class AnalyticsStateStore(_Dynamo):
    def __init__(self, table: str, *, client: Any = None, clock: Clock = time.time) -> None:
        super().__init__(table, client)
        self._clock = clock

    @staticmethod
    def _stream_key(dataset: str) -> dict[str, Any]:
        return {"pk": {"S": f"stream#{dataset}"}}

    def _to_stream(self, dataset: str, item: Mapping[str, Any] | None) -> StreamState:
        if not item:
            return StreamState(dataset)
        data = self._decode(item)
        resume = data.get("resume")
        return StreamState(
            dataset=dataset,
            enabled=bool(data.get("enabled", True)),
            disabled_reason=str(data.get("disabled_reason", "")),
            checkpoint=str(data.get("checkpoint", "")),
            last_seen=str(data.get("last_seen", "")),
            resume=(
                Resume(str(resume["window_start"]), str(resume["window_end"]), int(resume["page"]))
                if isinstance(resume, dict)
                else None
            ),
            rows=int(data.get("rows", 0)),
            dirty_days=tuple(sorted(data.get("dirty_days") or ())),
            lease_owner=str(data.get("lease_owner", "")),
            lease_until=float(data.get("lease_until", 0)),
            last_run=data.get("last_run"),
            last_error=str(data.get("last_error", "")),
            last_error_code=str(data.get("last_error_code", "")),
            last_error_at=str(data.get("last_error_at", "")),
        )

    def stream(self, dataset: str) -> StreamState:
        answer = _call(
            self.client, "get_item", TableName=self.table, Key=self._stream_key(dataset), ConsistentRead=True
        )
        return self._to_stream(dataset, answer.get("Item"))

    def _update(
        self,
        dataset: str,
        *,
        sets: Mapping[str, Any] | None = None,
        adds: Mapping[str, Any] | None = None,
        removes: Iterable[str] = (),
        deletes: Mapping[str, Any] | None = None,
        condition: str | None = None,
        condition_values: Mapping[str, Any] | None = None,
    ) -> StreamState:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        clauses: list[str] = []

        def named(prefix: str, entries: Mapping[str, Any], template: str) -> list[str]:
            parts = []
            for i, (name, value) in enumerate(entries.items()):
                names[f"#{prefix}{i}"] = name
                values[f":{prefix}{i}"] = self._ser.serialize(value)
                parts.append(template.format(n=f"#{prefix}{i}", v=f":{prefix}{i}"))
            return parts

        if sets:
            clauses.append("SET " + ", ".join(named("s", sets, "{n} = {v}")))
        if adds:
            clauses.append("ADD " + ", ".join(named("a", adds, "{n} {v}")))
        if deletes:
            clauses.append("DELETE " + ", ".join(named("d", deletes, "{n} {v}")))
        removed = list(removes)
        if removed:
            for i, name in enumerate(removed):
                names[f"#r{i}"] = name
            clauses.append("REMOVE " + ", ".join(f"#r{i}" for i in range(len(removed))))
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Key": self._stream_key(dataset),
            "UpdateExpression": " ".join(clauses),
            "ReturnValues": "ALL_NEW",
        }
        if condition:
            for alias, name in (("#owner", "lease_owner"), ("#until", "lease_until")):
                if alias in condition:
                    names[alias] = name
            values.update({k: self._ser.serialize(v) for k, v in (condition_values or {}).items()})
            kwargs["ConditionExpression"] = condition
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if values:
            kwargs["ExpressionAttributeValues"] = values
        answer = _call(self.client, "update_item", conditional=bool(condition), **kwargs)
        return self._to_stream(dataset, answer.get("Attributes"))

    # -- the lease --

    def acquire(self, dataset: str, owner: str, lease_seconds: float) -> StreamState | None:
        """Take the stream for `owner` (free, expired, or already ours); None if another run holds it."""
        now = self._clock()
        try:
            return self._update(
                dataset,
                sets={"lease_owner": owner, "lease_until": _number(now + lease_seconds)},
                condition="attribute_not_exists(#until) OR #until < :now OR #owner = :me",
                condition_values={":now": _number(now), ":me": owner},
            )
        except _ConditionFailed:
            return None

    def _owned(self, dataset: str, owner: str, **kwargs: Any) -> StreamState:
        try:
            return self._update(dataset, condition="#owner = :me", condition_values={":me": owner}, **kwargs)
        except _ConditionFailed:
            raise LeaseLost(f"the {dataset} stream was taken over by another run") from None

    def save_page(
        self,
        dataset: str,
        owner: str,
        *,
        resume: Resume,
        last_seen: str,
        inserted: int,
        days: Iterable[str],
        lease_seconds: float,
    ) -> StreamState:
        """After a page: where to resume, what was seen, which exports are stale; renews the lease."""
        adds: dict[str, Any] = {"rows": inserted}
        stale = set(days)
        if stale:
            adds["dirty_days"] = stale
        sets: dict[str, Any] = {
            "resume": {
                "window_start": resume.window_start,
                "window_end": resume.window_end,
                "page": resume.page,
            },
            "lease_until": _number(self._clock() + lease_seconds),
        }
        if last_seen:
            sets["last_seen"] = last_seen
        return self._owned(dataset, owner, sets=sets, adds=adds)

    def save_window(self, dataset: str, owner: str, *, checkpoint: str, resume: Resume | None) -> StreamState:
        sets: dict[str, Any] = {"checkpoint": checkpoint}
        if resume is not None:
            sets["resume"] = {
                "window_start": resume.window_start,
                "window_end": resume.window_end,
                "page": resume.page,
            }
        return self._owned(dataset, owner, sets=sets, removes=() if resume else ("resume",))

    def exported(self, dataset: str, owner: str, days: Iterable[str]) -> StreamState:
        done = set(days)
        return self._owned(dataset, owner, deletes={"dirty_days": done}) if done else self.stream(dataset)

    def release(
        self,
        dataset: str,
        owner: str,
        *,
        last_run: Mapping[str, Any],
        error: tuple[str, str] | None = None,
        disable: str = "",
    ) -> StreamState:
        sets: dict[str, Any] = {"lease_owner": "", "lease_until": 0, "last_run": dict(last_run)}
        removes: list[str] = []
        if error:
            sets.update(
                {
                    "last_error_code": error[0],
                    "last_error": error[1],
                    "last_error_at": last_run["finished_at"],
                }
            )
        else:
            removes += ["last_error", "last_error_code", "last_error_at"]
        if disable:
            sets.update({"enabled": False, "disabled_reason": disable})
        try:
            return self._owned(dataset, owner, sets=sets, removes=removes)
        except LeaseLost:
            return self.stream(dataset)

    def enable(self, dataset: str) -> StreamState:
        return self._update(
            dataset,
            sets={"enabled": True},
            removes=("disabled_reason", "last_error", "last_error_code", "last_error_at"),
        )

    # -- runs --

    def put_run(self, run: Mapping[str, Any]) -> None:
        item = {**run, "pk": f"run#{run['run_id']}", "expires_at": int(self._clock()) + RUN_RETENTION_SECONDS}
        _call(self.client, "put_item", TableName=self.table, Item=self._encode(_dynamo_safe(item)))

    def run(self, run_id: str) -> dict[str, Any] | None:
        answer = _call(
            self.client,
            "get_item",
            TableName=self.table,
            Key={"pk": {"S": f"run#{run_id}"}},
            ConsistentRead=True,
        )
        item = answer.get("Item")
        if not item:
            return None
        data = self._decode(item)
        data.pop("pk", None)
        data.pop("expires_at", None)
        return data


def _dynamo_safe(value: Any) -> Any:
    """Floats become Decimals (the serializer refuses floats); None values are dropped."""
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dict):
        return {k: _dynamo_safe(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_dynamo_safe(v) for v in value]
    return value


# --- the shared rate limiter -------------------------------------------------------------------------


class DynamoRateLimiter(_Dynamo):
    """At most `rpm` grants per `period` seconds per key, across every process that shares the table.

    The item `limit#<key>` holds the recent grant times and a version; a grant is a conditional write on
    that version, so concurrent takers serialise: whoever loses re-reads and tries again. `margin`
    widens the period a little so that network jitter between our grant and Cursor's count cannot
    squeeze one request too many into Cursor's minute."""

    def __init__(
        self,
        table: str,
        rpm: int,
        *,
        period: float = 60.0,
        margin: float = 1.0,
        client: Any = None,
        clock: Clock = time.time,
        sleep: Callable[[float], None] = time.sleep,
        on_grant: Callable[[str, float], None] | None = None,
    ) -> None:
        super().__init__(table, client)
        if rpm < 1:
            raise ValueError("CURSOR_ADMIN_API_RPM must be >= 1")
        self.rpm = rpm
        self.period = period + margin
        self._clock = clock
        self._sleep = sleep
        self._on_grant = on_grant
        self.conflicts = 0  # grants lost to a concurrent taker (then retried)

    def acquire(self, key: str, *, deadline: float | None = None) -> None:
        pk = {"pk": {"S": f"limit#{key}"}}
        while True:
            answer = _call(self.client, "get_item", TableName=self.table, Key=pk, ConsistentRead=True)
            item = self._decode(answer.get("Item") or {})
            version = int(item.get("version", 0))
            now = self._clock()
            wait, grants = admit(item.get("grants") or [], now, self.rpm, self.period)
            if wait > 0:
                if deadline is not None and now + wait > deadline:
                    raise OutOfTime(f"the rate limit frees a request in {wait:.0f}s, after the deadline")
                self._sleep(wait)
                continue
            new_item = {
                "pk": f"limit#{key}",
                "grants": [_number(g) for g in grants],
                "version": version + 1,
                "expires_at": int(now + self.period) + 86400,
            }
            condition = "attribute_not_exists(#v)" if version == 0 else "#v = :v"
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "Item": self._encode(new_item),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#v": "version"},
            }
            if version:
                kwargs["ExpressionAttributeValues"] = {":v": {"N": str(version)}}
            try:
                _call(self.client, "put_item", conditional=True, **kwargs)
            except _ConditionFailed:
                self.conflicts += 1  # another taker got there first: read again
                continue
            if self._on_grant is not None:
                self._on_grant(key, now)
            return

    def grants(self, key: str) -> list[float]:
        answer = _call(
            self.client,
            "get_item",
            TableName=self.table,
            Key={"pk": {"S": f"limit#{key}"}},
            ConsistentRead=True,
        )
        return [float(g) for g in self._decode(answer.get("Item") or {}).get("grants") or []]


# --- S3 ----------------------------------------------------------------------------------------------


class AnalyticsObjects:
    def __init__(self, bucket: str, *, client: Any = None) -> None:
        self.bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _lazy_client("s3")
        return self._client

    def put(self, key: str, body: bytes, content_type: str) -> None:
        _call(self.client, "put_object", Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def upload_text(self, key: str, chunks: Iterable[str], content_type: str) -> int:
        """Upload text produced piece by piece; spooled to disk past 8 MB, never all in memory (S3's
        managed transfer switches to multipart for large files). Returns the byte count."""
        from botocore.exceptions import BotoCoreError, ClientError

        size = 0
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
            for chunk in chunks:
                data = chunk.encode()
                size += len(data)
                spool.write(data)
            spool.seek(0)
            try:
                self.client.upload_fileobj(spool, self.bucket, key, ExtraArgs={"ContentType": content_type})
            except (BotoCoreError, ClientError) as exc:
                raise StorageUnavailable(f"upload of s3://{self.bucket}/{key} failed: {exc}") from exc
        return size

    def get(self, key: str) -> bytes:
        body = _call(self.client, "get_object", Bucket=self.bucket, Key=key)["Body"]
        with contextlib.closing(body):
            data: bytes = body.read()
            return data

    def keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        while True:
            answer = _call(self.client, "list_objects_v2", **kwargs)
            found += [o["Key"] for o in answer.get("Contents", [])]
            if not answer.get("IsTruncated"):
                return found
            kwargs["ContinuationToken"] = answer["NextContinuationToken"]

    def presign(self, key: str, seconds: int) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=seconds
        )
        return url
