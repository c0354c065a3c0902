"""A `TokenRecord` as a DynamoDB item and back (the attribute-value codec of `storage.tokens_dynamo`).

Every `TokenRecord` field is a top-level attribute except `health`, a map. Attributes this code does not
know are ignored on read, so a newer writer never breaks an older reader.
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, fields
from decimal import Decimal
from typing import Any

from cursor_gateway.domain.tokens import TokenHealth, TokenRecord

_RECORD_FIELDS = {f.name: f for f in fields(TokenRecord)}
_HEALTH_FIELDS = {f.name: f for f in fields(TokenHealth)}


def number_attr(value: float | int) -> dict[str, str]:
    """A DynamoDB number (`{"N": ...}`)."""
    # Decimal(repr(float)) keeps the shortest exact text; format "f" avoids exponents (1.7e9).
    text = format(Decimal(repr(value)), "f") if isinstance(value, float) else str(value)
    return {"N": text}


def attr_of(value: Any) -> dict[str, Any]:
    """A plain Python value (bool, number, str, dict, list/tuple) as a DynamoDB attribute value."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return number_attr(value)
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, dict):
        return {"M": {k: attr_of(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [attr_of(v) for v in value]}
    raise TypeError(f"cannot store {type(value).__name__}")


def _plain(attr: dict[str, Any]) -> Any:
    if "S" in attr:
        return attr["S"]
    if "N" in attr:
        return Decimal(attr["N"])
    if "BOOL" in attr:
        return attr["BOOL"]
    if "M" in attr:
        return {k: _plain(v) for k, v in attr["M"].items()}
    if "L" in attr:
        return [_plain(v) for v in attr["L"]]
    return None


def _coerce(value: Any, default: Any) -> Any:
    if isinstance(default, tuple):
        return tuple(str(v) for v in value) if isinstance(value, list) else default
    if isinstance(default, bool):
        return bool(value)
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    return value


def record_to_item(record: TokenRecord) -> dict[str, Any]:
    return {name: attr_of(value) for name, value in asdict(record).items()}


def item_to_record(item: dict[str, Any]) -> TokenRecord:
    values: dict[str, Any] = {}
    for name, attr in item.items():
        spec = _RECORD_FIELDS.get(name)
        if spec is None:
            continue  # written by a newer version
        value = _plain(attr)
        if name == "health":
            values[name] = _health_from(value if isinstance(value, dict) else {})
        elif value is not None:
            values[name] = _coerce(value, spec.default if spec.default is not MISSING else "")
    return TokenRecord(**values)


def _health_from(value: dict[str, Any]) -> TokenHealth:
    defaults = TokenHealth()
    known = {
        k: _coerce(v, getattr(defaults, k)) for k, v in value.items() if k in _HEALTH_FIELDS and v is not None
    }
    return TokenHealth(**known)
