"""The one place errors become HTTP responses.

The envelope follows the route's protocol: OpenAI `{"error": {message, type, param, code}}` under
`/v1/` (Anthropic's `{"type": "error", "error": {type, message}}` under `/v1/messages`), and the admin
`{"status": "error", "code", "error", "message"}` everywhere else. Validation failures are 400, never
FastAPI's 422; unexpected exceptions are logged with a request id and answered 500 without a traceback.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cursor_gateway.adapters import anthropic_response
from cursor_gateway.errors import GatewayError, InvalidRequest

log = logging.getLogger("cursor_gateway.api")

_STATUS_TYPES = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", "forbidden"),
    404: ("not_found_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    413: ("invalid_request_error", "payload_too_large"),
}


def envelope_kind(path: str) -> str:
    if path.startswith("/v1/messages"):
        return "anthropic"
    if path.startswith(("/v1/", "/cursor/")):  # /cursor/chat/completions answers like chat completions
        return "openai"
    return "admin"


def error_body(kind: str, exc: GatewayError) -> dict[str, Any]:
    if kind == "openai":
        return {
            "error": {"message": exc.message, "type": exc.error_type, "param": exc.param, "code": exc.code}
        }
    if kind == "anthropic":
        # Anthropic's own type names (request_too_large, overloaded_error, timeout_error ...).
        return anthropic_response.error_body(exc)
    return {"status": "error", "code": exc.status, "error": exc.code, "message": exc.message}


def error_headers(exc: GatewayError) -> dict[str, str]:
    headers = dict(exc.headers)
    if exc.retry_after is not None:
        headers["retry-after"] = str(max(1, math.ceil(exc.retry_after)))
    return headers


def render(request: Request, exc: GatewayError) -> JSONResponse:
    kind = envelope_kind(request.url.path)
    return JSONResponse(error_body(kind, exc), status_code=exc.status, headers=error_headers(exc))


def describe_validation(exc: RequestValidationError) -> tuple[str, str | None]:
    errors = exc.errors()
    if not errors:
        return "Invalid request body", None
    first = errors[0]
    if first.get("type") == "json_invalid":
        # The parser's reason (e.g. "lone leading surrogate in hex escape at line 1 column 12").
        reason = (first.get("ctx") or {}).get("error")
        return f"Request body is not valid JSON{f': {reason}' if reason else ''}", None
    param = _param(_common_location(errors))
    if first.get("type") == "missing":
        return f"Missing required parameter: '{param}'", param
    msg = str(first.get("msg", "invalid value"))
    return (f"Invalid value for '{param}': {msg}" if param else msg), param


def _common_location(errors: Any) -> list[Any]:
    """The location of the first error, cut where a union's alternatives part ways: `stop: 7` fails
    both `stop.str` and `stop.list[str]`, and the parameter to name is `stop`."""
    loc = [p for p in errors[0].get("loc", ()) if p != "body"]
    for other in errors[1:]:
        other_loc = [p for p in other.get("loc", ()) if p != "body"]
        if other_loc[:1] != loc[:1]:
            continue
        shared = 0
        while shared < min(len(loc), len(other_loc)) and loc[shared] == other_loc[shared]:
            shared += 1
        loc = loc[:shared]
    return loc


def _param(loc: list[Any]) -> str | None:
    """`messages[0].content`, the way OpenAI names a parameter."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or None


def install(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def _gateway(request: Request, exc: GatewayError) -> JSONResponse:
        return render(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, param = describe_validation(exc)
        return render(request, InvalidRequest(message, param=param))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error_type, code = _STATUS_TYPES.get(exc.status_code, ("api_error", "error"))
        err = GatewayError(str(exc.detail), status=exc.status_code, code=code)
        err.error_type = error_type
        return render(request, err)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return render(request, GatewayError("Internal server error"))
