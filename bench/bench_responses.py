"""Responses API benchmark: streamed `/v1/responses` (stored, and with `store: false`) against streamed
`/v1/chat/completions`, same gateway, same fake upstream, same run.

    .venv/bin/python bench/bench_responses.py [--requests 200] [--concurrency 1,16]

Processes and load as in bench_chat.py (the `make run` stack with embedded moto, the emulator with zero
delay and 20 text deltas). What differs between the rows is the gateway's own work: the semantic events
(every delta event carries ids and a sequence number; created/in_progress/completed repeat the response
object) and, when stored, one compressed DynamoDB PutItem before the last event. Prints time to first
text byte and total time p50/p99 and streams/s per route, then ratios to chat completions.
This is a measurement script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import tempfile
import time

import httpx
from bench_chat import CLI, PROMPT, ROOT, free_port, pct, report, run_load, wait_http, wait_port
from cursor_gateway.emulator.tokens import fake_jwt

KEY = "bench-admin"


def streamed(client: httpx.AsyncClient, url: str, path: str, body: dict[str, object], marker: str):
    """One streamed request: (time to the first text delta, total time); checks all 20 deltas came."""

    async def one() -> tuple[float, float]:
        t0 = time.perf_counter()
        first = None
        deltas = 0
        async with client.stream(
            "POST", url + path, json=body, headers={"authorization": f"Bearer {KEY}"}
        ) as response:
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}: {await response.aread()!r}")
            async for line in response.aiter_lines():
                if marker in line:
                    deltas += 1
                    if first is None:
                        first = time.perf_counter() - t0
        if deltas < 20:
            raise RuntimeError(f"{path}: expected 20 text deltas, got {deltas}")
        return first or 0.0, time.perf_counter() - t0

    return one


async def main_async(args: argparse.Namespace) -> None:
    levels = [int(c) for c in args.concurrency.split(",")]
    fake_port, gw_port = free_port(), free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "layers/common/python"),
        "AUTH_TOKEN": KEY,
        "CURSOR_API_URL": f"http://127.0.0.1:{fake_port}",
        "PORT": str(gw_port),
        "DATA_DIR": tempfile.mkdtemp(prefix="cgw-bench-responses-"),
        "LOG_LEVEL": "WARNING",
        "CURSOR_HEARTBEAT_SECONDS": "30",
    }
    quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [subprocess.Popen([*CLI, "emulate", "--port", str(fake_port), "--delay", "0"], **quiet)]
    try:
        wait_port(fake_port)
        procs.append(
            subprocess.Popen([*CLI, "serve", "--port", str(gw_port), "--data-dir", env["DATA_DIR"]], **quiet)
        )
        base = f"http://127.0.0.1:{gw_port}"
        wait_http(base + "/health")
        httpx.post(
            base + "/tokens/add",
            json={"tokens": [{"token": fake_jwt(), "alias": "bench"}]},
            headers={"authorization": f"Bearer {KEY}"},
            timeout=10,
        ).raise_for_status()
        model = "claude-4.6-sonnet"
        limits = httpx.Limits(max_connections=max(levels) * 2, max_keepalive_connections=max(levels) * 2)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            routes = {
                "chat": streamed(
                    client,
                    base,
                    "/v1/chat/completions",
                    {"model": model, "stream": True, "messages": [{"role": "user", "content": PROMPT}]},
                    '"content":"',
                ),
                "responses": streamed(
                    client,
                    base,
                    "/v1/responses",
                    {"model": model, "stream": True, "input": PROMPT},
                    "output_text.delta",
                ),
                "resp-nostore": streamed(
                    client,
                    base,
                    "/v1/responses",
                    {"model": model, "stream": True, "input": PROMPT, "store": False},
                    "output_text.delta",
                ),
            }
            for one in routes.values():
                await run_load(one, 20, 4)  # warm up every path
            results: dict[tuple[str, int], dict[str, float]] = {}
            for level in levels:
                total = args.requests if level == 1 else max(args.requests, level * 10)
                print(f"concurrency {level}:")
                for name, one in routes.items():
                    ttfb, durations, elapsed = await run_load(one, total, level)
                    row = report(name, ttfb, durations, elapsed)
                    row["total_p99_ms"] = pct(durations, 99) * 1000
                    results[(name, level)] = row
        print("\nratios to chat completions (same run):")
        for level in levels:
            chat = results[("chat", level)]
            for name in ("responses", "resp-nostore"):
                row = results[(name, level)]
                print(
                    f"  c={level:<3} {name:<13} ttfb p50 x{row['ttfb_p50_ms'] / chat['ttfb_p50_ms']:.2f}  "
                    f"total p50 x{row['total_p50_ms'] / chat['total_p50_ms']:.2f}  "
                    f"total p99 x{row['total_p99_ms'] / chat['total_p99_ms']:.2f}  "
                    f"streams/s x{row['streams_per_s'] / chat['streams_per_s']:.2f}"
                )
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200, help="streams per route and concurrency level")
    parser.add_argument("--concurrency", default="1,16")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
