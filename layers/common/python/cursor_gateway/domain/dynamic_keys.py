"""The reference's self-describing dynamic keys (`sk-...`, cursor-protocol.md §6), pure.

A key is KEY_PREFIX + b64x(KeyConfig protobuf): no compression, no encryption, no signature of its own;
whoever holds it holds the Cursor token inside. `b64x` is base64 bit packing without padding over a
permuted alphabet. The JWT is rebuilt from its parts with the reference's fixed header and claim order
(§6.2), which reproduces the original token only if Cursor serialised it the same way: a limit of the key
format, not of this code (our own `cgk_` keys store the token itself).

Used only when `enable_dynamic_key` is on. The key's token never joins the pool: it becomes a transient
credential (`DynamicKey.record`) for the requests made with that key, so one user's account never serves
another user, as in the reference.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError

from cursor_gateway.codec._gen.key import key_config_pb2
from cursor_gateway.domain.tokens import SUPPORTED_PROVIDERS, TokenRecord, decode_jwt_claims

B64X = "-AaBbCcDdEeFfGgHhIiJjKkLlMmNnOoPpQqRrSsTtUuVvWwXxYyZz1032547698_"
_STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_TO_B64X = str.maketrans(_STANDARD, B64X)
_FROM_B64X = str.maketrans(B64X, _STANDARD)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

JWT_HEADER = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"  # {"alg":"HS256","typ":"JWT"}
ISSUER = "https://authentication.cursor.sh"
SCOPE = "openid profile email offline_access"
AUDIENCE = "https://cursor.com"
GCPP_HOSTS = ("Asia", "EU", "US")

KeyConfig = key_config_pb2.KeyConfig
_USAGE = KeyConfig.UsageCheckModel


class DynamicKeyError(ValueError):
    pass


def b64x_encode(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=").translate(_TO_B64X)


def b64x_decode(text: str) -> bytes:
    if len(text) % 4 == 1 or any(c not in B64X for c in text):
        raise DynamicKeyError("not b64x")
    standard = text.translate(_FROM_B64X)
    try:
        return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except binascii.Error as exc:
        raise DynamicKeyError("not b64x") from exc


# --- user ids ----------------------------------------------------------------------------------------


def user_id_to_sub_id(user_id: str) -> bytes:
    """`user_<ULID>` -> the ULID's 128-bit integer, little-endian; a legacy 24-hex id -> its 12 bytes at
    positions 4..15 (§7.1)."""
    if user_id.startswith("user_") and len(user_id) == 31:
        value = 0
        for char in user_id[5:].upper():
            index = _CROCKFORD.find(char)
            if index < 0:
                raise DynamicKeyError(f"'{user_id}' is not a ULID user id")
            value = value * 32 + index
        if value >= 1 << 128:
            raise DynamicKeyError(f"'{user_id}' is not a ULID user id")
        return value.to_bytes(16, "little")
    try:
        raw = bytes.fromhex(user_id)
    except ValueError:
        raw = b""
    if len(raw) != 12:
        raise DynamicKeyError(f"user id '{user_id}' is neither user_<ULID> nor 24 hex")
    return bytes(4) + raw


def sub_id_to_user_id(sub_id: bytes) -> str:
    if len(sub_id) != 16:
        raise DynamicKeyError("sub_id must be 16 bytes")
    if sub_id[:4] == bytes(4) and any(sub_id[4:]):
        return sub_id[4:].hex()  # legacy 24-hex id (a ULID with 32 zero low bits is not expected)
    value = int.from_bytes(sub_id, "little")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "user_" + "".join(reversed(chars))


# --- key <-> credentials --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DynamicKey:
    """What a dynamic key carries: a transient token record and the key's config overrides."""

    fingerprint: str
    record: TokenRecord = field(repr=False)
    overrides: Mapping[str, Any] = field(default_factory=dict)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _uuid(raw: bytes, what: str) -> str:
    if len(raw) != 16:
        raise DynamicKeyError(f"{what} must be 16 bytes")
    return str(uuid.UUID(bytes=raw))


def rebuild_jwt(token: Any) -> str:
    """The JWT from KeyConfig.Token, exactly as the reference rebuilds it (§6.2)."""
    if len(token.randomness) != 8:
        raise DynamicKeyError("randomness must be 8 bytes")
    if len(token.signature) != 32:
        raise DynamicKeyError("signature must be 32 bytes")
    hexed = token.randomness.hex()
    payload = {
        "sub": f"{token.provider}|{sub_id_to_user_id(token.sub_id)}",
        "time": str(token.start),
        "randomness": f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:]}",
        "exp": token.end,
        "iss": ISSUER,
        "scope": SCOPE,
        "aud": AUDIENCE,
        "type": "session" if token.is_session else "web",
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    return f"{JWT_HEADER}.{_b64url(body)}.{_b64url(token.signature)}"


