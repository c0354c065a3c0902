"""Gateway keys through HTTP: `/build-key`, `/keys`, `/keys/revoke`, `/config-version`, and every credential
`require_chat_key` accepts (admin, `AUTH_TOKEN-<alias>`, SHARED_TOKEN and the config's share_token,
`cgk_` keys, the reference's `sk-` keys when enabled), with the 400 / 401 / 403 / 413 rules."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

import pytest
from cursor_gateway.api.app import create_app
from cursor_gateway.api.auth import Caller, require_chat_key
from cursor_gateway.api.routes import config, keys, proxies
from cursor_gateway.domain.dynamic_keys import encode_key
from cursor_gateway.domain.keys import hash_secret
from cursor_gateway.emulator.tokens import fake_jwt
from cursor_gateway.services.container import Services, build_services
from cursor_gateway.settings import Settings
from cursor_gateway.storage.config import InMemoryConfigStore
from cursor_gateway.storage.keys import InMemoryKeyStore
from cursor_gateway.storage.proxies import InMemoryProxyStore
from cursor_gateway.storage.tokens import InMemoryTokenStore
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from harness import running_fake

ADMIN = "admin-secret-token"
SHARED = "shared-secret-token"
KEY_FORM = re.compile(r"^cgk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$")

whoami_router = APIRouter()


@whoami_router.post("/v1/whoami")
async def whoami(caller: Annotated[Caller, Depends(require_chat_key)]) -> dict[str, Any]:
    return {
        "role": caller.role,
        "key_id": caller.key_id,
        "pinned_alias": caller.pinned_alias,
        "overrides": dict(caller.overrides),
        "credential": caller.credential.primary_token if caller.credential else None,
    }


class Clock:
    def __init__(self) -> None:
        self.now = 1_760_000_000.0

    def __call__(self) -> float:
        return self.now


class Env:
    def __init__(self, **settings: Any) -> None:
        self.clock = Clock()
        self.key_store = InMemoryKeyStore()
        values: dict[str, Any] = {"auth_token": ADMIN, "shared_token": SHARED, **settings}
        self.settings = Settings(**values)
        self.services: Services = build_services(
            self.settings,
            token_store=InMemoryTokenStore(clock=self.clock),
            config_store=InMemoryConfigStore(),
            proxy_store=InMemoryProxyStore(),
            key_store=self.key_store,
            clock=self.clock,
        )
        app = create_app(
            keys.router,
            config.router,
            proxies.router,
            whoami_router,
            settings=self.settings,
            services=self.services,
        )
        self.http = TestClient(app)

    def post(self, path: str, body: Any, *, key: str = ADMIN, raw: str | None = None) -> Any:
        content = raw if raw is not None else json.dumps(body)
        return self.http.post(path, content=content, headers={"authorization": f"Bearer {key}"})

    def ok(self, path: str, body: Any) -> dict[str, Any]:
        response = self.post(path, body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def whoami(self, key: str, *, header: str = "authorization") -> Any:
        value = f"Bearer {key}" if header == "authorization" else key
        return self.http.post("/v1/whoami", headers={header: value})


def jwt(n: int = 1, **kwargs: Any) -> str:
    return fake_jwt(user_id=f"user_01JZ8Q9X7V3M5N2P4R6T8W0Y{n:02d}", issued=1_759_000_000, **kwargs)


# --- /build-key ----------------------------------------------------------------------------------------


def test_build_key_adds_the_token_and_the_key_pins_it_with_its_settings() -> None:
    env = Env()
    answer = env.ok(
        "/build-key",
        {
            "token": jwt(),
            "timezone": "Europe/Paris",
            "disable_vision": True,
            "enable_slow_pool": True,
            "usage_check_models": {"type": "custom", "model_ids": "gpt-5,o3"},
            "gcpp_host": "eu",
            "secret": "ignored, as in the reference",
        },
    )
    assert answer["status"] == "success"
    [key] = answer["keys"]
    assert KEY_FORM.match(key)
    alias = answer["token_alias"]
    record = env.services.token_store.get(alias)
    assert record is not None and record.primary_token == jwt() and record.timezone == "Europe/Paris"

    caller = env.whoami(key)
    assert caller.status_code == 200, caller.text
    assert caller.json() == {
        "role": "key",
        "key_id": f"cgk-{answer['id']}",
        "pinned_alias": alias,
        "overrides": {
            "vision_ability": "none",
            "enable_slow_pool": True,
            "usage_check_models": {"type": "list", "content": "gpt-5,o3"},
            "timezone": "Europe/Paris",
            "gcpp_host": "EU",
        },
        "credential": None,
    }
    assert env.whoami(key, header="x-api-key").json()["role"] == "key"

    again = env.ok("/build-key", {"token": jwt(), "cursor_protocol": "inference"})  # same token: same alias
    assert again["token_alias"] == alias and again["keys"] != answer["keys"]
    assert len(env.services.token_store.list()) == 1
    assert env.whoami(again["keys"][0]).json()["overrides"] == {"cursor_protocol": "inference"}


def test_build_key_by_alias_or_for_the_whole_pool() -> None:
    env = Env()
    alias = env.ok("/build-key", {"token": jwt(2)})["token_alias"]
    by_alias = env.ok("/build-key", {"alias": alias, "name": "alice"})
    assert by_alias["token_alias"] == alias
    pool_key = env.ok("/build-key", {})
    assert pool_key["token_alias"] is None
    assert env.whoami(pool_key["keys"][0]).json()["pinned_alias"] == ""


def test_proxy_names_must_exist() -> None:
    env = Env()
    response = env.post("/build-key", {"proxy_name": "corp"})
    assert response.status_code == 400 and "corp" in response.json()["message"]
    env.ok("/proxies/add", {"proxies": {"corp": "http://127.0.0.1:3128"}})
    answer = env.ok("/build-key", {"proxy_name": "corp"})
    assert env.whoami(answer["keys"][0]).json()["overrides"] == {"proxy_name": "corp"}


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"token": "not-a-jwt"}, "malformed"),
        ({"token": jwt(exp=1_700_000_000)}, "expired"),
        ({"token": 3}, "token"),
        ({"token": jwt(), "alias": "x"}, "either"),
        ({"alias": "ghost"}, "ghost"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"gcpp_host": "not a host"}, "gcpp_host"),
        ({"disable_vision": "yes"}, "disable_vision"),
        ({"vision_ability": "some"}, "vision_ability"),
        ({"disable_vision": True, "vision_ability": "all"}, "vision_ability"),
        ({"usage_check_models": {"type": "sometimes", "model_ids": ""}}, "usage_check_models"),
        ({"usage_check_models": {"type": "list", "content": 3}}, "usage_check_models"),
        ({"cursor_protocol": "grpc"}, "cursor_protocol"),
        ({"checksum": {"first": "00"}}, "checksum"),
        ({"token": jwt(), "checksum": "zz"}, "checksum"),
        ({"surprise": 1}, "surprise"),
        ({"name": "x" * 101}, "name"),
    ],
)
def test_build_key_bad_input_is_400(body: dict[str, Any], needle: str) -> None:
    env = Env()
    response = env.post("/build-key", body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["status"] == "error" and answer["code"] == 400
    assert needle in answer["message"]
    assert env.http.get("/keys", headers={"authorization": f"Bearer {ADMIN}"}).json()["keys"] == []


def test_admin_rules_and_size() -> None:
    env = Env(max_body_bytes=1000)
    key = env.ok("/build-key", {})["keys"][0]
    for path, body in (
        ("/build-key", {}),
        ("/keys/revoke", {"ids": ["x"]}),
        ("/config-version", {"token": "x"}),
    ):
        assert env.post(path, body, key="").status_code == 401
        assert env.post(path, body, key="wrong").status_code == 401
        assert env.post(path, body, key=SHARED).status_code == 403
        assert env.post(path, body, key=key).status_code == 403  # a gateway key is no admin key
        assert env.post(path, body, key=f"{ADMIN}-main").status_code == 403
    assert env.http.get("/keys").status_code == 401
    assert env.http.get("/keys", headers={"authorization": f"Bearer {key}"}).status_code == 403
    assert env.post("/build-key", None, raw="{").status_code == 400
    big = env.post("/build-key", {"name": "x" * 2000})
    assert big.status_code == 413 and big.json()["error"] == "payload_too_large"


# --- /keys, /keys/revoke, the chat path -----------------------------------------------------------------


def test_list_never_shows_the_secret_and_revoked_keys_are_401() -> None:
    env = Env()
    built = env.ok("/build-key", {"token": jwt(), "name": "bob", "include_web_references": True})
    key, key_id = built["keys"][0], built["id"]
    secret = key.rsplit("_", 1)[1]
    listing = env.http.get("/keys", headers={"authorization": f"Bearer {ADMIN}"})
    assert listing.status_code == 200
    text = listing.text
    assert secret not in text and hash_secret(secret) not in text and key not in text
    [entry] = listing.json()["keys"]
    assert entry["id"] == key_id and entry["name"] == "bob"
    assert entry["token_alias"] == built["token_alias"]
    assert entry["settings"] == {"include_web_references": True}
    assert entry["created_at"] == env.clock.now and entry["last_used_at"] is None
    assert entry["revoked"] is False

    assert env.whoami(key).status_code == 200
    revoked = env.ok("/keys/revoke", {"ids": [key_id, "0000000000000000"]})
    assert revoked["revoked"] == [key_id] and revoked["failed_ids"] == ["0000000000000000"]
    refused = env.whoami(key)
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]["message"]
    [entry] = env.http.get("/keys", headers={"authorization": f"Bearer {ADMIN}"}).json()["keys"]
    assert entry["revoked"] is True and entry["revoked_at"] == env.clock.now

    for body in ({"ids": []}, {"ids": "x"}, {}, {"ids": [1]}):
        assert env.post("/keys/revoke", body).status_code == 400


def test_unknown_and_tampered_keys_are_401() -> None:
    env = Env()
    key = env.ok("/build-key", {})["keys"][0]
    _prefix, key_id, secret = key.split("_", 2)
    wrong_secret = f"cgk_{key_id}_{'A' * 43}"
    unknown_id = f"cgk_{'0' * 16}_{secret}"
    for candidate in (wrong_secret, unknown_id, "cgk_garbage", key[:-1], key + "x"):
        response = env.whoami(candidate)
        assert response.status_code == 401, candidate
        assert response.json()["error"]["type"] == "authentication_error"  # OpenAI envelope under /v1/


def test_last_used_is_written_once_per_interval() -> None:
    env = Env(key_last_used_seconds=300.0, keys_cache_seconds=0.0)
    key = env.ok("/build-key", {})["keys"][0]
    writes = env.key_store.writes
    for _ in range(5):
        assert env.whoami(key).status_code == 200
    assert env.key_store.writes == writes + 1
    [entry] = env.http.get("/keys", headers={"authorization": f"Bearer {ADMIN}"}).json()["keys"]
    assert entry["last_used_at"] == env.clock.now
    env.clock.now += 299
    env.whoami(key)
    assert env.key_store.writes == writes + 1
    env.clock.now += 2
    env.whoami(key)
    assert env.key_store.writes == writes + 2


def test_pinned_admin_shared_and_share_token() -> None:
    env = Env()
    assert env.whoami(ADMIN).json()["role"] == "admin"
    pinned = env.whoami(f"{ADMIN}-main").json()
    assert pinned["role"] == "admin" and pinned["pinned_alias"] == "main"
    assert env.whoami(f"{ADMIN}-").status_code == 401
    assert env.whoami(f"{ADMIN[:-1]}X-main").status_code == 401
    assert env.whoami(SHARED).json()["role"] == "shared"

    assert env.whoami("config-share").status_code == 401
    env.ok("/config", {"action": "update", "share_token": "config-share"})
    assert env.whoami("config-share").json()["role"] == "shared"
    assert env.post("/config", {"action": "get"}, key="config-share").status_code == 403


def test_dynamic_keys_only_while_enabled() -> None:
    env = Env()
    token = jwt(exp=1_790_000_000)
    key = encode_key(
        token,
        checksum=("11" * 32, "22" * 32),
        client_key="33" * 32,
        session_id="00000000-0000-4000-8000-000000000002",
        overrides={"include_web_references": True},
    )
    off = env.whoami(key)
    assert off.status_code == 401 and "disabled" in off.json()["error"]["message"]
    env.ok("/config", {"action": "update", "enable_dynamic_key": True})
    caller = env.whoami(key).json()
    assert caller["role"] == "key" and caller["key_id"].startswith("sk-")
    assert caller["credential"] == token and caller["pinned_alias"] == ""
    assert caller["overrides"] == {"include_web_references": True}
    assert env.services.token_store.list() == []  # a dynamic key's token never joins the pool
    assert env.whoami(key[:-4]).status_code == 401
    env.clock.now = 1_790_000_000.0
    expired = env.whoami(key)
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]


# --- /config-version ------------------------------------------------------------------------------------


def test_config_version_asks_cursor() -> None:
    with running_fake() as fake:
        env = Env(cursor_api_url=fake.url)
        env.clock.now = 1_759_100_000.0
        live = jwt(exp=2_000_000_000)  # the fake Cursor checks expiry against the real clock
        answer = env.ok("/config-version", {"token": live, "timezone": "Asia/Shanghai"})
        assert set(answer) == {"config_version"}
        assert re.match(r"^[0-9a-f-]{36}$", answer["config_version"])
        for body, needle in (
            ({"token": "nope"}, "token"),
            ({}, "token"),
            ({"token": jwt(), "client_key": "xyz"}, "client_key"),
            ({"token": jwt(), "session_id": "xyz"}, "session_id"),
            ({"token": jwt(), "timezone": "Nowhere/Land"}, "timezone"),
            ({"token": "crsr_" + "a" * 40}, "session JWT"),
        ):
            response = env.post("/config-version", body)
            assert response.status_code == 400, body
            assert needle in response.json()["message"]
