"""Request-log and usage-statistics benchmark, same run: logging on versus off, then reads at volume.

    .venv/bin/python bench/bench_logs.py [--requests 200] [--rows 100000] [--rounds 3]

Part A: two gateways (`cursor-gateway serve`, the `make run` stack with embedded moto), one recording
(REQUEST_RECORDING=true: a log entry, its S3 body and the counter transaction per request) and one not
(REQUEST_RECORDING=false), both on one fake Cursor (zero delay, 20 text deltas per answer). Rounds
alternate between them so machine noise hits both alike. Prints streams/s at concurrency 32 and time to
first byte p50 at concurrency 1, and the ratios (targets: streams/s on >= 90% of off; added p50 <= 0.3 ms).

Part B: the recording gateway's tables are filled with `--rows` logged requests over 7 days (written
straight into its moto: entries, one counter item per scope and hour/day as the recorder would have
made them), then GET /api/stats/token/summary?hours=168 and the first page of POST /logs/get are timed
against the same routes on the empty store measured first (targets: summary p50 <= 100 ms, first page
p50 <= 200 ms). This is a measurement script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import boto3
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers/common/python"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_chat import free_port, gateway_call, report, run_load, wait_http, wait_port  # noqa: E402
from cursor_gateway.domain.chat import ChatRequest, Message, ModelChoice, TextDelta  # noqa: E402
from cursor_gateway.domain.request_logs import day_of, new_log_id  # noqa: E402
from cursor_gateway.domain.tokens import TokenRecord  # noqa: E402
from cursor_gateway.domain.usage_stats import Completed, counter_updates  # noqa: E402
from cursor_gateway.emulator.tokens import fake_jwt  # noqa: E402
from cursor_gateway.services.request_log import RecordedCaller, RequestRecorder  # noqa: E402
from cursor_gateway.settings import Settings  # noqa: E402
from cursor_gateway.storage.request_logs import (  # noqa: E402
    DynamoRequestLogStore,
    base_partition,
    shard_of,
    sort_key,
)
from cursor_gateway.storage.request_logs_memory import InMemoryRequestLogStore  # noqa: E402
from cursor_gateway.upstream.identity import ClientIdentity  # noqa: E402

CLI = [sys.executable, "-m", "cursor_gateway.cli"]
ADMIN = "bench-admin"
MODELS = ["gpt-5.2", "claude-4.6-sonnet", "claude-4.6-sonnet-thinking", "gpt-5-mini", "o3"]
ACCOUNTS = [f"acct{i}" for i in range(8)]
KEYS = [("admin", "admin")] + [(f"cgk-{i:016x}", f"team-{i}") for i in range(6)]


def serve_plain(port: int, moto_port: int) -> None:
    """The gateway over an embedded moto WITHOUT the local stack's persistence (`--plain`): isolates what
    recording costs from what saving moto's state to DATA_DIR costs."""
    import uvicorn
    from cursor_gateway.api.app import create_app
    from cursor_gateway.local.moto_server import EmbeddedMoto
    from cursor_gateway.local.template import load_template, local_resources
    from cursor_gateway.storage import aws

    endpoint = EmbeddedMoto("127.0.0.1", moto_port).start()
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
    )
    aws.reset_clients()
    tables, buckets = local_resources(load_template(ROOT / "template.yaml"), region="us-east-1")
    for table in tables:
        aws.client("dynamodb").create_table(TableName=table.name, **table.create_args)
    for bucket in buckets:
        aws.client("s3").create_bucket(Bucket=bucket.name)
    uvicorn.run(
        create_app(settings=Settings.from_env()),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
    )


class Gateway:
    def __init__(self, name: str, fake_port: int, recording: bool, plain: bool = False) -> None:
        self.name = name
        self.port, self.moto_port = free_port(), free_port()
        self.data_dir = tempfile.mkdtemp(prefix=f"cgw-bench-logs-{name}-")
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "layers/common/python"),
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
        wait_http(self.url + "/health", timeout=60)
        answer = httpx.post(
            self.url + "/tokens/add",
            json={"tokens": [{"token": fake_jwt(), "alias": "bench"}]},
            headers={"authorization": f"Bearer {ADMIN}"},
            timeout=10,
        )
        answer.raise_for_status()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


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
        for round_ in range(args.rounds):
            order = ["on", "off"] if round_ % 2 == 0 else ["off", "on"]
            for level, total in ((32, max(args.requests, 320)), (1, args.requests)):
                print(f"round {round_ + 1}, concurrency {level}:")
                for name in order:
                    rows[(name, level)].append(
                        report(f"log {name}", *await run_load(calls[name], total, level))
                    )

    def median(name: str, level: int, field: str) -> float:
        return statistics.median(r[field] for r in rows[(name, level)])

    on32, off32 = median("on", 32, "streams_per_s"), median("off", 32, "streams_per_s")
    on1, off1 = median("on", 1, "ttfb_p50_ms"), median("off", 1, "ttfb_p50_ms")
    print("\nlogging on vs off (medians over rounds):")
    print(f"  c=32 streams/s: on {on32:.1f}, off {off32:.1f}  -> on/off {on32 / off32:.1%} (target >= 90%)")
    print(
        f"  c=1 ttfb p50: on {on1:.2f} ms, off {off1:.2f} ms -> added {on1 - off1:+.2f} ms (target <= 0.3 ms)"
    )


