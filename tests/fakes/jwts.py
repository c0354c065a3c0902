"""Cursor-shaped JWTs for tests (unsigned for any real purpose: the signature is a hash of the input)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

USER_ID = "user_01JZ8Q9X7V3M5N2P4R6T8W0Y1A"
NOW = 1_800_000_000.0


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(
    *,
    user_id: str = USER_ID,
    provider: str = "auth0",
    token_type: str | None = "session",
    exp: float | str | None = NOW + 60 * 86400,
    header: dict[str, Any] | None = None,
    **extra: Any,
) -> str:
    payload: dict[str, Any] = {
        "sub": f"{provider}|{user_id}",
        "time": str(int(NOW)),
        "randomness": "0a1b2c3d-4e5f-6071",
        "iss": "https://authentication.cursor.sh",
        "scope": "openid profile email offline_access",
        "aud": "https://cursor.com",
    }
    if exp is not None:
        payload["exp"] = exp if isinstance(exp, str) else int(exp)
    if token_type is not None:
        payload["type"] = token_type
    payload.update(extra)
    head = b64url(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(payload).encode())
    signature = b64url(hashlib.sha256(f"{head}.{body}".encode()).digest())
    return f"{head}.{body}.{signature}"


def api_key(seed: str = "a") -> str:
    return "crsr_" + hashlib.sha256(seed.encode()).hexdigest()
