"""What the fake Cursor does: scripts for answers and for every failure class, chosen per bearer token."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from cursor_gateway.codec._gen.aiserver.v1 import errors_pb2

Mode = Literal[
    "answer",  # ask for request context and a blob, then stream thinking/text, turn_ended, `{}`
    "error",  # an end-stream error before any answer (see `error`)
    "error_after_text",  # some text, then an end-stream error
    "reset_after_text",  # some text, then RST_STREAM (a mid-stream reset)
    "http_error",  # a non-200 Connect JSON error instead of a stream
    "stall",  # only server heartbeats, never an answer
    "raw",  # replay `raw_body` byte for byte in `raw_chunks`-sized writes
    "empty_turn",  # HTTP 200, a turn end and nothing else (a blocked account, emulator/compat.py)
    "error_after_turn_end",  # a normal answer, then `error` in the end-stream after turn_ended
    "deaf",  # never read the request, never answer (not even headers), until the client gives up
]


def error_detail_b64(enum: int, title: str, detail: str, *, padded: bool = False) -> str:
    # Any number, as on the wire (proto3 enums are open); the stubs only admit the named values.
    error = cast("errors_pb2.ErrorCode", enum)
    data = errors_pb2.ErrorDetails(
        error=error, details=errors_pb2.CustomErrorDetails(title=title, detail=detail), is_expected=True
    ).SerializeToString()
    text = base64.b64encode(data).decode()
    return text if padded else text.rstrip("=")


def connect_error(
    code: str, enum: int | None = None, title: str = "", detail: str = "", message: str = "Error"
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if enum is not None:
        name = errors_pb2.ErrorCode.Name(enum)
        error["details"] = [
            {
                "type": "aiserver.v1.ErrorDetails",
                "value": error_detail_b64(enum, title, detail),
                "debug": {"error": name, "details": {"title": title, "detail": detail}, "isExpected": True},
            }
        ]
    return error


# Ready-made failure classes (the 2026 error table), for tests and the CLI demo.
FAILURES: dict[str, dict[str, Any]] = {
    "unauthenticated": connect_error("unauthenticated", 12, "Authentication expired", "Please log in again."),
    "rate_limited": connect_error("resource_exhausted", 50, "Rate limited", "Too many requests, slow down."),
    "usage_limit": connect_error("resource_exhausted", 10, "Usage limit", "You've hit your usage limit."),
    "update_required": connect_error(
        "resource_exhausted",
        28,
        "Update Required",
        "Please update to the latest version of Cursor to continue using the Agent.",
    ),
    "model_not_allowed": connect_error(
        "resource_exhausted",
        28,
        "Model not allowed",
        "This model is only available with Max mode. Enable Max mode or pick another model.",
    ),
    "deprecated": connect_error(
        "unimplemented", 40, "Deprecated", "This endpoint is deprecated. Please upgrade."
    ),
    "bad_model": connect_error("not_found", 5, "Bad model name", "Unknown model ID."),
    "overloaded": connect_error("resource_exhausted", 41, "High Load", "We're experiencing high demand."),
    "internal": connect_error("internal", None, message="No exec result"),
}


@dataclass(slots=True)
class Behaviour:
    mode: Mode = "answer"
    # Text to stream; None means "Echo: <latest user text>". Split into `chunks` deltas.
    reply: str | None = None
    echo_prefix: str = "Echo: "  # what precedes the user's text when `reply` is None (agent Run)
    chunks: int = 20
    thinking: str | None = None  # thinking text streamed before the answer (None: only for *thinking* models)
    delay: float = 0.0  # seconds between deltas
    first_delay: float = 0.0  # seconds before the first answer event
    error: dict[str, Any] = field(default_factory=lambda: dict(FAILURES["internal"]))
    http_status: int = 500
    usage: bool = True  # send turn_ended usage
    ask_blob: bool = True  # ask for the first root blob via KV before answering
    send_builtin_exec: bool = True  # send one built-in exec (read_args) the client must refuse
    send_unknown: bool = False  # (binary codec) also send a frame type and a field no schema knows
    raw_body: bytes = b""
    raw_chunks: tuple[int, ...] = (7,)
    raw_content_type: str = "application/connect+proto"
    # Tool scripts (emulator/tools.py). When the client advertised tools, call instead of answering:
    # {"name": ..., "arguments": {...}} or a list of them (parallel calls), or a callable given the
    # advertised names that returns either (or None to answer with text). A request carrying the results
    # is answered with `tool_reply` ("{name}" and "{result}" filled in).
    tool_call: dict[str, Any] | list[dict[str, Any]] | Callable[[list[str]], Any] | None = None
    tool_text: str = ""  # text streamed before the call
    tool_call_gap: float = 0.0  # seconds between parallel calls (the agent batches them in a short window)
    unregistered_tool: str | None = None  # first call this name nobody advertised (must be refused)
    bad_tool_arguments: dict[str, Any] | None = None  # first call with these arguments (must come back)
    tool_reply: str = "The tool {name} returned: {result}"
    # Traffic newer than our schema before the answer (emulator/compat.py): execs 45-55, queries, odd keys.
    probe_unknowns: bool = False
    http_headers: dict[str, str] = field(default_factory=dict)  # extra response headers of `http_error`
    # When set, the mode applies only to runs for these model ids; other models get a normal answer.
    only_models: tuple[str, ...] = ()
    # Reset the Run (RST_STREAM) when its structured history (root blobs) exceeds this many bytes, as
    # Cursor did above about 64 KiB in 2026; 0 = never.
    reset_history_above: int = 0

    @classmethod
    def failing(cls, failure: str, **kwargs: Any) -> Behaviour:
        return cls(mode="error", error=dict(FAILURES[failure]), **kwargs)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Behaviour:
        obj = dict(obj)
        if "failure" in obj:
            obj["error"] = dict(FAILURES[obj.pop("failure")])
            obj.setdefault("mode", "error")
        if "raw_body_b64" in obj:
            obj["raw_body"] = base64.b64decode(obj.pop("raw_body_b64"))
        if "raw_chunks" in obj:
            obj["raw_chunks"] = tuple(obj["raw_chunks"])
        return cls(**obj)


# Faults the fake can inject into a share of turns (`FakeCursor.fault_rate`, `emulate --fault-rate`), for
# soak runs: each one a class the gateway must survive without losing the next request.
CHAOS: dict[str, Callable[[], Behaviour]] = {
    "internal_error": lambda: Behaviour.failing("internal"),
    "overloaded": lambda: Behaviour.failing("overloaded"),
    "rate_limited": lambda: Behaviour.failing("rate_limited"),
    "reset_after_text": lambda: Behaviour(mode="reset_after_text"),
    "error_after_text": lambda: Behaviour(mode="error_after_text"),
    "malformed_frame": lambda: Behaviour(mode="raw", raw_body=b"\x00\x00\x00\x00\x04\xff\xff\xff\xff"),
}
