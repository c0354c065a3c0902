"""CppFunction as Lambda runs it: `functions/cpp/run.sh` started the way Lambda Web Adapter starts it (PORT
set, the source layer on PYTHONPATH), the pool and the admin key in a moto server, Cursor the fake; then a
`/cpp/stream` completion must arrive event by event, not buffered until the end."""

from __future__ import annotations

import json
import os
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
from test_chat_run_sh import stop, wait_for_port

RUN_SH = ROOT / "functions/cpp/run.sh"


@pytest.fixture
def stack() -> Iterator[Stack]:
    with moto_stack() as running:
        store = DynamoTokenStore(running.tables["TokensTable"], client=running.client("dynamodb"))
        store.put_new(session_record("alpha", gcpp_host="EU"))
        yield running


@pytest.fixture
def fake() -> Iterator[FakeCursor]:
    with running_fake(Behaviour(delay=0.15)) as server:
        yield server


@pytest.fixture
def cpp_function(stack: Stack, fake: FakeCursor, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = environment_for_subprocess(stack)
    env.update(
        {
            "PORT": str(port),
            "PYTHONPATH": str(ROOT / "layers/common/python"),
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
            "CURSOR_API_URL": fake.url,
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


def test_run_sh_streams_a_completion_event_by_event(cpp_function: str, fake: FakeCursor) -> None:
    body = {
        "current_file": {
            "relative_workspace_path": "a.py",
            "contents": "def f\n# TODO\n",
            "cursor_position": {"line": 0, "column": 5},
        }
    }
    arrivals: list[tuple[float, str]] = []
    started = time.monotonic()
    with httpx.stream(
        "POST",
        cpp_function + "/cpp/stream",
        json=body,
        headers={"authorization": f"Bearer {ADMIN}"},
        timeout=30,
    ) as answer:
        assert answer.status_code == 200, answer.read()
        for line in answer.iter_lines():
            if line.startswith("data: "):
                arrivals.append((time.monotonic() - started, json.loads(line[6:])["type"]))
    kinds = [kind for _, kind in arrivals]
    assert kinds[0] == "model_info" and kinds[-1] == "stream_end" and kinds.count("done_edit") == 2
    # The fake waits 0.15 s between frames: the events came spread out, not all at the end.
    assert arrivals[-1][0] - arrivals[0][0] > 1.0
    assert fake.tab.of("stream")[0].headers["x-co"] == "us-eu.gcpp.cursor.sh"  # the stored token's region
