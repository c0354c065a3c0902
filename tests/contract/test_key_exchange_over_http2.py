"""KeyExchanger against the fake Cursor over real sockets: `http://` CURSOR_API_URL means HTTP/2 with prior
knowledge (settings), and the fake speaks nothing else, so this also proves the exchanger's transport."""

from __future__ import annotations

import time

import pytest
from cursor_gateway.domain.tokens import decode_jwt_claims
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.errors import UpstreamAuthError
from cursor_gateway.settings import Settings
from cursor_gateway.upstream.key_exchange import KeyExchanger
from fakes.jwts import api_key


async def test_exchange_over_http2_cleartext() -> None:
    fake = await FakeCursor(Behaviour()).start()
    try:
        exchanger = KeyExchanger(Settings(cursor_api_url=fake.url))
        key = api_key("contract")
        token, expires_at = await exchanger.exchange(key)
        assert decode_jwt_claims(token)["type"] == "api_key_token"
        assert time.time() + 3000 < expires_at <= time.time() + 3600
        path, headers = fake.unary_calls[-1]
        assert path == "/auth/exchange_user_api_key"
        assert headers["authorization"] == f"Bearer {key}"

        fake.bad_api_keys.add(key)
        with pytest.raises(UpstreamAuthError):
            await exchanger.exchange(key)
    finally:
        await fake.close()
