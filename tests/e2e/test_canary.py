"""The drift canary: probes a profile with a tiny chat, records the outcome, reports drift."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.local.moto_server import EmbeddedMoto
from cursor_gateway.local.template import load_template, local_resources
from cursor_gateway.storage.canary import InMemoryCanaryStore
from cursor_gateway.storage.tokens_dynamo import DynamoTokenStore
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake() -> Iterator[FakeCursor]:
    with running_fake(Behaviour()) as server:
        yield server


def test_canary_ok_then_rate_limited_and_shown_to_the_admin(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    services = make_services(settings, [session_record("probe")], canary_store=InMemoryCanaryStore())
    first = asyncio.run(services.canary.run())
    assert [r["profile"] for r in first] == ["agent"]
    assert first[0]["ok"] is True and first[0]["outcome"] == "ok" and first[0]["drift"] is False
    assert first[0]["answer_chars"] > 0 and first[0]["latency_ms"] > 0 and first[0]["token"] == "probe"
    again = asyncio.run(services.canary.run())
    assert "skipped" in again[0] and len(fake.runs) == 1  # within the minimum interval: no quota spent
    asyncio.run(services.canary.run(force=True))
    assert len(fake.runs) == 2
    with running_gateway(settings, services) as url:
        admin = httpx.get(url + "/health", headers={"authorization": f"Bearer {ADMIN}"}).json()
        public = httpx.get(url + "/health").json()
    assert admin["canary"]["agent"]["outcome"] == "ok" and admin["protocol"] == "agent"
    assert "canary" not in public and "pool" not in public


def test_canary_reports_drift_on_update_required(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    services = make_services(settings, [session_record("probe")], canary_store=InMemoryCanaryStore())
    fake.default = Behaviour.failing("update_required")
    [result] = asyncio.run(services.canary.run())
    assert result["ok"] is False and result["drift"] is True
    assert result["outcome"] == "upstream_version_gate"
    assert "CURSOR_CLIENT_VERSION" in result["message"]
    health = services.token_store.get("probe")
    assert health is not None and health.health.state == "healthy"  # a gate is not the token's fault


def test_canary_reports_unknown_fields(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    services = make_services(settings, [session_record("probe")], canary_store=InMemoryCanaryStore())
    fake.default = Behaviour(send_unknown=True)
    [result] = asyncio.run(services.canary.run())
    assert result["ok"] is True and result["drift"] is True
    assert result["unknown"] == {"AgentServerMessage#99": 1, "TurnEndedUpdate#9": 1}


def test_canary_without_tokens_says_so(fake: FakeCursor) -> None:
    services = make_services(gateway_settings(fake), [], canary_store=InMemoryCanaryStore())
    [result] = asyncio.run(services.canary.run())
    assert result["outcome"] == "no_token" and result["ok"] is False


def test_canary_command_line(fake: FakeCursor, tmp_path: Path) -> None:
    """`cursor-gateway canary` against DynamoDB (moto server) with the tables of template.yaml."""
    server = EmbeddedMoto("127.0.0.1", 0)
    endpoint = server.start()
    try:
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_DEFAULT_REGION": "us-east-1",
            "CURSOR_API_URL": fake.url,
            "PYTHONPATH": str(ROOT / "layers/common/python"),
        }
        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        tables, _ = local_resources(load_template(ROOT / "template.yaml"), region="us-east-1")
        for table in tables:
            client.create_table(TableName=table.name, **table.create_args)
        names = {t.name for t in tables}
        assert {"cursor-gateway-tokens", "cursor-gateway-config", "cursor-gateway-canary"} <= names
        DynamoTokenStore("cursor-gateway-tokens", client=client).put_new(
            session_record(f"cli-{uuid.uuid4().hex[:6]}")
        )
        done = subprocess.run(
            [sys.executable, "-m", "cursor_gateway.cli", "canary", "--force"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        [result] = json.loads(done.stdout)
        assert result["profile"] == "agent" and result["ok"] is True
        stored = client.get_item(TableName="cursor-gateway-canary", Key={"profile": {"S": "agent"}})
        assert json.loads(stored["Item"]["result"]["S"])["outcome"] == "ok"
    finally:
        server.stop()
