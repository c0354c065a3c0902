"""Every `/tokens/*` edit route and the public utilities through HTTP (TestClient), against the in-memory
store and DynamoDB on a moto server; refresh, profile and config version against the fake Cursor over
real HTTP/2. Each route with its bad-input cases (400 in the admin envelope, never 422; 413 for oversized
bodies); no full credential in any response or log line unless revealed."""

from __future__ import annotations

import copy
import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import tokens, utilities
from cursor_gateway.domain.tokens import TokenHealth, TokenRecord
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import CATALOG, FakeCursor
from cursor_gateway.emulator.tokens import fake_jwt
from cursor_gateway.local.moto_server import EmbeddedMoto
from cursor_gateway.local.template import load_template, local_resources
from cursor_gateway.services.container import Services, build_services
from cursor_gateway.settings import Settings
from cursor_gateway.storage.config import InMemoryConfigStore
from cursor_gateway.storage.proxies import InMemoryProxyStore
from cursor_gateway.storage.tokens import InMemoryTokenStore, TokenStore
from cursor_gateway.storage.tokens_dynamo import DynamoTokenStore
from cursor_gateway.upstream.checksum import decode_timestamp_part, timestamp_part
from fakes.jwts import api_key
from fakes.socks5 import running_socks5
from fastapi.testclient import TestClient
from harness import running_fake

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ADMIN = "admin-token-for-routes"
SHARED = "shared-token-for-routes"
AUTH = {"authorization": f"Bearer {ADMIN}"}

EDIT_ROUTES = [
    "/tokens/set",
    "/tokens/del",
    "/tokens/alias/set",
    "/tokens/status/set",
    "/tokens/proxy/set",
    "/tokens/timezone/set",
    "/tokens/refresh",
    "/tokens/profile/update",
    "/tokens/config-version/update",
]


def user(n: int) -> str:
    return f"user_01ROUTES{n:018d}"


def jwt(n: int, **kwargs: Any) -> str:
    return fake_jwt(user(n), **kwargs)


# --- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = EmbeddedMoto("127.0.0.1", 0)
    endpoint = server.start()
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeCursor]:
    with running_fake() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_fake(fake: FakeCursor) -> None:
    fake.by_token.clear()
    fake.revoked_sessions.clear()
    fake.refresh_calls.clear()
    fake.unary_calls.clear()
    fake.accounts.stripe.clear()
    fake.accounts.users.clear()
    fake.accounts.violations.clear()


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, moto_endpoint: str) -> TokenStore:
    if request.param == "memory":
        return InMemoryTokenStore()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("dynamodb", region_name=REGION, endpoint_url=moto_endpoint)
    tables, _ = local_resources(load_template(ROOT / "template.yaml"), region=REGION)
    spec = next(t for t in tables if t.logical_id == "TokensTable")
    name = f"tokens-{uuid.uuid4().hex[:8]}"
    client.create_table(TableName=name, **spec.create_args)
    return DynamoTokenStore(name, client=client)


def settings_for(fake: FakeCursor, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "auth_token": ADMIN,
        "shared_token": SHARED,
        "cursor_api_url": fake.url,
        "cursor_web_url": fake.url,
        "pool_cache_seconds": 0.0,
    }
    values.update(overrides)
    return Settings(**values)


def services_for(settings: Settings, store: TokenStore) -> Services:
    return build_services(
        settings, token_store=store, config_store=InMemoryConfigStore(), proxy_store=InMemoryProxyStore()
    )


