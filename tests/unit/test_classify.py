"""`classify_connect_error`: Cursor's Connect errors -> the gateway's error tree (2026 sheet §2).

Errors are built two ways: directly as `ConnectError`/`ErrorDetail`, and as the JSON a server sends
(base64 `aiserver.v1.ErrorDetails` plus `debug`), decoded by the codec. The shared synthetic end-stream
frame goes through the whole pure path: envelope -> end-stream JSON -> classify.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cursor_gateway.codec._gen.aiserver.v1 import errors_pb2
from cursor_gateway.codec.connect_error import (
    ConnectError,
    ErrorDetail,
    connect_error_from_json,
    parse_end_stream,
)
from cursor_gateway.codec.envelope import EnvelopeDecoder
from cursor_gateway.emulator.behaviour import FAILURES, connect_error
from cursor_gateway.errors import (
    ModelNotAllowed,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamUnavailable,
    UpstreamVersionGate,
)
from cursor_gateway.upstream.classify import classify_connect_error
from testdata import read_fixture

E = errors_pb2.ErrorCode


def detail_error(
    code: str, enum: int, title: str = "", detail: str = "", message: str = "Error"
) -> ConnectError:
    return ConnectError(
        code=code,
        message=message,
        details=(ErrorDetail(error_enum=enum, error_name=E.Name(enum), title=title, detail=detail),),
    )


def wire_error(code: str, enum: int | None = None, title: str = "", detail: str = "") -> ConnectError:
    """The same error as it arrives in an end-stream frame (base64 detail value + debug JSON)."""
    return connect_error_from_json(connect_error(code, enum, title, detail))


def assert_version_gate(exc: UpstreamError) -> None:
    assert type(exc) is UpstreamVersionGate
    assert exc.status == 502
    assert exc.retryable is False
    assert exc.blames_token is False
    assert exc.headers.get("x-should-retry") == "false"
    assert "CURSOR_CLIENT_VERSION" in exc.message


# --- enum 28: a gate, never a rate limit -------------------------------------------------------------


@pytest.mark.parametrize("build", [detail_error, wire_error])
def test_enum_28_update_required_is_version_gate(build: Callable[..., ConnectError]) -> None:
    err = build(
        "resource_exhausted",
        E.Value("ERROR_GPT_4_VISION_PREVIEW_RATE_LIMIT"),
        "Update Required",
        "Please update to the latest version of Cursor to continue using the Agent.",
    )
    exc = classify_connect_error(err)
    assert_version_gate(exc)
    assert "Update Required" in exc.message


@pytest.mark.parametrize("build", [detail_error, wire_error])
def test_enum_28_model_not_allowed_is_403(build: Callable[..., ConnectError]) -> None:
    err = build(
        "resource_exhausted",
        28,
        "Model not allowed",
        "This model is only available with Max mode. Enable Max mode or pick another model.",
    )
    exc = classify_connect_error(err)
    assert type(exc) is ModelNotAllowed
    assert exc.status == 403
    assert exc.code == "model_not_allowed"
    assert exc.error_type == "permission_error"
    assert exc.retryable is False
    assert "x-should-retry" not in exc.headers


def test_enum_28_model_not_allowed_with_upgrade_wording_is_still_model_not_allowed() -> None:
    # The shared fixture's text says "... only available with Max mode. Upgrade to version 0.50.0 ...":
    # the plan/mode gate, not a client-version gate.
    err = detail_error(
        "resource_exhausted",
        28,
        "Model not allowed",
        "Claude 4 Opus is only available with Max mode. Upgrade to version 0.50.0 to use these models.",
    )
    assert type(classify_connect_error(err)) is ModelNotAllowed


@pytest.mark.parametrize("enum", [E.Value("ERROR_OUTDATED_CLIENT"), E.Value("ERROR_DEPRECATED")])
@pytest.mark.parametrize("code", ["unimplemented", "resource_exhausted", "internal"])
def test_outdated_and_deprecated_enums_are_version_gates(enum: int, code: str) -> None:
    err = detail_error(code, enum, "Deprecated", "Request type deprecated")
    assert_version_gate(classify_connect_error(err))


def test_unimplemented_without_details_is_version_gate() -> None:
    assert_version_gate(classify_connect_error(ConnectError(code="unimplemented", message="no such RPC")))


@pytest.mark.parametrize("code", ["unimplemented", "failed_precondition", "resource_exhausted"])
def test_upgrade_text_without_enum_is_version_gate(code: str) -> None:
    err = ConnectError(code=code, message="This endpoint is deprecated. Please upgrade Cursor.")
    assert_version_gate(classify_connect_error(err))


# --- auth ----------------------------------------------------------------------------------------------

AUTH_ENUMS = [
    "ERROR_BAD_API_KEY",
    "ERROR_NOT_LOGGED_IN",
    "ERROR_INVALID_AUTH_ID",
    "ERROR_AUTH_TOKEN_NOT_FOUND",
    "ERROR_AUTH_TOKEN_EXPIRED",
    "ERROR_AGENT_REQUIRES_LOGIN",
    "ERROR_UNAUTHORIZED",
    "ERROR_BAD_USER_API_KEY",
]


def assert_auth(exc: UpstreamError) -> None:
    assert type(exc) is UpstreamAuthError
    assert exc.status == 401
    assert exc.blames_token is True
    assert exc.retryable is True


@pytest.mark.parametrize("name", AUTH_ENUMS)
def test_auth_enums(name: str) -> None:
    # Under a misleading code on purpose: the enum (the detail) decides, not the Connect code.
    assert_auth(classify_connect_error(detail_error("internal", E.Value(name), "Unauthorized", "log in")))


def test_unauthenticated_code_without_details() -> None:
    assert_auth(classify_connect_error(ConnectError(code="unauthenticated", message="Not logged in")))


# --- rate limits and quota -----------------------------------------------------------------------------

RATE_ENUMS = [
    "ERROR_FREE_USER_RATE_LIMIT_EXCEEDED",
    "ERROR_PRO_USER_RATE_LIMIT_EXCEEDED",
    "ERROR_OPENAI_RATE_LIMIT_EXCEEDED",
    "ERROR_OPENAI_ACCOUNT_LIMIT_EXCEEDED",
    "ERROR_GENERIC_RATE_LIMIT_EXCEEDED",
    "ERROR_API_KEY_RATE_LIMIT",
    "ERROR_RATE_LIMITED",
    "ERROR_RATE_LIMITED_CHANGEABLE",
]
QUOTA_ENUMS = [
    "ERROR_FREE_USER_USAGE_LIMIT",
    "ERROR_PRO_USER_USAGE_LIMIT",
    "ERROR_USAGE_PRICING_REQUIRED",
    "ERROR_USAGE_PRICING_REQUIRED_CHANGEABLE",
]


def assert_rate_limited(exc: UpstreamError) -> None:
    assert type(exc) is UpstreamRateLimited
    assert exc.status == 429
    assert exc.error_type == "rate_limit_error"
    assert exc.retryable is True
    assert exc.blames_token is True


@pytest.mark.parametrize("name", RATE_ENUMS)
def test_rate_enums(name: str) -> None:
    exc = classify_connect_error(detail_error("resource_exhausted", E.Value(name), "Rate limited", "slow"))
    assert_rate_limited(exc)
    assert exc.code == "rate_limit_exceeded"


@pytest.mark.parametrize("name", QUOTA_ENUMS)
def test_quota_enums(name: str) -> None:
    exc = classify_connect_error(detail_error("resource_exhausted", E.Value(name), "Usage limit", "hit"))
    assert_rate_limited(exc)
    assert exc.code == "insufficient_quota"


def test_resource_exhausted_without_details_is_rate_limited() -> None:
    assert_rate_limited(classify_connect_error(ConnectError(code="resource_exhausted", message="Too many")))


# --- bad request, overload, unknown --------------------------------------------------------------------


def test_bad_model_name_is_400_model_not_found() -> None:
    err = wire_error("not_found", E.Value("ERROR_BAD_MODEL_NAME"), "Bad model name", "Unknown model ID.")
    exc = classify_connect_error(err)
    assert type(exc) is UpstreamBadRequest
    assert exc.status == 400
    assert exc.code == "model_not_found"
    assert exc.param == "model"
    assert exc.retryable is False


def test_conversation_too_long_is_400_context_length() -> None:
    exc = classify_connect_error(detail_error("invalid_argument", E.Value("ERROR_CONVERSATION_TOO_LONG")))
    assert type(exc) is UpstreamBadRequest
    assert exc.code == "context_length_exceeded"


def test_high_load_enum_41_is_503() -> None:
    exc = classify_connect_error(wire_error("resource_exhausted", 41, "High Load", "We're busy."))
    assert type(exc) is UpstreamUnavailable
    assert exc.status == 503
    assert exc.retryable is True
    assert exc.blames_token is False


@pytest.mark.parametrize(
    "err",
    [
        ConnectError(code="unknown"),
        ConnectError(code="internal", message="No exec result"),
        detail_error("internal", E.Value("ERROR_CUSTOM_MESSAGE"), "Oops", "something"),
    ],
)
def test_unknown_is_502_retryable(err: ConnectError) -> None:
    exc = classify_connect_error(err)
    assert type(exc) is UpstreamError
    assert exc.status == 502
    assert exc.retryable is True
    assert exc.blames_token is False


def test_message_carries_cursor_text() -> None:
    exc = classify_connect_error(wire_error("resource_exhausted", 50, "Rate limited", "Too many requests."))
    assert exc.message.startswith("Cursor: ")
    assert "Rate limited" in exc.message
    assert "Too many requests" in exc.message


def test_every_emulator_failure_classifies_as_documented() -> None:
    # The fake's ready-made failures are what the contract tests use; pin their meaning here too.
    expected: dict[str, type[UpstreamError]] = {
        "unauthenticated": UpstreamAuthError,
        "rate_limited": UpstreamRateLimited,
        "usage_limit": UpstreamRateLimited,
        "update_required": UpstreamVersionGate,
        "model_not_allowed": ModelNotAllowed,
        "deprecated": UpstreamVersionGate,
        "bad_model": UpstreamBadRequest,
        "overloaded": UpstreamUnavailable,
        "internal": UpstreamError,
    }
    assert set(FAILURES) == set(expected)
    for name, error in FAILURES.items():
        assert type(classify_connect_error(connect_error_from_json(error))) is expected[name], name


# --- the shared synthetic end-stream frame -------------------------------------------------------------


def test_synthetic_error_endstream_fixture_is_model_not_allowed() -> None:
    decoder = EnvelopeDecoder()
    frames = decoder.feed(read_fixture("cursor-error-endstream.synthetic.bin"))
    decoder.finish()
    assert len(frames) == 1
    assert frames[0].end_stream
    err = parse_end_stream(frames[0].payload)
    assert err is not None
    assert err.code == "resource_exhausted"
    assert [d.error_enum for d in err.details] == [28]
    exc = classify_connect_error(err)
    # The reference maps this to 429; it is a plan/mode gate, so 403 and never retried.
    assert type(exc) is ModelNotAllowed
    assert exc.status == 403
    assert exc.code == "model_not_allowed"
    assert exc.retryable is False
    assert "Model not allowed" in exc.message
