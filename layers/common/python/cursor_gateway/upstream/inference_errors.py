"""Classifying the errors a RunInference run reports in-band (pure; 2026 sheet §5.3): an `error`
response part, and the Connect-shaped error of an `invocation_end`.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError

from cursor_gateway.codec._gen.aiserver.v1 import errors_pb2
from cursor_gateway.codec._gen.aiserver.v1 import inference_pb2 as pb
from cursor_gateway.codec.connect_error import ConnectError, ErrorDetail
from cursor_gateway.errors import (
    ModelNotAllowed,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from cursor_gateway.upstream.classify import classify_connect_error

_TYPE_NAMES = {
    pb.INFERENCE_ERROR_TYPE_INPUT_TOKEN_LIMIT: "input token limit",
    pb.INFERENCE_ERROR_TYPE_OUTPUT_TOKEN_LIMIT: "output token limit",
    pb.INFERENCE_ERROR_TYPE_RATE_LIMIT: "rate limit",
    pb.INFERENCE_ERROR_TYPE_AUTHENTICATION: "authentication",
    pb.INFERENCE_ERROR_TYPE_PERMISSION: "permission",
    pb.INFERENCE_ERROR_TYPE_OVERLOADED: "overloaded",
    pb.INFERENCE_ERROR_TYPE_CONTENT_FILTER: "content filter",
}


def is_output_limit(error: pb.InferenceError) -> bool:
    return error.error_type == pb.INFERENCE_ERROR_TYPE_OUTPUT_TOKEN_LIMIT or error.is_output_token_limit_error


def classify_response_error(error: pb.InferenceError) -> UpstreamError:
    """An `error` response part, by its type first (2026 sheet §5.3), then by its flags and text."""
    kind = error.error_type
    label = _TYPE_NAMES.get(kind, "error")
    text = error.message or error.code or label
    message = f"Cursor ({label}): {text}".rstrip(".")
    if kind == pb.INFERENCE_ERROR_TYPE_INPUT_TOKEN_LIMIT or (
        kind not in _TYPE_NAMES and error.is_input_token_limit_error
    ):
        return UpstreamBadRequest(message, code="context_length_exceeded", param="messages")
    if is_output_limit(error):
        return UpstreamBadRequest(message, code="output_limit_exceeded", param="max_tokens")
    if kind == pb.INFERENCE_ERROR_TYPE_RATE_LIMIT:
        return UpstreamRateLimited(message)
    if kind == pb.INFERENCE_ERROR_TYPE_AUTHENTICATION:
        return UpstreamAuthError(message, code="upstream_auth_failed")
    if kind == pb.INFERENCE_ERROR_TYPE_PERMISSION:
        return ModelNotAllowed(message)
    if kind == pb.INFERENCE_ERROR_TYPE_OVERLOADED:
        return UpstreamUnavailable(message, code="upstream_overloaded")
    if kind == pb.INFERENCE_ERROR_TYPE_CONTENT_FILTER:
        return UpstreamBadRequest(message, code="content_filter")
    # Untyped: read it like a Connect error (a Connect code string, upgrade wording, ...).
    return classify_connect_error(ConnectError(code=error.code or "unknown", message=error.message))


def classify_invocation_end_error(error: pb.RunInferenceInvocationError) -> UpstreamError:
    """`invocation_end.error`: Connect-shaped (code, message, details). Details that decode as
    `aiserver.v1.ErrorDetails` take part in the classification like an end-stream error's would."""
    details: list[ErrorDetail] = []
    for raw in error.details:
        try:
            detail = errors_pb2.ErrorDetails.FromString(raw)
        except DecodeError:
            continue
        if detail.error or detail.details.title or detail.details.detail:
            name = (
                errors_pb2.ErrorCode.Name(detail.error)
                if detail.error in errors_pb2.ErrorCode.values()
                else ""
            )
            details.append(
                ErrorDetail(
                    error_enum=int(detail.error),
                    error_name=name or f"ERROR_{int(detail.error)}",
                    title=detail.details.title,
                    detail=detail.details.detail,
                    is_expected=detail.is_expected,
                )
            )
    return classify_connect_error(
        ConnectError(code=error.code or "unknown", message=error.message, details=tuple(details))
    )
