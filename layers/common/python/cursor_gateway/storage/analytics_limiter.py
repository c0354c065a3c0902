"""The Admin API rate limit shared by every process: grants recorded in the analytics state table
(`limit#<endpoint>#<team>` items, beside the stream items of storage/analytics_state.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cursor_gateway.domain.analytics_time import OutOfTime, admit
from cursor_gateway.storage.analytics_aws import Clock, ConditionFailed, DynamoTable, aws_call, dynamo_number


class DynamoRateLimiter(DynamoTable):
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
            answer = aws_call(self.client, "get_item", TableName=self.table, Key=pk, ConsistentRead=True)
            item = self.decode(answer.get("Item") or {})
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
                "grants": [dynamo_number(g) for g in grants],
                "version": version + 1,
                "expires_at": int(now + self.period) + 86400,
            }
            condition = "attribute_not_exists(#v)" if version == 0 else "#v = :v"
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "Item": self.encode(new_item),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#v": "version"},
            }
            if version:
                kwargs["ExpressionAttributeValues"] = {":v": {"N": str(version)}}
            try:
                aws_call(self.client, "put_item", conditional=True, **kwargs)
            except ConditionFailed:
                self.conflicts += 1  # another taker got there first: read again
                continue
            if self._on_grant is not None:
                self._on_grant(key, now)
            return

    def grants(self, key: str) -> list[float]:
        answer = aws_call(
            self.client,
            "get_item",
            TableName=self.table,
            Key={"pk": {"S": f"limit#{key}"}},
            ConsistentRead=True,
        )
        return [float(g) for g in self.decode(answer.get("Item") or {}).get("grants") or []]
