"""The analytics pull state in DynamoDB: the state table (declared in template.yaml, "analytics (issue 7)"),
partition key `pk`:

- `stream#<dataset>`: checkpoint, resume point, lease, last run/error, counters;
- `run#<id>`: one pull; expires after 30 days through TTL `expires_at`;
- `limit#<endpoint>#<team>`: the shared rate limiter's recent grants (storage/analytics_limiter.py).

Every write to a stream item is conditional on holding its lease, so two pulls (the schedule and an
on-demand run, or two Lambda instances) never interleave their checkpoints. The rows are in
storage/analytics_rows.py, the raw rows and CSVs in S3 in storage/analytics_objects.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from cursor_gateway.domain.analytics import Resume, StreamState
from cursor_gateway.errors import Conflict
from cursor_gateway.storage.analytics_aws import Clock, ConditionFailed, DynamoTable, aws_call, dynamo_number

RUN_RETENTION_SECONDS = 30 * 86400


class LeaseLost(Conflict):
    code = "analytics_lease_lost"


class AnalyticsStateStore(DynamoTable):
    def __init__(self, table: str, *, client: Any = None, clock: Clock = time.time) -> None:
        super().__init__(table, client)
        self._clock = clock

    @staticmethod
    def _stream_key(dataset: str) -> dict[str, Any]:
        return {"pk": {"S": f"stream#{dataset}"}}

    def _to_stream(self, dataset: str, item: Mapping[str, Any] | None) -> StreamState:
        if not item:
            return StreamState(dataset)
        data = self.decode(item)
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
        answer = aws_call(
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
                values[f":{prefix}{i}"] = self.serializer.serialize(value)
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
            values.update({k: self.serializer.serialize(v) for k, v in (condition_values or {}).items()})
            kwargs["ConditionExpression"] = condition
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if values:
            kwargs["ExpressionAttributeValues"] = values
        answer = aws_call(self.client, "update_item", conditional=bool(condition), **kwargs)
        return self._to_stream(dataset, answer.get("Attributes"))

    # -- the lease --

    def acquire(self, dataset: str, owner: str, lease_seconds: float) -> StreamState | None:
        """Take the stream for `owner` (free, expired, or already ours); None if another run holds it."""
        now = self._clock()
        try:
            return self._update(
                dataset,
                sets={"lease_owner": owner, "lease_until": dynamo_number(now + lease_seconds)},
                condition="attribute_not_exists(#until) OR #until < :now OR #owner = :me",
                condition_values={":now": dynamo_number(now), ":me": owner},
            )
        except ConditionFailed:
            return None

    def _owned(self, dataset: str, owner: str, **kwargs: Any) -> StreamState:
        try:
            return self._update(dataset, condition="#owner = :me", condition_values={":me": owner}, **kwargs)
        except ConditionFailed:
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
            "lease_until": dynamo_number(self._clock() + lease_seconds),
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
        aws_call(self.client, "put_item", TableName=self.table, Item=self.encode(_dynamo_safe(item)))

    def run(self, run_id: str) -> dict[str, Any] | None:
        answer = aws_call(
            self.client,
            "get_item",
            TableName=self.table,
            Key={"pk": {"S": f"run#{run_id}"}},
            ConsistentRead=True,
        )
        item = answer.get("Item")
        if not item:
            return None
        data = self.decode(item)
        data.pop("pk", None)
        data.pop("expires_at", None)
        return data


def _dynamo_safe(value: Any) -> Any:
    """Floats become Decimals (the serializer refuses floats); None values are dropped."""
    if isinstance(value, float):
        return dynamo_number(value)
    if isinstance(value, dict):
        return {k: _dynamo_safe(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_dynamo_safe(v) for v in value]
    return value
