"""Cursor's Connect errors in the reference gateway's Tab shapes (copilot-plus-plus.md §5.2-§5.4). Pure.

The Tab routes keep the reference's error contract, which clients written for it parse:
- unary routes: `{"status":"error","code":<status>,"error":"<type>","message":"<JSON text>"}` with the
  HTTP status mapped from `ErrorDetails.error` by table 5.4 (`message` holds
  `{"code":"<connect code>","details":{"title","detail","additionalInfo"?}}`, or just the connect code);
- `/cpp/stream` after its first byte: the SSE event
  `{"type":"error","error":{"code":<status>,"type":"<type>","details":{...}|null}}`.
No details: 500 `unknown`. Several details: titles and details joined with `&`, the highest status wins.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError

from cursor_gateway.codec._gen.aiserver.v1 import errors_pb2

# Table 5.4, by ErrorCode number (codec/_gen errors_pb2 names them).
_STATUS_GROUPS: dict[int, tuple[int, ...]] = {
    400: (36, 5, 26, 27, 31, 43),
    401: (1, 42, 3, 11, 12, 38, 46),
    402: (44, 45),
    403: (2, 4, 18, 23, 17, 47, 48, 53),
    404: (39, 6, 16, 19, 32, 33),
    409: (49,),
    410: (40, 30),
    422: (24,),
    429: (7, 8, 14, 15, 22, 28, 34, 50, 51),
    499: (21,),
    503: (9, 10, 41, 20),
    504: (25,),
    533: (0, 13, 29, 35, 37, 52),
}
STATUS_BY_ERROR: dict[int, int] = {enum: status for status, enums in _STATUS_GROUPS.items() for enum in enums}


def error_type(enum: int) -> str:
    """The lower-snake enum name without `ERROR_`; `unknown` for a value our schema lacks."""
    if enum == 28:
        return "gpt4_vision_preview_rate_limit"  # the reference's one spelling exception
    if enum not in errors_pb2.ErrorCode.values():
        return "unknown"
    return errors_pb2.ErrorCode.Name(enum).removeprefix("ERROR_").lower()


@dataclass(frozen=True, slots=True)
class TabError:
    status: int
    type: str
    connect_code: str
    details: dict[str, Any] | None  # {"title"?, "detail"?, "additionalInfo"?} or None

    def unary_body(self) -> dict[str, Any]:
        message = (
            json.dumps({"code": self.connect_code, "details": self.details}, separators=(",", ":"))
            if self.details is not None
            else self.connect_code
        )
        return {"status": "error", "code": self.status, "error": self.type, "message": message}

    def sse_event(self) -> dict[str, Any]:
        return {"type": "error", "error": {"code": self.status, "type": self.type, "details": self.details}}


def tab_error(connect: dict[str, Any]) -> TabError:
    """From a Connect error object (`{"code","message","details":[...]}`, unary body or end-stream)."""
    code = str(connect.get("code") or "unknown")
    decoded = [d for d in (_detail(e) for e in connect.get("details") or [] if isinstance(e, dict)) if d]
    if not decoded:
        return TabError(500, "unknown", code, None)
    best = max(decoded, key=lambda d: STATUS_BY_ERROR.get(d[0], 500))
    enum = best[0]
    status = STATUS_BY_ERROR.get(enum, 500)
    details: dict[str, Any] = {}
    titles = "&".join(d[1] for d in decoded if d[1])
    texts = "&".join(d[2] for d in decoded if d[2])
    if titles:
        details["title"] = titles
    if texts:
        details["detail"] = texts
    info: dict[str, str] = {}
    for _, _, _, extra in decoded:
        info.update(extra)
    if info:
        details["additionalInfo"] = info
    return TabError(status, error_type(enum) if enum in STATUS_BY_ERROR else "unknown", code, details)


def synthetic(status: int, kind: str, title: str, detail: str) -> TabError:
    """An error the gateway itself reports in the Tab shape (a cut or undecodable upstream stream)."""
    return TabError(status, kind, kind, {"title": title, "detail": detail})


def _detail(entry: dict[str, Any]) -> tuple[int, str, str, dict[str, str]] | None:
    value = entry.get("value")
    if isinstance(value, str) and value:
        try:
            raw = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_" if "-" in value else None)
            parsed = errors_pb2.ErrorDetails.FromString(raw)
        except (binascii.Error, ValueError, DecodeError):
            parsed = None
        if parsed is not None:
            info = dict(parsed.details.additional_info)
            return int(parsed.error), parsed.details.title, parsed.details.detail, info
    debug = entry.get("debug")
    if isinstance(debug, dict) and isinstance(debug.get("error"), str):
        name = debug["error"]
        enum = errors_pb2.ErrorCode.Value(name) if name in errors_pb2.ErrorCode.keys() else -1  # noqa: SIM118
        details = debug.get("details")
        shown = details if isinstance(details, dict) else {}
        return enum, str(shown.get("title", "")), str(shown.get("detail", "")), {}
    return None
