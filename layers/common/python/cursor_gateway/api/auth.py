"""Who is calling: FastAPI dependencies for the admin and chat routes (admin-api.md "Auth").

Missing or unknown credential -> 401; a valid credential without the right (the shared token on an
admin route) -> 403. Comparisons are constant-time. The errors.py classes are raised and rendered by
api.errors in the route's own envelope. The keys come from `services.api_keys` (settings locally, SSM in
AWS); these dependencies are sync, so FastAPI runs a first, uncached SSM read in its thread pool.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import Request

from cursor_gateway.errors import AuthenticationFailed, PermissionDenied
from cursor_gateway.services.api_keys import ApiKeys

Role = Literal["admin", "shared", "key"]


@dataclass(frozen=True, slots=True)
class Caller:
    role: Role
    # A short, non-reversible fingerprint of the key used (keeps callers' conversations apart; safe to log).
    key_id: str = ""
    # One token this caller must use (`AUTH_TOKEN-<alias>`, or a gateway key bound to a token).
    pinned_alias: str = ""
    # Per-key overrides of the runtime config (e.g. cursor_protocol, vision_ability, proxy, timezone).
    overrides: Mapping[str, Any] = field(default_factory=dict)


def key_fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _matches(given: str, expected: str) -> bool:
    # An unset secret must never match, not even an empty credential.
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def bearer_token(request: Request) -> str:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def api_keys(request: Request) -> ApiKeys:
    """The app's keys, made on first use (no I/O until a key is needed) and kept for the process."""
    state = request.app.state
    keys: ApiKeys | None = getattr(state, "api_keys", None)
    if keys is None:
        keys = state.api_keys = ApiKeys(state.settings)
    return keys


def is_admin(request: Request) -> bool:
    token = bearer_token(request)
    return bool(token) and _matches(token, api_keys(request).admin())


def require_admin(request: Request) -> Caller:
    keys = api_keys(request)
    admin = keys.admin()
    if not admin:
        raise AuthenticationFailed("Admin API is disabled: AUTH_TOKEN is not configured")
    token = bearer_token(request)
    if not token:
        raise AuthenticationFailed("Missing credential: send 'Authorization: Bearer <AUTH_TOKEN>'")
    if _matches(token, admin):
        return Caller("admin")
    if _matches(token, keys.shared()):
        raise PermissionDenied("The shared token cannot use the admin API")
    raise AuthenticationFailed("Invalid credential")


async def require_chat_key(request: Request) -> Caller:
    # async on purpose: FastAPI runs a sync dependency in its thread pool, a hop per chat request.
    keys = api_keys(request)
    token = bearer_token(request) or request.headers.get("x-api-key", "").strip()
    if not token:
        raise AuthenticationFailed("Missing credential: send 'Authorization: Bearer <key>' or 'x-api-key'")
    if _matches(token, await keys.admin_async()):
        return Caller("admin", key_fingerprint(token))
    if _matches(token, await keys.shared_async()):
        return Caller("shared", key_fingerprint(token))
    raise AuthenticationFailed("Invalid API key")
