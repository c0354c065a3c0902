"""Fake Cursor credentials for offline use: JWTs shaped like Cursor's (unsigned for real purposes)."""

from __future__ import annotations

import base64
import hashlib
import json
import time


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fake_jwt(
    user_id: str = "user_01JZ8Q9X7V3M5N2P4R6T8W0Y1A",
    *,
    provider: str = "auth0",
    token_type: str = "session",
    exp: float | None = None,
    issued: float | None = None,
) -> str:
    now = time.time() if issued is None else issued
    header = {"alg": "HS256", "typ": "JWT"}
    payload = {
        "sub": f"{provider}|{user_id}",
        "time": str(int(now)),
        "randomness": "0a1b2c3d-4e5f-6071",
        "exp": int(exp if exp is not None else now + 60 * 86400),
        "iss": "https://authentication.cursor.sh",
        "scope": "openid profile email offline_access",
        "aud": "https://cursor.com",
        "type": token_type,
    }
    signing_input = (
        f"{_b64url(json.dumps(header, separators=(',', ':')).encode())}."
        f"{_b64url(json.dumps(payload, separators=(',', ':')).encode())}"
    )
    signature = hashlib.sha256(signing_input.encode()).digest()
    return f"{signing_input}.{_b64url(signature)}"


def jwt_expired(token: str, now: float | None = None) -> bool:
    """True for a JWT-shaped token whose `exp` has passed (anything else is not judged here)."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        exp = float(payload["exp"])
    except (ValueError, KeyError, TypeError):
        return False
    return exp <= (time.time() if now is None else now)
