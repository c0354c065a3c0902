"""The account pool's types: a stored Cursor credential and its health.

A token is either a session JWT (`kind="session"`, sent as the bearer) or a `crsr_` user API key
(`kind="api_key"`), which must be exchanged for a 1-hour JWT first; that JWT is cached on the record
(`access_token`, `access_expires_at`) so every Lambda instance shares it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

TokenKind = Literal["session", "api_key"]
TokenStatus = Literal["enabled", "disabled"]
HealthState = Literal["healthy", "cooling_down", "disabled"]


@dataclass(frozen=True, slots=True)
class TokenHealth:
    state: HealthState = "healthy"
    reason: str = ""
    cooldown_until: float = 0.0
    score: float = 1.0
    consecutive_failures: int = 0


@dataclass(frozen=True, slots=True)
class TokenRecord:
    alias: str
    kind: TokenKind
    primary_token: str
    status: TokenStatus = "enabled"
    health: TokenHealth = field(default_factory=TokenHealth)
    refresh_token: str = ""
    # For api_key tokens: the exchanged JWT and its expiry (unix seconds).
    access_token: str = ""
    access_expires_at: float = 0.0
    client_key: str = ""
    session_id: str = ""
    checksum_first: str = ""
    checksum_second: str = ""
    config_version: str = ""
    timezone: str = ""
    proxy: str = ""
    user_id: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    version: int = 0

    @property
    def usable(self) -> bool:
        return self.status == "enabled" and self.health.state != "disabled"


def mask_secret(value: str, keep: int = 6) -> str:
    """Never log or return a whole credential: keep a short prefix and suffix for recognition."""
    if not value:
        return ""
    if len(value) <= keep * 2 + 3:
        return value[:2] + "***"
    return f"{value[:keep]}...{value[-4:]}"
