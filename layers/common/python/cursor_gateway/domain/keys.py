"""Gateway keys (`POST /build-key`, `GET /keys`, `POST /keys/revoke`), pure.

A key is `cgk_<id>_<secret>`: `id` (16 hex) names the stored item, `secret` (43 URL-safe characters,
256 random bits) is checked against the stored SHA-256 of it. The secret itself is never stored or
shown again; a plain hash suffices because the secret is random and long (nothing to brute-force), and
the comparison is constant-time. A key is revocable: revoking marks the item, and the key answers 401
from then on. It carries per-key settings (validated with the runtime config's own rules) and optionally
a pinned token of the pool.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cursor_gateway.domain.config import RuntimeConfig, apply_update
from cursor_gateway.domain.tokens import is_valid_timezone
from cursor_gateway.errors import InvalidRequest

PREFIX = "cgk_"
_KEY = re.compile(r"^cgk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})+$")
GCPP_REGIONS = ("Asia", "EU", "US")
# Config fields a key may override, checked by the config's rules.
CONFIG_OVERRIDES = (
    "vision_ability",
    "enable_slow_pool",
    "include_web_references",
    "usage_check_models",
    "cursor_protocol",
)
# The reference's usage_check_models types inside a key -> ours.
_REFERENCE_USAGE = {"default": "default", "disabled": "none", "all": "all", "custom": "list"}


@dataclass(frozen=True, slots=True)
class GatewayKey:
    id: str
    secret_hash: str = field(repr=False)
    token_alias: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""
    created_at: float = 0.0
    last_used_at: float = 0.0
    revoked_at: float = 0.0

    @property
    def revoked(self) -> bool:
        return self.revoked_at > 0

    def public_json(self) -> dict[str, Any]:
        """What `GET /keys` shows: never the secret (nor its hash)."""
        return {
            "id": self.id,
            "name": self.name,
            "token_alias": self.token_alias or None,
            "settings": dict(self.settings),
            "created_at": self.created_at,
            "last_used_at": self.last_used_at or None,
            "revoked": self.revoked,
            "revoked_at": self.revoked_at or None,
        }


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key() -> tuple[str, str, str]:
    """(key, id, secret_hash) of a fresh key."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return f"{PREFIX}{key_id}_{secret}", key_id, hash_secret(secret)


def parse_key(text: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed gateway key, else None."""
    match = _KEY.match(text)
    return (match.group(1), match.group(2)) if match else None


def secret_matches(secret: str, stored_hash: str) -> bool:
    return bool(stored_hash) and hmac.compare_digest(hash_secret(secret), stored_hash)


def key_settings(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The per-key settings of a `/build-key` body, validated: config overrides (`vision_ability`, or the
    reference's `disable_vision`; `enable_slow_pool`, `include_web_references`, `usage_check_models` in
    the reference's `{type: default|disabled|all|custom, model_ids}` or our `{type, content}` shape;
    `cursor_protocol`) and the token's context (`proxy_name`, `timezone`, `gcpp_host`)."""
    changes: dict[str, Any] = {}
    if payload.get("disable_vision") is not None:
        if not isinstance(payload["disable_vision"], bool):
            raise InvalidRequest("disable_vision must be true or false", param="disable_vision")
        if payload["disable_vision"]:
            changes["vision_ability"] = "none"
    for name in CONFIG_OVERRIDES:
        value = payload.get(name)
        if value is None:
            continue
        if name == "vision_ability" and "vision_ability" in changes and value != "none":
            raise InvalidRequest("disable_vision and vision_ability disagree", param="vision_ability")
        changes[name] = _usage_check(value) if name == "usage_check_models" else value
    apply_update(RuntimeConfig(), changes)  # InvalidRequest naming the field when a value is wrong
    settings = dict(changes)
    for name in ("proxy_name", "timezone", "gcpp_host"):
        value = payload.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise InvalidRequest(f"{name} must be a string", param=name)
        settings[name] = value.strip()
    if "timezone" in settings and not is_valid_timezone(settings["timezone"]):
        raise InvalidRequest("timezone must be an IANA zone name such as Europe/Paris", param="timezone")
    if "gcpp_host" in settings:
        settings["gcpp_host"] = _gcpp_host(settings["gcpp_host"])
    return settings


def _usage_check(value: Any) -> Any:
    if isinstance(value, Mapping) and "model_ids" in value:
        kind = _REFERENCE_USAGE.get(str(value.get("type")))
        ids = value.get("model_ids")
        if kind is None or not isinstance(ids, str | list):
            raise InvalidRequest(
                'usage_check_models must be {"type": default|disabled|all|custom, "model_ids": "a,b"}',
                param="usage_check_models",
            )
        content = ",".join(ids) if isinstance(ids, list) else ids
        return {"type": kind, "content": content}
    if isinstance(value, Mapping) and value.get("type") in _REFERENCE_USAGE and "content" not in value:
        return {"type": _REFERENCE_USAGE[str(value["type"])], "content": ""}
    return value


def normalize_gcpp_host(value: str) -> str:
    """`Asia`/`EU`/`US` (any case) or a host name (a leading `https://` dropped); else InvalidRequest."""
    return _gcpp_host(value.strip().removeprefix("https://").rstrip("/"))


def _gcpp_host(value: str) -> str:
    for region in GCPP_REGIONS:
        if value.lower() == region.lower():
            return region
    if _HOST.match(value):
        return value.lower()
    raise InvalidRequest("gcpp_host must be Asia, EU, US or a host name", param="gcpp_host")
