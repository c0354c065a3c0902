"""Proxies: value rules and table changes (pure), `/proxies/*` through HTTP (shapes, expectation modes, 400
never 422, 401/403, 413) and `resolve`, the name -> transport argument the chat path uses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import proxies
from cursor_gateway.domain.proxies import (
    ProxyTable,
    check_value,
    masked,
    proxy_value_problem,
    table_from_stored,
)
from cursor_gateway.errors import InvalidRequest
from cursor_gateway.services.container import Services, build_services
from cursor_gateway.settings import Settings
from cursor_gateway.storage.config import InMemoryConfigStore
from cursor_gateway.storage.proxies import InMemoryProxyStore
from cursor_gateway.storage.tokens import InMemoryTokenStore
from fastapi.testclient import TestClient

ADMIN = "admin-secret-token"
SHARED = "shared-secret-token"


@pytest.mark.parametrize(
    "value",
    [
        "non",
        "sys",
        "http://127.0.0.1:8080",
        "https://proxy.example:443",
        "socks5://user:pa%40ss@10.0.0.1:1080",
        "SOCKS5H://proxy.example",
        "http://[::1]:3128/",
    ],
)
def test_valid_values(value: str) -> None:
    assert proxy_value_problem(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "none",
        "system",
        "ftp://proxy.example:21",
        "socks4://proxy.example:1080",
        "http://",
        "http://proxy.example:99999",
        "http://proxy.example:0",
        "http://proxy.example:80/path",
        "http://proxy.example:80?x=1",
        "proxy.example:8080",
        3128,
        None,
    ],
)
def test_invalid_values(value: Any) -> None:
    assert proxy_value_problem(value) is not None


def test_values_are_normalised_and_masked_for_logs() -> None:
    assert check_value("a", "HTTP://Proxy.example:8080/") == "http://Proxy.example:8080"
    assert masked("socks5://alice:secret@proxy.example:1080") == "socks5://alice:***@proxy.example:1080"
    assert masked("http://proxy.example:8080") == "http://proxy.example:8080"


def test_table_changes() -> None:
    table = ProxyTable()
    assert table.as_json() == {"proxies": {"sys": "sys"}, "general": "sys"}
    added, existing = table.added({"direct": "non", "sys": "non", "corp": "http://10.0.0.1:3128"})
    assert existing == ["sys"]
    assert added.proxies == {"sys": "sys", "direct": "non", "corp": "http://10.0.0.1:3128"}
    general = added.with_general("corp")
    assert general.value_for(None) == "http://10.0.0.1:3128"
    assert general.value_for("unknown-name") == "http://10.0.0.1:3128"  # unknown names: the general proxy
    assert general.value_for("direct") == "non"
    assert general.value_for("socks5://127.0.0.1:1080") == "socks5://127.0.0.1:1080"  # a value as a name
    deleted, failed = general.deleted(["corp", "ghost"])
    assert failed == ["ghost"] and deleted.general == "sys"  # the general one went: back to sys
    emptied, _ = deleted.deleted(["sys", "direct"])
    assert emptied == ProxyTable()
    with pytest.raises(InvalidRequest):
        added.with_general("ghost")
    with pytest.raises(InvalidRequest):
        table.replaced({}, None)
    with pytest.raises(InvalidRequest):
        table.replaced({"a": "non"}, "b")
    assert table.replaced({"a": "non", "sys": "sys"}, None).general == "sys"  # keeps `sys` when it can
    assert table.replaced({"a": "non", "b": "sys"}, None).general == "a"


def test_stored_garbage_is_dropped() -> None:
    table = table_from_stored({"proxies": {"ok": "non", "bad": "ftp://x"}, "general": "bad"})
    assert table.proxies == {"ok": "non"} and table.general == "ok"
    assert table_from_stored(None) == ProxyTable()
    assert table_from_stored({"proxies": "nope"}) == ProxyTable()


# --- HTTP ------------------------------------------------------------------------------------------------


def build(**settings: Any) -> tuple[TestClient, Services]:
    built = Settings(auth_token=ADMIN, shared_token=SHARED, proxies_cache_seconds=60.0, **settings)
    services = build_services(
        built,
        token_store=InMemoryTokenStore(),
        config_store=InMemoryConfigStore(),
        proxy_store=InMemoryProxyStore(),
    )
    return TestClient(create_app(proxies.router, settings=built, services=services)), services


@pytest.fixture
def client() -> TestClient:
    return build()[0]


def post(client: TestClient, path: str, body: Any, *, key: str = ADMIN, raw: str | None = None) -> Any:
    content = raw if raw is not None else json.dumps(body)
    return client.post(path, content=content, headers={"authorization": f"Bearer {key}"})


def ok(client: TestClient, path: str, body: Any) -> dict[str, Any]:
    response = post(client, path, body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    assert data["status"] == "success"
    return data


def test_get_set_add_and_set_general(client: TestClient) -> None:
    assert ok(client, "/proxies/get", {}) == {
        "status": "success",
        "proxies": {"proxies": {"sys": "sys"}, "general": "sys"},
        "proxies_count": 1,
        "general_proxy": "sys",
    }
    answer = ok(
        client,
        "/proxies/set",
        {"proxies": {"sys": "sys", "direct": "non", "corp": "http://10.0.0.1:3128"}, "general": "corp"},
    )
    assert answer["proxies_count"] == 3 and "message" in answer
    answer = ok(client, "/proxies/add", {"proxies": {"corp": "non", "tor": "socks5h://127.0.0.1:9050"}})
    assert answer["proxies_count"] == 4
    assert "1 proxies added" in answer["message"] and "corp" in answer["message"]
    table = ok(client, "/proxies/get", {})
    assert table["proxies"]["proxies"]["corp"] == "http://10.0.0.1:3128"  # existing names are ignored
    assert table["general_proxy"] == "corp"
    assert ok(client, "/proxies/set-general", {"name": "tor"})["message"] == "General proxy set to 'tor'"
    assert ok(client, "/proxies/get", {})["proxies"]["general"] == "tor"


@pytest.mark.parametrize(
    ("expectation", "keys"),
    [
        (None, set()),
        ("simple", set()),
        ("updated_proxies", {"updated_proxies"}),
        ("failed_names", {"failed_names"}),
        ("detailed", {"updated_proxies", "failed_names"}),
        ("updated_tokens", {"updated_proxies"}),  # the reference's spelling
        ("failed_tokens", {"failed_names"}),
    ],
)
def test_delete_expectation_modes(client: TestClient, expectation: str | None, keys: set[str]) -> None:
    ok(client, "/proxies/add", {"proxies": {"a": "non", "b": "http://127.0.0.1:3128"}})
    body: dict[str, Any] = {"names": ["a", "ghost"]}
    if expectation:
        body["expectation"] = expectation
    answer = ok(client, "/proxies/del", body)
    assert set(answer) - {"status"} == keys
    if "updated_proxies" in keys:
        assert answer["updated_proxies"] == {
            "proxies": {"sys": "sys", "b": "http://127.0.0.1:3128"},
            "general": "sys",
        }
    if "failed_names" in keys:
        assert answer["failed_names"] == ["ghost"]
    assert "a" not in ok(client, "/proxies/get", {})["proxies"]["proxies"]


@pytest.mark.parametrize(
    ("path", "body", "needle"),
    [
        ("/proxies/set-general", {"name": "ghost"}, "ghost"),
        ("/proxies/set-general", {}, "name"),
        ("/proxies/set-general", {"name": 3}, "name"),
        ("/proxies/set", {"proxies": {"x": "ftp://h:1"}}, "x"),
        ("/proxies/set", {"proxies": {}}, "At least one proxy"),
        ("/proxies/set", {"proxies": {"x": "non"}, "general": "y"}, "y"),
        ("/proxies/set", {"proxies": ["non"]}, "proxies"),
        ("/proxies/add", {"proxies": {"x": "http://h:99999"}}, "x"),
        ("/proxies/add", {"proxies": {" x": "non"}}, "names"),
        ("/proxies/add", {"proxy": {"x": "non"}}, "proxies"),
        ("/proxies/del", {"names": "a"}, "names"),
        ("/proxies/del", {"names": ["a"], "expectation": "everything"}, "expectation"),
        ("/proxies/get", {"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_input_is_400(client: TestClient, path: str, body: Any, needle: str) -> None:
    response = post(client, path, body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["status"] == "error" and answer["code"] == 400
    assert needle in answer["message"]
    assert ok(client, "/proxies/get", {})["proxies_count"] == 1  # nothing was changed


def test_malformed_json_auth_and_size(client: TestClient) -> None:
    assert post(client, "/proxies/add", None, raw="{").status_code == 400
    assert post(client, "/proxies/get", {}, key="").status_code == 401
    assert post(client, "/proxies/get", {}, key="nope").status_code == 401
    assert post(client, "/proxies/get", {}, key=SHARED).status_code == 403
    small, _ = build(max_body_bytes=500)
    huge = {"proxies": {f"p{i}": "non" for i in range(100)}}
    response = post(small, "/proxies/add", huge)
    assert response.status_code == 413 and response.json()["code"] == 413


def test_resolve_gives_the_transport_argument() -> None:
    client, services = build()
    ok(
        client,
        "/proxies/set",
        {"proxies": {"sys": "sys", "direct": "non", "corp": "socks5://127.0.0.1:1080"}, "general": "direct"},
    )
    resolve = services.proxies.resolve
    assert resolve("direct") == ""
    assert resolve("sys") == "sys"
    assert resolve("corp") == "socks5://127.0.0.1:1080"
    assert resolve("") == "" and resolve(None) == "" and resolve("unknown") == ""  # the general one
    assert resolve("http://127.0.0.1:3128") == "http://127.0.0.1:3128"
    ok(client, "/proxies/set-general", {"name": "corp"})
    assert resolve("unknown") == "socks5://127.0.0.1:1080"  # this instance sees its own change at once


def test_resolve_survives_an_unreadable_table() -> None:
    from cursor_gateway.services.proxies import ProxyService
    from cursor_gateway.storage.proxies import ProxiesStorageUnavailable

    class Broken:
        def load(self) -> Any:
            raise ProxiesStorageUnavailable("down")

        def save(self, data: Any, expected_version: int) -> int:
            raise AssertionError

    assert ProxyService(Broken(), Settings()).resolve("anything") == "sys"
