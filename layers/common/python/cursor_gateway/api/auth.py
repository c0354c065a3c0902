"""Who is calling: FastAPI dependencies for the admin and chat routes (admin-api.md "Auth").

Missing or unknown credential -> 401; a valid credential without the right (the shared token or a
gateway key on an admin route) -> 403. Comparisons are constant-time. The errors.py classes are raised and
rendered by api.errors in the route's own envelope. The admin and shared keys come from
`services.api_keys` (settings locally, SSM in AWS).

The chat routes accept, in this order:
- the admin token (`AUTH_TOKEN`), or `AUTH_TOKEN-<alias>`, which pins that token of the pool;
- the shared token: `SHARED_TOKEN` (its SSM twin) or the stored config's `share_token`;
- a gateway key `cgk_<id>_<secret>` (`/build-key`): pinned to its token when it has one, with its
  per-key settings as `Caller.overrides`; revoked or unknown -> 401;
- only while the config's `enable_dynamic_key` is on, the reference's `sk-...` key (KEY_PREFIX): its
  token travels as `Caller.credential`, a transient credential that never joins the pool.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import Request

from cursor_gateway.api.deps import services_of
from cursor_gateway.domain.keys import PREFIX as GATEWAY_KEY_PREFIX
from cursor_gateway.domain.keys import parse_key
from cursor_gateway.domain.tokens import TokenRecord
from cursor_gateway.errors import AuthenticationFailed, GatewayError, PermissionDenied
from cursor_gateway.services.api_keys import ApiKeys

log = logging.getLogger("cursor_gateway.api.auth")

Role = Literal["admin", "shared", "key"]


@dataclass(frozen=True, slots=True)
class Caller:
    role: Role
    # A short, non-reversible fingerprint of the key used (keeps callers' conversations apart; safe to log).
    key_id: str = ""
    # One token this caller must use (`AUTH_TOKEN-<alias>`, or a gateway key bound to a token).
    pinned_alias: str = ""
    # Per-key overrides of the runtime config, named like its fields: vision_ability, enable_slow_pool,
    # include_web_references, usage_check_models, cursor_protocol; and of the token's context: proxy_name
    # (a proxy name for `services.proxies.resolve`), timezone, gcpp_host.
    overrides: Mapping[str, Any] = field(default_factory=dict)
    # A credential that comes with the key itself (the reference's `sk-` keys): use it instead of the
    # pool. Not stored anywhere, so health bookkeeping for it is best-effort.
    credential: TokenRecord | None = field(default=None, repr=False)
    # A gateway key's display name (request logs and usage statistics show it beside `key_id`).
    key_name: str = ""


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
    if _matches(token, keys.shared()) or _matches_share_token(request, token):
        raise PermissionDenied("The shared token cannot use the admin API")
    if parse_key(token) is not None:
        # Shaped like a gateway key: not checked against the store here (admin functions need no access
        # to the keys table), a key is never an admin credential either way.
        raise PermissionDenied("Gateway keys cannot use the admin API")
    if _pinned_alias(token, admin):
        raise PermissionDenied("AUTH_TOKEN-<alias> pins a token for chat; use AUTH_TOKEN on admin routes")
    raise AuthenticationFailed("Invalid credential")


def _pinned_alias(token: str, admin: str) -> str:
    """`<alias>` of `<AUTH_TOKEN>-<alias>`, else "" (the admin part compared in constant time)."""
    if not admin or len(token) < len(admin) + 2 or token[len(admin)] != "-":
        return ""
    return token[len(admin) + 1 :] if _matches(token[: len(admin)], admin) else ""


def _services(request: Request) -> Any:
    return services_of(request.app)


def _matches_share_token(request: Request, token: str) -> bool:
    """The stored config's share_token (best effort: a function that cannot read the config table, or a
    store that is down, means "no match", never a 5xx for a wrong key)."""
    try:
        share_token = _services(request).config.current().share_token
    except (GatewayError, AttributeError) as exc:
        log.debug("share_token not checked: %s", exc)
        return False
    return _matches(token, share_token)


async def require_chat_key(request: Request) -> Caller:
    # async on purpose: FastAPI runs a sync dependency in its thread pool, a hop per chat request.
    keys = api_keys(request)
    token = bearer_token(request) or request.headers.get("x-api-key", "").strip()
    if not token:
        raise AuthenticationFailed("Missing credential: send 'Authorization: Bearer <key>' or 'x-api-key'")
    admin = await keys.admin_async()
    if _matches(token, admin):
        return Caller("admin", key_fingerprint(token))
    alias = _pinned_alias(token, admin)
    if alias:
        return Caller("admin", key_fingerprint(token), pinned_alias=alias)
    if _matches(token, await keys.shared_async()):
        return Caller("shared", key_fingerprint(token))
    services = _services(request)
    if token.startswith(GATEWAY_KEY_PREFIX):
        key = await services.keys.authenticate(token)
        return Caller(
            "key",
            f"cgk-{key.id}",
            pinned_alias=key.token_alias,
            overrides=dict(key.settings),
            key_name=key.name,
        )
    config = services.config.current()
    if _matches(token, config.share_token):
        return Caller("shared", key_fingerprint(token))
    if token.startswith(services.settings.key_prefix):
        if not config.enable_dynamic_key:
            raise AuthenticationFailed("Dynamic keys are disabled (config enable_dynamic_key)")
        dynamic = services.keys.dynamic(token)
        return Caller(
            "key", f"sk-{dynamic.fingerprint}", overrides=dict(dynamic.overrides), credential=dynamic.record
        )
    raise AuthenticationFailed("Invalid API key")


# How api.openapi publishes who may call a route that depends on these.
setattr(require_admin, "__openapi_security__", [{"AdminBearer": []}])  # noqa: B010
setattr(require_chat_key, "__openapi_security__", [{"ChatBearer": []}, {"ChatApiKey": []}])  # noqa: B010
