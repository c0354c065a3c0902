"""Who may call what, for every operation of `/openapi.json` (generated from the schema, never a list
here): admin routes answer 401 to a missing or wrong credential and 403 to a gateway key, the shared token
and `AUTH_TOKEN-<alias>`; chat routes answer 401 to a missing or wrong key; each in the route's envelope.
Secrets are compared in constant time (checked on the source)."""

from __future__ import annotations

import ast
import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cursor_gateway.api.errors import envelope_kind
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.services.container import build_services
from cursor_gateway.storage.config import InMemoryConfigStore
from cursor_gateway.storage.keys import InMemoryKeyStore
from cursor_gateway.storage.proxies import InMemoryProxyStore
from cursor_gateway.storage.tokens import InMemoryTokenStore
from harness import ADMIN, SHARED, gateway_settings, running_fake, running_gateway, session_record

PACKAGE = Path(__file__).resolve().parents[2] / "layers/common/python/cursor_gateway"
SECRET_WORDS = ("token", "secret", "admin", "shared", "key", "hash", "password")


@pytest.fixture(scope="module")
def gateway() -> Iterator[tuple[str, dict[str, Any], str]]:
    with running_fake(Behaviour()) as fake:
        settings = gateway_settings(fake)
        services = build_services(
            settings,
            token_store=InMemoryTokenStore([session_record("sec1")]),
            config_store=InMemoryConfigStore(),
            proxy_store=InMemoryProxyStore(),
            key_store=InMemoryKeyStore(),
        )
        with running_gateway(settings, services) as url:
            built = httpx.post(url + "/build-key", headers=bearer(ADMIN), json={"alias": "sec1"})
            assert built.status_code == 200, built.text
            schema = httpx.get(url + "/openapi.json").json()
            yield url, schema, built.json()["keys"][0]


def bearer(value: str) -> dict[str, str]:
    return {"authorization": f"Bearer {value}"}


def operations(schema: dict[str, Any], scheme: str) -> list[tuple[str, str]]:
    found = []
    for path, ops in schema["paths"].items():
        for method, operation in ops.items():
            if any(scheme in requirement for requirement in operation.get("security", [])):
                found.append((method, path.replace("{run_id}", "r1").replace("{dataset}", "commits")))
    return found


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:  # one keep-alive connection for the few hundred calls
        yield client


def call(http: httpx.Client, url: str, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    body = {} if method in ("post", "put", "patch") else None
    return http.request(method.upper(), url + path, headers=headers, json=body)


def in_envelope(path: str, response: httpx.Response) -> bool:
    body = response.json()
    if path.startswith("/v1/messages"):
        return body["type"] == "error" and bool(body["error"]["message"])
    if envelope_kind(path) == "openai":  # /v1/* and /cursor/* (the Cursor IDE's chat entry)
        return bool(body["error"]["message"])
    return body["status"] == "error" and body["code"] == response.status_code


def test_admin_routes_refuse_everyone_but_the_admin(
    gateway: tuple[str, dict[str, Any], str], http: httpx.Client
) -> None:
    url, schema, gateway_key = gateway
    admin_ops = operations(schema, "AdminBearer")
    assert len(admin_ops) >= 25 and ("post", "/tokens/add") in admin_ops
    cases = {
        "missing": ({}, 401),
        "wrong": (bearer("not-the-admin-token"), 401),
        "other scheme": ({"authorization": f"Token {ADMIN}"}, 401),
        "gateway key": (bearer(gateway_key), 403),
        "shared token": (bearer(SHARED), 403),
        "pinned admin": (bearer(f"{ADMIN}-sec1"), 403),
    }
    for method, path in admin_ops:
        for name, (headers, status) in cases.items():
            response = call(http, url, method, path, headers)
            assert response.status_code == status, (name, method, path, response.text)
            assert in_envelope(path, response), (name, method, path, response.text)
            assert ADMIN not in response.text and gateway_key not in response.text


def test_basic_form_routes_refuse_wrong_users(
    gateway: tuple[str, dict[str, Any], str], http: httpx.Client
) -> None:
    url, schema, _ = gateway
    basic_ops = operations(schema, "CursorBasic")
    assert basic_ops
    wrong = {"authorization": "Basic " + base64.b64encode(b"nobody:").decode()}
    shared = {"authorization": "Basic " + base64.b64encode(f"{SHARED}:".encode()).decode()}
    for method, path in basic_ops:
        assert call(http, url, method, path, wrong).status_code == 401, path
        assert call(http, url, method, path, shared).status_code == 403, path


def test_chat_routes_refuse_missing_and_wrong_keys(
    gateway: tuple[str, dict[str, Any], str], http: httpx.Client
) -> None:
    url, schema, _ = gateway
    chat_ops = operations(schema, "ChatBearer")
    assert ("post", "/v1/chat/completions") in chat_ops
    for method, path in chat_ops:
        for headers in ({}, bearer("sk-wrong"), {"x-api-key": "wrong"}, bearer("cgk_nope_nope")):
            response = call(http, url, method, path, headers)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert in_envelope(path, response), response.text


def _compared_names(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
            for operand in [node.left, *node.comparators]:
                name = operand.id if isinstance(operand, ast.Name) else getattr(operand, "attr", "")
                if any(word in name.lower() for word in SECRET_WORDS):
                    yield node.lineno, name


@pytest.mark.parametrize(
    "module", ["api/auth.py", "domain/keys.py", "services/api_keys.py", "services/keys.py"]
)
def test_secrets_are_compared_in_constant_time(module: str) -> None:
    source = (PACKAGE / module).read_text()
    assert list(_compared_names(ast.parse(source))) == []  # no `==` on a secret: hmac.compare_digest
    if module in ("api/auth.py", "domain/keys.py"):
        assert "hmac.compare_digest" in source
