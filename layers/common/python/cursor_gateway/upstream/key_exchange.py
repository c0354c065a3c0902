"""`crsr_` user API key -> 1-hour access JWT (2026 sheet §8.2).

api2 does not take a `crsr_` key as a bearer; `POST /auth/exchange_user_api_key` with the key as the
bearer and an empty JSON object answers `{accessToken, refreshToken}`. The refresh token has the same
expiry, so "refreshing" means exchanging again; the pool caches the JWT until 5 minutes before `exp`.

The httpx client is the process-wide one of `upstream.http`.
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

log = logging.getLogger("cursor_gateway.upstream.key_exchange")

EXCHANGE_PATH = "/auth/exchange_user_api_key"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class KeyExchanger:
    def __init__(self, settings: Settings, *, client: httpx.AsyncClient | None = None) -> None:
        self.url = settings.cursor_api_url.rstrip("/") + EXCHANGE_PATH
        self._base = settings.cursor_api_url.rstrip("/")
        self._connect_timeout = settings.cursor_connect_timeout
        self._client = client

    async def exchange(self, api_key: str) -> tuple[str, float]:
        """The access JWT for `api_key` and its expiry (the JWT's `exp`, unix seconds)."""
        client = self._client or json_client(self._base, connect_timeout=self._connect_timeout)
        masked = mask_secret(api_key)
        try:
            response = await client.post(
                self.url,
                json={},
                headers={"authorization": f"Bearer {api_key}", "accept": "application/json"},
            )
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(f"Cursor key exchange timed out for {masked}") from exc
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(
                f"Cursor key exchange failed for {masked}: {type(exc).__name__}"
            ) from exc

        status = response.status_code
        if status in (401, 403):
            log.warning("key exchange rejected key %s (HTTP %s)", masked, status)
            raise UpstreamAuthError(f"Cursor rejected the API key {masked} (HTTP {status})")
        if status == 429:
            raise UpstreamRateLimited(
                f"Cursor rate-limited the key exchange for {masked}", retry_after=_retry_after(response)
            )
        if status >= 500:
            raise UpstreamUnavailable(f"Cursor key exchange answered HTTP {status}")
        if status != 200:
            raise UpstreamError(f"Cursor key exchange answered HTTP {status}")
        return self._access_token(response, masked)

    @staticmethod
    def _access_token(response: httpx.Response, masked: str) -> tuple[str, float]:
        try:
            body = response.json()
        except ValueError as exc:
            raise UpstreamProtocolError("Cursor key exchange answered non-JSON") from exc
        token = body.get("accessToken") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise UpstreamProtocolError("Cursor key exchange answer has no accessToken")
        try:
            expires_at = jwt_expiry(token)
        except JwtError as exc:
            raise UpstreamProtocolError(f"Cursor key exchange returned an unreadable JWT: {exc}") from exc
        if expires_at is None:
            raise UpstreamProtocolError("Cursor key exchange returned a JWT without 'exp'")
        log.info("exchanged API key %s for an access token valid until %d", masked, int(expires_at))
        return token, expires_at
