"""`/tokens/add` and `/tokens/get` through HTTP: auth rules, 400 (never 422), masking, per-token results."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import tokens
from cursor_gateway.services.container import Services, build_services
from cursor_gateway.settings import Settings
from cursor_gateway.storage.tokens import InMemoryTokenStore
from fakes.jwts import NOW, USER_ID, api_key, make_jwt
from fastapi.testclient import TestClient

ADMIN = "admin-secret-token"
SHARED = "shared-secret-token"


class NoExchange:
    async def exchange(self, api_key: str) -> tuple[str, float]:
        raise AssertionError("admin routes never exchange keys")


def build(settings: Settings) -> tuple[TestClient, Services]:
    services = build_services(
        settings, token_store=InMemoryTokenStore(clock=lambda: NOW), exchanger=NoExchange(), clock=lambda: NOW
    )
    app = create_app(tokens.router, settings=settings, services=services)
    return TestClient(app), services


@pytest.fixture
def client() -> TestClient:
    return build(Settings(auth_token=ADMIN, shared_token=SHARED))[0]


def admin(
    client: TestClient,
    path: str,
    body: Any = None,
    *,
    raw: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    content = raw if raw is not None else json.dumps({} if body is None else body)
    return client.post(path, content=content, headers={"authorization": f"Bearer {ADMIN}", **(headers or {})})


def add(client: TestClient, *tokens_: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"tokens": list(tokens_)}
    if status:
        body["status"] = status
    response = admin(client, "/tokens/add", body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# --- auth -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/tokens/add", "/tokens/get"])
@pytest.mark.parametrize(
    "headers, status",
    [
        ({}, 401),
        ({"authorization": "Bearer wrong"}, 401),
        ({"authorization": f"Basic {ADMIN}"}, 401),
        ({"x-api-key": ADMIN}, 401),  # admin routes take the bearer only
        ({"authorization": f"Bearer {SHARED}"}, 403),
    ],
)
def test_admin_auth_rules(client: TestClient, path: str, headers: dict[str, str], status: int) -> None:
    response = client.post(path, json={"tokens": []}, headers=headers)
    assert response.status_code == status
    body = response.json()
    assert body["status"] == "error" and body["code"] == status


def test_auth_comes_before_body_validation(client: TestClient) -> None:
    assert client.post("/tokens/add", content="{not json").status_code == 401
    assert (
        client.post(
            "/tokens/add", content="{not json", headers={"authorization": f"Bearer {SHARED}"}
        ).status_code
        == 403
    )


def test_without_auth_token_every_admin_route_is_401_and_says_why() -> None:
    client, _ = build(Settings(auth_token="", shared_token=SHARED))
    for headers in ({}, {"authorization": "Bearer "}, {"authorization": f"Bearer {SHARED}"}):
        response = client.post("/tokens/get", json={}, headers=headers)
        assert response.status_code == 401
        assert "AUTH_TOKEN is not configured" in response.json()["message"]


# --- body validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, raw",
    [
        ("/tokens/add", "{not json"),
        ("/tokens/add", "[]"),
        ("/tokens/add", "{}"),  # tokens missing
        ("/tokens/add", '{"tokens": "abc"}'),
        ("/tokens/add", '{"tokens": [{"token": 123}]}'),
        ("/tokens/add", '{"tokens": [{"alias": "a"}]}'),
        ("/tokens/add", '{"tokens": [], "status": "paused"}'),
        ("/tokens/add", '{"tokens": [{"token": "x", "checksum": 5}]}'),
        ("/tokens/get", '{"reveal": "yes"}'),
        ("/tokens/get", "nope"),
    ],
)
def test_bad_bodies_are_400_never_422(client: TestClient, path: str, raw: str) -> None:
    response = admin(client, path, raw=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["status"], body["code"], body["error"]) == ("error", 400, "invalid_request")


def test_json_is_read_whatever_the_content_type(client: TestClient) -> None:
    # `curl -d '{...}'` sends application/x-www-form-urlencoded.
    response = admin(
        client,
        "/tokens/add",
        {"tokens": [{"token": make_jwt()}]},
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["outcome"] == "added"


def test_get_accepts_an_empty_body(client: TestClient) -> None:
    response = admin(client, "/tokens/get", raw="")
    assert response.status_code == 200
    assert response.json() == {"status": "success", "tokens": [], "tokens_count": 0}


# --- /tokens/add ---------------------------------------------------------------------------------------


def test_add_reports_every_token_in_order(client: TestClient) -> None:
    session = make_jwt()
    key = api_key()
    result = add(
        client,
        {"token": session},
        {"token": f"WorkosCursorSessionToken={USER_ID}%3A%3A{session}"},  # the same credential again
        {"token": key, "alias": "work-key"},
        {"token": "garbage"},
        {"token": make_jwt(exp=NOW - 10, user_id="user_OLD")},
        {"token": make_jwt(provider="okta")},
        {"token": make_jwt(token_type=None)},
    )
    assert [(r["alias"], r["outcome"]) for r in result["results"]] == [
        (USER_ID, "added"),
        (USER_ID, "duplicate"),
        ("work-key", "added"),
        (None, "malformed"),
        (None, "expired"),
        (None, "unsupported_provider"),
        (None, "old_format"),
    ]
    assert all(r["detail"] for r in result["results"])
    assert result["status"] == "success"
    assert result["tokens_count"] == 2
    assert result["message"] == "2 added, 1 duplicate, 4 rejected"
    assert session not in json.dumps(result) and key not in json.dumps(result)


def test_derived_aliases_are_unique_and_explicit_ones_are_respected(client: TestClient) -> None:
    first = make_jwt(randomness="1")
    second = make_jwt(randomness="2")  # same account, another session
    third = make_jwt(randomness="3")
    result = add(client, {"token": first}, {"token": second}, {"token": third, "alias": USER_ID})
    assert [(r["alias"], r["outcome"]) for r in result["results"]] == [
        (USER_ID, "added"),
        (f"{USER_ID}-2", "added"),
        (USER_ID, "duplicate"),
    ]
    assert "already taken" in result["results"][2]["detail"]


def test_invalid_bundle_values_are_malformed_not_randomised(client: TestClient) -> None:
    result = add(
        client,
        {"token": make_jwt(randomness="1"), "client_key": "xyz"},
        {"token": make_jwt(randomness="2"), "session_id": "not-a-uuid"},
        {"token": make_jwt(randomness="3"), "checksum": "short"},
        {"token": make_jwt(randomness="4"), "alias": "bad alias!"},
    )
    assert [r["outcome"] for r in result["results"]] == ["malformed"] * 4
    assert "client_key" in result["results"][0]["detail"]
    assert result["tokens_count"] == 0


def test_given_bundle_values_are_kept_and_missing_ones_derived(client: TestClient) -> None:
    h1, h2 = "a" * 64, "b" * 64
    add(
        client,
        {
            "token": make_jwt(),
            "alias": "given",
            "checksum": {"first": h1, "second": h2},
            "client_key": "c" * 64,
            "session_id": "6f1c1c4e-3c1a-4a5e-9b1a-0d8a2c3b4d5e",
            "config_version": "0b6f2d7e-9a4c-4e7f-8d2b-1c3a5e7f9b0d",
            "proxy": "eu",
            "timezone": "Asia/Tokyo",
            "refresh_token": "refresh.jwt.value",
        },
        {"token": api_key("derived"), "alias": "derived"},
        status="disabled",
    )
    listed = {alias: info for _, alias, info in admin(client, "/tokens/get").json()["tokens"]}
    given, derived = listed["given"], listed["derived"]
    assert given["bundle"]["checksum"] == {"first": h1, "second": h2}
    assert given["bundle"]["client_key"] == "c" * 64
    assert given["bundle"]["timezone"] == "Asia/Tokyo" and given["bundle"]["proxy"] == "eu"
    assert given["bundle"]["secondary_token"] != "refresh.jwt.value"  # masked
    assert given["status"] == derived["status"] == "disabled"
    assert len(derived["bundle"]["client_key"]) == 64 and derived["bundle"]["session_id"]
    assert derived["kind"] == "api_key" and given["kind"] == "session"


# --- /tokens/get ---------------------------------------------------------------------------------------


def test_get_masks_unless_revealed(client: TestClient) -> None:
    session = make_jwt()
    add(client, {"token": session, "refresh_token": "r" * 40})
    masked = admin(client, "/tokens/get", {}).json()
    assert masked["tokens_count"] == 1
    index, alias, info = masked["tokens"][0]
    assert (index, alias, info["status"], info["kind"]) == (0, USER_ID, "enabled", "session")
    assert info["health"] == {"state": "healthy", "reason": "", "cooldown_until": None, "score": 1.0}
    assert info["bundle"]["primary_token"] != session and session not in json.dumps(masked)
    assert info["bundle"]["primary_token"].startswith(session[:6])
    assert "r" * 40 not in json.dumps(masked)

    revealed = admin(client, "/tokens/get", {"reveal": True}).json()
    bundle = revealed["tokens"][0][2]["bundle"]
    assert bundle["primary_token"] == session
    assert bundle["secondary_token"] == "r" * 40


def test_get_shows_health(client: TestClient) -> None:
    from cursor_gateway.errors import UpstreamRateLimited

    http, services = build(Settings(auth_token=ADMIN, rate_limit_cooldown=30))
    add(http, {"token": make_jwt(), "alias": "a"})
    services.token_pool.report_failure("a", UpstreamRateLimited("quota"))
    info = admin(http, "/tokens/get").json()["tokens"][0][2]
    assert info["health"] == {
        "state": "cooling_down",
        "reason": "quota",
        "cooldown_until": NOW + 30,
        "score": 0.75,  # one failure moves the score a quarter of the way to 0 (domain.health)
    }
