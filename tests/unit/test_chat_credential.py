"""What one attempt sends upstream besides the bearer: proxy and time zone (a key's over the token's), the
proxy name resolved through the proxies table, and the protocol profile (key > token > config)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from cursor_gateway.domain.tokens import TokenRecord
from cursor_gateway.errors import UpstreamProtocolError
from cursor_gateway.services.chat import ChatService
from cursor_gateway.settings import Settings

RECORD = TokenRecord(alias="a", kind="session", primary_token="x.y.z", proxy="eu", timezone="Europe/Paris")


class Config:
    def __init__(self, protocol: str = "agent") -> None:
        self.runtime = SimpleNamespace(cursor_protocol=protocol)

    def current(self) -> Any:
        return self.runtime

    def identity_for(self, profile: str, runtime: Any = None) -> str:
        return f"identity-of-{profile}"


def service(resolver: Any = None, protocol: str = "agent") -> ChatService:
    profiles: Any = {name: SimpleNamespace(name=name) for name in ("agent", "inference", "legacy")}
    return ChatService(
        Settings(), pool=None, profiles=profiles, config=Config(protocol), proxy_resolver=resolver
    )


def test_proxy_and_timezone_key_over_token_resolved_by_name() -> None:
    chat = service(resolver=lambda name: {"eu": "socks5://eu:1080", "us": "http://us:8080"}.get(name, "sys"))
    token_only = chat.credential(RECORD, "bearer")
    assert (token_only.proxy, token_only.timezone) == ("socks5://eu:1080", "Europe/Paris")
    keyed = chat.credential(RECORD, "bearer", {"proxy_name": "us", "timezone": "Asia/Tokyo"})
    assert (keyed.proxy, keyed.timezone) == ("http://us:8080", "Asia/Tokyo")
    assert chat.credential(TokenRecord("b", "session", "x.y.z"), "bearer").proxy == "sys"  # general
    assert service().credential(RECORD, "bearer").proxy == "eu"  # no proxies table: the value as is


def test_profile_precedence() -> None:
    chat = service(protocol="agent")
    inference_token = TokenRecord("t", "session", "x.y.z", cursor_protocol="inference")
    assert chat._profile(RECORD, {})[0].name == "agent"
    assert chat._profile(inference_token, {})[0].name == "inference"
    assert chat._profile(inference_token, {"cursor_protocol": "legacy"})[0].name == "legacy"
    assert chat._profile(inference_token, {"cursor_protocol": "bogus"})[0].name == "inference"
    with pytest.raises(UpstreamProtocolError):
        service(protocol="retired")._profile(RECORD, {})
