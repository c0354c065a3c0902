"""Account facts from Cursor: stripe profile (H1), dashboard user info (H2), usable models and the server
config version (R3). Fact sheet §1.1, §1.2, §2.1, §2.2, §4.11, §7.6.

Plain request/response calls, so the process-wide httpx clients of `upstream.http`: `https://` hosts
negotiate HTTP/2 or 1.1 by ALPN (cursor.com answers 1.1, api2 prefers 2); `http://` bases (the emulator)
use HTTP/2 with prior knowledge. Failures become errors.py classes; credentials appear in messages and
logs only masked. `proxy` is the transport argument of `upstream.transport` (the token's proxy resolved by
`services.proxies`): "" direct, "sys" the environment's, or a proxy URL.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import httpx

from cursor_gateway.codec._gen.agent.v1 import agent_pb2
from cursor_gateway.codec._gen.aiserver.v1 import server_config_pb2
from cursor_gateway.codec.connect_error import connect_error_from_json
from cursor_gateway.domain.accounts import (
    ProfileShapeError,
    StripeProfile,
    UserInfo,
    dashboard_cookie,
    parse_stripe_profile,
    parse_user_info,
)
from cursor_gateway.domain.tokens import is_uuid, mask_secret
from cursor_gateway.errors import (
    UpstreamAuthError,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from cursor_gateway.settings import Settings
from cursor_gateway.upstream.catalog import USABLE_PATH, unary
from cursor_gateway.upstream.checksum import checksum_header
from cursor_gateway.upstream.classify import classify_connect_error
from cursor_gateway.upstream.http import json_client
from cursor_gateway.upstream.identity import DEFAULT_VERSIONS, MachineIds, default_identity
from cursor_gateway.upstream.transport import SYSTEM

log = logging.getLogger("cursor_gateway.upstream.account_info")

STRIPE_PATH = "/auth/full_stripe_profile"
USER_INFO_PATH = "/api/auth/me"
SERVER_CONFIG_PATH = "/aiserver.v1.ServerConfigService/GetServerConfig"

# Connect's HTTP status -> code mapping, for unary errors whose body carries no code.
_CONNECT_CODES = {
    400: "invalid_argument",
    401: "unauthenticated",
    403: "permission_denied",
    404: "unimplemented",
    429: "resource_exhausted",
    502: "unavailable",
    503: "unavailable",
    504: "deadline_exceeded",
}


def cursor_user_agent(client_version: str = "") -> str:
    """The IDE's Electron user agent (fact sheet §2.2), sent on the stripe profile call."""
    version = client_version or DEFAULT_VERSIONS["ide"]
    return (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Cursor/{version} Chrome/132.0.6834.210 Electron/34.3.4 Safari/537.36"
    )


BROWSER_USER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/137.0.0.0 Safari/537.36"
)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None


async def _get(
    url: str, base: str, headers: dict[str, str], what: str, settings: Settings, proxy: str
) -> Any:
    """GET a JSON document; HTTP and transport failures as errors.py classes."""
    client = json_client(base, connect_timeout=settings.cursor_connect_timeout, proxy=proxy)
    try:
        response = await client.get(url, headers=headers)
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout(f"Cursor {what} timed out") from exc
    except httpx.TransportError as exc:
        raise UpstreamUnavailable(f"Cursor {what} failed: {type(exc).__name__}") from exc
    status = response.status_code
    if status in (401, 403):
        raise UpstreamAuthError(f"Cursor refused the {what} (HTTP {status})", code="upstream_auth_failed")
    if status == 429:
        raise UpstreamRateLimited(f"Cursor rate-limited the {what}", retry_after=_retry_after(response))
    if status >= 500:
        raise UpstreamUnavailable(f"Cursor {what} answered HTTP {status}")
    if status != 200:
        raise UpstreamError(f"Cursor {what} answered HTTP {status}")
    try:
        return response.json()
    except ValueError as exc:
        raise UpstreamProtocolError(f"Cursor {what} answered non-JSON") from exc


async def fetch_stripe_profile(settings: Settings, bearer: str, *, proxy: str = SYSTEM) -> StripeProfile:
    """H1 `GET {CURSOR_API_URL}/auth/full_stripe_profile` with the bearer (the session JWT, or the JWT
    exchanged for a crsr_ key)."""
    base = settings.cursor_api_url.rstrip("/")
    headers = {
        "authorization": f"Bearer {bearer}",
        "accept": "*/*",
        "accept-language": "en-US",
        "accept-encoding": "gzip, deflate",
        "origin": "vscode-file://vscode-app",
        "user-agent": cursor_user_agent(default_identity("ide", settings).client_version),
        "x-ghost-mode": "true",
        "x-new-onboarding-completed": "false",
    }
    body = await _get(base + STRIPE_PATH, base, headers, "stripe profile", settings, proxy)
    try:
        profile = parse_stripe_profile(body)
    except ProfileShapeError as exc:
        raise UpstreamProtocolError(f"Cursor stripe profile: {exc}") from exc
    log.info("stripe profile of %s: %s", mask_secret(bearer), profile.membership_type)
    return profile