class Gateway:
    def __init__(self, client: TestClient, services: Services, store: TokenStore) -> None:
        self.http = client
        self.services = services
        self.store = store
        self.secrets: list[str] = []

    def post(self, path: str, body: Any = None, *, raw: str | None = None, **kwargs: Any) -> Any:
        content = raw if raw is not None else json.dumps(body)
        response = self.http.post(
            path, content=content, headers={**AUTH, **kwargs.pop("headers", {})}, **kwargs
        )
        reveal = isinstance(body, dict) and body.get("reveal") is True
        if not reveal:
            for secret in self.secrets:
                assert secret not in response.text, f"{path} answered a full credential"
        return response

    def ok(self, path: str, body: Any = None) -> dict[str, Any]:
        response = self.post(path, body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        assert answer["status"] == "success"
        return answer

    def add(self, alias: str, token: str, **extra: Any) -> None:
        self.secrets.append(token)
        result = self.ok("/tokens/add", {"tokens": [{"token": token, "alias": alias, **extra}]})
        assert result["results"][0]["outcome"] == "added", result

    def listing(self, *, reveal: bool = False) -> list[list[Any]]:
        tokens_: list[list[Any]] = self.ok("/tokens/get", {"reveal": reveal} if reveal else {})["tokens"]
        return tokens_

    def info(self, alias: str) -> dict[str, Any]:
        found = [info for _, name, info in self.listing() if name == alias]
        assert found, f"no token {alias}"
        info: dict[str, Any] = found[0]
        return info

    def aliases(self) -> list[str]:
        return [alias for _, alias, _ in self.listing()]


@pytest.fixture
def gateway(fake: FakeCursor, store: TokenStore, caplog: pytest.LogCaptureFixture) -> Iterator[Gateway]:
    settings = settings_for(fake)
    services = services_for(settings, store)
    app = create_app(tokens.router, utilities.router, settings=settings, services=services)
    caplog.set_level(logging.DEBUG, logger="cursor_gateway")
    with TestClient(app) as client:
        gw = Gateway(client, services, store)
        yield gw
    # (In a fixture's teardown `caplog.records` is the teardown phase only: read every phase.)
    for record in [*caplog.get_records("setup"), *caplog.get_records("call")]:
        line = record.getMessage() + (record.exc_text or "")
        for secret in gw.secrets:
            assert secret not in line, f"{record.name} logged a full credential"


def outcomes(answer: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(r["alias"], r["outcome"]) for r in answer["results"]]


# --- auth and body rules (every route) -------------------------------------------------------------------


@pytest.mark.parametrize("path", EDIT_ROUTES)
def test_admin_only(gateway: Gateway, path: str) -> None:
    http = gateway.http
    assert http.post(path, json=[]).status_code == 401
    assert http.post(path, json=[], headers={"authorization": "Bearer wrong"}).status_code == 401
    forbidden = http.post(path, content="{not json", headers={"authorization": f"Bearer {SHARED}"})
    assert forbidden.status_code == 403
    assert forbidden.json() == {
        "status": "error",
        "code": 403,
        "error": "forbidden",
        "message": forbidden.json()["message"],
    }


@pytest.mark.parametrize(
    "path, raw",
    [
        ("/tokens/set", "{not json"),
        ("/tokens/set", "{}"),
        ("/tokens/set", '[["a"]]'),
        ("/tokens/set", '[["a", {"bundle": {}}]]'),
        ("/tokens/set", '[["a", {"bundle": {"primary_token": 5}}]]'),
        ("/tokens/set", '[["a", {"bundle": {"primary_token": "x"}, "status": "paused"}]]'),
        ("/tokens/del", "{}"),
        ("/tokens/del", '{"aliases": "a"}'),
        ("/tokens/del", '{"aliases": ["a"], "include_failed_tokens": "yes"}'),
        ("/tokens/alias/set", '["a"]'),
        ("/tokens/alias/set", '{"a": 1}'),
        ("/tokens/status/set", '{"aliases": ["a"]}'),
        ("/tokens/status/set", '{"aliases": ["a"], "status": "on"}'),
        ("/tokens/proxy/set", '{"aliases": ["a"]}'),
        ("/tokens/proxy/set", '{"aliases": ["a"], "proxy": 3}'),
        ("/tokens/timezone/set", '{"aliases": ["a"]}'),
        ("/tokens/timezone/set", '{"aliases": [1], "timezone": "UTC"}'),
        ("/tokens/refresh", '{"aliases": ["a"]}'),
        ("/tokens/refresh", '["a", 2]'),
        ("/tokens/profile/update", '"a"'),
        ("/tokens/config-version/update", ""),
    ],
)
def test_bad_bodies_are_400_in_the_admin_envelope(gateway: Gateway, path: str, raw: str) -> None:
    response = gateway.post(path, raw=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["status"], body["code"], body["error"]) == ("error", 400, "invalid_request")
    assert body["message"]


def test_oversized_bodies_are_413(fake: FakeCursor) -> None:
    settings = settings_for(fake, max_body_bytes=2048)
    services = services_for(settings, InMemoryTokenStore())
    client = TestClient(create_app(tokens.router, settings=settings, services=services))
    for path in ("/tokens/set", "/tokens/del", "/tokens/refresh"):
        response = client.post(path, content=json.dumps(["a" * 50] * 100), headers=AUTH)
        assert response.status_code == 413
        assert response.json()["error"] == "payload_too_large"


# --- /tokens/set -----------------------------------------------------------------------------------------


def test_set_replaces_the_pool_and_keeps_what_it_knew(gateway: Gateway) -> None:
    a, b, c = jwt(1), jwt(2), jwt(3)
    gateway.add("a", a)
    gateway.add("b", b)
    gateway.secrets.append(c)
    gateway.store.update_health("a", TokenHealth("cooling_down", "429", time.time() + 600, 0.5, 1))
    answer = gateway.ok(
        "/tokens/set",
        [
            ["c", {"bundle": {"primary_token": c, "timezone": "Asia/Tokyo"}, "status": "disabled"}],
            ["a", {"bundle": {"primary_token": a, "proxy": "eu"}}],
        ],
    )
    assert answer["tokens_count"] == 2
    assert answer["message"] == "pool replaced: 2 tokens (1 added, 1 updated, 1 removed)"
    assert gateway.aliases() == ["c", "a"]  # the request's order
    info_a, info_c = gateway.info("a"), gateway.info("c")
    assert info_a["health"]["state"] == "cooling_down"  # same credential: what we knew stays
    assert info_a["bundle"]["proxy"] == "eu"
    assert (info_c["status"], info_c["bundle"]["timezone"]) == ("disabled", "Asia/Tokyo")


def test_set_takes_back_what_get_reveals(gateway: Gateway) -> None:
    gateway.add("a", jwt(1), refresh_token=jwt(11))
    gateway.add("b", api_key("set-roundtrip"), timezone="Europe/Paris", proxy="p1")
    gateway.secrets.append(jwt(11))
    before = gateway.listing(reveal=True)
    answer = gateway.ok("/tokens/set", before)  # [index, alias, info] entries, as /tokens/get shows them
    assert answer["message"] == "pool replaced: 2 tokens (0 added, 2 updated, 0 removed)"
    after = gateway.listing(reveal=True)
    assert [(alias, info["bundle"]) for _, alias, info in after] == [
        (alias, info["bundle"]) for _, alias, info in before
    ]


def test_set_with_an_empty_list_empties_the_pool(gateway: Gateway) -> None:
    gateway.add("a", jwt(1))
    assert gateway.ok("/tokens/set", [])["tokens_count"] == 0
    assert gateway.aliases() == []


def test_set_accepts_an_expired_token_only_with_a_refresh_token(gateway: Gateway) -> None:
    expired = jwt(5, exp=time.time() - 60)
    gateway.secrets += [expired, jwt(6)]
    refused = gateway.post("/tokens/set", [["old", {"bundle": {"primary_token": expired}}]])
    assert refused.status_code == 400 and "expired" in refused.json()["message"]
    gateway.ok("/tokens/set", [["old", {"bundle": {"primary_token": expired, "secondary_token": jwt(6)}}]])
    assert gateway.aliases() == ["old"]


@pytest.mark.parametrize(
    "entry, why",
    [
        (["b", {"bundle": {"primary_token": "eyJhbG...abcd"}}], "malformed"),  # a masked /tokens/get value
        (["a", {"bundle": {"primary_token": "JWT2"}}], "alias appears twice"),
        (["bad alias", {"bundle": {"primary_token": "JWT2"}}], "alias must be"),
        (["b", {"bundle": {"primary_token": "JWT1"}}], "the same credential as 'a'"),
        (["b", {"bundle": {"primary_token": "JWT2", "timezone": "Mars/Olympus"}}], "IANA"),
        (["b", {"bundle": {"primary_token": "JWT2", "checksum": "xyz"}}], "checksum"),
        (["b", {"bundle": {"primary_token": "JWT2", "client_key": "short"}}], "client_key"),
        (["b", {"bundle": {"primary_token": "JWT2", "session_id": "nope"}}], "session_id"),
    ],
)
def test_set_with_one_invalid_entry_changes_nothing(gateway: Gateway, entry: list[Any], why: str) -> None:
    gateway.add("keep", jwt(9))
    before = gateway.listing(reveal=True)
    real = {"JWT1": jwt(1), "JWT2": jwt(2)}
    gateway.secrets += list(real.values())
    entry = copy.deepcopy(entry)  # parameters are shared by both store runs
    bundle = entry[1]["bundle"]
    bundle["primary_token"] = real.get(bundle["primary_token"], bundle["primary_token"])
    response = gateway.post("/tokens/set", [["a", {"bundle": {"primary_token": real["JWT1"]}}], entry])
    assert response.status_code == 400, response.text
    assert why in response.json()["message"]
    assert response.json()["message"].startswith("Nothing was changed")
    assert gateway.listing(reveal=True) == before


# --- /tokens/del -----------------------------------------------------------------------------------------


def test_del_reports_failed_tokens_when_asked(gateway: Gateway) -> None:
    gateway.add("a", jwt(1))
    gateway.add("b", jwt(2))
    gateway.add("c", jwt(3))
    plain = gateway.ok("/tokens/del", {"aliases": ["a", "ghost"]})
    assert plain == {"status": "success", "message": "deleted: 1, failed: 1"}
    detailed = gateway.ok("/tokens/del", {"aliases": ["b", "ghost", "b"], "include_failed_tokens": True})
    assert detailed["failed_tokens"] == ["ghost"] and detailed["message"] == "deleted: 1, failed: 1"
    assert gateway.aliases() == ["c"]


# --- /tokens/alias/set -----------------------------------------------------------------------------------


def test_rename_keeps_the_record_and_reports_each_pair(gateway: Gateway) -> None:
    gateway.add("a", jwt(1), timezone="Asia/Tokyo")
    gateway.add("b", jwt(2))
    gateway.store.update_health("a", TokenHealth("cooling_down", "429", time.time() + 600, 0.5, 1))
    answer = gateway.ok(
        "/tokens/alias/set", {"a": "alpha", "ghost": "g", "b": "alpha", "alpha": "a b", "x": "x"}
    )
    assert outcomes(answer) == [
        ("alpha", "renamed"),
        ("ghost", "not_found"),
        ("b", "duplicate"),
        ("alpha", "invalid"),
        ("x", "unchanged"),
    ]
    assert answer["message"] == "alias set: 2, failed: 3"
    assert gateway.aliases() == ["alpha", "b"]  # same place in the pool
    info = gateway.info("alpha")
    assert info["health"]["state"] == "cooling_down" and info["bundle"]["timezone"] == "Asia/Tokyo"


def test_rename_onto_an_existing_alias_is_reported(gateway: Gateway) -> None:
    gateway.add("a", jwt(1))
    gateway.add("b", jwt(2))
    answer = gateway.ok("/tokens/alias/set", {"a": "b"})
    assert outcomes(answer) == [("a", "duplicate")]
    assert gateway.aliases() == ["a", "b"]


class RacingStore:
    """Delegates to a real store; before the first rename, another writer changes the record."""

    def __init__(self, inner: TokenStore) -> None:
        self.inner = inner
        self.raced = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def rename(self, record: TokenRecord, new_alias: str) -> TokenRecord:
        if not self.raced:
            self.raced = True
            self.inner.update_fields(record.alias, {"timezone": "Europe/Berlin"})
        return self.inner.rename(record, new_alias)


def test_rename_loses_no_concurrent_update(fake: FakeCursor, store: TokenStore) -> None:
    racing = RacingStore(store)
    settings = settings_for(fake)
    services = services_for(settings, racing)  # type: ignore[arg-type]
    client = TestClient(create_app(tokens.router, settings=settings, services=services))
    assert client.post(
        "/tokens/add", json={"tokens": [{"token": jwt(1), "alias": "a"}]}, headers=AUTH
    ).is_success
    answer = client.post("/tokens/alias/set", json={"a": "b"}, headers=AUTH).json()
    assert outcomes(answer) == [("b", "renamed")]
    assert racing.raced
    renamed = store.get("b")
    assert renamed is not None and renamed.timezone == "Europe/Berlin"  # the concurrent write survived
    assert store.get("a") is None


# --- /tokens/status/set, /tokens/proxy/set, /tokens/timezone/set ----------------------------------------


def test_status_set(gateway: Gateway) -> None:
    gateway.add("a", jwt(1))
    gateway.add("b", jwt(2))
    answer = gateway.ok("/tokens/status/set", {"aliases": ["a", "ghost", "a"], "status": "disabled"})
    assert outcomes(answer) == [("a", "updated"), ("ghost", "not_found")]
    assert answer["message"] == "status set: 1, failed: 1"
    assert (gateway.info("a")["status"], gateway.info("b")["status"]) == ("disabled", "enabled")
    again = gateway.ok("/tokens/status/set", {"aliases": ["a"], "status": "disabled"})
    assert outcomes(again) == [("a", "unchanged")]


def test_enabling_lifts_a_health_disable(gateway: Gateway) -> None:
    gateway.add("a", jwt(1))
    gateway.store.update_health("a", TokenHealth("disabled", "token revoked", 0.0, 0.0, 3))
    answer = gateway.ok("/tokens/status/set", {"aliases": ["a"], "status": "enabled"})
    assert outcomes(answer) == [("a", "updated")]
    assert "health reset (was disabled: token revoked)" in answer["results"][0]["detail"]
    assert gateway.info("a")["health"]["state"] == "healthy"


def test_proxy_set_and_clear(gateway: Gateway) -> None:
    gateway.add("a", jwt(1))
    gateway.services.proxies.add({"eu-1": "http://127.0.0.1:9"})
    answer = gateway.ok("/tokens/proxy/set", {"aliases": ["a", "ghost"], "proxy": "eu-1"})
    assert outcomes(answer) == [("a", "updated"), ("ghost", "not_found")]
    assert gateway.info("a")["bundle"]["proxy"] == "eu-1"
    for builtin in ("non", "sys"):
        gateway.ok("/tokens/proxy/set", {"aliases": ["a"], "proxy": builtin})
        assert gateway.info("a")["bundle"]["proxy"] == builtin
    gateway.ok("/tokens/proxy/set", {"aliases": ["a"], "proxy": None})
    assert "proxy" not in gateway.info("a")["bundle"]


@pytest.mark.parametrize("name", ["us-2", "x" * 129, "tab\there", "http://127.0.0.1:9"])
def test_proxy_names_are_checked_against_the_proxy_table(gateway: Gateway, name: str) -> None:
    gateway.add("a", jwt(1), proxy="sys")
    gateway.services.proxies.add({"eu-1": "http://127.0.0.1:9"})
    response = gateway.post("/tokens/proxy/set", {"aliases": ["a"], "proxy": name})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert gateway.info("a")["bundle"]["proxy"] == "sys"


def test_account_calls_go_through_the_tokens_proxy(gateway: Gateway) -> None:
    gateway.add("a", jwt(1))
    with running_socks5() as socks:
        gateway.services.proxies.add({"tunnel": socks.url})
        gateway.ok("/tokens/proxy/set", {"aliases": ["a"], "proxy": "tunnel"})
        answer = gateway.ok("/tokens/profile/update", ["a"])
        assert outcomes(answer) == [("a", "updated")]
        assert socks.tunnels, "the profile calls did not use the token's proxy"


def test_timezone_set_and_clear(gateway: Gateway) -> None:
    gateway.add("a", jwt(1))
    answer = gateway.ok("/tokens/timezone/set", {"aliases": ["a", "ghost"], "timezone": "America/New_York"})
    assert outcomes(answer) == [("a", "updated"), ("ghost", "not_found")]
    assert gateway.info("a")["bundle"]["timezone"] == "America/New_York"
    gateway.ok("/tokens/timezone/set", {"aliases": ["a"], "timezone": None})
    assert "timezone" not in gateway.info("a")["bundle"]


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Europe", "../etc/passwd", "", "UTC; drop"])
def test_timezones_must_be_iana(gateway: Gateway, zone: str) -> None:
    gateway.add("a", jwt(1), timezone="Asia/Tokyo")
    response = gateway.post("/tokens/timezone/set", {"aliases": ["a"], "timezone": zone or " x "})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert gateway.info("a")["bundle"]["timezone"] == "Asia/Tokyo"


# --- /tokens/refresh -------------------------------------------------------------------------------------


def test_refresh_session_tokens_and_api_keys(gateway: Gateway, fake: FakeCursor) -> None:
    session, refresh, key = jwt(1), jwt(101), api_key("refresh-route")
    gateway.add("s", session, refresh_token=refresh)
    gateway.add("k", key)
    gateway.secrets.append(refresh)
    answer = gateway.ok("/tokens/refresh", ["s", "k", "ghost"])
    assert outcomes(answer) == [("s", "refreshed"), ("k", "refreshed"), ("ghost", "not_found")]
    assert answer["message"] == "refreshed: 2, failed: 1"
    assert fake.refresh_calls == [refresh]  # the login's refresh token, not the access JWT
    stored = gateway.store.get("s")
    assert stored is not None and stored.primary_token not in (session, refresh)
    gateway.secrets.append(stored.primary_token)
    exchanged = [p for p, h in fake.unary_calls if p == "/auth/exchange_user_api_key"]
    assert len(exchanged) == 1
    cached = gateway.store.get("k")
    assert cached is not None and cached.access_token and cached.access_expires_at > time.time()
    gateway.secrets.append(cached.access_token)


def test_a_refused_refresh_disables_the_token_and_a_good_one_heals_it(
    gateway: Gateway, fake: FakeCursor
) -> None:
    token = jwt(2)
    gateway.add("s", token)
    fake.revoked_sessions.add(token)
    answer = gateway.ok("/tokens/refresh", ["s"])
    assert outcomes(answer) == [("s", "failed")]
    assert "revoked" in answer["results"][0]["detail"]
    assert gateway.info("s")["health"]["state"] == "disabled"

    fake.revoked_sessions.clear()
    healed = gateway.ok("/tokens/refresh", ["s"])
    assert outcomes(healed) == [("s", "refreshed")]
    assert "health reset" in healed["results"][0]["detail"]
    assert gateway.info("s")["health"]["state"] == "healthy"
    gateway.secrets.append(gateway.store.get("s").primary_token)  # type: ignore[union-attr]


# --- /tokens/profile/update ------------------------------------------------------------------------------


def test_profile_update_stores_plan_user_and_models(gateway: Gateway, fake: FakeCursor) -> None:
    gateway.add("s", jwt(1))
    gateway.add("k", api_key("profile-route"))
    fake.accounts.stripe[user(1)] = {
        "membershipType": "free_trial",
        "daysRemainingOnTrial": 9,
        "subscriptionStatus": "trialing",
    }
    answer = gateway.ok("/tokens/profile/update", ["s", "k", "ghost"])
    assert outcomes(answer) == [("s", "updated"), ("k", "updated"), ("ghost", "not_found")]
    assert answer["message"] == "profile updated: 2, failed: 1"
    info = gateway.info("s")
    assert info["stripe"] == {
        "membership_type": "free_trial",
        "days_remaining_on_trial": 9,
        "subscription_status": "trialing",
    }
    assert info["bundle"]["user"]["email"] == f"{user(1).lower()}@example.com"
    assert info["usable_models"] == [name for name, *_ in CATALOG]
    assert info["profile_updated_at"] >= int(time.time()) - 60
    # The crsr_ key's profile is read with its exchanged JWT, whose `sub` names the user for the cookie.
    key_info = gateway.info("k")
    assert key_info["stripe"]["membership_type"] == "pro"
    assert key_info["bundle"]["user"]["email"].startswith("user_01apikeyuser")
    gateway.secrets += [r.access_token for r in gateway.store.list() if r.access_token]


def test_profile_update_keeps_unknown_memberships_and_stores_partial_results(
    gateway: Gateway, fake: FakeCursor
) -> None:
    token = jwt(3)
    gateway.add("s", token)
    fake.accounts.stripe[user(3)] = {"membershipType": "ultra_max_2027", "daysRemainingOnTrial": 0}
    fake.accounts.users[user(3)] = {"email": 42}  # the dashboard answers something we cannot read
    answer = gateway.ok("/tokens/profile/update", ["s"])
    assert outcomes(answer) == [("s", "partial")]
    assert "user info" in answer["results"][0]["detail"]
    assert "ultra_max_2027 (a value new to us, kept as sent)" in answer["results"][0]["detail"]
    info = gateway.info("s")
    assert info["stripe"]["membership_type"] == "ultra_max_2027"
    assert "user" not in info["bundle"]
    assert info["usable_models"]


def test_profile_update_of_a_refused_token_fails_and_stores_nothing(
    gateway: Gateway, fake: FakeCursor
) -> None:
    token = jwt(4)
    gateway.add("s", token)
    fake.by_token[token] = Behaviour(mode="http_error", http_status=401, error={"code": "unauthenticated"})
    answer = gateway.ok("/tokens/profile/update", ["s"])
    assert outcomes(answer) == [("s", "failed")]
    detail = answer["results"][0]["detail"]
    assert "stripe profile" in detail and "user info" in detail and "usable models" in detail
    assert "stripe" not in gateway.info("s") and "profile_updated_at" not in gateway.info("s")


# --- /tokens/config-version/update -----------------------------------------------------------------------


def test_config_version_update(gateway: Gateway, fake: FakeCursor) -> None:
    gateway.add("s", jwt(1), checksum={"first": "1" * 64, "second": "2" * 64}, client_key="3" * 64)
    gateway.add("k", api_key("config-route"))
    answer = gateway.ok("/tokens/config-version/update", ["s", "k", "ghost"])
    assert outcomes(answer) == [("s", "updated"), ("k", "updated"), ("ghost", "not_found")]
    assert gateway.info("s")["bundle"]["config_version"] == fake.accounts.config_version
    calls = [h for p, h in fake.unary_calls if p.endswith("GetServerConfig")]
    assert len(calls) == 2 and fake.accounts.violations == []
    first = calls[0]
    assert first["x-cursor-checksum"][8:] == "1" * 64 + "/" + "2" * 64
    assert first["x-client-key"] == "3" * 64
    again = gateway.ok("/tokens/config-version/update", ["s"])
    assert outcomes(again) == [("s", "unchanged")]
    gateway.secrets += [r.access_token for r in gateway.store.list() if r.access_token]


def test_config_version_failure_is_per_alias(gateway: Gateway, fake: FakeCursor) -> None:
    bad, good = jwt(7), jwt(8)
    gateway.add("bad", bad)
    gateway.add("good", good)
    fake.by_token[bad] = Behaviour.failing("unauthenticated")
    answer = gateway.ok("/tokens/config-version/update", ["bad", "good"])
    assert outcomes(answer) == [("bad", "failed"), ("good", "updated")]
    assert "config_version" not in gateway.info("bad")["bundle"]


# --- utilities -------------------------------------------------------------------------------------------


def test_utilities_are_public_text(gateway: Gateway) -> None:
    http = gateway.http
    for path in ("/gen-uuid", "/gen-hash", "/gen-checksum", "/get-timestamp-header"):
        response = http.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
    value = http.get("/gen-uuid").text
    assert uuid.UUID(value).version == 4 and value == str(uuid.UUID(value))
    hashes = {http.get("/gen-hash").text for _ in range(3)}
    assert len(hashes) == 3 and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)
    checksum = http.get("/gen-checksum").text
    assert re.fullmatch(r"[A-Za-z0-9_-]{8}[0-9a-f]{64}/[0-9a-f]{64}", checksum)
    kilo = decode_timestamp_part(checksum[:8])
    assert kilo is not None and abs(kilo - time.time() // 1000) <= 1
    stamp = http.get("/get-timestamp-header").text
    assert len(stamp) == 8 and stamp in {timestamp_part(time.time()), timestamp_part(time.time() - 1000)}
