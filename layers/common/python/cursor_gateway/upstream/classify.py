"""Turn Cursor's Connect errors into the gateway's error tree (pure; fact sheet §3.3 + 2026 §2).

Differences from the reference, on purpose: the status comes from the error *meaning*, not the enum
alone. Enum 28 (`ERROR_GPT_4_VISION_PREVIEW_RATE_LIMIT`) is a gate, never a rate limit: with an
upgrade text it is a version/RPC gate (502, not retried, names the setting to bump), otherwise the
account's plan or mode does not allow the model (403 model_not_allowed). The non-standard 533 is 502.
"""

from __future__ import annotations

import re

from cursor_gateway.codec.connect_error import ConnectError
from cursor_gateway.errors import (
    ModelNotAllowed,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
    UpstreamVersionGate,
)

VERSION_SETTING_HINT = (
    "Cursor refused this client version or RPC. Set CURSOR_CLIENT_VERSION to a current Cursor build "
    "(see docs/protocol.md, 'When Cursor changes')."
)
_UPGRADE_TEXT = re.compile(r"update required|outdated|upgrade|deprecated|latest version|too old", re.I)
# Plan/mode refusals can also say "Upgrade to version X" ("Model not allowed ... only available with Max
# mode. Upgrade to ..."): naming the model gate wins over the upgrade wording.
_MODEL_GATE_TEXT = re.compile(r"model not allowed|max mode", re.I)

_AUTH = {1, 2, 3, 11, 12, 18, 38, 42}
_RATE = {7, 8, 14, 15, 22, 34, 50, 51}
_QUOTA = {9, 10, 44, 45}
_PLAN = {4, 17, 23}
_BAD_REQUEST = {5, 20, 26, 27, 31, 36, 43}
_GATE = {30, 40}


def classify_connect_error(err: ConnectError) -> UpstreamError:
    text = err.describe()
    message = (f"Cursor: {text}" if text else "Cursor returned an error").rstrip(".")
    enums = [d.error_enum for d in err.details if d.error_enum is not None]
    all_text = " ".join([err.message, *(f"{d.title} {d.detail}" for d in err.details)])

    for enum in enums:
        mapped = _by_enum(enum, err, message, all_text)
        if mapped is not None:
            return mapped
    return _by_code(err, message, all_text)


def _by_enum(enum: int, err: ConnectError, message: str, all_text: str) -> UpstreamError | None:
    if enum == 28:
        if _UPGRADE_TEXT.search(all_text) and not _MODEL_GATE_TEXT.search(all_text):
            return UpstreamVersionGate(f"{message}. {VERSION_SETTING_HINT}")
        return ModelNotAllowed(f"{message}. The account's plan or mode does not allow this model.")
    if enum in _GATE:
        return UpstreamVersionGate(f"{message}. {VERSION_SETTING_HINT}")
    if enum in _AUTH:
        return UpstreamAuthError(message, code="upstream_auth_failed")
    if enum in _RATE:
        return UpstreamRateLimited(message)
    if enum in _QUOTA:
        return UpstreamRateLimited(message, code="insufficient_quota")
    if enum in _PLAN:
        return ModelNotAllowed(message)
    if enum == 5:
        return UpstreamBadRequest(message, code="model_not_found", param="model")
    if enum == 43:
        return UpstreamBadRequest(message, code="context_length_exceeded", param="messages")
    if enum in _BAD_REQUEST:
        return UpstreamBadRequest(message)
    if enum == 41:
        return UpstreamUnavailable(message, code="upstream_overloaded")
    if enum == 25:
        return UpstreamTimeout(message)
    return None


def _by_code(err: ConnectError, message: str, all_text: str) -> UpstreamError:
    code = err.code
    if code in ("unimplemented", "failed_precondition", "resource_exhausted") and _UPGRADE_TEXT.search(
        all_text
    ):
        return UpstreamVersionGate(f"{message}. {VERSION_SETTING_HINT}")
    if code == "unauthenticated":
        return UpstreamAuthError(message, code="upstream_auth_failed")
    if code == "permission_denied":
        return ModelNotAllowed(message)
    if code == "resource_exhausted":
        return UpstreamRateLimited(message)
    if code in ("unavailable", "aborted"):
        return UpstreamUnavailable(message)
    if code == "deadline_exceeded":
        return UpstreamTimeout(message)
    if code in ("invalid_argument", "not_found", "out_of_range", "already_exists"):
        return UpstreamBadRequest(message)
    if code == "unimplemented":
        return UpstreamVersionGate(f"{message}. {VERSION_SETTING_HINT}")
    if code == "data_loss":
        return UpstreamProtocolError(message)
    return UpstreamError(message)
