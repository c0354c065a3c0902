"""Several requests' completions in one DynamoDB transaction (the recorder coalesces those that finish
within a few milliseconds of each other).

Exactly-once counting holds as for one completion (E.7): every log id's entry Put (or its DONE# marker)
is conditional, and its counters ride in the same transaction; counter updates of the batch that name
the same item are summed into one Update (a transaction may not touch an item twice), at most
`MAX_ITEMS` actions per transaction. When the transaction is cancelled because some ids were recorded
already (a retried batch), those ids are dropped and the rest is tried again without them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cursor_gateway.domain.usage_stats import CounterUpdate

MAX_ITEMS = 100  # DynamoDB's limit of actions per TransactWriteItems

Entry = tuple[str, str, dict[str, Any], int]  # pk, sk, doc, expires_at


@dataclass(frozen=True)
class Completion:
    log_id: str
    entry: Entry | None  # None: only a marker (entries are off), the counters still count
    counters: Sequence[CounterUpdate]
    ttl: dict[str, int]


class TransactingStore(Protocol):
    @property
    def dynamodb(self) -> Any: ...

    def completion_action(self, log_id: str, entry: Entry | None, ttl: dict[str, int]) -> dict[str, Any]: ...

    def counter_update(self, update: CounterUpdate, expires_at: int) -> dict[str, Any]: ...


def complete_many(store: TransactingStore, completions: Sequence[Completion]) -> dict[str, bool]:
    """Each completion written once: log id -> True (written now) or False (it was already)."""
    results: dict[str, bool] = {}
    for group in _groups(completions):
        results.update(_complete_group(store, group))
    return results


def summed(completions: Sequence[Completion]) -> list[tuple[CounterUpdate, int]]:
    """The counter updates of `completions`, one per item: adds summed, sets merged (the later
    completion's text wins), the latest expiry kept."""
    merged: dict[tuple[str, str], tuple[CounterUpdate, int]] = {}
    for completion in completions:
        for update in completion.counters:
            expires = completion.ttl[update.granularity]
            seen = merged.get((update.pk, update.sk))
            if seen is None:
                merged[(update.pk, update.sk)] = (update, expires)
                continue
            before, before_expires = seen
            add = dict(before.add)
            for name, value in update.add.items():
                add[name] = add.get(name, 0) + value
            combined = CounterUpdate(
                update.pk, update.sk, add, {**before.set, **update.set}, update.granularity
            )
            merged[(update.pk, update.sk)] = (combined, max(expires, before_expires))
    return list(merged.values())


def _groups(completions: Sequence[Completion]) -> list[list[Completion]]:
    groups: list[list[Completion]] = []
    current: list[Completion] = []
    keys: set[tuple[str, str]] = set()
    for completion in completions:
        new_keys = {(u.pk, u.sk) for u in completion.counters} - keys
        if current and len(current) + 1 + len(keys) + len(new_keys) > MAX_ITEMS:
            groups.append(current)
            current, keys = [], set()
            new_keys = {(u.pk, u.sk) for u in completion.counters}
        current.append(completion)
        keys |= new_keys
    if current:
        groups.append(current)
    return groups


def _complete_group(store: TransactingStore, group: list[Completion]) -> dict[str, bool]:
    results: dict[str, bool] = {}
    remaining = group
    while remaining:
        actions = [store.completion_action(c.log_id, c.entry, c.ttl) for c in remaining]
        actions += [
            {"Update": store.counter_update(update, expires)} for update, expires in summed(remaining)
        ]
        ids = sorted(c.log_id for c in remaining)
        # The token makes a resent identical request (a lost response) a no-op for 10 minutes in AWS.
        token = ids[0][:36] if len(ids) == 1 else hashlib.sha256("|".join(ids).encode()).hexdigest()[:36]
        try:
            store.dynamodb.transact_write_items(TransactItems=actions, ClientRequestToken=token)
        except store.dynamodb.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or []
            recorded = {
                remaining[i].log_id
                for i, reason in enumerate(reasons[: len(remaining)])
                if (reason or {}).get("Code") == "ConditionalCheckFailed"
            }
            if not recorded:
                raise
            results.update(dict.fromkeys(recorded, False))
            remaining = [c for c in remaining if c.log_id not in recorded]
            continue
        results.update(dict.fromkeys((c.log_id for c in remaining), True))
        break
    return results
