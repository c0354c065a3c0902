"""Connect end-stream JSON and `aiserver.v1.ErrorDetails` decoding (pure).

A streaming Connect response ends with a flag-0x02 frame holding `{}` (success, possibly with
`metadata`) or `{"error": {"code", "message", "details": [{"type", "value", "debug"}]}}`. Detail values
are base64 (standard alphabet, padding usually stripped); we accept either alphabet, padded or not, and
never drop the whole error because one detail does not parse.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError

from cursor_gateway.codec._gen.aiserver.v1 import errors_pb2


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One decoded `aiserver.v1.ErrorDetails` (or what the `debug` JSON said, if the bytes were bad)."""

    error_enum: int | None
    error_name: str
    title: str = ""
    detail: str = ""
    is_expected: bool = False


@dataclass(frozen=True, slots=True)
class ConnectError:
    code: str
    message: str = ""
    details: tuple[ErrorDetail, ...] = ()
    http_status: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        parts = [f"{d.title}: {d.detail}".strip(": ") for d in self.details if d.title or d.detail]
        return "; ".join(parts) or self.message or self.code


def _b64decode_lenient(value: str) -> bytes:
    padded = value + "=" * (-len(value) % 4)
    try:
        return base64.b64decode(
            padded, altchars=b"-_" if ("-" in value or "_" in value) else None, validate=True
        )
    except (binascii.Error, ValueError) as exc:
        raise ValueError("bad base64") from exc


def decode_error_detail(entry: dict[str, Any]) -> ErrorDetail | None:
    value = entry.get("value")
    debug = entry.get("debug") if isinstance(entry.get("debug"), dict) else {}
    if isinstance(value, str) and value:
        try:
            msg = errors_pb2.ErrorDetails.FromString(_b64decode_lenient(value))
        except (ValueError, DecodeError):
            msg = None
        if msg is not None:
            name = errors_pb2.ErrorCode.Name(msg.error) if msg.error in errors_pb2.ErrorCode.values() else ""
            return ErrorDetail(
                error_enum=int(msg.error),
                error_name=name or f"ERROR_{int(msg.error)}",
                title=msg.details.title,
                detail=msg.details.detail,
                is_expected=msg.is_expected,
            )
    if debug:
        name = str(debug.get("error", ""))
        details = debug.get("details")
        info = details if isinstance(details, dict) else {}
        enum = errors_pb2.ErrorCode.Value(name) if name in errors_pb2.ErrorCode.keys() else None  # noqa: SIM118
        return ErrorDetail(
            error_enum=enum,
            error_name=name,
            title=str(info.get("title", "")),
            detail=str(info.get("detail", "")),
            is_expected=bool(debug.get("isExpected", False)),
        )
    return None


def connect_error_from_json(obj: dict[str, Any], *, http_status: int | None = None) -> ConnectError:
    """Build from the `error` object of an end-stream frame, or from a unary Connect error body."""
    details = tuple(
        d for d in (decode_error_detail(e) for e in obj.get("details") or [] if isinstance(e, dict)) if d
    )
    return ConnectError(
        code=str(obj.get("code") or "unknown"),
        message=str(obj.get("message") or ""),
        details=details,
        http_status=http_status,
        raw=obj,
    )


class EndStreamError(ValueError):
    """The end-stream payload is not valid JSON."""


def parse_end_stream(payload: bytes) -> ConnectError | None:
    """None means the stream ended normally (`{}`, `{"metadata": ...}`, or an empty payload)."""
    if not payload.strip():
        return None
    try:
        obj = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EndStreamError(f"end-stream frame is not JSON: {payload[:80]!r}") from exc
    if not isinstance(obj, dict):
        raise EndStreamError("end-stream frame is not a JSON object")
    if obj.get("error") is None:
        return None
    error = obj["error"]
    if not isinstance(error, dict):
        return ConnectError(code="unknown", message=str(error))
    return connect_error_from_json(error)
