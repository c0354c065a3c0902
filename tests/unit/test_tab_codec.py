"""The Tab routes' pure parts: JSON <-> protobuf with the reference's rules, Cursor's errors by table 5.4,
and one StreamCppResponse -> SSE events in the reference's order."""

from __future__ import annotations

import base64
import json

import pytest
from cursor_gateway.adapters.tab_events import events_of, sse
from cursor_gateway.codec._gen.aiserver.v1 import errors_pb2
from cursor_gateway.codec._gen.aiserver.v1 import tab_pb2 as pb
from cursor_gateway.codec.tab_errors import STATUS_BY_ERROR, error_type, tab_error
from cursor_gateway.codec.tab_json import message_from_json, message_to_json
from cursor_gateway.errors import InvalidRequest


def detail(enum: int, title: str = "", text: str = "", info: dict[str, str] | None = None) -> dict[str, str]:
    message = errors_pb2.ErrorDetails(
        error=enum,  # type: ignore[arg-type]
        details=errors_pb2.CustomErrorDetails(title=title, detail=text, additional_info=info or {}),
    )
    value = base64.b64encode(message.SerializeToString()).decode().rstrip("=")  # Cursor drops the padding
    return {"type": "aiserver.v1.ErrorDetails", "value": value}


def test_json_in_accepts_snake_and_camel_case_enum_names_and_numbers_and_ignores_unknown_keys() -> None:
    message = message_from_json(
        pb.StreamCppRequest,
        {
            "current_file": {"relativeWorkspacePath": "a.py", "diagnostics": [{"severity": "warning"}]},
            "control_token": 3,
            "linter_errors": {"errors": [{"severity": "DIAGNOSTIC_SEVERITY_HINT"}]},
            "client_time": 1733000000000,
            "model_name": None,
            "no_such_field": {"anything": 1},
        },
    )
    assert isinstance(message, pb.StreamCppRequest)
    assert message.current_file.relative_workspace_path == "a.py"
    assert message.current_file.diagnostics[0].severity == pb.Diagnostic.DIAGNOSTIC_SEVERITY_WARNING
    assert message.control_token == pb.StreamCppRequest.CONTROL_TOKEN_OP
    assert message.linter_errors.errors[0].severity == pb.Diagnostic.DIAGNOSTIC_SEVERITY_HINT
    assert message.client_time == 1733000000000.0 and not message.HasField("model_name")
    # The hash under the name older clients used still arrives.
    hashed = message_from_json(pb.StreamCppRequest, {"current_file": {"sha256_hash": "ab"}})
    assert isinstance(hashed, pb.StreamCppRequest) and hashed.current_file.sha_256_hash == "ab"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"current_file": []}, "current_file"),
        ({"diff_history": "1+| x"}, "diff_history"),
        ({"current_file": {"total_number_of_lines": 2**31}}, "current_file.total_number_of_lines"),
        (
            {"file_diff_histories": [{"diff_history_timestamps": ["now"]}]},
            "file_diff_histories[0].diff_history_timestamps[0]",
        ),
        ({"is_nightly": "yes"}, "is_nightly"),
        ({"control_token": 9}, "control_token"),
    ],
)
def test_json_in_type_errors_name_the_field(body: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        message_from_json(pb.StreamCppRequest, body)
    assert caught.value.param == param and param in caught.value.message


def test_json_out_skips_unset_optionals_defaults_and_empty_lists_and_names_enums() -> None:
    answer = pb.CppConfigResponse(
        above_radius=0,  # optional, set: kept even at 0
        heuristics=[pb.CppConfigResponse.HEURISTIC_REVERTING_USER_CHANGE],
        check_filesync_hash_percent=0.3,
        enable_rvf_tracking=False,  # plain scalar at its default: left out
    )
    assert message_to_json(answer) == {
        "above_radius": 0,
        "heuristics": ["reverting_user_change"],
        "check_filesync_hash_percent": 0.3,
    }
    assert message_to_json(pb.FSSyncFileResponse()) == {}
    assert message_to_json(pb.FSSyncFileResponse(error=pb.FS_SYNC_ERROR_TYPE_NON_EXISTANT)) == {
        "error": "non_existant"
    }
    unknown = pb.FSUploadFileResponse.FromString(b"\x08\x07")  # an enum value newer than our schema
    assert message_to_json(unknown) == {"error": 7}


def test_table_5_4_covers_every_error_code_once() -> None:
    assert set(STATUS_BY_ERROR) == set(errors_pb2.ErrorCode.values())
    assert STATUS_BY_ERROR[12] == 401 and STATUS_BY_ERROR[30] == 410 and STATUS_BY_ERROR[35] == 533
    assert error_type(28) == "gpt4_vision_preview_rate_limit" and error_type(30) == "outdated_client"
    assert error_type(999) == "unknown"


def test_errors_map_to_status_type_and_details_the_reference_way() -> None:
    expired = tab_error({"code": "unauthenticated", "details": [detail(12, "Expired", "Log in", {"k": "v"})]})
    assert (expired.status, expired.type) == (401, "auth_token_expired")
    assert expired.details == {"title": "Expired", "detail": "Log in", "additionalInfo": {"k": "v"}}
    assert json.loads(expired.unary_body()["message"]) == {
        "code": "unauthenticated",
        "details": expired.details,
    }
    assert expired.sse_event()["error"]["code"] == 401

    both = tab_error({"code": "resource_exhausted", "details": [detail(50, "A", "a"), detail(10, "B", "b")]})
    assert (both.status, both.type, both.details) == (
        503,
        "pro_user_usage_limit",
        {"title": "A&B", "detail": "a&b"},
    )

    bare = tab_error({"code": "internal", "message": "boom"})
    assert (bare.status, bare.type, bare.details) == (500, "unknown", None)
    assert bare.unary_body() == {"status": "error", "code": 500, "error": "unknown", "message": "internal"}
    assert bare.sse_event() == {"type": "error", "error": {"code": 500, "type": "unknown", "details": None}}


def test_one_response_message_gives_its_events_in_the_fixed_order() -> None:
    message = pb.StreamCppResponse(
        text="x = 1",
        model_info=pb.StreamCppResponse.ModelInfo(is_fused_cursor_prediction_model=True),
        range_to_replace=pb.LineRange(start_line_number=3, end_line_number_inclusive=4),
        cursor_prediction_target=pb.StreamCppResponse.CursorPredictionTarget(
            relative_path="a.py", line_number_one_indexed=9
        ),
        done_edit=True,
        begin_edit=True,
        done_stream=True,
        binding_id="b1",
        debug_ttft_time="5ms",
        suggestion_confidence=80,  # ignored, as in the reference
    )
    events = events_of(message)
    assert [e["type"] for e in events] == [
        "model_info", "range_replace", "text", "cursor_prediction", "done_edit", "begin_edit", "done_stream", "debug",
    ]  # fmt: skip
    assert events[1] == {
        "type": "range_replace",
        "start_line_number": 3,
        "end_line_number_inclusive": 4,
        "binding_id": "b1",
    }
    assert events[3]["binding_id"] == "b1" and events[7] == {"type": "debug", "ttft_time": "5ms"}
    assert events_of(pb.StreamCppResponse()) == []
    assert (
        sse({"type": "text", "text": "é\n"})
        == 'event: text\ndata: {"type":"text","text":"é\\n"}\n\n'.encode()
    )
