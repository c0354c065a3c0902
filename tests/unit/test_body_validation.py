"""One decoding rule for every JSON body (api.body): lone surrogates and invalid UTF-8 are a 400 that says
why, an empty body names what is required, and the chat surfaces type-check what they ignore, as OpenAI
and Anthropic do. Each case goes through the real app; none reaches the upstream."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cursor_gateway.adapters.openai_request import ChatCompletionIn, check_parameters
from cursor_gateway.api.app import create_app
from cursor_gateway.services.container import build_services
from cursor_gateway.settings import Settings
from cursor_gateway.storage.config import InMemoryConfigStore
from cursor_gateway.storage.tokens import InMemoryTokenStore
from fastapi.testclient import TestClient

ADMIN = "admin-secret-token"
AUTH = {"authorization": f"Bearer {ADMIN}"}
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def http() -> Any:
    settings = Settings(auth_token=ADMIN, cursor_api_url="http://127.0.0.1:9")  # nothing listens there
    services = build_services(settings, token_store=InMemoryTokenStore(), config_store=InMemoryConfigStore())
    with TestClient(create_app(settings=settings, services=services)) as client:
        yield client


def post(http: TestClient, path: str, raw: bytes | str, headers: dict[str, str] | None = None) -> Any:
    return http.post(
        path, content=raw, headers={**AUTH, "content-type": "application/json", **(headers or {})}
    )


SURROGATE_BODIES = {
    "/v1/chat/completions": '{"model": "gpt-5.2", "messages": [{"role": "user", "content": "a\\ud800b"}]}',
    "/v1/messages": '{"model": "claude-4.6-sonnet", "max_tokens": 5, "messages": [{"role": "user", "content": "\\udc00"}]}',
    "/v1/messages/count_tokens": '{"model": "claude-4.6-sonnet", "messages": [{"role": "user", "content": "\\ud800"}]}',
    "/tokens/add": '{"tokens": [{"token": "\\ud83d"}]}',
    "/config": '{"action": "update", "proxy_name": "\\udfff"}',
}


@pytest.mark.parametrize("path", sorted(SURROGATE_BODIES))
def test_a_lone_surrogate_is_a_400_in_the_surface_envelope(http: TestClient, path: str) -> None:
    response = post(http, path, SURROGATE_BODIES[path])
    assert response.status_code == 400, response.text
    text = json.dumps(response.json())
    assert "surrogate" in text or "hex escape" in text
    if path.startswith("/v1/messages"):
        assert response.json()["type"] == "error"
    elif path.startswith("/v1/"):
        assert response.json()["error"]["type"] == "invalid_request_error"
    else:
        assert response.json()["status"] == "error"


def test_invalid_utf8_and_a_paired_surrogate(http: TestClient) -> None:
    bad = b'{"model": "gpt-5.2", "messages": [{"role": "user", "content": "\xff\xfe"}]}'
    response = post(http, "/v1/chat/completions", bad)
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]
    # An escaped pair is one valid code point: parsed (then refused for the unknown token pool, not 400).
    pair = '{"model": "gpt-5.2", "messages": [{"role": "user", "content": "\\ud83d\\ude00"}]}'
    assert (
        post(http, "/v1/messages/count_tokens", pair.replace("gpt-5.2", "claude-4.6-sonnet")).status_code
        == 200
    )


def test_an_empty_body_names_the_required_parameters(http: TestClient) -> None:
    response = post(http, "/v1/chat/completions", b"")
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "empty" in message and "'model'" in message and "'messages'" in message and "None" not in message
    # Admin calls with only optional parameters still take an empty body as {}.
    assert post(http, "/tokens/get", b"").status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stream", "yes"),
        ("stream", 1),
        ("temperature", "hot"),
        ("temperature", 2.5),
        ("top_p", True),
        ("max_tokens", 1.5),
        ("seed", "42"),
        ("stop", 7),
        ("metadata", {"a": 1}),
        ("store", "true"),
        ("logit_bias", {"50256": 101}),
    ],
)
def test_openai_parameters_are_type_checked_even_when_ignored(
    http: TestClient, field: str, value: Any
) -> None:
    body = {"model": "gpt-5.2", "messages": HI, field: value}
    response = post(http, "/v1/chat/completions", json.dumps(body))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"].split(".")[0] == field


@pytest.mark.parametrize(
    ("field", "value"), [("stream", "yes"), ("temperature", 1.5), ("top_k", -1), ("stop_sequences", "x")]
)
def test_anthropic_parameters_are_type_checked(http: TestClient, field: str, value: Any) -> None:
    body = {"model": "claude-4.6-sonnet", "messages": HI, field: value}
    response = post(http, "/v1/messages/count_tokens", json.dumps(body))
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "error" and field in response.json()["error"]["message"]


def test_a_user_message_needs_content(http: TestClient) -> None:
    body = {"model": "gpt-5.2", "messages": [{"role": "user", "content": None}]}
    response = post(http, "/v1/chat/completions", json.dumps(body))
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "messages[0].content"


def test_ignored_parameters_are_still_listed() -> None:
    body = ChatCompletionIn.model_validate(
        {"model": "m", "messages": HI, "temperature": 0, "seed": 3, "foo": 1}
    )
    assert check_parameters(body) == ["seed", "temperature"]
