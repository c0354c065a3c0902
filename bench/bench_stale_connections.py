"""Dead pooled connections: how many chats fail with the fresh-connection retry off and on, same run.

    .venv/bin/python bench/bench_stale_connections.py [--requests 300]

The fake Cursor's connections die the way real ones do (`H2Server.connection_fault`: `drop_idle`, a
connection reset on the next request once it went idle; `refuse_reused`, RST_STREAM(REFUSED_STREAM) on
a reused connection). One token in the pool, so a failed attempt has nowhere to fail over to. Half the
requests go one at a time, half 50 at a time; every other one is streamed. "retry off" is the code as it
was before issue 19 (the stale-connection tests patched to say "never"); "retry on" is the code as it is.
Prints the statuses, the token's health score after the run, and the wall time. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers/common/python"))
sys.path.insert(0, str(ROOT / "tests"))

from cursor_gateway.emulator.behaviour import Behaviour  # noqa: E402
from cursor_gateway.upstream import connect, fresh_retry  # noqa: E402
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record  # noqa: E402

HEADERS = {"authorization": f"Bearer {ADMIN}"}


@contextlib.contextmanager
def retry(enabled: bool) -> Iterator[None]:
    saved = connect.pyqwest_stale, fresh_retry.httpx_stale
    if not enabled:
        connect.pyqwest_stale = fresh_retry.httpx_stale = lambda exc: False  # type: ignore[assignment]
    try:
        yield
    finally:
        connect.pyqwest_stale, fresh_retry.httpx_stale = saved


async def chats(url: str, count: int, concurrency: int) -> collections.Counter[int]:
    statuses: collections.Counter[int] = collections.Counter()
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency + 4)) as client:

        async def one(index: int) -> None:
            body = {
                "model": "gpt-5.2",
                "messages": [{"role": "user", "content": f"chat {index}"}],
                "stream": index % 2 == 1,
            }
            async with gate:
                response = await client.post(url + "/v1/chat/completions", headers=HEADERS, json=body)
                statuses[response.status_code] += 1

        await asyncio.gather(*(one(i) for i in range(count)))
    return statuses


def run(fault: str, enabled: bool, requests: int) -> dict[str, Any]:
    quick = Behaviour(chunks=3, ask_blob=False, send_builtin_exec=False)
    with retry(enabled), running_fake(quick) as fake:
        fake.server.connection_fault = fault
        settings = gateway_settings(fake)
        with running_gateway(settings, make_services(settings, [session_record("only")])) as url:
            started = time.perf_counter()
            statuses = asyncio.run(chats(url, requests // 2, 1))
            statuses += asyncio.run(chats(url, requests - requests // 2, 50))
            elapsed = time.perf_counter() - started
            pool = httpx.post(url + "/tokens/get", headers=HEADERS, json={}).json()["tokens"]
        return {
            "statuses": dict(sorted(statuses.items())),
            "failed": sum(n for status, n in statuses.items() if status != 200),
            "faults": len(fake.server.faulted),
            "score": pool[0][2]["health"]["score"],
            "seconds": elapsed,
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    print(f"{args.requests} chats per run, one token; half sequential, half 50 concurrent")
    for fault in ("drop_idle", "refuse_reused"):
        before = run(fault, False, args.requests)
        after = run(fault, True, args.requests)
        for label, result in (("retry off", before), ("retry on", after)):
            print(
                f"{fault:14} {label:9}  failed {result['failed']:4}/{args.requests}  {result['statuses']}"
                f"  connection faults {result['faults']:4}  token score {result['score']:.3f}"
                f"  {result['seconds']:.1f}s"
            )
        ratio = before["seconds"] / after["seconds"] if after["seconds"] else float("nan")
        print(f"{fault:14} failures {before['failed']} -> {after['failed']}; wall time off/on {ratio:.2f}x")


if __name__ == "__main__":
    main()
