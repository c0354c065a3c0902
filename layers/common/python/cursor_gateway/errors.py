"""The one error tree. Each boundary translates into it (`raise ... from exc`); `api.errors` renders it
once, into the OpenAI, Anthropic or admin envelope.

    GatewayError                      status  type / code
    ├── InvalidRequest                400     invalid_request_error
    │   └── UnsupportedParameter      400     invalid_request_error / unsupported_parameter
    ├── PayloadTooLarge               413     invalid_request_error / payload_too_large
    ├── AuthenticationFailed          401     authentication_error
    ├── PermissionDenied              403     permission_error
    ├── NotFound                      404     not_found_error
    ├── Conflict                      409     conflict
    ├── NoAvailableTokens             503     no_available_tokens (429 + Retry-After when all cool down)
    └── UpstreamError                 502     upstream_error       (Cursor answered badly or not at all)
        ├── UpstreamAuthError         401*    token dead/unauthenticated; retry on another token
        ├── UpstreamRateLimited       429     quota / rate limit; retry on another token, cool the token down
        ├── UpstreamUnavailable       503     overload / transport / reset; retry on another token
        ├── UpstreamTimeout           504     no answer in time; retry on another token
        ├── UpstreamBadRequest        400     Cursor rejected the request (bad model name, too long ...)
        ├── ModelNotAllowed           403     the account's plan/mode does not allow the model (never retried)
        ├── UpstreamVersionGate       502     "Update Required" / retired RPC: bump a setting (never retried)
        ├── UpstreamEmptyTurn         502     HTTP 200 and a turn end with nothing in it (blocked account)
        └── UpstreamProtocolError     502     undecodable frames, unexpected content type

`retryable` means: before the first byte reached the client, the chat service may try another token.
`blames_token` means the failure says something about the token itself (health bookkeeping).
(*) After all tokens failed with auth errors the client sees 502: its own key was fine.
"""

from __future__ import annotations


class GatewayError(Exception):
    status: int = 500
    error_type: str = "api_error"
    code: str = "internal_error"
    retryable: bool = False
    blames_token: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.param = param
        self.retry_after = retry_after
        self.headers = dict(headers or {})


class InvalidRequest(GatewayError):
    status = 400
    error_type = "invalid_request_error"
    code = "invalid_request"


class UnsupportedParameter(InvalidRequest):
    code = "unsupported_parameter"


class PayloadTooLarge(GatewayError):
    status = 413
    error_type = "invalid_request_error"
    code = "payload_too_large"


class AuthenticationFailed(GatewayError):
    status = 401
    error_type = "authentication_error"
    code = "invalid_api_key"


class PermissionDenied(GatewayError):
    status = 403
    error_type = "permission_error"
    code = "forbidden"


class NotFound(GatewayError):
    status = 404
    error_type = "not_found_error"
    code = "not_found"


class Conflict(GatewayError):
    status = 409
    error_type = "conflict_error"
    code = "conflict"


class NoAvailableTokens(GatewayError):
    status = 503
    error_type = "api_error"
    code = "no_available_tokens"


class UpstreamError(GatewayError):
    status = 502
    error_type = "api_error"
    code = "upstream_error"
    retryable = True


class UpstreamAuthError(UpstreamError):
    status = 401
    error_type = "authentication_error"
    code = "upstream_unauthenticated"
    blames_token = True


class UpstreamRateLimited(UpstreamError):
    status = 429
    error_type = "rate_limit_error"
    code = "rate_limit_exceeded"
    blames_token = True
    # The model class the limit applies to when Cursor's text names one ("" = the whole account).
    scope: str = ""


class UpstreamUnavailable(UpstreamError):
    status = 503
    error_type = "api_error"
    code = "upstream_unavailable"


class UpstreamTimeout(UpstreamError):
    status = 504
    error_type = "api_error"
    code = "upstream_timeout"


class UpstreamBadRequest(UpstreamError):
    status = 400
    error_type = "invalid_request_error"
    code = "upstream_bad_request"
    retryable = False


class ModelNotAllowed(UpstreamError):
    status = 403
    error_type = "permission_error"
    code = "model_not_allowed"
    retryable = False


class UpstreamVersionGate(UpstreamError):
    status = 502
    error_type = "api_error"
    code = "upstream_version_gate"
    retryable = False

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message, headers=headers)
        self.headers.setdefault("x-should-retry", "false")


class UpstreamEmptyTurn(UpstreamError):
    """Since September 2026 a blocked account gets HTTP 200, a turn end and nothing else. That is not an
    answer: it fails closed, counts like a soft failure and moves to another token."""

    code = "empty_turn"


class UpstreamProtocolError(UpstreamError):
    code = "upstream_protocol_error"
    retryable = False
