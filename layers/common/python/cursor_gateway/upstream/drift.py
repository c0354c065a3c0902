"""What Cursor sends that our schema does not know: unknown fields and unknown oneof arms.

Cursor changes its protocol without notice; a new field or frame type is the first visible sign. Each
profile reports the messages it decodes here; the canary reads the counts around its run and reports
anything new. Only the top message and its active arm are inspected, so the hot path stays cheap.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any, Protocol

from google.protobuf import unknown_fields
from google.protobuf.message import Message

_lock = threading.Lock()
_seen: Counter[str] = Counter()


class UnknownField(Protocol):
    """One entry of an `UnknownFieldSet` (the stubs type it as Any)."""

    @property
    def field_number(self) -> int: ...

    @property
    def wire_type(self) -> int: ...

    @property
    def data(self) -> Any: ...  # bytes when length-delimited, an int for a varint, a set for a group


def unknown_fields_of(message: Message) -> list[UnknownField]:
    """The fields of `message` that its schema does not know, in wire order. `UnknownFieldSet` is a
    sequence (`__len__`, `__getitem__`) whose stubs declare no `__iter__`, so it is read by index."""
    fields = unknown_fields.UnknownFieldSet(message)
    return [fields[index] for index in range(len(fields))]


def _unknown_numbers(message: Message) -> list[int]:
    return [field.field_number for field in unknown_fields_of(message)]


def _arm_unknowns(message: Message) -> list[str]:
    """Unknown fields one level further down (e.g. InteractionUpdate -> TurnEndedUpdate)."""
    for oneof in message.DESCRIPTOR.oneofs:
        arm = message.WhichOneof(oneof.name)
        if arm is not None:
            inner = getattr(message, arm)
            if isinstance(inner, Message):
                return [f"{inner.DESCRIPTOR.name}#{n}" for n in _unknown_numbers(inner)]
    return []


def observe(message: Message, oneof: str = "message") -> None:
    """Record unknown fields of `message` and of the sub-message in its active `oneof` arm."""
    found = [f"{message.DESCRIPTOR.name}#{n}" for n in _unknown_numbers(message)]
    try:
        arm = message.WhichOneof(oneof)
    except ValueError:
        arm = None
    if arm is not None:
        inner = getattr(message, arm)
        if isinstance(inner, Message):
            found += [f"{inner.DESCRIPTOR.name}#{n}" for n in _unknown_numbers(inner)]
            found += _arm_unknowns(inner)
    if found:
        with _lock:
            _seen.update(found)


def note(kind: str) -> None:
    """Record something unexpected that is not an unknown field (e.g. an exec type we had to throw on)."""
    with _lock:
        _seen[kind] += 1


def snapshot() -> Counter[str]:
    with _lock:
        return Counter(_seen)


def since(before: Counter[str]) -> dict[str, int]:
    now = snapshot()
    return {key: count - before.get(key, 0) for key, count in now.items() if count > before.get(key, 0)}
