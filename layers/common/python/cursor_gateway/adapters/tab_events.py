"""One upstream `StreamCppResponse` -> the `/cpp/stream` SSE events, in the reference's fixed order
(copilot-plus-plus.md §4): model_info, range_replace, text, cursor_prediction, done_edit, begin_edit,
done_stream, debug. `stream_end` and `error` come from the end-of-stream frame, not from here. Pure.

One deliberate difference (§7.5): text that arrives in the same message as model_info or
range_to_replace is emitted (after them) instead of dropped; an empty text never is.
"""

from __future__ import annotations

import json
from typing import Any

from cursor_gateway.codec._gen.aiserver.v1 import tab_pb2 as pb

STREAM_END: dict[str, Any] = {"type": "stream_end"}
_DEBUG_FIELDS = (
    ("model_input", "debug_model_input"),
    ("model_output", "debug_model_output"),
    ("stream_time", "debug_stream_time"),
    ("total_time", "debug_total_time"),
    ("ttft_time", "debug_ttft_time"),
    ("server_timing", "debug_server_timing"),
)


def events_of(message: pb.StreamCppResponse) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    if message.HasField("model_info"):
        info = message.model_info
        events.append(
            {
                "type": "model_info",
                "is_fused_cursor_prediction_model": info.is_fused_cursor_prediction_model,
                "is_multidiff_model": info.is_multidiff_model,
            }
        )
    if message.HasField("range_to_replace"):
        span = message.range_to_replace
        event: dict[str, Any] = {
            "type": "range_replace",
            "start_line_number": span.start_line_number,
            "end_line_number_inclusive": span.end_line_number_inclusive,
        }
        if message.HasField("binding_id"):
            event["binding_id"] = message.binding_id
        if message.HasField("should_remove_leading_eol"):
            event["should_remove_leading_eol"] = message.should_remove_leading_eol
        events.append(event)
    if message.text:
        events.append({"type": "text", "text": message.text})
    if message.HasField("cursor_prediction_target"):
        target = message.cursor_prediction_target
        prediction: dict[str, Any] = {
            "type": "cursor_prediction",
            "relative_path": target.relative_path,
            "line_number_one_indexed": target.line_number_one_indexed,
            "expected_content": target.expected_content,
            "should_retrigger_cpp": target.should_retrigger_cpp,
        }
        if message.HasField("binding_id"):
            prediction["binding_id"] = message.binding_id
        events.append(prediction)
    for flag in ("done_edit", "begin_edit", "done_stream"):
        if getattr(message, flag):
            events.append({"type": flag})
    debug = {key: getattr(message, name) for key, name in _DEBUG_FIELDS if message.HasField(name)}
    if debug:
        events.append({"type": "debug", **debug})
    return events


def sse(event: dict[str, Any]) -> bytes:
    """`event: <type>` then the one-line JSON, as the reference writes them."""
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event['type']}\ndata: {data}\n\n".encode()
