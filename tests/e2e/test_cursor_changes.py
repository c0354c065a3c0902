"""Issue 14 end to end: SDK-free HTTP client -> gateway (uvicorn) -> fake Cursor (HTTP/2), for the behaviours
Cursor started after the fact sheet, as the pool sees them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record

ADMIN_HEADERS = {"authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def fake() -> Iterator[FakeCursor]:
    with running_fake(Behaviour()) as server:
        yield server


def chat(url: str, model: str = "gpt-5.2") -> httpx.Response:
    return httpx.post(
        url + "/v1/chat/completions",
        headers=ADMIN_HEADERS,
        json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )


def pool_view(url: str) -> dict[str, dict[str, Any]]:
    response = httpx.post(url + "/tokens/get", headers=ADMIN_HEADERS, json={})
    assert response.status_code == 200, response.text
    return {alias: info for _, alias, info in response.json()["tokens"]}


def set_config(url: str, **fields: Any) -> None:
    response = httpx.post(url + "/config", headers=ADMIN_HEADERS, json={"action": "update", **fields})
    assert response.status_code == 200, response.text


def test_empty_turn_moves_to_another_token_and_counts_against_health(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    records = [session_record("blocked", created_at=1.0), session_record("fine", created_at=2.0)]
    fake.by_token[records[0].primary_token] = Behaviour(mode="empty_turn")
    with running_gateway(settings, make_services(settings, records)) as url:
        set_config(url, token_selection="fill_first")
        response = chat(url)
        assert response.status_code == 200, response.text
        assert response.json()["choices"][0]["message"]["content"] == "Echo: hi"
        view = pool_view(url)
        assert view["blocked"]["health"]["state"] == "healthy"  # a soft failure: no cooldown ...
        assert view["blocked"]["health"]["score"] < 1.0  # ... but a lower score
        assert "without any text" in view["blocked"]["health"]["reason"]

        # A pool of blocked accounts only: the client gets the 502 `empty_turn`, never an empty answer.
        fake.by_token[records[1].primary_token] = Behaviour(mode="empty_turn")
        response = chat(url)
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "empty_turn"
