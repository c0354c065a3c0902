"""Gateway keys end to end: built over HTTP, used with the real `openai` SDK against the gateway (uvicorn,
real socket) and the fake Cursor, then revoked; the config's share_token works the same way."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.storage.keys import InMemoryKeyStore
from cursor_gateway.storage.proxies import InMemoryProxyStore
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record


@pytest.fixture
def gateway() -> Iterator[str]:
    with running_fake(Behaviour(delay=0.0)) as fake:
        settings = gateway_settings(fake)
        services = make_services(
            settings,
            [session_record("alpha")],
            key_store=InMemoryKeyStore(),
            proxy_store=InMemoryProxyStore(),
        )
        with running_gateway(settings, services) as url:
            yield url


def admin(url: str, path: str, body: dict[str, object]) -> dict[str, object]:
    answer = httpx.post(url + path, json=body, headers={"authorization": f"Bearer {ADMIN}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    data: dict[str, object] = answer.json()
    return data


def ask(url: str, key: str) -> str | None:
    sdk = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0)
    answer = sdk.chat.completions.create(
        model="claude-4.6-sonnet", messages=[{"role": "user", "content": "hi"}]
    )
    return answer.choices[0].message.content


def test_a_gateway_key_chats_until_revoked(gateway: str) -> None:
    built = admin(gateway, "/build-key", {"alias": "alpha", "include_web_references": True})
    [key] = built["keys"]  # type: ignore[misc]
    assert ask(gateway, key) == "Echo: hi"
    assert ask(gateway, key) == "Echo: hi"  # the second use comes from the per-process cache
    admin(gateway, "/keys/revoke", {"ids": [built["id"]]})
    with pytest.raises(openai.AuthenticationError):
        ask(gateway, key)


def test_the_config_share_token_chats(gateway: str) -> None:
    with pytest.raises(openai.AuthenticationError):
        ask(gateway, "team-share-token")
    admin(gateway, "/config", {"action": "update", "share_token": "team-share-token"})
    assert ask(gateway, "team-share-token") == "Echo: hi"
