"""`cursor-gateway serve` as a user runs it (what `make run` starts): real processes, real sockets.

Every server binds port 0 (gateway and moto) and reports its URL in the banner, so runs never collide,
also with another checkout's tests running at the same time. Every process started here is killed,
with its whole process group, whatever happens."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import httpx
import pytest
from fakes.jwts import make_jwt

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "e2e-admin-token"
START_TIMEOUT = 90.0
pytestmark = pytest.mark.slow


class Server:
    def __init__(self, data_dir: Path, cwd: Path, extra_env: dict[str, str] | None = None) -> None:
        # This checkout's package first, whatever is installed or relative in PYTHONPATH.
        path = os.pathsep.join([str(ROOT / "layers/common/python"), os.environ.get("PYTHONPATH", "")])
        env = {
            **os.environ,
            "AUTH_TOKEN": ADMIN,
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": path,
            **(extra_env or {}),
        }
        env.pop("MOTO_PORT", None)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cursor_gateway.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--moto-port",
                "0",
                "--data-dir",
                str(data_dir),
                "--template",
                str(ROOT / "template.yaml"),
            ],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: killed as a whole
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        self.url = ""

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_ready(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                break
            self.output.append(line)
            match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
            if match:
                self.url = match.group(1)
            if self.url and line.strip().startswith("stop"):  # the banner's last line
                return self.url
        raise AssertionError("server did not start:\n" + self.drain())

    def drain(self) -> str:
        while True:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                break
            if line is None:
                break
            self.output.append(line)
        return "".join(self.output)

    def signal(self, sig: int) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    try:
        yield started
    finally:
        for server in started:
            with contextlib.suppress(ProcessLookupError):
                server.signal(signal.SIGKILL)
            server.process.wait(timeout=30)


def start(
    servers: list[Server], data_dir: Path, cwd: Path, extra_env: dict[str, str] | None = None
) -> Server:
    server = Server(data_dir, cwd, extra_env)
    servers.append(server)
    return server


def admin_post(url: str, path: str, body: dict[str, object]) -> httpx.Response:
    return httpx.post(url + path, json=body, headers={"authorization": f"Bearer {ADMIN}"}, timeout=30)


def test_tokens_survive_a_hard_kill_and_restart(tmp_path: Path, servers: list[Server]) -> None:
    data_dir = tmp_path / "data"
    token = make_jwt(exp=time.time() + 86400)

    first = start(servers, data_dir, tmp_path)
    url = first.wait_ready()
    assert httpx.get(url + "/health", timeout=30).status_code == 200
    added = admin_post(url, "/tokens/add", {"tokens": [{"token": token, "alias": "survivor"}]})
    assert added.status_code == 200, added.text
    assert added.json()["results"][0]["outcome"] == "added"
    first.kill()  # SIGKILL: no chance to flush anything; only what was on disk at the 200 counts

    second = start(servers, data_dir, tmp_path)
    url = second.wait_ready()
    assert "restored: cursor-gateway-tokens: 1" in "".join(second.output)
    assert httpx.get(url + "/health", timeout=30).status_code == 200
    listed = admin_post(url, "/tokens/get", {"reveal": True}).json()
    assert listed["tokens_count"] == 1
    _, alias, info = listed["tokens"][0]
    assert alias == "survivor"
    assert info["bundle"]["primary_token"] == token

    # The same token again is now a duplicate: the restored state is the live state.
    again = admin_post(url, "/tokens/add", {"tokens": [{"token": token}]})
    assert again.json()["results"][0]["outcome"] == "duplicate"

    second.signal(signal.SIGINT)
    assert second.process.wait(timeout=30) == 0  # Ctrl-C is a clean stop


def test_a_second_server_on_the_same_state_is_refused(tmp_path: Path, servers: list[Server]) -> None:
    data_dir = tmp_path / "data"
    start(servers, data_dir, tmp_path).wait_ready()
    intruder = start(servers, data_dir, tmp_path)
    assert intruder.process.wait(timeout=START_TIMEOUT) == 1
    assert "another cursor-gateway serve is using" in intruder.drain()


def moto_client(server: Server, service: str) -> Any:
    match = re.search(r"local AWS \(moto\)\s+(http://127\.0\.0\.1:\d+)", "".join(server.output))
    assert match, server.drain()
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    config = botocore.config.Config(max_pool_connections=16, retries={"max_attempts": 1})
    return session.client(service, endpoint_url=match.group(1), config=config)


def test_acknowledged_writes_survive_kill_9_mid_burst(tmp_path: Path, servers: list[Server]) -> None:
    """1,000 writes from 8 threads (puts and 3-item transactions); SIGKILL when about half are answered.
    After a restart every answered write is there, and every transaction is there whole or not at all."""
    data_dir = tmp_path / "data"
    table, bucket = "cursor-gateway-analytics-state", "cursor-gateway-analyticsbucket"
    first = start(servers, data_dir, tmp_path)
    first.wait_ready()
    dynamodb, s3 = moto_client(first, "dynamodb"), moto_client(first, "s3")
    bodies = {"small.bin": os.urandom(1000), "large.bin": os.urandom(600_000), "empty": b""}
    for key, body in bodies.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)

    acknowledged: list[str] = []
    transactions: list[str] = []
    half = threading.Event()

    def writer(thread: int) -> None:
        for i in range(125):
            name = f"{thread}-{i}"
            try:
                if i % 2:
                    items = [{"pk": {"S": f"tx-{name}-{part}"}, "tx": {"S": name}} for part in range(3)]
                    dynamodb.transact_write_items(
                        TransactItems=[{"Put": {"TableName": table, "Item": item}} for item in items]
                    )
                    transactions.append(name)
                else:
                    dynamodb.put_item(TableName=table, Item={"pk": {"S": f"put-{name}"}})
                    acknowledged.append(f"put-{name}")
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
                return  # the server is gone: this write was never acknowledged
            if len(acknowledged) + len(transactions) >= 500:
                half.set()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    assert half.wait(timeout=120)
    first.kill()  # mid-burst: writes in flight are cut off
    for thread in threads:
        thread.join(timeout=60)
    answered = len(acknowledged) + len(transactions)
    assert 500 <= answered < 1000, answered  # the kill really landed mid-burst

    second = start(servers, data_dir, tmp_path)
    second.wait_ready()
    dynamodb = moto_client(second, "dynamodb")
    saved: set[str] = set()
    tx_parts: dict[str, int] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            saved.add(item["pk"]["S"])
            if "tx" in item:
                tx_parts[item["tx"]["S"]] = tx_parts.get(item["tx"]["S"], 0) + 1
    assert set(acknowledged) <= saved
    assert set(transactions) <= set(tx_parts)
    assert set(tx_parts.values()) == {3}  # no transaction half-applied, answered or not
    s3 = moto_client(second, "s3")
    for key, body in bodies.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body


def test_a_snapshot_data_dir_is_imported_once_and_expired_items_are_swept(
    tmp_path: Path, servers: list[Server]
) -> None:
    data_dir = tmp_path / "data"
    table = "cursor-gateway-analytics-state"  # its template declares TTL on expires_at
    items = [{"pk": {"S": "keep"}}, {"pk": {"S": "expired"}, "expires_at": {"N": str(int(time.time()) - 60)}}]
    snapshot = data_dir / "dynamodb" / f"{table}.json"
    snapshot.parent.mkdir(parents=True)
    snapshot.write_text(json.dumps({"format": 1, "table": table, "items": items}))
    fast_sweep = {"LOCAL_TTL_SWEEP_SECONDS": "0.5"}

    first = start(servers, data_dir, tmp_path, fast_sweep)
    first.wait_ready()
    output = "".join(first.output)
    assert f"imported the JSON snapshots in {data_dir} into state.sqlite3 ({table}: 2)" in output, output
    assert f"restored: {table}: 1)" in output, output  # the expired item is not loaded
    dynamodb = moto_client(first, "dynamodb")

    def keys() -> set[str]:
        return {item["pk"]["S"] for item in dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]}

    dynamodb.put_item(
        TableName=table, Item={"pk": {"S": "soon"}, "expires_at": {"N": str(int(time.time()) + 3)}}
    )
    assert keys() == {"keep", "soon"}
    deadline = time.monotonic() + 30
    while "soon" in keys() and time.monotonic() < deadline:
        time.sleep(0.25)
    assert keys() == {"keep"}  # deleted by the background sweep
    first.signal(signal.SIGINT)
    assert first.process.wait(timeout=30) == 0

    snapshot.write_text(json.dumps({"format": 1, "table": table, "items": [*items, {"pk": {"S": "late"}}]}))
    second = start(servers, data_dir, tmp_path)
    second.wait_ready()
    output = "".join(second.output)
    assert "imported" not in output and f"restored: {table}: 1" in output
    assert {item["pk"]["S"] for item in moto_client(second, "dynamodb").scan(TableName=table)["Items"]} == {
        "keep"
    }
