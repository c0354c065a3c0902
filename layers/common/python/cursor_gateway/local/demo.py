"""`cursor-gateway demo` (`make demo`): the whole product offline in one process, for someone with no
Cursor account.

One process (so one Ctrl-C stops everything): the fake Cursor backend on an event loop in a thread
(`emulator.demo.running_demo_emulator`, handed in by the CLI: `local` does not depend on the test
double), and the `make run` stack (embedded moto + uvicorn) pointed at it. State goes to a demo
directory, never the real DATA_DIR: a fresh temporary directory that is deleted on exit, unless
`--data-dir` / `DEMO_DATA_DIR` names one to keep. The environment's settings are not read (a real
admin key, proxy or Admin API key stays out of the demo); the admin key is made up per run. Once the
gateway accepts connections a demo token is added through the token service (what `/tokens/add`
calls) and the instructions are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import shlex
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from cursor_gateway.settings import Settings

# port -> context manager yielding (the fake Cursor's URL, a session token it accepts)
Upstream = Callable[[int], AbstractContextManager[tuple[str, str]]]

PREFERRED_PORT = 3000
TEMPLATE = Path("template.yaml")
DEMO_MODEL = "claude-4.6-sonnet"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser(
        "demo", help="the gateway and a fake Cursor backend in one process, no Cursor account needed"
    )
    demo.add_argument(
        "--port", type=int, default=None, help="gateway port (env DEMO_PORT; default 3000, else a free one)"
    )
    demo.add_argument(
        "--emulator-port", type=int, default=None, help="emulator port (env DEMO_EMULATOR_PORT; default free)"
    )
    demo.add_argument(
        "--data-dir", default=None, help="keep the demo state here (env DEMO_DATA_DIR; default: a temp dir)"
    )


def demo_from_args(args: argparse.Namespace, upstream: Upstream) -> int:
    env = os.environ
    try:
        if not TEMPLATE.is_file():
            raise DemoError("run it from the repository root (template.yaml defines the local tables)")
        port = _gateway_port(args.port if args.port is not None else _int(env.get("DEMO_PORT")))
        emulator_port = args.emulator_port
        if emulator_port is None:
            emulator_port = _int(env.get("DEMO_EMULATOR_PORT")) or 0
        moto_port = _int(env.get("DEMO_MOTO_PORT")) or 0
        keep = args.data_dir or env.get("DEMO_DATA_DIR") or ""
        with _demo_dir(keep) as data_dir, _started(upstream, emulator_port) as (fake_url, token):
            return _run(port, moto_port, data_dir, fake_url, token, temporary=not keep)
    except DemoError as exc:
        print(f"cursor-gateway demo: {exc}", file=sys.stderr)
        return 2


class DemoError(RuntimeError):
    pass


def _int(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise DemoError(f"not a port number: {value!r}") from None


def _gateway_port(configured: int | None) -> int:
    """The configured port, else 3000 (what the README's examples use) when it is free, else any free one
    (the stack binds port 0 and the banner shows the real one)."""
    if configured is not None:
        return configured
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", PREFERRED_PORT))
        except OSError:
            return 0
    return PREFERRED_PORT


@contextlib.contextmanager
def _demo_dir(keep: str) -> Iterator[Path]:
    real = {Path(Settings().data_dir).resolve(), Path(os.environ.get("DATA_DIR") or "./data").resolve()}
    if keep:
        path = Path(keep).resolve()
        if path in real:
            raise DemoError(f"{path} is the gateway's real DATA_DIR; the demo keeps its state elsewhere")
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="cursor-gateway-demo-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _started(upstream: Upstream, port: int) -> Iterator[tuple[str, str]]:
    try:
        running = upstream(port)
        started = running.__enter__()
    except OSError as exc:
        raise DemoError(f"cannot start the emulator on 127.0.0.1:{port}: {exc.strerror}") from exc
    try:
        yield started
    finally:
        running.__exit__(None, None, None)


def _run(port: int, moto_port: int, data_dir: Path, fake_url: str, token: str, *, temporary: bool) -> int:
    from cursor_gateway.api.deps import services_of
    from cursor_gateway.local.stack import run_stack

    admin_key = "demo-" + secrets.token_urlsafe(18)
    settings = Settings(
        host="127.0.0.1",
        port=port,
        data_dir=str(data_dir),
        auth_token=admin_key,
        cursor_api_url=fake_url,
        cursor_web_url=fake_url,
    )
    # The gateway's own log stays quiet; uvicorn still prints one line per request.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def on_ready(url: str, app: Any) -> None:
        # Store I/O (DynamoDB on the embedded moto) blocks: off the server's loop.
        added = await asyncio.to_thread(
            services_of(app).tokens.add, {"tokens": [{"token": token, "alias": "demo"}]}
        )
        outcomes = [item.get("outcome") for item in added.get("results", [])]
        if outcomes not in (["added"], ["duplicate"]):  # duplicate: a kept --data-dir has it already
            print(f"cursor-gateway demo: adding the demo token failed: {added}", file=sys.stderr)
        print(instructions(url, admin_key, fake_url, data_dir, temporary=temporary), flush=True)

    return run_stack(settings, template=TEMPLATE, moto_port=moto_port, on_ready=on_ready)


def instructions(url: str, admin_key: str, fake_url: str, data_dir: Path, *, temporary: bool) -> str:
    body = (
        '{"model": "' + DEMO_MODEL + '", "stream": true, '
        '"messages": [{"role": "user", "content": "Hello, gateway!"}]}'
    )
    curl = (
        f"curl -N {url}/v1/chat/completions -H {shlex.quote('Authorization: Bearer ' + admin_key)} "
        f"-H 'content-type: application/json' -d {shlex.quote(body)}"
    )
    kept = "deleted on exit" if temporary else "kept"
    return "\n".join(
        [
            "",
            "cursor-gateway demo: the real gateway in front of a fake Cursor backend (no account needed)",
            "",
            f"  gateway          {url}   (OpenAI base URL {url}/v1)",
            f"  dashboard        {url}/",
            f"  admin key        {admin_key}   (this demo only)",
            "  demo token       'demo', a made-up session the emulator accepts",
            f"  fake Cursor      {fake_url}",
            f"  state            {data_dir} ({kept}; your ./data is not used)",
            "",
            "Stream a chat (paste into another terminal):",
            "",
            f"  {curl}",
            "",
            "openai-python:",
            "",
            "  from openai import OpenAI",
            f'  client = OpenAI(base_url="{url}/v1", api_key="{admin_key}")',
            f'  stream = client.chat.completions.create(model="{DEMO_MODEL}", stream=True,',
            '      messages=[{"role": "user", "content": "Hello!"}])',
            "  for chunk in stream:",
            "      if chunk.choices and chunk.choices[0].delta.content:",
            '          print(chunk.choices[0].delta.content, end="", flush=True)',
            "",
            "Claude Code:",
            "",
            f"  ANTHROPIC_BASE_URL={url} ANTHROPIC_API_KEY={admin_key} claude",
            "",
            "Stop everything: Ctrl-C",
            "",
        ]
    )
