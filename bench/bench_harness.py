"""What the load benchmarks share: the local stack they measure (the fake Cursor and `cursor-gateway serve`,
each in its own process), the load driver, percentiles, process figures, and the rows they print.

Used by bench_chat.py, bench_tab.py, bench_responses.py and bench_soak.py. A measurement helper, not a
test: nothing here asserts a time. (Named bench_harness, not harness: tests/harness.py is on the path of
the benchmarks that import the test stack.)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers/common/python"))

from cursor_gateway.emulator.tokens import fake_jwt  # noqa: E402

CLI = [sys.executable, "-m", "cursor_gateway.cli"]
# Long enough that the fake splits its echo into its default 20 text deltas.
PROMPT = "measure the gateway, not the model " * 2

# One request of a load: (time to the first byte or event that counts, total time), in seconds.
One = Callable[[], Awaitable[tuple[float, float]]]
# Printed rows by (path name, concurrency level).
Results = dict[tuple[str, int], dict[str, float]]


def load_arguments(doc: str | None, *, requests_help: str, concurrency: str) -> argparse.Namespace:
    """The load benchmarks' command line: `--requests` per level, `--concurrency` levels (a comma list,
    parsed to a list of ints)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help=requests_help)
    parser.add_argument(
        "--concurrency", type=lambda text: [int(c) for c in text.split(",")], default=concurrency
    )
    return parser.parse_args()


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


def stop(procs: list[subprocess.Popen[Any]]) -> None:
    """SIGINT all (they shut down in parallel), then wait for each; one that hangs is killed."""
    for proc in procs:
        proc.send_signal(signal.SIGINT)
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass
class Stack:
    """The running stack: the gateway at `url` (admin key `key`), the fake Cursor at `fake_url`."""

    url: str
    fake_url: str
    key: str
    data_dir: Path
    gateway: subprocess.Popen[Any]
    fake: subprocess.Popen[Any]

    def client(self, concurrency: int) -> httpx.AsyncClient:
        """A client with a connection for every concurrent request (and as many spare)."""
        limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
        return httpx.AsyncClient(timeout=60, limits=limits)


@contextlib.contextmanager
def local_stack(
    prefix: str,
    *,
    key: str = "bench-admin",
    env: Mapping[str, str] | None = None,
    emulate: tuple[str, ...] = ("--delay", "0"),
    tokens: Mapping[str, str] | None = None,
    gateway_log: str = "",
    health_timeout: float = 30.0,
) -> Iterator[Stack]:
    """The fake Cursor (`cursor-gateway emulate`, zero delay unless `emulate` says otherwise) and the
    `make run` stack (`cursor-gateway serve`, embedded moto) in their own processes, with `tokens`
    (alias -> token; one fake token by default) added; both stopped on the way out. `gateway_log`: a file
    name in the stack's data directory for the gateway's output (else it is dropped)."""
    fake_port, gw_port = free_port(), free_port()
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    full_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "layers/common/python"),
        "AUTH_TOKEN": key,
        "CURSOR_API_URL": f"http://127.0.0.1:{fake_port}",
        "PORT": str(gw_port),
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    quiet = subprocess.DEVNULL
    fake = subprocess.Popen(
        [*CLI, "emulate", "--port", str(fake_port), *emulate], env=full_env, stdout=quiet, stderr=quiet
    )
    procs: list[subprocess.Popen[Any]] = [fake]
    try:
        wait_port(fake_port)
        log_path = data_dir / gateway_log if gateway_log else None
        with log_path.open("w") if log_path else contextlib.nullcontext(quiet) as out:
            gateway = subprocess.Popen(
                [*CLI, "serve", "--port", str(gw_port), "--data-dir", str(data_dir)],
                env=full_env,
                stdout=out,
                stderr=out,
            )
        procs.append(gateway)
        url = f"http://127.0.0.1:{gw_port}"
        wait_http(url + "/health", timeout=health_timeout)
        given = tokens if tokens is not None else {"bench": fake_jwt()}
        httpx.post(
            url + "/tokens/add",
            json={"tokens": [{"token": token, "alias": alias} for alias, token in given.items()]},
            headers={"authorization": f"Bearer {key}"},
            timeout=30,
        ).raise_for_status()
        yield Stack(url, f"http://127.0.0.1:{fake_port}", key, data_dir, gateway, fake)
    finally:
        stop(procs)


