"""`require_chat_key`: the admin or the shared token, as a bearer or as `x-api-key`; anything else 401."""

from __future__ import annotations

from typing import Annotated

import pytest
from cursor_gateway.api.app import create_app
from cursor_gateway.api.auth import Caller, require_chat_key
from cursor_gateway.services.container import build_services
from cursor_gateway.settings import Settings
from cursor_gateway.storage.config import InMemoryConfigStore
from cursor_gateway.storage.keys import InMemoryKeyStore
from cursor_gateway.storage.proxies import InMemoryProxyStore
from cursor_gateway.storage.tokens import InMemoryTokenStore
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient

router = APIRouter()
BOTH = Settings(auth_token="admin-tok", shared_token="shared-tok")


@router.get("/whoami")
def whoami(caller: Annotated[Caller, Depends(require_chat_key)]) -> dict[str, str]:
    return {"role": caller.role}


def client(settings: Settings) -> TestClient:
    # Unknown keys are looked up further (config share_token, gateway keys): in-memory stores for those.
    services = build_services(
        settings,
        token_store=InMemoryTokenStore(),
        config_store=InMemoryConfigStore(),
        proxy_store=InMemoryProxyStore(),
        key_store=InMemoryKeyStore(),
    )
    return TestClient(create_app(router, settings=settings, services=services))


@pytest.mark.parametrize(
    "headers, role",
    [
        ({"authorization": "Bearer admin-tok"}, "admin"),
        ({"authorization": "bearer shared-tok"}, "shared"),
        ({"x-api-key": "admin-tok"}, "admin"),
        ({"x-api-key": "shared-tok"}, "shared"),
    ],
)
def test_accepted_credentials(headers: dict[str, str], role: str) -> None:
    response = client(BOTH).get("/whoami", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"role": role}


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer nope"}, {"x-api-key": "nope"}, {"authorization": "Token admin-tok"}],
)
def test_refused_credentials_are_401(headers: dict[str, str]) -> None:
    response = client(BOTH).get("/whoami", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == 401


def test_unset_secrets_never_match_an_empty_credential() -> None:
    http = client(Settings(auth_token="", shared_token=""))
    assert http.get("/whoami", headers={"authorization": "Bearer "}).status_code == 401
    assert http.get("/whoami", headers={"x-api-key": ""}).status_code == 401
