"""`/config` (get, update, reset, rollback, the page) and `/env-example` through HTTP: auth rules, 400 (never
422), 404 for an unknown version, 413, environment twins as defaults."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import config
from cursor_gateway.services.config import usage_check_from_text
from cursor_gateway.services.container import build_services
from cursor_gateway.settings import SETTINGS, Settings
from cursor_gateway.storage.config import InMemoryConfigStore
from cursor_gateway.storage.tokens import InMemoryTokenStore
from fastapi.testclient import TestClient

ADMIN = "admin-secret-token"
SHARED = "shared-secret-token"


def client(**settings: Any) -> TestClient:
    values: dict[str, Any] = {"auth_token": ADMIN, "shared_token": SHARED, **settings}
    built = Settings(**values)
    services = build_services(built, token_store=InMemoryTokenStore(), config_store=InMemoryConfigStore())
    return TestClient(create_app(config.router, settings=built, services=services))


def post(http: TestClient, body: Any, *, key: str = ADMIN, raw: str | None = None) -> Any:
    content = raw if raw is not None else json.dumps(body)
    return http.post("/config", content=content, headers={"authorization": f"Bearer {key}"})


def ok(http: TestClient, body: Any) -> dict[str, Any]:
    response = post(http, body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    assert data["status"] == "success"
    return data


def test_environment_twins_are_the_defaults_and_reset_returns_to_them() -> None:
    http = client(
        vision_ability="all",
        token_selection="fill_first",
        enable_dynamic_key=True,
        usage_check_models="list:gpt-5, claude-4-sonnet",
        model_aliases='{"gpt-4o": "gpt-5", "o3": {"model": "o3", "max_mode": true}}',
        cursor_protocol="legacy",
    )
    start = ok(http, {"action": "get"})
    assert start["version"] == 0
    data = start["data"]
    assert data["vision_ability"] == "all"
    assert data["token_selection"] == "fill_first"
    assert data["enable_dynamic_key"] is True
    assert data["usage_check_models"] == {"type": "list", "content": "gpt-5,claude-4-sonnet"}
    assert data["model_aliases"]["gpt-4o"] == {"model": "gpt-5", "max_mode": False, "parameters": {}}
    assert data["model_aliases"]["o3"]["max_mode"] is True
    assert data["cursor_protocol"] == "legacy"
    assert data["share_token"] == SHARED[:3] + "***"  # SHARED_TOKEN is the twin of share_token, masked

    changed = ok(http, {"action": "update", "vision_ability": "none", "enable_slow_pool": True})
    assert changed["version"] == 1
    assert changed["data"]["vision_ability"] == "none"
    back = ok(http, {"action": "update", "vision_ability": None})  # null: back to the environment twin
    assert back["data"]["vision_ability"] == "all" and back["data"]["enable_slow_pool"] is True
    reset = ok(http, {"action": "reset"})
    assert reset["version"] == 3
    assert reset["data"] == start["data"]


def test_rollback_restores_an_earlier_version_as_a_new_one() -> None:
    http = client()
    ok(http, {"action": "update", "cursor_protocol": "inference"})  # v1
    ok(http, {"action": "update", "thinking_output": "think_tags"})  # v2
    ok(http, {"action": "update", "cursor_protocol": "legacy"})  # v3
    rolled = ok(http, {"action": "rollback", "version": 1})
    assert rolled["version"] == 4
    assert rolled["data"]["cursor_protocol"] == "inference"
    assert rolled["data"]["thinking_output"] == "reasoning_content"
    assert "version 1" in rolled["message"]
    assert ok(http, {"action": "get"})["version"] == 4

    missing = post(http, {"action": "rollback", "version": 99})
    assert missing.status_code == 404
    assert missing.json() == {
        "status": "error",
        "code": 404,
        "error": "not_found",
        "message": "Config version 99 does not exist",
    }


def test_stale_expected_version_is_409_and_changes_nothing() -> None:
    http = client()
    ok(http, {"action": "update", "cursor_protocol": "inference"})
    for body in (
        {"action": "update", "cursor_protocol": "legacy", "expected_version": 0},
        {"action": "reset", "expected_version": 0},
        {"action": "rollback", "version": 1, "expected_version": 0},
    ):
        response = post(http, body)
        assert response.status_code == 409, body
        assert response.json()["error"] == "config_version_conflict"
    current = ok(http, {"action": "get"})
    assert current["version"] == 1 and current["data"]["cursor_protocol"] == "inference"
    assert ok(http, {"action": "update", "cursor_protocol": "legacy", "expected_version": 1})["version"] == 2


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"action": "rollback"}, "version"),
        ({"action": "rollback", "version": "1"}, "version"),
        ({"action": "rollback", "version": True}, "version"),
        ({"action": "rollback", "version": 0}, "version"),
        ({"action": "get", "vision_ability": "all"}, "vision_ability"),
        ({"action": "reset", "cursor_protocol": "agent"}, "cursor_protocol"),
        ({"action": "update", "version": 2}, "version"),
        ({"action": "update", "vision": "all"}, "vision"),
        ({"action": "update", "vision_ability": "some"}, "vision_ability"),
        ({"action": "update", "enable_dynamic_key": "yes"}, "enable_dynamic_key"),
        ({"action": "update", "usage_check_models": {"type": "custom"}}, "usage_check_models"),
        ({"action": "update", "expected_version": "3", "vision_ability": "all"}, "expected_version"),
        ({"action": "delete"}, "action"),
        ({}, "action"),
    ],
)
def test_bad_bodies_are_400_in_the_admin_envelope(body: dict[str, Any], param: str) -> None:
    response = post(client(), body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["status"] == "error" and answer["code"] == 400 and answer["error"] == "invalid_request"
    assert param in answer["message"]


def test_malformed_json_is_400_and_oversized_is_413() -> None:
    http = client(max_body_bytes=2000)
    response = post(http, None, raw='{"action": "get"')
    assert response.status_code == 400
    assert response.json()["message"].startswith("Request body is not valid JSON")
    big = post(http, {"action": "update", "share_token": "x" * 5000})
    assert big.status_code == 413
    assert big.json()["error"] == "payload_too_large"


def test_auth_rules() -> None:
    http = client()
    assert post(http, {"action": "get"}, key="").status_code == 401
    assert post(http, {"action": "get"}, key="wrong").status_code == 401
    forbidden = post(http, {"action": "get"}, key=SHARED)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == 403
    # Auth comes before the body: an unauthenticated caller learns nothing about body rules.
    assert post(http, None, key="wrong", raw="not json").status_code == 401


def test_config_page_is_public_and_holds_no_values() -> None:
    http = client(shared_token="page-must-not-show-this")
    ok(http, {"action": "update", "share_token": "stored-share-secret"})
    page = http.get("/config")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    text = page.text
    # The admin console's page: its script (static/config.js) calls POST /config with the typed-in key.
    assert '<script src="static/config.js" defer></script>' in text
    for secret in ("page-must-not-show-this", "stored-share-secret", ADMIN, "reasoning_content"):
        assert secret not in text


def test_env_example_lists_every_setting_with_its_default() -> None:
    response = client().get("/env-example")  # public: no key
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    for spec in SETTINGS:
        assert f"{spec.name}={spec.default}" in lines
        first_words = " ".join(spec.meaning.split()[:3])
        assert any(line.startswith("# ") and first_words in line for line in lines), spec.name
    assert "VISION_ABILITY=base64" in lines and "MODEL_ALIASES=" in lines and "SHARED_TOKEN=" in lines
    assert all(len(line) <= 100 or "=" in line for line in lines)


def test_every_settings_field_is_documented() -> None:
    from dataclasses import fields

    documented = {spec.name for spec in SETTINGS}
    for f in fields(Settings):
        if f.name != "extra":
            assert f.name.upper() in documented, f"{f.name.upper()} is missing from settings.SETTINGS"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("default", {"type": "default", "content": ""}),
        ("none", {"type": "none", "content": ""}),
        ("list:a,b", {"type": "list", "content": "a,b"}),
        ('{"type": "all"}', {"type": "all"}),
    ],
)
def test_usage_check_models_text_forms(text: str, expected: dict[str, str]) -> None:
    assert usage_check_from_text(text) == expected


def test_invalid_twins_fail_at_startup() -> None:
    for env in (
        {"VISION_ABILITY": "pixels"},
        {"TOKEN_SELECTION": "random"},
        {"USAGE_CHECK_MODELS": "some"},
        {"MODEL_ALIASES": "[1]"},
        {"MODEL_ALIASES": "{nope"},
    ):
        with pytest.raises(ValueError):
            Settings.from_env(env)
    settings = Settings.from_env({"ENABLE_SLOW_POOL": "true", "MODEL_ALIASES": '{"a": "b"}'})
    assert settings.enable_slow_pool is True and settings.model_aliases == '{"a": "b"}'
