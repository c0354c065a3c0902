"""`make demo` as a newcomer runs it (issue 18): a fresh `git clone` of this commit, no virtualenv yet
(pip's cache is reused, as a second install on any machine would), then the printed instructions are
followed: the openai SDK streams a chat, the printed curl command streams one too. Ctrl-C (SIGINT to
the process group, as a terminal sends it) must stop everything, delete the demo state and leave the
clone's ./data alone."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import openai
import pytest
from harness import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 280  # creating the clone's virtualenv dominates


class Output:
    """The demo's stdout, drained by a thread (a full pipe would block it), searchable while it runs."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._new: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        self._thread = threading.Thread(target=self._drain, args=(process.stdout,), daemon=True)
        self._thread.start()

    def _drain(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.append(line)
            self._new.put(line)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._new.get(timeout=1)
            except queue.Empty:
                continue
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"no {pattern!r} in the demo's output:\n{''.join(self.lines)[-4000:]}")

    def text(self) -> str:
        return "".join(self.lines)


def streamed_text(sse: str) -> str:
    """The answer text of an OpenAI SSE stream; asserts it came in many events."""
    events = [line.removeprefix("data: ") for line in sse.splitlines() if line.startswith("data: ")]
    assert len(events) > 20 and events[-1] == "[DONE]", sse[-2000:]
    chunks = [json.loads(event) for event in events[:-1]]
    return "".join((c["choices"] or [{}])[0].get("delta", {}).get("content") or "" for c in chunks)


def alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_make_demo_from_a_fresh_clone(tmp_path: Path) -> None:
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", commit], check=True)
    assert not (clone / ".venv").exists()

    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "DATA_DIR", "DEMO_"))}
    env["DEMO_PORT"] = str(free_port())  # two checkouts may run this at once
    process = subprocess.Popen(
        ["make", "demo"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )
    output = Output(process)
    try:
        url = output.wait_for(r"gateway\s+(http://127\.0\.0\.1:\d+)", START_TIMEOUT).group(1)
        admin_key = output.wait_for(r"admin key\s+(\S+)", 10).group(1)
        state = Path(output.wait_for(r"state\s+(\S+)", 10).group(1))
        curl_line = output.wait_for(r"^\s+(curl -N .*)$", 10).group(1)
        assert state.is_dir() and not state.is_relative_to(clone)

        client = openai.OpenAI(base_url=url + "/v1", api_key=admin_key, max_retries=0, timeout=60)
        text, thinking, chunks = "", "", 0
        for chunk in client.chat.completions.create(
            model="claude-4.6-sonnet", messages=[{"role": "user", "content": "Hello, demo!"}], stream=True
        ):
            chunks += 1
            delta = chunk.choices[0].delta if chunk.choices else None
            text += (delta.content or "") if delta else ""
            thinking += (getattr(delta, "reasoning_content", None) or "") if delta else ""
        assert "cursor-gateway emulator" in text and "Hello, demo!" in text
        assert "emulator" in thinking
        assert chunks > 20  # streamed in many deltas, not one block

        if shutil.which("curl"):
            printed = subprocess.run(["bash", "-c", curl_line], capture_output=True, text=True, timeout=60)
            assert printed.returncode == 0, printed.stderr
            assert streamed_text(printed.stdout).startswith("Hello from the cursor-gateway emulator!")
    finally:
        if alive(process.pid):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(30)
        finally:
            if alive(process.pid):
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    assert not alive(process.pid), "a process of the demo survived Ctrl-C"
    stop_output = output.text()
    assert "Traceback" not in stop_output, stop_output[-3000:]
    assert not state.exists()  # the demo state went with it
    assert not (clone / "data").exists()  # the real DATA_DIR was never touched
    with socket.socket() as probe:  # and nobody listens on the demo's port any more
        assert probe.connect_ex(("127.0.0.1", int(url.rsplit(":", 1)[1]))) != 0