def seed(gateway: Gateway, rows: int) -> float:
    """`rows` entries over the last 7 days, and the counters the recorder would have added for them."""
    settings = Settings()
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    endpoint = f"http://127.0.0.1:{gateway.moto_port}"
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    store = DynamoRequestLogStore(
        settings.request_logs_table, settings.usage_stats_table, settings.log_bodies_bucket, dynamodb=dynamodb
    )
    rng = random.Random(7)
    now_ms = int(time.time() * 1000)
    counters: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    labels: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    for _ in range(rows):
        ts = now_ms - rng.randrange(7 * 86_400_000)
        log_id = new_log_id(ts, rng.randbytes(10))
        model, account, (key_id, key_name) = rng.choice(MODELS), rng.choice(ACCOUNTS), rng.choice(KEYS)
        ok = rng.random() > 0.05
        usage = {
            "input": rng.randrange(50, 5000),
            "output": rng.randrange(1, 800),
            "cache_read": 0,
            "cache_write": 0,
        }
        usage["total"] = usage["input"] + usage["output"]
        doc = {
            "id": log_id,
            "ts_ms": ts,
            "endpoint": rng.choice(["chat.completions", "messages"]),
            "model": model,
            "upstream_model": model,
            "stream": True,
            "status": "success" if ok else "failure",
            "http_status": 200 if ok else 429,
            "error": None if ok else {"error": "rate_limit_exceeded", "details": "slow down"},
            "timing": {"total": 1.2, "first": 0.3, "chunks": 20},
            "attempts": 1,
            "protocol": "agent",
            "account": {
                "alias": account,
                "key": "eyJhbG...abcd",
                "user_id": "",
                "email": f"{account}@example.com",
                "stripe": None,
            },
            "api_key": {"id": key_id, "name": key_name},
            "client": {"ip": "10.0.0.1", "user_agent": "bench"},
            "usage": {**usage, "source": "upstream"} if ok else None,
            "client_identity": "cli/bench",
            "has_prompt": True,
            "has_think": False,
            "has_delays": True,
        }
        pk = base_partition(day_of(ts), shard_of(log_id, settings.log_shards))
        batch.append(
            {"PutRequest": {"Item": store._item(pk, sort_key(ts, log_id), doc, ts // 1000 + 30 * 86400)}}
        )
        done = Completed(
            ts,
            ok,
            key_id,
            key_name,
            account,
            f"{account}@example.com",
            model,
            model,
            usage["input"] if ok else 0,
            usage["output"] if ok else 0,
            0,
            0,
            1200,
            300,
        )
        for update in counter_updates(done):
            for name, value in update.add.items():
                counters[(update.pk, update.sk)][name] += value
            labels[(update.pk, update.sk)].update(update.set)
        if len(batch) == 25:
            dynamodb.batch_write_item(RequestItems={settings.request_logs_table: batch})
            batch = []
    if batch:
        dynamodb.batch_write_item(RequestItems={settings.request_logs_table: batch})
    items = []
    for (pk, sk), values in counters.items():
        item = {"pk": {"S": pk}, "sk": {"S": sk}, "expires_at": {"N": str(now_ms // 1000 + 90 * 86400)}}
        item.update({k: {"N": str(v)} for k, v in values.items()})
        item.update({k: {"S": v} for k, v in labels[(pk, sk)].items()})
        items.append({"PutRequest": {"Item": item}})
    for i in range(0, len(items), 25):
        dynamodb.batch_write_item(RequestItems={settings.usage_stats_table: items[i : i + 25]})
    return time.perf_counter() - started


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


def part_b(args: argparse.Namespace, gateway: Gateway) -> None:
    routes = {
        "summary 7d": ("GET", gateway.url + "/api/stats/token/summary?hours=168", None),
        "logs first page": ("POST", gateway.url + "/logs/get", {"query": {"reverse": True, "limit": 50}}),
    }
    empty = {name: statistics.median(timed(*spec)) for name, spec in routes.items()}
    seconds = seed(gateway, args.rows)
    print(f"\nseeded {args.rows} logged requests over 7 days in {seconds:.1f} s")
    page = httpx.post(
        routes["logs first page"][1],
        json=routes["logs first page"][2],
        headers={"authorization": f"Bearer {ADMIN}"},
        timeout=60,
    ).json()
    print(
        f"  first page: {len(page['logs'])} entries, total {page['total']}, capped: {page['total_is_capped']}"
    )
    targets = {"summary 7d": 100.0, "logs first page": 200.0}
    for name, spec in routes.items():
        values = timed(*spec)
        p50 = statistics.median(values)
        print(
            f"  {name:<16} p50 {p50:7.1f} ms  p90 {sorted(values)[int(len(values) * 0.9) - 1]:7.1f} ms  "
            f"(empty store {empty[name]:.1f} ms, x{p50 / empty[name]:.1f}; target <= {targets[name]:.0f} ms)"
        )


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
        on, off = Gateway("on", fake_port, True, args.plain), Gateway("off", fake_port, False, args.plain)
        print(
            "stack:",
            "embedded moto without persistence (--plain)"
            if args.plain
            else "cursor-gateway serve (make run)",
        )
        gateways = [on, off]
        on.start()
        off.start()
        part_zero()
        if not args.skip_load:
            await part_a(args, on, off)
        if args.rows:
            part_b(args, on)
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
    parser.add_argument(
        "--plain", action="store_true", help="gateways over moto without DATA_DIR persistence"
    )
    parser.add_argument("--serve-plain", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_plain:
        port, moto_port = (int(p) for p in args.serve_plain.split(","))
        serve_plain(port, moto_port)
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
