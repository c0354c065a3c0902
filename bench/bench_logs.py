"""Request-log and usage-statistics benchmark, same run: logging on versus off, then reads at volume.

    .venv/bin/python bench/bench_logs.py [--requests 200] [--rows 100000] [--rounds 3]

Part A: two gateways (`cursor-gateway serve`, the `make run` stack with embedded moto), one recording
(REQUEST_RECORDING=true: a log entry, its S3 body and the counter transaction per request) and one not
(REQUEST_RECORDING=false), both on one fake Cursor (zero delay, 20 text deltas per answer). Rounds
alternate between them so machine noise hits both alike. Prints streams/s at concurrency 32 and time to
first byte p50 at concurrency 1, and the ratios (targets: streams/s on >= 90% of off; added p50 <= 0.3 ms).

Part B: a DATA_DIR is filled with `--rows` logged requests over 7 days (bench/log_filler.py: written
straight into its state.sqlite3, entries and the counter items the recorder would have made for them),
a third recording gateway is started on it (serve loads the saved state into its moto), then
GET /api/stats/token/summary?hours=168 and the first page of POST /logs/get are timed there and on the
empty recording gateway (targets: summary p50 <= 100 ms, first page p50 <= 200 ms).

`--code DIR` runs the gateways from another checkout's package directory (before/after comparisons in
the same conditions). This is a measurement script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers/common/python"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_chat import free_port, gateway_call, report, run_load, wait_http, wait_port  # noqa: E402
from cursor_gateway.domain.chat import ChatRequest, Message, ModelChoice, TextDelta  # noqa: E402
from cursor_gateway.domain.tokens import TokenRecord  # noqa: E402
from cursor_gateway.emulator.tokens import fake_jwt  # noqa: E402
from cursor_gateway.services.request_log import RecordedCaller, RequestRecorder  # noqa: E402
from cursor_gateway.settings import Settings  # noqa: E402
from cursor_gateway.storage.request_logs_memory import InMemoryRequestLogStore  # noqa: E402
from cursor_gateway.upstream.identity import ClientIdentity  # noqa: E402
from log_filler import fill  # noqa: E402

CLI = [sys.executable, "-m", "cursor_gateway.cli"]
ADMIN = "bench-admin"


class Gateway:
    def __init__(self, name: str, fake_port: int, recording: bool, code: Path, data_dir: str = "") -> None:
        self.name = name
        self.port, self.moto_port = free_port(), free_port()
        self.temporary = not data_dir  # removed by stop()
        self.data_dir = data_dir or tempfile.mkdtemp(prefix=f"cgw-bench-logs-{name}-")
        env = {
            **os.environ,
            "PYTHONPATH": str(code),
            "AUTH_TOKEN": ADMIN,
            "CURSOR_API_URL": f"http://127.0.0.1:{fake_port}",
            "LOG_LEVEL": "WARNING",
            "CURSOR_HEARTBEAT_SECONDS": "30",
            "REQUEST_RECORDING": "true" if recording else "false",
        }
        self.process = subprocess.Popen(
            [
                *CLI,
                "serve",
                "--port",
                str(self.port),
                "--moto-port",
                str(self.moto_port),
                "--data-dir",
                self.data_dir,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        wait_http(self.url + "/health", timeout=600)
        answer = httpx.post(
            self.url + "/tokens/add",
            json={"tokens": [{"token": fake_jwt(), "alias": "bench"}]},
            headers={"authorization": f"Bearer {ADMIN}"},
            timeout=10,
        )
        answer.raise_for_status()

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by the gateway process and by its live child processes (moto)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        kids = [int(p) for p in children.read_text().split()] if children.exists() else []
        return {"gateway": cpu_seconds(self.process.pid), "moto child": sum(map(cpu_seconds, kids))}

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        if self.temporary:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def part_zero(calls: int = 20_000) -> None:
    """What recording adds on the request path before the first byte, in process: begin, prompt, the
    attempt and the first event (the writes themselves run in the recorder's threads)."""
    request = ChatRequest(
        model=ModelChoice("claude-4.6-sonnet", "claude-4.6-sonnet"),
        messages=(Message("user", "measure the recorder"),),
        conversation_id="bench",
    )
    record = TokenRecord(alias="bench", kind="session", primary_token=fake_jwt(), email="b@example.com")
    identity = ClientIdentity.from_settings(Settings())
    caller = RecordedCaller("admin", "admin")
    per_call = {}
    for name, recording in (("off", False), ("on", True)):
        recorder = RequestRecorder(InMemoryRequestLogStore(), Settings(request_recording=recording))
        traces = []
        started = time.perf_counter()
        for _ in range(calls):
            trace = recorder.begin(endpoint="chat.completions", model="m", stream=True, caller=caller)
            trace.prompt(request)
            trace.attempt(record, "agent", identity)
            trace.event(TextDelta("first"))
            traces.append(trace)
        per_call[name] = (time.perf_counter() - started) / calls * 1e6
        for trace in traces:
            trace.succeed()
    print("recorder, in process, before the first byte (begin + prompt + attempt + first event):")
    print(
        f"  on {per_call['on']:.1f} us, off {per_call['off']:.1f} us per request "
        f"-> added {per_call['on'] - per_call['off']:.1f} us (target: added ttfb <= 300 us)"
    )


async def part_a(args: argparse.Namespace, on: Gateway, off: Gateway) -> None:
    limits = httpx.Limits(max_connections=80, max_keepalive_connections=80)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        calls = {g.name: gateway_call(client, g.url, ADMIN) for g in (on, off)}
        for call in calls.values():
            await run_load(call, 20, 4)  # warm up
        rows: dict[tuple[str, int], list[dict[str, float]]] = defaultdict(list)
        cpu: dict[tuple[str, str], float] = defaultdict(float)
        served: dict[str, int] = defaultdict(int)
        gateways = {"on": on, "off": off}
        for round_ in range(args.rounds):
            order = ["on", "off"] if round_ % 2 == 0 else ["off", "on"]
            for level, total in ((32, max(args.requests, 320)), (1, args.requests)):
                print(f"round {round_ + 1}, concurrency {level}:")
                for name in order:
                    before = gateways[name].cpu()
                    rows[(name, level)].append(
                        report(f"log {name}", *await run_load(calls[name], total, level))
                    )
                    await settled(client, gateways[name])  # the log writes finish after the last byte
                    for process, seconds in gateways[name].cpu().items():
                        cpu[(name, process)] += seconds - before[process]
                    served[name] += total

    def median(name: str, level: int, field: str) -> float:
        return statistics.median(r[field] for r in rows[(name, level)])

    on32, off32 = median("on", 32, "streams_per_s"), median("off", 32, "streams_per_s")
    on1, off1 = median("on", 1, "ttfb_p50_ms"), median("off", 1, "ttfb_p50_ms")
    print("\nlogging on vs off (medians over rounds):")
    print(f"  c=32 streams/s: on {on32:.1f}, off {off32:.1f}  -> on/off {on32 / off32:.1%} (target >= 90%)")
    print(
        f"  c=1 ttfb p50: on {on1:.2f} ms, off {off1:.2f} ms -> added {on1 - off1:+.2f} ms (target <= 0.3 ms)"
    )
    print("CPU per request (ms; all levels and rounds, until each load's log writes were done):")
    for process in ("gateway", "moto child"):
        on_ms, off_ms = (cpu[(name, process)] / served[name] * 1000 for name in ("on", "off"))
        print(f"  {process:<10}  on {on_ms:6.2f}  off {off_ms:6.2f}  -> added {on_ms - off_ms:+.2f}")


async def settled(client: httpx.AsyncClient, gateway: Gateway, timeout: float = 60) -> None:
    """Until the gateway's request-log writes are all done (its /health backlog is 0), and 0.2 s more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = await client.get(gateway.url + "/health", headers={"authorization": f"Bearer {ADMIN}"})
        if not health.json().get("storage", {}).get("log_write_backlog"):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.2)


def timed(method: str, url: str, body: Any = None, reps: int = 20) -> list[float]:
    headers = {"authorization": f"Bearer {ADMIN}"}
    out = []
    with httpx.Client(timeout=60, headers=headers) as client:
        for _ in range(reps):
            t0 = time.perf_counter()
            answer = client.request(method, url, json=body)
            answer.raise_for_status()
            out.append((time.perf_counter() - t0) * 1000)
    return out


def part_b(args: argparse.Namespace, fake_port: int, empty: Gateway) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="cgw-bench-logs-filled-"))
    kept = args.filled / f"rows-{args.rows}" if args.filled else None
    if kept is not None and (kept / "state.sqlite3").exists():
        print(f"\nfilled state: a copy of {kept} (made by an earlier run)")
    else:
        seconds = fill(kept or data_dir, args.rows)
        print(f"\nfilled {kept or data_dir}: {args.rows} logged requests over 7 days in {seconds:.1f} s")
    if kept is not None:
        shutil.copy(kept / "state.sqlite3", data_dir / "state.sqlite3")
    started = time.perf_counter()
    filled = Gateway("filled", fake_port, True, args.code, str(data_dir))
    try:
        filled.start()
        print(f"  serve restored them and answered /health in {time.perf_counter() - started:.1f} s")
        paths = {
            "summary 7d": ("GET", "/api/stats/token/summary?hours=168", None),
            "logs first page": ("POST", "/logs/get", {"query": {"reverse": True, "limit": 50}}),
        }
        page = httpx.post(
            filled.url + "/logs/get",
            json=paths["logs first page"][2],
            headers={"authorization": f"Bearer {ADMIN}"},
            timeout=120,
        ).json()
        print(
            f"  first page: {len(page['logs'])} entries, total {page['total']}, "
            f"capped: {page['total_is_capped']}"
        )
        targets = {"summary 7d": 100.0, "logs first page": 200.0}
        for name, (method, path, body) in paths.items():
            base = statistics.median(timed(method, empty.url + path, body, args.reps))
            values = timed(method, filled.url + path, body, args.reps)
            p50 = statistics.median(values)
            print(
                f"  {name:<16} p50 {p50:7.1f} ms  p90 {sorted(values)[int(len(values) * 0.9) - 1]:7.1f} ms  "
                f"(empty store {base:.1f} ms; target <= {targets[name]:.0f} ms)"
            )
    finally:
        filled.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


async def main_async(args: argparse.Namespace) -> None:
    fake_port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers/common/python")}
    fake = subprocess.Popen(
        [*CLI, "emulate", "--port", str(fake_port), "--delay", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    gateways = []
    try:
        wait_port(fake_port)
        on, off = Gateway("on", fake_port, True, args.code), Gateway("off", fake_port, False, args.code)
        print(f"stack: cursor-gateway serve (make run), code from {args.code}")
        gateways = [on, off]
        on.start()
        off.start()
        if not args.skip_zero:
            part_zero()
        if not args.skip_load:
            await part_a(args, on, off)
        if args.rows:
            part_b(args, fake_port, on)
    finally:
        for gateway in gateways:
            gateway.stop()
        fake.send_signal(signal.SIGINT)
        fake.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200, help="streams per concurrency level and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=100_000, help="logged requests for part B (0 skips it)")
    parser.add_argument("--skip-load", action="store_true", help="only part B")
    parser.add_argument("--reps", type=int, default=20, help="timed calls per route in part B")
    parser.add_argument(
        "--code",
        type=Path,
        default=ROOT / "layers/common/python",
        help="package directory the gateways run (another checkout's, to compare before/after)",
    )
    parser.add_argument(
        "--filled", type=Path, help="keep the filled state under this directory and reuse it in later runs"
    )
    parser.add_argument("--skip-zero", action="store_true", help="skip the in-process recorder figure")
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
