"""ChatFunction as Lambda runs it: `functions/chat/run.sh` started the way Lambda Web Adapter starts it
(PORT set, the layer's code on PYTHONPATH; here the source layer and this virtualenv's python, since the
arm64 build cannot run on this machine), its port polled like LWA's TCP readiness check, then a chat
request streamed over a real socket. DynamoDB and SSM are a moto server; Cursor is the fake."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.storage.tokens_dynamo import DynamoTokenStore
from handler_kit import ADMIN, ROOT, Stack, environment_for_subprocess, moto_stack
from harness import free_port, running_fake, session_record

RUN_SH = ROOT / "functions/chat/run.sh"
START_TIMEOUT = 60.0
REPLY = "streamed over a real socket, piece by piece"


@pytest.fixture
def stack() -> Iterator[Stack]:
    with moto_stack() as running:
        # The pool the function reads: one token, in the table template.yaml declares.
        store = DynamoTokenStore(running.tables["TokensTable"], client=running.client("dynamodb"))
        store.put_new(session_record("alpha"))
        yield running


@pytest.fixture
def fake() -> Iterator[FakeCursor]:
    with running_fake(Behaviour(reply=REPLY, chunks=6, delay=0.3)) as server:
        yield server


@pytest.fixture
def chat_function(stack: Stack, fake: FakeCursor, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = environment_for_subprocess(stack)
    env.update(
        {
            "PORT": str(port),
            "PYTHONPATH": str(ROOT / "layers/common/python"),  # what /opt/python is in Lambda
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
            "CURSOR_API_URL": fake.url,
            "SSE_KEEPALIVE_SECONDS": "0.1",
            # What the template sets for LWA; uvicorn ignores them, they document the setting.
            "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
            "AWS_LWA_INVOKE_MODE": "response_stream",
        }
    )
    log = (tmp_path / "run.log").open("w+")
    process = subprocess.Popen(
        ["bash", str(RUN_SH)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(port, process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: object) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"run.sh exited with {process.returncode}:\n{read(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"run.sh did not open its port:\n{read(log)}")


def read(log: object) -> str:
    log.seek(0)  # type: ignore[attr-defined]
    return log.read()  # type: ignore[attr-defined,no-any-return]


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_run_sh_streams_the_answer_incrementally(chat_function: str, fake: FakeCursor) -> None:
    body = {"model": "claude-4.6-sonnet", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    arrivals: list[tuple[float, str]] = []
    started = time.monotonic()
    with httpx.stream(
        "POST",
        chat_function + "/v1/chat/completions",
        json=body,
        headers={"authorization": f"Bearer {ADMIN}"},  # checked against the key in SSM (moto)
        timeout=30,
    ) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        for line in answer.iter_lines():
            if line:
                arrivals.append((time.monotonic() - started, line))
    texts = [line for _, line in arrivals]
    assert texts[-1] == "data: [DONE]"
    content_at = [
        (at, json.loads(line[6:])["choices"][0]["delta"].get("content"))
        for at, line in arrivals
        if line.startswith("data: {") and json.loads(line[6:]).get("choices")
    ]
    pieces = [(at, text) for at, text in content_at if text]
    assert "".join(text for _, text in pieces) == REPLY
    # Incremental: the pieces arrived spread over the ~1.5 s the fake took, not together at the end.
    assert len(pieces) >= 5
    assert pieces[-1][0] - pieces[0][0] > 1.0
    assert arrivals[-1][0] - pieces[0][0] > 1.0
    assert ": keep-alive" in texts  # 0.3 s silences, 0.1 s keep-alive interval
    assert fake.runs[-1].violations == []
