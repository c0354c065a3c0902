"""Chat streaming benchmark: through the gateway vs straight to the fake Cursor upstream, same run.

    make bench            # or: .venv/bin/python bench/bench_chat.py [--requests 200] [--concurrency 1,32]

The fake upstream runs in its own process with zero delay and 20 text deltas per answer. The gateway
runs in its own process (`cursor-gateway serve`, the `make run` stack with embedded moto). The baseline
drives the same fake directly with the gateway's own upstream client (AgentProfile over pyqwest), so
the difference is what the gateway adds: HTTP parsing, auth, token selection, SSE encoding.
Prints time to first byte p50/p99, total time, streams/s, and the gateway's RSS and CPU; then ratios.
This is a measurement script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers/common/python"))

from cursor_gateway.domain.chat import ChatRequest, Message, ModelChoice, TextDelta  # noqa: E402
from cursor_gateway.emulator.tokens import fake_jwt  # noqa: E402
from cursor_gateway.settings import Settings  # noqa: E402
from cursor_gateway.upstream.agent import AgentProfile  # noqa: E402
from cursor_gateway.upstream.profile import UpstreamCredential  # noqa: E402

CLI = [sys.executable, "-m", "cursor_gateway.cli"]
# Long enough that the fake splits its echo into its default 20 text deltas.
PROMPT = "measure the gateway, not the model " * 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


def proc_stats(pid: int) -> tuple[float, float]:
    """(RSS MiB, CPU seconds user+system) from /proc."""
    rss_kib = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kib = int(line.split()[1])
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return rss_kib / 1024, (int(fields[11]) + int(fields[12])) / ticks


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def run_load(one, total: int, concurrency: int) -> tuple[list[float], list[float], float]:
    ttfb: list[float] = []
    durations: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)

    async def worker() -> None:
        while True:
            try:
                queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            first, whole = await one()
            ttfb.append(first)
            durations.append(whole)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ttfb, durations, time.perf_counter() - started


def gateway_call(client: httpx.AsyncClient, url: str, key: str):
    body = {
        "model": "claude-4.6-sonnet",
        "stream": True,
        "messages": [{"role": "user", "content": PROMPT}],
    }

    async def one() -> tuple[float, float]:
        t0 = time.perf_counter()
        first = None
        chunks = 0
        async with client.stream(
            "POST", url + "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {key}"}
        ) as response:
            if response.status_code != 200:
                raise RuntimeError(f"gateway answered {response.status_code}: {await response.aread()!r}")
            async for line in response.aiter_lines():
                if line.startswith("data: {") and '"content":"' in line and '"content":""' not in line:
                    chunks += 1
                    if first is None:
                        first = time.perf_counter() - t0
        if chunks < 20:
            raise RuntimeError(f"expected 20 content chunks, got {chunks}")
        return first or 0.0, time.perf_counter() - t0

    return one


def direct_call(profile: AgentProfile):
    request = ChatRequest(
        model=ModelChoice("claude-4.6-sonnet", "claude-4.6-sonnet"),
        messages=(Message("user", PROMPT),),
        conversation_id="bench",
        stream=True,
    )
    credential = UpstreamCredential(bearer=fake_jwt())

    async def one() -> tuple[float, float]:
        t0 = time.perf_counter()
        first = None
        async for event in profile.stream(request, credential):
            if first is None and isinstance(event, TextDelta):
                first = time.perf_counter() - t0
        return first or 0.0, time.perf_counter() - t0

    return one


def report(label: str, ttfb: list[float], durations: list[float], elapsed: float) -> dict[str, float]:
    row = {
        "ttfb_p50_ms": statistics.median(ttfb) * 1000,
        "ttfb_p99_ms": pct(ttfb, 99) * 1000,
        "total_p50_ms": statistics.median(durations) * 1000,
        "streams_per_s": len(durations) / elapsed,
    }
    print(
        f"  {label:<10} ttfb p50 {row['ttfb_p50_ms']:7.2f} ms  p99 {row['ttfb_p99_ms']:7.2f} ms  "
        f"total p50 {row['total_p50_ms']:7.2f} ms  {row['streams_per_s']:7.1f} streams/s  "
        f"({len(durations)} streams)"
    )
    return row


async def main_async(args: argparse.Namespace) -> None:
    levels = [int(c) for c in args.concurrency.split(",")]
    fake_port, gw_port = free_port(), free_port()
    data_dir = tempfile.mkdtemp(prefix="cgw-bench-")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "layers/common/python"),
        "AUTH_TOKEN": "bench-admin",
        "CURSOR_API_URL": f"http://127.0.0.1:{fake_port}",
        "PORT": str(gw_port),
        "DATA_DIR": data_dir,
        "LOG_LEVEL": "WARNING",
        "CURSOR_HEARTBEAT_SECONDS": "30",
    }
    procs = [
        subprocess.Popen(
            [*CLI, "emulate", "--port", str(fake_port), "--delay", "0"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        wait_port(fake_port)
        gateway = subprocess.Popen(
            [*CLI, "serve", "--port", str(gw_port), "--data-dir", data_dir],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(gateway)
        base = f"http://127.0.0.1:{gw_port}"
        wait_http(base + "/health")
        added = httpx.post(
            base + "/tokens/add",
            json={"tokens": [{"token": fake_jwt(), "alias": "bench"}]},
            headers={"authorization": "Bearer bench-admin"},
            timeout=10,
        )
        added.raise_for_status()

        profile = AgentProfile(
            Settings(cursor_api_url=f"http://127.0.0.1:{fake_port}", cursor_heartbeat_seconds=30)
        )
        limits = httpx.Limits(max_connections=max(levels) * 2, max_keepalive_connections=max(levels) * 2)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            via_gateway = gateway_call(client, base, "bench-admin")
            direct = direct_call(profile)
            await run_load(via_gateway, 20, 4)  # warm up both paths
            await run_load(direct, 20, 4)
            results: dict[tuple[str, int], dict[str, float]] = {}
            for level in levels:
                total = args.requests if level == 1 else max(args.requests, level * 10)
                print(f"concurrency {level}:")
                results[("direct", level)] = report("direct", *await run_load(direct, total, level))
                _rss0, cpu0 = proc_stats(gateway.pid)
                t0 = time.perf_counter()
                results[("gateway", level)] = report("gateway", *await run_load(via_gateway, total, level))
                rss1, cpu1 = proc_stats(gateway.pid)
                wall = time.perf_counter() - t0
                print(
                    f"  gateway process: RSS {rss1:.1f} MiB, CPU {cpu1 - cpu0:.2f} s over {wall:.2f} s "
                    f"({(cpu1 - cpu0) / wall * 100:.0f}% of one core)"
                )
        print("\nratios (gateway / direct) and added time to first byte:")
        for level in levels:
            g, d = results[("gateway", level)], results[("direct", level)]
            print(
                f"  c={level:<3} ttfb p50 +{g['ttfb_p50_ms'] - d['ttfb_p50_ms']:.2f} ms "
                f"(x{g['ttfb_p50_ms'] / d['ttfb_p50_ms']:.2f}), "
                f"p99 +{g['ttfb_p99_ms'] - d['ttfb_p99_ms']:.2f} ms, "
                f"streams/s x{g['streams_per_s'] / d['streams_per_s']:.2f}"
            )
        print("targets: added ttfb <= 2 ms p50 at c=1, <= 25 ms p99 at c=32; >= 150 twenty-chunk streams/s")
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
    parser.add_argument("--requests", type=int, default=200, help="streams per concurrency level")
    parser.add_argument("--concurrency", default="1,32")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
