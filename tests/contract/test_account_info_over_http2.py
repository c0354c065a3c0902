"""upstream/account_info.py against the fake Cursor over real HTTP/2 sockets: the stripe profile (H1), the
dashboard user info (H2, CURSOR_WEB_URL pointed at the emulator), usable models and GetServerConfig (R3),
with the headers fact sheet §2.1/§2.2 prescribe and each failure class mapped into errors.py."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from cursor_gateway.codec._gen.aiserver.v1 import server_config_pb2
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import CATALOG, FakeCursor
from cursor_gateway.emulator.tokens import fake_jwt
from cursor_gateway.errors import (
    UpstreamAuthError,
    UpstreamProtocolError,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from cursor_gateway.settings import Settings
from cursor_gateway.upstream import account_info
from cursor_gateway.upstream.checksum import decode_timestamp_part
from cursor_gateway.upstream.identity import MachineIds

USER = "user_01JZ8Q9X7V3M5N2P4R6T8W0Y1A"


@pytest.fixture
async def fake() -> AsyncIterator[FakeCursor]:
    server = await FakeCursor(Behaviour()).start()
    try:
        yield server
    finally:
        await server.close()


def settings_for(fake: FakeCursor) -> Settings:
    return Settings(cursor_api_url=fake.url, cursor_web_url=fake.url)


async def test_stripe_profile_with_the_ide_header_set(fake: FakeCursor) -> None:
    jwt = fake_jwt(USER)
    profile = await account_info.fetch_stripe_profile(settings_for(fake), jwt)
    assert (profile.membership_type, profile.subscription_status, profile.days_remaining_on_trial) == (
        "pro",
        "active",
        0,
    )
    path, headers = fake.unary_calls[-1]
    assert path == "/auth/full_stripe_profile"
    assert headers["authorization"] == f"Bearer {jwt}"
    assert headers["origin"] == "vscode-file://vscode-app"
    assert " Cursor/" in headers["user-agent"] and "Electron/" in headers["user-agent"]


async def test_unknown_memberships_are_kept_not_refused(fake: FakeCursor) -> None:
    fake.accounts.stripe[USER] = {
        "membershipType": "galaxy_brain",
        "daysRemainingOnTrial": 5,
        "subscriptionStatus": "trialing",
    }
    profile = await account_info.fetch_stripe_profile(settings_for(fake), fake_jwt(USER))
    assert (profile.membership_type, profile.days_remaining_on_trial, profile.subscription_status) == (
        "galaxy_brain",
        5,
        "trialing",
    )


async def test_a_stripe_profile_of_the_wrong_shape_is_a_protocol_error(fake: FakeCursor) -> None:
    fake.accounts.stripe[USER] = {"membershipType": 3}
    with pytest.raises(UpstreamProtocolError, match="membershipType"):
        await account_info.fetch_stripe_profile(settings_for(fake), fake_jwt(USER))


@pytest.mark.parametrize(
    "behaviour, error",
    [
        (Behaviour(mode="http_error", http_status=401, error={"error": "nope"}), UpstreamAuthError),
        (Behaviour.failing("rate_limited"), UpstreamRateLimited),
        (Behaviour(mode="http_error", http_status=503, error={}), UpstreamUnavailable),
    ],
)
async def test_stripe_failures_are_classified(fake: FakeCursor, behaviour: Behaviour, error: type) -> None:
    jwt = fake_jwt(USER)
    fake.by_token[jwt] = behaviour
    with pytest.raises(error) as caught:
        await account_info.fetch_stripe_profile(settings_for(fake), jwt)
    assert jwt not in str(caught.value)


async def test_expired_bearer_is_an_auth_error(fake: FakeCursor) -> None:
    with pytest.raises(UpstreamAuthError):
        await account_info.fetch_stripe_profile(settings_for(fake), fake_jwt(USER, exp=time.time() - 5))


async def test_user_info_with_the_dashboard_cookie(fake: FakeCursor) -> None:
    jwt = fake_jwt(USER)
    info = await account_info.fetch_user_info(settings_for(fake), USER, jwt)
    assert info.email == f"{USER.lower()}@example.com" and info.name and info.updated_at
    assert info.picture == ""
    path, headers = fake.unary_calls[-1]
    assert path == "/api/auth/me"
    assert headers["cookie"] == f"WorkosCursorSessionToken={USER}%3A%3A{jwt}"
    assert "authorization" not in headers
    assert headers["referer"] == "https://www.cursor.com/dashboard"


async def test_user_info_refuses_a_cookie_for_another_user(fake: FakeCursor) -> None:
    with pytest.raises(UpstreamAuthError):
        await account_info.fetch_user_info(settings_for(fake), "user_someone_else", fake_jwt(USER))


async def test_usable_models(fake: FakeCursor) -> None:
    models = await account_info.fetch_usable_models(settings_for(fake), fake_jwt(USER))
    assert models == tuple(name for name, *_ in CATALOG)


async def test_config_version_with_the_connect_header_set(fake: FakeCursor) -> None:
    jwt = fake_jwt(USER)
    machine = MachineIds("a" * 64, "b" * 64, "c" * 64, "6f1c1c4e-3c1a-4a5e-9b1a-0d8a2c3b4d5e", "ignored")
    now = time.time()
    version = await account_info.fetch_config_version(
        settings_for(fake), jwt, machine, timezone="Asia/Tokyo", now=now
    )
    assert version == fake.accounts.config_version
    assert fake.accounts.violations == []
    path, headers = fake.unary_calls[-1]
    assert path == "/aiserver.v1.ServerConfigService/GetServerConfig"
    assert headers["content-type"] == "application/proto"
    assert headers["connect-protocol-version"] == "1"
    assert headers["x-cursor-timezone"] == "Asia/Tokyo"
    assert headers["x-client-key"] == "c" * 64
    assert headers["x-session-id"] == machine.session_id
    assert "x-cursor-config-version" not in headers
    checksum = headers["x-cursor-checksum"]
    assert len(checksum) == 137 and checksum[8:] == "a" * 64 + "/" + "b" * 64
    assert decode_timestamp_part(checksum[:8]) == int(now // 1000)


async def test_config_version_failures(fake: FakeCursor) -> None:
    jwt = fake_jwt(USER)
    fake.by_token[jwt] = Behaviour.failing("unauthenticated")
    with pytest.raises(UpstreamAuthError):
        await account_info.fetch_config_version(settings_for(fake), jwt, MachineIds(), now=time.time())
    fake.by_token.clear()
    fake.accounts.config_version = "not-a-uuid"
    with pytest.raises(UpstreamProtocolError):
        await account_info.fetch_config_version(settings_for(fake), jwt, MachineIds(), now=time.time())


def test_the_response_message_reads_field_six() -> None:
    # Field 6, length-delimited: tag 0x32. Unknown fields around it are skipped.
    raw = b"\x08\x01" + b"\x32\x03abc" + b"\x3a\x01x"
    assert server_config_pb2.GetServerConfigResponse.FromString(raw).config_version == "abc"
