"""Request logs and usage statistics end to end: the real openai and anthropic SDKs -> gateway (uvicorn,
real socket) -> fake Cursor (HTTP/2), with the log table, counter table and bodies bucket on moto; then
the reference's /logs/* and Antigravity's /api/* routes read back what happened."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import openai
import pytest
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.services.container import Services
from cursor_gateway.storage.canary import InMemoryCanaryStore
from cursor_gateway.storage.keys import InMemoryKeyStore
from harness import (
    ADMIN,
    SHARED,
    gateway_settings,
    make_services,
    running_fake,
    running_gateway,
    session_record,
)
from logs_env import LogAws, settle


@dataclass
class Gateway:
    url: str
    services: Services
    aws: LogAws
    token: str

    def post(self, path: str, body: Any, key: str = ADMIN) -> httpx.Response:
        return httpx.post(self.url + path, json=body, headers={"authorization": f"Bearer {key}"}, timeout=30)

    def get(self, path: str, key: str = ADMIN, **params: Any) -> httpx.Response:
        return httpx.get(
            self.url + path, params=params, headers={"authorization": f"Bearer {key}"}, timeout=30
        )

    def settle(self) -> None:
        settle(self.services.request_log)


@pytest.fixture
def gateway(log_aws: LogAws) -> Iterator[Gateway]:
    with running_fake(Behaviour(delay=0.0)) as fake:
        settings = gateway_settings(fake)
        record = session_record("alpha", email="alpha@example.com", membership_type="pro")
        services = make_services(
            settings,
            [record],
            key_store=InMemoryKeyStore(),
            canary_store=InMemoryCanaryStore(),
            request_log_store=log_aws.store(),
        )
        with running_gateway(settings, services) as url:
            yield Gateway(url, services, log_aws, record.primary_token)


def chat_three_ways(gw: Gateway, key: str = ADMIN) -> None:
    sdk = openai.OpenAI(base_url=gw.url + "/v1", api_key=key, max_retries=0)
    answer = sdk.chat.completions.create(
        model="gpt-5.2", messages=[{"role": "user", "content": "first question"}]
    )
    assert answer.choices[0].message.content == "Echo: first question"
    stream = sdk.chat.completions.create(
        model="claude-4.6-sonnet-thinking",
        messages=[{"role": "user", "content": "second question"}],
        stream=True,
    )
    assert "Echo: second question" in "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    claude = anthropic.Anthropic(base_url=gw.url, api_key=key, max_retries=0)
    with claude.messages.stream(
        model="claude-4.6-sonnet", max_tokens=100, messages=[{"role": "user", "content": "third question"}]
    ) as events:
        assert events.get_final_text() == "Echo: third question"


def test_every_request_is_logged_counted_and_readable_with_its_bodies(gateway: Gateway) -> None:
    chat_three_ways(gateway)
    gateway.settle()

    page = gateway.post("/logs/get", {"query": {"reverse": True}}).json()
    assert page["status"] == "success" and page["total"] == 3 and page["total_is_capped"] is False
    assert page["active"] == 0 and page["error"] == 0
    newest, middle, oldest = page["logs"]
    assert [e["endpoint"] for e in page["logs"]] == ["messages", "chat.completions", "chat.completions"]
    assert [e["stream"] for e in page["logs"]] == [True, True, False]
    assert oldest["model"] == "gpt-5.2" and oldest["upstream_model"]
    for entry in page["logs"]:
        assert entry["status"] == "success" and entry["http_status"] == 200 and entry["error"] is None
        assert entry["token_info"]["alias"] == "alpha" and entry["token_info"]["email"] == "alpha@example.com"
        assert entry["token_info"]["stripe"]["membership_type"] == "pro"
        assert entry["token_info"]["key"] and entry["token_info"]["key"] != gateway.token
        assert entry["api_key"] == {"id": "admin", "name": "admin"}
        assert entry["attempts"] == 1 and entry["protocol"] == "agent"
        assert (
            entry["usage"]["output"] > 0
            and entry["usage"]["total"] == entry["usage"]["input"] + entry["usage"]["output"]
        )
        assert entry["usage"]["source"] in ("upstream", "checkpoint", "estimate")
        assert entry["timing"]["total"] >= entry["timing"]["first"] > 0
        assert entry["client"]["ip"] == "127.0.0.1" and entry["client"]["user_agent"]
        assert "prompt" not in entry["chain"] and entry["chain"]["has_prompt"] is True
    assert middle["chain"]["has_think"] is True

    inline = gateway.post(
        "/logs/get", {"query": {"reverse": True, "include_chain": True, "limit": 100}}
    ).json()
    assert inline["logs"][1]["chain"]["prompt"] == [{"role": "user", "content": "second question"}]
    assert inline["logs"][2]["chain"]["delays"][0] == "Echo: first question"

    detail = gateway.get(f"/logs/{middle['id']}").json()["log"]
    assert detail["chain"]["prompt"] == [{"role": "user", "content": "second question"}]
    assert detail["chain"]["think"] == "Let me think about that."
    text, delays = detail["chain"]["delays"]
    assert text == "Echo: second question" and len(delays) > 3 and all(len(d) == 2 for d in delays)

    listed = gateway.get("/api/logs", limit=10).json()
    assert [e["id"] for e in listed] == [e["id"] for e in page["logs"]]
    assert listed[0]["url"] == "/v1/messages" and listed[0]["protocol"] == "anthropic"
    assert listed[2]["input_tokens"] == oldest["usage"]["input"] and listed[0]["request_body"] is None
    assert gateway.get("/api/logs/count").json() == 3
    assert gateway.get("/api/logs/count", filter="gpt-5.2").json() == 1
    one = httpx.get(f"{gateway.url}/api/logs/{newest['id']}", headers={"x-admin-token": ADMIN}).json()
    assert "third question" in one["request_body"] and "Echo: third question" in one["response_body"]

    summary = gateway.get("/api/stats/token/summary").json()
    total_output = sum(e["usage"]["output"] for e in page["logs"])
    assert summary["total_requests"] == 3 and summary["success_count"] == 3
    assert summary["total_output_tokens"] == total_output and summary["unique_accounts"] == 1
    assert summary["unique_models"] == 3
    by_model = gateway.get("/api/stats/token/by-model").json()
    assert sorted(row["model"] for row in by_model) == [
        "claude-4.6-sonnet",
        "claude-4.6-sonnet-thinking",
        "gpt-5.2",
    ]
    hourly = gateway.get("/api/stats/token/hourly").json()
    assert len(hourly) == 24 and sum(h["request_count"] for h in hourly) == 3
    by_account = gateway.get("/api/stats/token/by-account").json()
    assert by_account[0]["account_email"] == "alpha@example.com" and by_account[0]["request_count"] == 3
    tokens = gateway.post("/logs/tokens/get", ["alpha", "nobody"]).json()
    assert tokens["tokens"]["alpha"]["email"] == "alpha@example.com" and tokens["tokens"]["nobody"] is None
    assert gateway.token not in str(tokens)

    health = gateway.get("/health").json()
    assert health["requests"] == {"in_flight": 0, "errors_today": 0}
    assert health["storage"]["dynamodb"] == "ok" and health["storage"]["s3"] == "ok"
    assert health["storage"]["log_write_failures"] == 0


def build_key(gw: Gateway, name: str) -> tuple[str, str]:
    built = gw.post("/build-key", {"alias": "alpha", "name": name}).json()
    return built["keys"][0], f"cgk-{built['id']}"


def test_a_key_sees_only_its_own_entries_ids_and_counters(gateway: Gateway) -> None:
    key_a, id_a = build_key(gateway, "team-a")
    key_b, id_b = build_key(gateway, "team-b")
    sdk_a = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key_a, max_retries=0)
    sdk_b = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key_b, max_retries=0)
    for _ in range(2):
        sdk_a.chat.completions.create(model="gpt-5.2", messages=[{"role": "user", "content": "from a"}])
    sdk_b.chat.completions.create(model="gpt-5.2", messages=[{"role": "user", "content": "from b"}])
    openai.OpenAI(base_url=gateway.url + "/v1", api_key=SHARED, max_retries=0).chat.completions.create(
        model="gpt-5.2", messages=[{"role": "user", "content": "shared"}]
    )
    gateway.settle()

    mine = gateway.post("/logs/get", {"query": {"api_key_id": id_b}}, key=key_a).json()
    assert mine["total"] == 2 and {e["api_key"]["id"] for e in mine["logs"]} == {id_a}
    assert "active" not in mine and "error" not in mine and all("client" not in e for e in mine["logs"])
    assert mine["logs"][0]["api_key"]["name"] == "team-a"
    theirs = gateway.post("/logs/get", {"query": {}}, key=key_b).json()
    assert theirs["total"] == 1
    foreign = theirs["logs"][0]["id"]
    assert gateway.get(f"/logs/{foreign}", key=key_a).status_code == 404
    assert gateway.get(f"/api/logs/{foreign}", key=key_a).status_code == 404
    assert gateway.get(f"/logs/{foreign}", key=key_b).status_code == 200
    assert gateway.get("/api/logs/count", key=key_a).json() == 2
    assert gateway.get("/api/logs/count", key=SHARED).json() == 1
    assert gateway.get("/api/logs/count").json() == 4

    assert gateway.get("/api/stats/token/summary", key=key_a, api_key_id=id_b).json()["total_requests"] == 2
    assert gateway.get("/api/stats/token/summary", key=key_b).json()["total_requests"] == 1
    assert gateway.get("/api/stats/token/summary", api_key_id=id_b).json()["total_requests"] == 1
    assert [r["api_key_id"] for r in gateway.get("/api/stats/token/by-key", key=key_a).json()] == [id_a]
    rows = {r["api_key_name"]: r["request_count"] for r in gateway.get("/api/stats/token/by-key").json()}
    assert rows == {"team-a": 2, "team-b": 1, "shared": 1}
    assert (
        gateway.post("/logs/tokens/get", ["alpha"], key=key_a).json()["tokens"]["alpha"]["alias"] == "alpha"
    )
    assert gateway.post("/logs/clear", {}, key=key_a).status_code == 403
    assert gateway.post("/api/stats/token/clear", {}, key=key_a).status_code == 403
    assert gateway.get("/api/logs", key="wrong").status_code == 401

    stored = "\n".join(gateway.aws.everything_stored())
    for secret in (gateway.token, key_a, key_b, ADMIN, SHARED, key_a.split("_")[-1]):
        assert secret not in stored


def test_export_and_clear(gateway: Gateway) -> None:
    chat_three_ways(gateway)
    gateway.settle()
    csv_text = gateway.post("/logs/export", {"query": {"reverse": True}, "format": "csv"}).text
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("id,timestamp,endpoint,model") and len(lines) == 4
    assert lines[1].split(",")[2] == "messages"
    ndjson = (
        gateway.post("/logs/export", {"query": {"model": "gpt"}, "format": "ndjson"})
        .text.strip()
        .splitlines()
    )
    assert len(ndjson) == 1 and '"model": "gpt-5.2"' in ndjson[0]
    bad = gateway.post("/logs/export", {"format": "xml"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_request"

    assert gateway.post("/logs/clear", {}).json()["status"] == "success"
    assert gateway.post("/logs/get", {"query": {}}).json()["total"] == 0
    assert gateway.post("/api/logs/clear", {}).status_code == 200
    assert gateway.get("/api/stats/token/summary").json()["total_requests"] == 3  # stats have their own clear
    assert gateway.post("/api/stats/token/clear", {}).status_code == 200
    assert gateway.get("/api/stats/token/summary").json()["total_requests"] == 0


def test_responses_api_requests_are_logged_too(gateway: Gateway) -> None:
    sdk = openai.OpenAI(base_url=gateway.url + "/v1", api_key=ADMIN, max_retries=0)
    plain = sdk.responses.create(model="gpt-5.2", input="a responses question", store=False)
    assert "Echo: a responses question" in plain.output_text
    streamed = sdk.responses.create(model="gpt-5.2", input="a streamed one", store=False, stream=True)
    kinds = [event.type for event in streamed]
    assert kinds[-1] == "response.completed"
    gateway.settle()

    page = gateway.post("/logs/get", {"query": {"reverse": True}}).json()
    assert [e["endpoint"] for e in page["logs"]] == ["responses", "responses"]
    assert [e["stream"] for e in page["logs"]] == [True, False]
    for entry in page["logs"]:
        assert entry["status"] == "success" and entry["http_status"] == 200
        assert entry["model"] == "gpt-5.2" and entry["usage"]["output"] > 0
        assert entry["token_info"]["alias"] == "alpha"
