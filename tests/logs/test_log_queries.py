"""`POST /logs/get` semantics, field by field (table driven), over entries recorded through the recorder at
injected times into the DynamoDB log table on moto: every reference query field and ours, cursor and
offset paging, the interrupted-pending rule, and bad input as a 400 naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import logs, stats
from cursor_gateway.domain.request_logs import parse_log_query
from cursor_gateway.services.container import build_services
from cursor_gateway.services.log_reader import LogReader, Viewer
from cursor_gateway.services.request_log import RequestRecorder
from cursor_gateway.settings import Settings
from cursor_gateway.storage.request_logs_memory import InMemoryRequestLogStore
from cursor_gateway.storage.tokens import InMemoryTokenStore
from fastapi.testclient import TestClient
from log_recording import Spec, at_ms, pending, record
from logs_env import Clock, LogAws, create_log_resources, settle

NOW = "2026-03-10T12:00:00+00:00"
ADMIN = Viewer(admin=True)
SPECS = {
    "a": Spec("2026-03-10T11:00:00+00:00"),
    "b": Spec(
        "2026-03-10T10:00:00+00:00",
        model="claude-4.6-sonnet",
        upstream="claude-4.6-sonnet",
        endpoint="messages",
        stream=True,
        key=("cgk-k1", "team"),
        alias="beta",
        email="beta@corp.io",
        membership="free",
        user_id="user_01BETA00000000000000000000",
        usage=(300, 50),
        think="hmm",
    ),
    "c": Spec("2026-03-10T09:00:00+00:00", key=("cgk-k1", "team"), fail=True),
    "d": Spec("2026-03-10T08:00:00+00:00", model="gpt-5-mini", upstream="gpt-5-mini", usage=None),
    "e": Spec("2026-03-08T08:00:00+00:00"),
}


@pytest.fixture(scope="module")
def populated(log_moto: str) -> Iterator[tuple[LogReader, dict[str, str], LogAws]]:
    aws = create_log_resources(log_moto)
    clock = Clock(at_ms(NOW) / 1000)
    settings = Settings(max_stream_seconds=840)
    recorder = RequestRecorder(aws.store(), settings, clock=clock)
    ids = {name: record(recorder, clock, spec) for name, spec in SPECS.items()}
    # Pending entries: one 20 minutes old (past MAX_STREAM_SECONDS + 60: its instance died), one live.
    unfinished = [
        pending(recorder, clock, "2026-03-10T11:40:00+00:00", "o3"),
        pending(recorder, clock, "2026-03-10T11:55:00+00:00", "o3"),
    ]
    ids["g"], ids["f"] = (trace.id for trace in unfinished)
    settle(recorder, in_flight=2)
    clock.set(at_ms(NOW) / 1000)
    yield LogReader(aws.store(), settings, clock=clock), ids, aws
    assert all(not trace.outcome for trace in unfinished)  # kept alive, so still pending


def names(reader: LogReader, ids: dict[str, str], raw: dict[str, Any], viewer: Viewer = ADMIN) -> set[str]:
    query = parse_log_query(raw, now_ms=reader.now_ms(), max_limit=reader.max_limit)
    page = reader.page(query, viewer)
    by_id = {v: k for k, v in ids.items()}
    assert page["total"] == len(page["logs"])
    return {by_id[e["id"]] for e in page["logs"]}


CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({}, {"a", "b", "c", "d", "f", "g"}),
    ({"status": "success"}, {"a", "b", "d"}),
    ({"status": "failure"}, {"c", "g"}),
    ({"status": "pending"}, {"f"}),
    ({"status": "bogus"}, set()),
    ({"membership_type": "free"}, {"b"}),
    ({"membership_type": "gold"}, set()),
    ({"model": "GPT"}, {"a", "c", "d"}),
    ({"include_models": ["gpt-5-mini", "o3"]}, {"d", "f", "g"}),
    ({"exclude_models": ["gpt-5.2"]}, {"b", "d", "f", "g"}),
    ({"stream": True}, {"b", "f", "g"}),
    ({"has_usage": True}, {"a", "b"}),
    ({"has_usage": False}, {"c", "d", "f", "g"}),
    ({"has_chain": True}, {"a", "b", "c", "d"}),
    ({"has_error": True}, {"c", "g"}),
    ({"error": "slow down"}, {"c"}),
    ({"error": "interrupted"}, {"g"}),
    ({"min_tokens": 200}, {"b"}),
    ({"max_tokens": 150}, {"a"}),
    ({"min_tokens": 0, "max_tokens": 10_000}, {"a", "b"}),
    ({"email": "CORP"}, {"b"}),
    ({"user_id": "user_01BETA00000000000000000000"}, {"b"}),
    ({"api_key_id": "cgk-k1"}, {"b", "c"}),
    ({"account": "beta"}, {"b"}),
    ({"endpoint": "messages"}, {"b"}),
    ({"http_status": 429}, {"c"}),
    ({"upstream_model": "high"}, {"a", "c"}),
    ({"min_ttft": 0}, {"a", "b", "d"}),
    ({"max_total_time": 3600}, {"a", "b", "c", "d", "f", "g"}),
    ({"min_total_time": 3600}, set()),
    ({"from_date": "2026-03-10T09:30:00Z"}, {"a", "b", "f", "g"}),
    ({"to_date": "2026-03-10T09:30:00+00:00"}, {"c", "d"}),
    ({"from_date": "2026-03-07T00:00:00Z", "to_date": "2026-03-09T00:00:00Z"}, {"e"}),
    ({"status": "success", "stream": False, "model": "gpt"}, {"a", "d"}),
]


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[str(q) for q, _ in CASES])
def test_each_filter(
    populated: tuple[LogReader, dict[str, str], LogAws], query: dict[str, Any], expected: set[str]
) -> None:
    reader, ids, _ = populated
    assert names(reader, ids, query) == expected


def test_a_key_holder_is_forced_to_its_own_entries(
    populated: tuple[LogReader, dict[str, str], LogAws],
) -> None:
    reader, ids, _ = populated
    team = Viewer(admin=False, key_id="cgk-k1")
    assert names(reader, ids, {}, team) == {"b", "c"}
    assert names(reader, ids, {"api_key_id": "admin"}, team) == {"b", "c"}  # overridden, not trusted
    assert names(reader, ids, {}, Viewer(admin=False, key_id="cgk-other")) == set()


def test_interrupted_and_hidden_fields(populated: tuple[LogReader, dict[str, str], LogAws]) -> None:
    reader, ids, _ = populated
    entry = reader.detail(ids["g"], ADMIN)
    assert entry["status"] == "failure" and entry["error"]["error"] == "interrupted"
    assert reader.detail(ids["f"], ADMIN)["status"] == "pending"
    own = reader.detail(ids["b"], Viewer(admin=False, key_id="cgk-k1"))
    assert "client" not in own and entry["client"]["ip"] == ""
    assert reader.detail(ids["a"], ADMIN)["client"] == {"ip": "10.1.2.3", "user_agent": "test-agent/1.0"}
    assert reader.detail(ids["b"], ADMIN)["chain"]["think"] == "hmm"


def test_cursor_and_offset_paging(populated: tuple[LogReader, dict[str, str], LogAws]) -> None:
    reader, ids, _ = populated
    order = ["f", "g", "a", "b", "c", "d"]  # newest first
    seen: list[str] = []
    cursor = None
    by_id = {v: k for k, v in ids.items()}
    for _ in range(3):
        raw: dict[str, Any] = {"limit": 2, "reverse": True}
        if cursor:
            raw["cursor"] = cursor
        page = reader.page(parse_log_query(raw, now_ms=reader.now_ms(), max_limit=100), ADMIN)
        seen += [by_id[e["id"]] for e in page["logs"]]
        cursor = page["next_cursor"]
    assert seen == order and cursor is None
    oldest_first = reader.page(
        parse_log_query({"limit": 2, "offset": 1}, now_ms=reader.now_ms(), max_limit=100), ADMIN
    )
    assert [by_id[e["id"]] for e in oldest_first["logs"]] == ["c", "b"] and oldest_first["total"] == 6
    assert oldest_first["total_is_capped"] is False and oldest_first["next_cursor"]


def test_ttl_on_entries_and_counters(populated: tuple[LogReader, dict[str, str], LogAws]) -> None:
    _, ids, aws = populated
    day = 86400
    a_seconds = at_ms(SPECS["a"].at) // 1000
    items = aws.dynamodb.scan(TableName=aws.logs_table)["Items"]
    entry = next(i for i in items if i["sk"]["S"].endswith(ids["a"]))
    assert int(entry["expires_at"]["N"]) == a_seconds + 30 * day
    stats = aws.dynamodb.scan(TableName=aws.stats_table)["Items"]
    hour = next(i for i in stats if i["pk"]["S"] == "G" and i["sk"]["S"] == "H#2026031011")
    day_item = next(i for i in stats if i["pk"]["S"] == "G" and i["sk"]["S"] == "D#20260310")
    assert int(hour["expires_at"]["N"]) == a_seconds + 90 * day
    assert int(day_item["expires_at"]["N"]) >= a_seconds + 730 * day - day


@pytest.fixture
def client() -> Iterator[TestClient]:
    settings = Settings(auth_token="admin-secret")
    services = build_services(
        settings, token_store=InMemoryTokenStore(), request_log_store=InMemoryRequestLogStore()
    )
    with TestClient(
        create_app(logs.router, stats.router, settings=settings, services=services)
    ) as test_client:
        test_client.headers["authorization"] = "Bearer admin-secret"
        yield test_client


BAD_QUERIES = [
    ({"colour": "red"}, "colour"),
    ({"limit": "ten"}, "limit"),
    ({"stream": "yes"}, "stream"),
    ({"include_models": "gpt"}, "include_models"),
    ({"min_tokens": 10, "max_tokens": 5}, "max_tokens"),
    ({"from_date": "2026-03-10T00:00:00Z", "to_date": "2026-03-01T00:00:00Z"}, "to_date"),
    ({"from_date": "2026-01-01T00:00:00Z", "to_date": "2026-03-01T00:00:00Z"}, "to_date"),
    ({"from_date": "yesterday"}, "from_date"),
    ({"user_id": "nope"}, "user_id"),
    ({"cursor": "!!"}, "cursor"),
]


@pytest.mark.parametrize(("query", "field"), BAD_QUERIES, ids=[f for _, f in BAD_QUERIES])
def test_bad_log_queries_are_400_naming_the_field(
    client: TestClient, query: dict[str, Any], field: str
) -> None:
    answer = client.post("/logs/get", json={"query": query})
    assert answer.status_code == 400
    body = answer.json()
    assert body["status"] == "error" and body["code"] == 400 and f"'{field}'" in body["message"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/stats/token/summary?hours=abc", "hours"),
        ("/api/stats/token/hourly?hours=100000", "hours"),
        ("/api/stats/token/daily?tz=Mars/Base", "tz"),
        ("/api/stats/token/weekly?bogus=1", "bogus"),
        ("/api/stats/token/summary?from=2026-03-10T00:00:00Z&to=2026-03-01T00:00:00Z", "to"),
        ("/api/stats/token/by-model?model_field=both", "model_field"),
        ("/api/logs?limit=-1", "limit"),
        ("/api/logs?errorsOnly=maybe", "errorsOnly"),
    ],
)
def test_bad_stats_and_api_parameters_are_400_naming_them(client: TestClient, path: str, field: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 400 and f"'{field}'" in answer.json()["message"]


def test_top_level_body_and_auth_errors(client: TestClient) -> None:
    answer = client.post("/logs/get", json={"query": {}, "extra": 1})
    assert answer.status_code == 400 and "'extra'" in answer.json()["message"]
    assert client.post("/logs/get", content=b"{not json").status_code == 400
    assert client.post("/logs/tokens/get", json={"a": 1}).status_code == 400
    assert client.get("/logs/01ARZ3NDEKTSV4RRFFQ69G5FAV").status_code == 404
    assert client.get("/logs/not-an-id").status_code == 404
    anonymous = client.post("/logs/get", json={}, headers={"authorization": ""})
    assert anonymous.status_code == 401 and anonymous.json()["status"] == "error"
    assert (
        client.get("/api/logs", headers={"authorization": "", "x-admin-token": "admin-secret"}).json() == []
    )
    assert client.get("/api/logs", headers={"authorization": "", "x-admin-token": "wrong"}).status_code == 401
