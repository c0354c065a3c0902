"""`cursor-gateway serve` as a user runs it (what `make run` starts): real processes, real sockets.

Every server binds port 0 (gateway and moto) and reports its URL in the banner, so runs never collide,
also with another checkout's tests running at the same time. Every process started here is killed,
with its whole process group, whatever happens."""

from __future__ import annotations

import contextlib
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

import httpx
import pytest
from fakes.jwts import make_jwt

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "e2e-admin-token"
START_TIMEOUT = 90.0
pytestmark = pytest.mark.slow


class Server:
    def __init__(self, data_dir: Path, cwd: Path) -> None:
        # This checkout's package first, whatever is installed or relative in PYTHONPATH.
        path = os.pathsep.join([str(ROOT / "layers/common/python"), os.environ.get("PYTHONPATH", "")])
        env = {
            **os.environ,
            "AUTH_TOKEN": ADMIN,
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": path,
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


def start(servers: list[Server], data_dir: Path, cwd: Path) -> Server:
    server = Server(data_dir, cwd)
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