async def fetch_user_info(settings: Settings, user_id: str, jwt: str, *, proxy: str = SYSTEM) -> UserInfo:
    """H2 `GET {CURSOR_WEB_URL}/api/auth/me` with the dashboard cookie (browser header set, §2.2)."""
    base = settings.cursor_web_url.rstrip("/")
    headers = {
        "cookie": dashboard_cookie(user_id, jwt),
        "accept": "*/*",
        "accept-language": "en-US",
        "accept-encoding": "gzip, deflate",
        "referer": "https://www.cursor.com/dashboard",
        "user-agent": BROWSER_USER_AGENT,
        "dnt": "1",
        "sec-gpc": "1",
        "sec-fetch-dest": "empty",
        "sec-fetch-mode": "cors",
        "sec-fetch-site": "same-origin",
        "pragma": "no-cache",
        "cache-control": "no-cache",
    }
    body = await _get(base + USER_INFO_PATH, base, headers, "user info", settings, proxy)
    try:
        return parse_user_info(body)
    except ProfileShapeError as exc:
        raise UpstreamProtocolError(f"Cursor user info: {exc}") from exc


async def fetch_usable_models(settings: Settings, bearer: str, *, proxy: str = SYSTEM) -> tuple[str, ...]:
    """The model ids this account may use (`agent.v1.AgentService/GetUsableModels`)."""
    request = agent_pb2.GetUsableModelsRequest().SerializeToString()
    body = await unary(settings, USABLE_PATH, request, bearer, proxy)
    try:
        answer = agent_pb2.GetUsableModelsResponse.FromString(body)
    except Exception as exc:  # DecodeError; nothing else may leave as a non-gateway error
        raise UpstreamProtocolError(f"Undecodable usable-model list: {exc}") from exc
    return tuple(dict.fromkeys(m.model_id for m in answer.models if m.model_id))


def server_config_headers(
    settings: Settings, bearer: str, machine: MachineIds, timezone: str, now: float
) -> dict[str, str]:
    """The unary Connect header set of fact sheet §2.1, without `x-cursor-config-version` (§7.4: the call
    that obtains it does not send one)."""
    request_id = str(uuid.uuid4())
    headers = {
        "authorization": f"Bearer {bearer}",
        "content-type": "application/proto",
        "connect-protocol-version": "1",
        "accept-encoding": "gzip",
        "user-agent": "connect-es/1.6.1",
        "x-amzn-trace-id": f"Root={request_id}",
        "x-request-id": request_id,
        # An IDE-shaped call (the IDE is what asks for a config version): the environment's IDE version.
        "x-cursor-client-version": default_identity("ide", settings).client_version,
        "x-cursor-streaming": "true",
        "x-cursor-timezone": timezone or settings.cursor_timezone,
        "x-ghost-mode": "true" if settings.cursor_ghost_mode else "false",
        "x-new-onboarding-completed": "false",
    }
    if machine.machine_id:
        headers["x-cursor-checksum"] = checksum_header(machine.machine_id, machine.mac_machine_id, now=now)
    if machine.client_key:
        headers["x-client-key"] = machine.client_key
    if machine.session_id:
        headers["x-session-id"] = machine.session_id
    return headers


async def fetch_config_version(
    settings: Settings,
    bearer: str,
    machine: MachineIds,
    *,
    timezone: str = "",
    now: float,
    proxy: str = SYSTEM,
) -> str:
    """R3: POST an empty body to GetServerConfig, read `config_version` (field 6, a UUID)."""
    payload = await fetch_server_config(settings, bearer, machine, timezone=timezone, now=now, proxy=proxy)
    return config_version_of(payload)


async def fetch_server_config(
    settings: Settings,
    bearer: str,
    machine: MachineIds,
    *,
    timezone: str = "",
    now: float,
    proxy: str = SYSTEM,
) -> bytes:
    """GetServerConfig's raw answer (its config version and agent hosts are read from it)."""
    base = settings.cursor_api_url.rstrip("/")
    client = json_client(base, connect_timeout=settings.cursor_connect_timeout, proxy=proxy)
    headers = server_config_headers(settings, bearer, machine, timezone, now)
    try:
        response = await client.post(base + SERVER_CONFIG_PATH, content=b"", headers=headers)
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout("Cursor GetServerConfig timed out") from exc
    except httpx.TransportError as exc:
        raise UpstreamUnavailable(f"Cursor GetServerConfig failed: {type(exc).__name__}") from exc
    if response.status_code != 200:
        raise _unary_error(response)
    return bytes(response.content)


def config_version_of(payload: bytes) -> str:
    try:
        version = server_config_pb2.GetServerConfigResponse.FromString(payload).config_version
    except Exception as exc:  # DecodeError
        raise UpstreamProtocolError(f"Undecodable GetServerConfig answer: {exc}") from exc
    if not is_uuid(version):
        raise UpstreamProtocolError("GetServerConfig answered no config_version UUID")
    return version


def _unary_error(response: httpx.Response) -> UpstreamError:
    try:
        obj = response.json()
    except ValueError:
        obj = None
    status = response.status_code
    if not isinstance(obj, dict) or not obj.get("code"):
        obj = {"code": _CONNECT_CODES.get(status, "unknown"), "message": f"HTTP {status}"}
    error = classify_connect_error(connect_error_from_json(obj, http_status=status))
    if isinstance(error, UpstreamRateLimited) and error.retry_after is None:
        error.retry_after = _retry_after(response)
    return error
