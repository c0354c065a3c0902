"""`/analytics/*` over HTTP: admin auth (and Cursor's Basic form on the query routes), 202 + background
run, status, Cursor-shaped queries and their filters, the presigned CSV export, 400 never 422."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from analytics_env import Env
from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import analytics
from cursor_gateway.domain.analytics import COMMITS, csv_header, csv_row
from cursor_gateway.services.analytics import ThreadDispatcher
from cursor_gateway.services.container import build_services
from cursor_gateway.storage.tokens import InMemoryTokenStore
from fakes.admin_api import FakeAdminApi
from fastapi.testclient import TestClient

ADMIN = {"authorization": "Bearer admin-token"}


@pytest.fixture
def client(env: Env) -> Iterator[TestClient]:
    services = build_services(env.settings, token_store=InMemoryTokenStore(), analytics=env.service)
    with TestClient(create_app(analytics.router, settings=env.settings, services=services)) as test_client:
        yield test_client


@pytest.fixture
def pulled(env: Env, client: TestClient) -> Env:
    assert env.service.pull()["state"] == "succeeded"
    return env


def expected(fake: FakeAdminApi, dataset: str, lo: str, hi: str, user: str = "") -> list[dict[str, Any]]:
    key = "commitHash" if dataset == "commits" else "changeId"
    rows = [
        r
        for r in fake.data[dataset]
        if lo <= r["createdAt"] < hi and (not user or user in (r["userEmail"].lower(), r["userId"]))
    ]
    return sorted(rows, key=lambda r: (r["createdAt"], r[key]))


def basic(user: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:".encode()).decode()}


@pytest.mark.parametrize(
    "method, path",
    [
        ("post", "/analytics/pull"),
        ("get", "/analytics/status"),
        ("post", "/analytics/streams/commits/enable"),
        ("get", "/analytics/ai-code/commits"),
        ("post", "/analytics/export"),
    ],
)
def test_admin_auth(client: TestClient, method: str, path: str) -> None:
    for headers, status in (
        ({}, 401),
        ({"authorization": "Bearer wrong"}, 401),
        ({"authorization": "Bearer shared-token"}, 403),
    ):
        response = client.request(method, path, headers=headers)
        assert response.status_code == status
        assert response.json()["status"] == "error" and response.json()["code"] == status


def test_query_routes_also_take_cursors_basic_auth(pulled: Env, client: TestClient) -> None:
    assert client.get("/analytics/ai-code/commits", headers=basic("admin-token")).status_code == 200
    assert client.get("/analytics/ai-code/commits", headers=basic("wrong")).status_code == 401
    assert client.get("/analytics/ai-code/commits", headers=basic("shared-token")).status_code == 403
    assert client.get("/analytics/ai-code/commits", headers={"authorization": "Basic !!!"}).status_code == 401
    assert client.get("/analytics/status", headers=basic("admin-token")).status_code == 401  # bearer only


def test_pull_answers_202_and_runs_in_the_background(env: Env, client: TestClient) -> None:
    response = client.post("/analytics/pull", json={"datasets": ["commits"]}, headers=ADMIN)
    assert response.status_code == 202
    run_id = response.json()["run_id"]
    assert response.json()["status"] == "success"
    dispatcher = env.service.dispatcher
    assert isinstance(dispatcher, ThreadDispatcher)
    dispatcher.join(60)
    run = client.get(f"/analytics/runs/{run_id}", headers=ADMIN).json()["run"]
    assert (run["state"], run["trigger"], run["datasets"]) == ("succeeded", "api", ["commits"])
    assert run["streams"]["commits"]["inserted"] == len(env.fake.data["commits"])
    streams = client.get("/analytics/status", headers=ADMIN).json()["streams"]
    assert streams["commits"]["state"] == "idle" and streams["commits"]["last_run"]["run_id"] == run_id
    assert streams["commits"]["rows"] == len(env.fake.data["commits"])
    assert streams["changes"]["checkpoint"] is None  # not pulled
    assert client.get("/analytics/runs/nope", headers=ADMIN).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        '{"since": "yesterday"}',
        '{"datasets": ["commits", "nope"]}',
        '{"dataset": ["commits"]}',  # a typo is not silently ignored
        '{"since": 20260101}',
        "{not json",
    ],
)
def test_pull_refuses_bad_bodies_with_400(client: TestClient, body: str) -> None:
    response = client.post("/analytics/pull", content=body, headers=ADMIN)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_query_by_date_range_in_cursors_shape(pulled: Env, client: TestClient) -> None:
    response = client.get(
        "/analytics/ai-code/commits",
        params={"startDate": "2026-03-01", "endDate": "2026-03-03"},
        headers=ADMIN,
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "totalCount", "page", "pageSize"}
    rows = expected(pulled.fake, "commits", "2026-03-01", "2026-03-04")  # endDate's whole day
    assert body["totalCount"] == len(rows) == 9
    assert body["items"] == rows and (body["page"], body["pageSize"]) == (1, 100)

    # timestamps narrow it to the second; relative days and `now` work like Cursor's
    body = client.get(
        "/analytics/ai-code/changes",
        params={"startDate": "2026-03-10T06:00:00Z", "endDate": "2026-03-10T18:00:00Z"},
        headers=ADMIN,
    ).json()
    assert body["items"] == expected(pulled.fake, "changes", "2026-03-10T06:00:00", "2026-03-10T18:00:00")
    default = client.get("/analytics/ai-code/changes", headers=ADMIN).json()  # the last 7 days
    assert default["totalCount"] == len(expected(pulled.fake, "changes", "2026-03-09T12:00:00", "2026-03-17"))
    assert (
        default
        == client.get(
            "/analytics/ai-code/changes", params={"startDate": "7d", "endDate": "now"}, headers=ADMIN
        ).json()
    )


def test_query_pages(pulled: Env, client: TestClient) -> None:
    rows = expected(pulled.fake, "changes", "2026-02-20", "2026-03-17")
    collected: list[dict[str, Any]] = []
    page = 1
    while True:
        body = client.get(
            "/analytics/ai-code/changes",
            params={"startDate": "2026-02-20", "endDate": "now", "page": page, "pageSize": 7},
            headers=ADMIN,
        ).json()
        assert body["totalCount"] == len(rows) and body["pageSize"] == 7
        if not body["items"]:
            break
        collected += body["items"]
        page += 1
    assert collected == rows
    assert page == -(-len(rows) // 7) + 1


def test_query_by_user(pulled: Env, client: TestClient) -> None:
    params = {"startDate": "2026-02-20", "endDate": "now"}
    by_email = client.get(
        "/analytics/ai-code/commits", params={**params, "user": "DEV0@example.COM"}, headers=ADMIN
    )
    rows = expected(pulled.fake, "commits", "2026-02-20", "2026-03-17", user="dev0@example.com")
    assert by_email.json()["items"] == rows and 0 < len(rows) < len(pulled.fake.data["commits"])
    by_id = client.get(
        "/analytics/ai-code/commits", params={**params, "user": "user_0000abcdefgh"}, headers=ADMIN
    )
    assert by_id.json()["items"] == rows
    nobody = client.get(
        "/analytics/ai-code/commits", params={**params, "user": "ghost@example.com"}, headers=ADMIN
    )
    assert nobody.json() == {"items": [], "totalCount": 0, "page": 1, "pageSize": 100}


@pytest.mark.parametrize(
    "params, param",
    [
        ({"pageSize": "1001"}, "query.pageSize"),
        ({"page": "0"}, "query.page"),
        ({"page": "two"}, "query.page"),
        ({"startDate": "last week"}, "startDate"),
        ({"startDate": "2026-03-10", "endDate": "2026-03-01"}, "endDate"),
        ({"user": "42"}, "user"),
        ({"startDate": "2024-01-01"}, "startDate"),  # more than a year
    ],
)
def test_query_refuses_bad_parameters_with_400(
    client: TestClient, params: dict[str, str], param: str
) -> None:
    response = client.get("/analytics/ai-code/commits", params=params, headers=ADMIN)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert param.split(".")[-1] in response.json()["message"]


def test_export_writes_a_csv_and_returns_a_presigned_url(pulled: Env, client: TestClient) -> None:
    body = {
        "dataset": "commits",
        "startDate": "2026-03-01",
        "endDate": "2026-03-05",
        "user": "dev1@example.com",
    }
    response = client.post("/analytics/export", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text
    answer = response.json()
    rows = expected(pulled.fake, "commits", "2026-03-01", "2026-03-06", user="dev1@example.com")
    assert answer["rows"] == len(rows) > 0
    assert answer["key"].startswith("exports/adhoc/commits/") and answer["key"].endswith(".csv")
    downloaded = httpx.get(answer["url"], timeout=10)  # the presigned URL, against the moto server
    assert downloaded.status_code == 200
    assert downloaded.content == (csv_header(COMMITS) + "".join(csv_row(COMMITS, r) for r in rows)).encode()


@pytest.mark.parametrize(
    "body",
    [
        {"dataset": "nope", "startDate": "2026-03-01", "endDate": "2026-03-05"},
        {"dataset": "commits", "startDate": "2026-03-01"},
        {"dataset": "commits", "startDate": "March", "endDate": "2026-03-05"},
    ],
)
def test_export_refuses_bad_bodies_with_400(client: TestClient, body: dict[str, str]) -> None:
    assert client.post("/analytics/export", json=body, headers=ADMIN).status_code == 400


def test_enable_a_stream(env: Env, client: TestClient) -> None:
    env.fake.forbidden = True
    env.service.pull(datasets=["changes"])
    assert client.get("/analytics/status", headers=ADMIN).json()["streams"]["changes"]["state"] == "disabled"
    response = client.post("/analytics/streams/changes/enable", headers=ADMIN)
    assert response.status_code == 200
    assert response.json()["stream"]["state"] == "idle" and response.json()["stream"]["last_error"] is None
    missing = client.post("/analytics/streams/nope/enable", headers=ADMIN)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