def decode_key(key: str, prefix: str, now: float) -> DynamicKey:
    """A dynamic key -> its credential and overrides; DynamicKeyError says why it is unusable."""
    if not key.startswith(prefix):
        raise DynamicKeyError("not a dynamic key")
    try:
        config = KeyConfig.FromString(b64x_decode(key[len(prefix) :]))
    except DecodeError as exc:
        raise DynamicKeyError("not a KeyConfig") from exc
    if not config.HasField("token_info") or not config.token_info.HasField("token"):
        raise DynamicKeyError("the key has no token")
    info = config.token_info
    token = info.token
    if token.provider not in SUPPORTED_PROVIDERS:
        raise DynamicKeyError(f"identity provider '{token.provider}' is not supported")
    if token.end <= now:
        raise DynamicKeyError("the key's Cursor token has expired")
    if len(info.checksum) != 64 or len(info.client_key) != 32:
        raise DynamicKeyError("checksum must be 64 bytes and client_key 32")
    jwt = rebuild_jwt(token)
    fingerprint = hashlib.sha256(key.encode()).hexdigest()[:16]
    config_version = _uuid(info.config_version, "config_version") if info.HasField("config_version") else ""
    gcpp = GCPP_HOSTS[info.gcpp_host] if info.HasField("gcpp_host") and 0 <= info.gcpp_host < 3 else ""
    record = TokenRecord(
        alias=f"sk-{fingerprint[:12]}",
        kind="session",
        primary_token=jwt,
        checksum_first=info.checksum[:32].hex(),
        checksum_second=info.checksum[32:].hex(),
        client_key=info.client_key.hex(),
        session_id=_uuid(info.session_id, "session_id"),
        config_version=config_version,
        timezone=info.timezone,
        proxy=info.proxy_name,
        gcpp_host=gcpp,
        user_id=sub_id_to_user_id(token.sub_id),
        token_type="session" if token.is_session else "web",
        expires_at=float(token.end),
        created_at=float(token.start),
    )
    return DynamicKey(fingerprint, record, _overrides(config))


def _overrides(config: Any) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if config.HasField("disable_vision") and config.disable_vision:
        overrides["vision_ability"] = "none"
    for name in ("enable_slow_pool", "include_web_references"):
        if config.HasField(name):
            overrides[name] = getattr(config, name)
    if config.HasField("usage_check_models"):
        usage = config.usage_check_models
        kind = {
            _USAGE.TYPE_DISABLED: "none",
            _USAGE.TYPE_ALL: "all",
            _USAGE.TYPE_CUSTOM: "list",
        }.get(usage.type, "default")
        overrides["usage_check_models"] = {"type": kind, "content": ",".join(usage.model_ids)}
    return overrides


def encode_key(
    jwt: str,
    *,
    prefix: str = "sk-",
    checksum: tuple[str, str],
    client_key: str,
    session_id: str,
    config_version: str = "",
    proxy_name: str = "",
    timezone: str = "",
    gcpp_host: int | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> str:
    """The reference's key for a JWT and its bundle (how `/build-key` makes one there; here for tests and
    for anyone moving keys between the two)."""
    claims = decode_jwt_claims(jwt)
    provider, _, user_id = str(claims["sub"]).partition("|")
    signature = base64.urlsafe_b64decode(jwt.rsplit(".", 1)[1] + "==")
    token = KeyConfig.Token(
        provider=provider,
        sub_id=user_id_to_sub_id(user_id),
        randomness=bytes.fromhex(str(claims["randomness"]).replace("-", "")),
        start=int(claims["time"]),
        end=int(claims["exp"]),
        signature=signature,
        is_session=claims.get("type") == "session",
    )
    info = KeyConfig.TokenInfo(
        token=token,
        checksum=bytes.fromhex(checksum[0] + checksum[1]),
        client_key=bytes.fromhex(client_key),
        session_id=uuid.UUID(session_id).bytes,
    )
    if config_version:
        info.config_version = uuid.UUID(config_version).bytes
    if proxy_name:
        info.proxy_name = proxy_name
    if timezone:
        info.timezone = timezone
    if gcpp_host is not None:
        info.gcpp_host = gcpp_host
    config = KeyConfig(token_info=info, **dict(overrides or {}))
    return prefix + b64x_encode(config.SerializeToString())
