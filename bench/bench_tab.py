"""Copilot++ (Tab) benchmark: time to the first SSE event of `/cpp/stream` through the gateway vs straight
to the fake Cursor, same run.

    .venv/bin/python bench/bench_tab.py [--requests 200] [--concurrency 1,16]

Tab is typed-character latency, so the figure is what the gateway adds before the first event: HTTP
parsing, auth, token choice, JSON -> protobuf, the upstream call, SSE encoding. The fake upstream runs in
its own process with zero delay (`cursor-gateway emulate --delay 0`), the gateway in its own
(`cursor-gateway serve`, embedded moto). The baseline drives the same fake with the gateway's own Tab
client (`upstream.tab.TabUpstream` over the shared pyqwest transport). Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers/common/python"))

from bench_chat import CLI, free_port, proc_stats, report, run_load, wait_http, wait_port  # noqa: E402
from cursor_gateway.adapters.tab_io import request_bytes  # noqa: E402
from cursor_gateway.emulator.tokens import fake_jwt  # noqa: E402
from cursor_gateway.services.tab import decode_frame  # noqa: E402
from cursor_gateway.settings import Settings  # noqa: E402
from cursor_gateway.upstream.identity import MachineIds  # noqa: E402
from cursor_gateway.upstream.tab import TabCredential, TabUpstream, gcpp_host  # noqa: E402

# A typical keystroke's request: a small file, the cursor mid-line, a diff history (the CU/DP minimal set).
BODY = {
    "current_file": {
        "relative_workspace_path": "src/app.py",
        "contents": "import os\n\ndef main\n    path = os.getcwd()\n    # TODO\n" + "x = 1\n" * 60,
        "language_id": "python",
        "cursor_position": {"line": 2, "column": 8},
        "total_number_of_lines": 65,
        "workspace_root_path": "/work/demo",
        "line_ending": "\n",
    },
    "model_name": "fast",
    "file_diff_histories": [{"file_name": "src/app.py", "diff_history": ["3+| def main\n"]}],
    "cpp_intent_info": {"source": "typing"},
    "lsp_suggested_items": {},
}
HEADERS = {"x-client-key": "ab" * 32, "cookie": "FilesyncCookie=" + "cd" * 16}


def gateway_call(client: httpx.AsyncClient, url: str, key: str):
    headers = {**HEADERS, "authorization": f"Bearer {key}"}

    async def one() -> tuple[float, float]:
        t0 = time.perf_counter()
        first = None
        events = 0
        async with client.stream("POST", url + "/cpp/stream", json=BODY, headers=headers) as response:
            if response.status_code != 200:
                raise RuntimeError(f"gateway answered {response.status_code}: {await response.aread()!r}")
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    events += 1
                    if first is None:
                        first = time.perf_counter() - t0
        if events < 10:
            raise RuntimeError(f"expected a whole completion, got {events} events")
        return first or 0.0, time.perf_counter() - t0

    return one


def direct_call(upstream: TabUpstream):
    payload = request_bytes("stream", json.dumps(BODY).encode())
    credential = TabCredential(
        bearer=fake_jwt(),
        machine=MachineIds(machine_id="a" * 64, mac_machine_id="b" * 64, client_key="c" * 64),
        gcpp_host=gcpp_host("", "Asia"),
        fs_client_key=HEADERS["x-client-key"],
        cookie=HEADERS["cookie"],
    )

    async def one() -> tuple[float, float]:
        t0 = time.perf_counter()
        first = None
        async with upstream.stream_call(payload, credential) as call:
            async for frame in call.frames():
                events, finished = decode_frame(frame)
                if events and first is None:
                    first = time.perf_counter() - t0
                if finished:
                    break
        return first or 0.0, time.perf_counter() - t0

    return one


async def main_async(args: argparse.Namespace) -> None:
    levels = [int(c) for c in args.concurrency.split(",")]
    fake_port, gw_port = free_port(), free_port()
    data_dir = tempfile.mkdtemp(prefix="cgw-bench-tab-")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "layers/common/python"),
        "AUTH_TOKEN": "bench-admin",
        "CURSOR_API_URL": f"http://127.0.0.1:{fake_port}",
        "PORT": str(gw_port),
        "DATA_DIR": data_dir,
        "LOG_LEVEL": "WARNING",
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

        upstream = TabUpstream(Settings(cursor_api_url=f"http://127.0.0.1:{fake_port}"))
        limits = httpx.Limits(max_connections=max(levels) * 2, max_keepalive_connections=max(levels) * 2)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            via_gateway = gateway_call(client, base, "bench-admin")
            direct = direct_call(upstream)
            await run_load(via_gateway, 20, 4)  # warm up both paths
            await run_load(direct, 20, 4)
            results: dict[tuple[str, int], dict[str, float]] = {}
            for level in levels:
                total = args.requests if level == 1 else max(args.requests, level * 10)
                print(f"concurrency {level} (ttfb = time to the first completion event):")
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
        print("\nratios (gateway / direct) and added time to the first event:")
        for level in levels:
            g, d = results[("gateway", level)], results[("direct", level)]
            print(
                f"  c={level:<3} first event p50 +{g['ttfb_p50_ms'] - d['ttfb_p50_ms']:.2f} ms "
                f"(x{g['ttfb_p50_ms'] / d['ttfb_p50_ms']:.2f}), "
                f"p99 +{g['ttfb_p99_ms'] - d['ttfb_p99_ms']:.2f} ms, "
                f"streams/s x{g['streams_per_s'] / d['streams_per_s']:.2f}"
            )
        print("target: added first-event p50 <= 2 ms at c=1")
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
    parser.add_argument("--requests", type=int, default=200, help="completions per concurrency level")
    parser.add_argument("--concurrency", default="1,16")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
