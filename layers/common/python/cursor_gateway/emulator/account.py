"""The fake Cursor's account endpoints: the stripe profile (H1, api2), the dashboard user info (H2,
cursor.com; the emulator serves both hosts, so CURSOR_WEB_URL may point here too) and GetServerConfig
(R3), and the dashboard's GetCurrentPeriodUsage. Each checks what a real client must send (bearer or
dashboard cookie, an empty unary body, no config version on the call that fetches one) and answers per
account; `FakeCursor.behaviour_for(jwt)` makes one token fail (`http_error` with its status, or `error`
with a Connect code)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote

from cursor_gateway.codec._gen.aiserver.v1 import server_config_pb2
from cursor_gateway.domain.tokens import JwtError, decode_jwt_claims
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.compat import agent_url_config, default_usage
from cursor_gateway.emulator.h2server import H2Stream
from cursor_gateway.emulator.tokens import jwt_expired
from cursor_gateway.emulator.wire import send_json

STRIPE_PATH = "/auth/full_stripe_profile"
USER_INFO_PATH = "/api/auth/me"
SERVER_CONFIG_PATH = "/aiserver.v1.ServerConfigService/GetServerConfig"
PATHS = frozenset({STRIPE_PATH, USER_INFO_PATH, SERVER_CONFIG_PATH})

# Connect error code -> HTTP status (what a unary Connect server answers).
_HTTP_STATUS = {
    "unauthenticated": 401,
    "permission_denied": 403,
    "resource_exhausted": 429,
    "unavailable": 503,
}


@dataclass(slots=True)
class AccountState:
    """Per-account answers, keyed by Cursor user id (`user_...`); defaults for everyone else."""

    stripe: dict[str, Any] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)
    config_version: str = "3f2a9c1e-7b4d-4e8a-9c6f-1d2e3f4a5b6c"
    # Per user id: (agentUrl, agentnUrl) of GetServerConfig's agentUrlConfig (regional accounts, issue 14).
    agent_urls: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Per user id: the GetCurrentPeriodUsage answer (emulator/compat.py; default: a fresh pro plan).
    usage: dict[str, dict[str, Any]] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


def default_stripe(user_id: str) -> dict[str, Any]:
    return {
        "membershipType": "pro",
        "paymentId": f"cus_{user_id[-8:]}",
        "daysRemainingOnTrial": 0,
        "subscriptionStatus": "active",
        "verifiedStudent": False,
        "trialEligible": False,
        "isOnStudentPlan": False,
    }


def default_user(user_id: str) -> dict[str, Any]:
    return {
        "email": f"{user_id.lower()}@example.com",
        "name": f"Fake {user_id[-6:]}",
        "updated_at": "2026-01-02T03:04:05.000Z",
        "picture": None,
    }


class AccountBackend(Protocol):
    """What these routes need of the fake (server.FakeCursor)."""

    accounts: AccountState
    unary_calls: list[tuple[str, dict[str, str]]]

    def behaviour_for(self, bearer: str) -> Behaviour: ...


def user_id_of(jwt: str) -> str:
    """The Cursor user id (`user_...`) in a session JWT's subject, or ""."""
    try:
        sub = decode_jwt_claims(jwt).get("sub")
    except JwtError:
        return ""
    return sub.partition("|")[2] if isinstance(sub, str) else ""


async def _refuse(fake: AccountBackend, stream: H2Stream, jwt: str) -> bool:
    """Answer an error and return True when the credential is missing, expired or scripted to fail."""
    if not jwt or not user_id_of(jwt):
        await send_json(stream, 401, {"code": "unauthenticated", "message": "Not logged in"})
        return True
    if jwt_expired(jwt):
        await send_json(stream, 401, {"code": "unauthenticated", "message": "Authentication expired"})
        return True
    behaviour = fake.behaviour_for(jwt)
    if behaviour.mode == "http_error":
        await send_json(stream, behaviour.http_status, behaviour.error)
        return True
    if behaviour.mode == "error":
        code = str(behaviour.error.get("code", "internal"))
        await send_json(stream, _HTTP_STATUS.get(code, 500), behaviour.error)
        return True
    return False


async def serve_account(fake: AccountBackend, stream: H2Stream) -> None:
    path = stream.path.split("?", 1)[0]
    body = await stream.read_all()
    fake.unary_calls.append((path, dict(stream.headers)))
    state: AccountState = fake.accounts
    if path == USER_INFO_PATH:
        await _user_info(fake, stream, state)
        return
    bearer = stream.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if path == STRIPE_PATH:
        if stream.method != "GET":
            await send_json(stream, 405, {"error": "method not allowed"})
        elif not await _refuse(fake, stream, bearer):
            user = user_id_of(bearer)
            await send_json(stream, 200, state.stripe.get(user) or default_stripe(user))
        return
    # GetServerConfig: unary Connect with an empty body and no config version of its own.
    problems = []
    if stream.headers.get("content-type") != "application/proto":
        problems.append(f"content-type {stream.headers.get('content-type')!r}, not application/proto")
    if body:
        problems.append(f"non-empty request body ({len(body)} bytes)")
    if "x-cursor-config-version" in stream.headers:
        problems.append("x-cursor-config-version sent on the call that fetches it")
    if problems:
        state.violations.extend(problems)
        await send_json(stream, 400, {"code": "invalid_argument", "message": "; ".join(problems)})
        return
    if await _refuse(fake, stream, bearer):
        return
    answer = server_config_pb2.GetServerConfigResponse(config_version=state.config_version)
    body = answer.SerializeToString()
    urls = state.agent_urls.get(user_id_of(bearer))
    if urls:
        body += agent_url_config(*urls)
    await stream.respond(200, [("content-type", "application/proto")])
    await stream.write(body, end=True)


async def _user_info(fake: AccountBackend, stream: H2Stream, state: AccountState) -> None:
    cookie = stream.headers.get("cookie", "")
    value = ""
    for part in cookie.split(";"):
        name, _, raw = part.strip().partition("=")
        if name == "WorkosCursorSessionToken":
            value = raw
    user, sep, jwt = unquote(value).partition("::")
    if not sep or user != user_id_of(jwt):
        await send_json(stream, 401, {"error": "Not authenticated"})
        return
    if not await _refuse(fake, stream, jwt):
        await send_json(stream, 200, state.users.get(user) or default_user(user))


async def serve_period_usage(fake: AccountBackend, stream: H2Stream) -> None:
    """`DashboardService/GetCurrentPeriodUsage`: Connect JSON, bearer auth, per-account answers."""
    body = await stream.read_all()
    fake.unary_calls.append((stream.path, dict(stream.headers)))
    if stream.headers.get("content-type") != "application/json" or (body and body.strip() != b"{}"):
        fake.accounts.violations.append("GetCurrentPeriodUsage must be Connect JSON with an empty object")
        await send_json(stream, 400, {"code": "invalid_argument", "message": "bad request"})
        return
    bearer = stream.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if await _refuse(fake, stream, bearer):
        return
    await send_json(stream, 200, fake.accounts.usage.get(user_id_of(bearer)) or default_usage())
