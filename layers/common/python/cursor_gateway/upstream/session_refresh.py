"""Session-token refresh: `POST /oauth/token` (2026 sheet §8.1).

Body `{grant_type: "refresh_token", client_id, refresh_token}` with the login's refresh JWT when we have
one, else the access JWT itself (what the IDE sends after its first refresh). The answer is
`{access_token, id_token, shouldLogout}`; `shouldLogout: true` means the session was revoked server-side.
"""

from __future__ import annotations

import logging

import httpx

from cursor_gateway.domain.tokens import JwtError, jwt_expiry, mask_secret
from cursor_gateway.errors import (
    UpstreamAuthError,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from cursor_gateway.settings import Settings
from cursor_gateway.upstream.http import json_client

log = logging.getLogger("cursor_gateway.upstream.session_refresh")

REFRESH_PATH = "/oauth/token"
# Cursor's production OAuth client id (fact sheet §7.4; the IDE sends the same).
CLIENT_ID = "KbZUR41cY7W6zRSdpSUJ7I7mLYBKOCmB"


class SessionRefresher:
    def __init__(self, settings: Settings) -> None:
        self._base = settings.cursor_api_url.rstrip("/")
        self._connect_timeout = settings.cursor_connect_timeout

    async def refresh(self, refresh_token: str) -> tuple[str, float]:
        """A new access JWT and its expiry; UpstreamAuthError when the session is revoked or rejected."""
        masked = mask_secret(refresh_token)
        client = json_client(self._base, connect_timeout=self._connect_timeout)
        body = {"grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": refresh_token}
        try:
            response = await client.post(
                self._base + REFRESH_PATH, json=body, headers={"accept": "application/json"}
            )
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(f"Cursor token refresh timed out for {masked}") from exc
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(
                f"Cursor token refresh failed for {masked}: {type(exc).__name__}"
            ) from exc
        status = response.status_code
        if status in (400, 401, 403):
            raise UpstreamAuthError(f"Cursor refused to refresh session {masked} (HTTP {status})")
        if status == 429:
            raise UpstreamRateLimited(f"Cursor rate-limited the refresh of {masked}")
        if status >= 500:
            raise UpstreamUnavailable(f"Cursor token refresh answered HTTP {status}")
        if status != 200:
            raise UpstreamError(f"Cursor token refresh answered HTTP {status}")
        try:
            answer = response.json()
        except ValueError as exc:
            raise UpstreamProtocolError("Cursor token refresh answered non-JSON") from exc
        if not isinstance(answer, dict):
            raise UpstreamProtocolError("Cursor token refresh answered an unexpected shape")
        if answer.get("shouldLogout"):
            raise UpstreamAuthError(f"Cursor revoked session {masked} (shouldLogout)")
        token = answer.get("access_token") or answer.get("accessToken")
        if not isinstance(token, str) or not token:
            raise UpstreamProtocolError("Cursor token refresh answer has no access_token")
        try:
            expires_at = jwt_expiry(token)
        except JwtError as exc:
            raise UpstreamProtocolError(f"Cursor token refresh returned an unreadable JWT: {exc}") from exc
        log.info("refreshed session %s; new token valid until %s", masked, int(expires_at or 0))
        return token, float(expires_at or 0.0)