def streamed_post(
    client: httpx.AsyncClient,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str],
    *,
    counts: Callable[[str], bool],
    expected: int,
    what: str,
) -> One:
    """One streamed POST as a load request: (time to the first line that `counts`, total time); it fails
    unless a 200 with at least `expected` such lines (`what` names them in the error)."""

    async def one() -> tuple[float, float]:
        t0 = time.perf_counter()
        first = None
        seen = 0
        async with client.stream("POST", url, json=body, headers=headers) as response:
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}: {await response.aread()!r}")
            async for line in response.aiter_lines():
                if counts(line):
                    seen += 1
                    if first is None:
                        first = time.perf_counter() - t0
        if seen < expected:
            raise RuntimeError(f"{url}: expected {expected} {what}, got {seen}")
        return first or 0.0, time.perf_counter() - t0

    return one


async def run_load(one: One, total: int, concurrency: int) -> tuple[list[float], list[float], float]:
    """`total` requests by `concurrency` workers: (first-byte times, total times, wall seconds)."""
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


def report(label: str, ttfb: list[float], durations: list[float], elapsed: float) -> dict[str, float]:
    row = {
        "ttfb_p50_ms": statistics.median(ttfb) * 1000,
        "ttfb_p99_ms": pct(ttfb, 99) * 1000,
        "total_p50_ms": statistics.median(durations) * 1000,
        "total_p99_ms": pct(durations, 99) * 1000,
        "streams_per_s": len(durations) / elapsed,
    }
    print(
        f"  {label:<10} ttfb p50 {row['ttfb_p50_ms']:7.2f} ms  p99 {row['ttfb_p99_ms']:7.2f} ms  "
        f"total p50 {row['total_p50_ms']:7.2f} ms  {row['streams_per_s']:7.1f} streams/s  "
        f"({len(durations)} streams)"
    )
    return row


async def measure(
    paths: Mapping[str, One],
    levels: list[int],
    requests: int,
    *,
    heading: str = "",
    process: tuple[str, int] | None = None,
) -> Results:
    """Every path at every concurrency level, one after the other in the same run (after a warm-up of
    each), a printed row each. `process` (path name, pid): that path's rows are followed by the pid's
    RSS and CPU over the path's load."""
    for one in paths.values():
        await run_load(one, 20, 4)  # warm up every path
    results: Results = {}
    for level in levels:
        total = requests if level == 1 else max(requests, level * 10)
        print(f"concurrency {level}{heading}:")
        for name, one in paths.items():
            pid = process[1] if process is not None and process[0] == name else None
            cpu0 = proc_stats(pid)[1] if pid is not None else 0.0
            t0 = time.perf_counter()
            results[(name, level)] = report(name, *await run_load(one, total, level))
            if pid is not None:
                rss1, cpu1 = proc_stats(pid)
                wall = time.perf_counter() - t0
                print(
                    f"  {name} process: RSS {rss1:.1f} MiB, CPU {cpu1 - cpu0:.2f} s over {wall:.2f} s "
                    f"({(cpu1 - cpu0) / wall * 100:.0f}% of one core)"
                )
    return results


def print_added(results: Results, levels: list[int], *, what: str, label: str) -> None:
    """The gateway's rows against the direct ones: the time added to `what` (`label` in the rows) and
    the ratios."""
    print(f"\nratios (gateway / direct) and added time to {what}:")
    for level in levels:
        g, d = results[("gateway", level)], results[("direct", level)]
        print(
            f"  c={level:<3} {label} p50 +{g['ttfb_p50_ms'] - d['ttfb_p50_ms']:.2f} ms "
            f"(x{g['ttfb_p50_ms'] / d['ttfb_p50_ms']:.2f}), "
            f"p99 +{g['ttfb_p99_ms'] - d['ttfb_p99_ms']:.2f} ms, "
            f"streams/s x{g['streams_per_s'] / d['streams_per_s']:.2f}"
        )
