"""The stack the browser tests drive: the fake Cursor (`cursor-gateway emulate`) and the gateway as
`make run` starts it (`cursor-gateway serve`, embedded moto), both real processes on free ports, each in
its own process group so stopping them stops everything they started. Also the Chromium launcher."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cursor_gateway.emulator.tokens import fake_jwt

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "browser-admin-token"
START_TIMEOUT = 90.0
# Debian's chromium (Playwright's own browser download is not reachable here); CHROMIUM overrides the path.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = "Browser tests need Debian's chromium: apt-get install -y chromium (make test does it as root)"


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        raise RuntimeError(INSTALL_HINT)
    return path


class Process:
    """A child process whose output is read on a thread, so a chatty child never blocks on a full pipe."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.popen = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, pattern: str, *, until: str | None = None) -> str:
        """The first group of `pattern` in the output (after `until` appears too, when given)."""
        deadline = time.monotonic() + START_TIMEOUT
        found = ""
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                break
            self.output.append(line)
            match = re.search(pattern, line)
            if match and not found:
                found = match.group(1)
            if found and (until is None or line.strip().startswith(until)):
                return found
        raise AssertionError("process did not start:\n" + "".join(self.output))

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)


@dataclass
class Stack:
    url: str
    fake_url: str
    admin: str = ADMIN


@contextlib.contextmanager
def running_stack(tmp: Path) -> Iterator[Stack]:
    path = os.pathsep.join([str(ROOT / "layers/common/python"), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING"}
    env.pop("MOTO_PORT", None)
    started: list[Process] = []
    try:
        fake = Process(
            [sys.executable, "-m", "cursor_gateway.cli", "emulate", "--port", "0", "--delay", "0.005"],
            env,
            tmp,
        )
        started.append(fake)
        fake_url = fake.wait_for(r"CURSOR_API_URL=(http://127\.0\.0\.1:\d+)")
        gateway_env = {**env, "AUTH_TOKEN": ADMIN, "CURSOR_API_URL": fake_url}
        gateway = Process(
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
                str(tmp / "data"),
                "--template",
                str(ROOT / "template.yaml"),
            ],
            gateway_env,
            tmp,
        )
        started.append(gateway)
        url = gateway.wait_for(r"listening on (http://127\.0\.0\.1:\d+)", until="stop")
        yield Stack(url=url, fake_url=fake_url)
    finally:
        for process in reversed(started):
            process.stop()


class Console:
    """What a page said that a user would call broken: console errors, uncaught exceptions, alerts."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.allowed: list[re.Pattern[str]] = []

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


def open_context(browser: Any, stack: Stack, *, key: bool = True, **options: Any) -> Any:
    settings = {"viewport": {"width": 1280, "height": 900}, "locale": "en-US", "base_url": stack.url}
    context = browser.new_context(**(settings | options))
    context.set_default_timeout(10_000)
    if key:
        # The key as if typed into the prompt earlier in this tab (sessionStorage is per context).
        context.add_init_script(f"sessionStorage.setItem('cg.adminKey', {json.dumps(stack.admin)})")
    return context


def watch(page: Any, console: Console) -> None:
    def on_console(message: Any) -> None:
        if message.type == "error":
            location = message.location or {}
            console.errors.append(f"{message.text} ({location.get('url', '')})")

    def on_dialog(dialog: Any) -> None:
        console.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda error: console.errors.append(f"uncaught: {error}"))
    page.on("dialog", on_dialog)


def admin(stack: Stack, path: str, body: Any = None, method: str = "POST") -> Any:
    """The admin API straight (setup and cross-checks of what the page did)."""
    response = httpx.request(
        method,
        stack.url + path,
        json=body if method != "GET" else None,
        headers={"authorization": f"Bearer {stack.admin}"},
        timeout=30,
    )
    assert response.status_code < 300, response.text
    return response.json()


def session_token(seed: str) -> str:
    """A session JWT the fake Cursor accepts, different per seed."""
    return fake_jwt(user_id=f"user_01{seed.upper():A<24}"[:31])


def visit(page: Any, path: str) -> Any:
    """Open a console page and wait until it is ready (controls wired, first data shown)."""
    response = page.goto(path)
    page.locator('body[data-ready="true"]').wait_for()
    return response


def navigate(page: Any, name: str) -> None:
    """Follow the nav bar's link to a page and wait until it is ready."""
    page.click(f'header.nav a[data-nav="{name}"]')
    page.wait_for_url(re.compile(r".*/" + ("" if name == "dashboard" else name) + "$"))
    page.locator('body[data-ready="true"]').wait_for()
