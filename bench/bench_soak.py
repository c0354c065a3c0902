"""Soak: load with faults, and nothing lost. Prints figures, never gates.

    make soak             # or: .venv/bin/python bench/bench_soak.py [--seconds 60] [--streams 32]

The `make run` stack (`cursor-gateway serve`: uvicorn + embedded moto, real DynamoDB semantics) in its
own process, the fake Cursor in another with `--fault-rate 0.05` (one turn in twenty plays a fault from
emulator.behaviour.CHAOS: errors before the answer, resets and errors after the first byte, a malformed
frame, rate limits). For a fixed time, `--streams` concurrent streaming chats, while admin writers edit
tokens (timezone), update the config (share_token), build gateway keys and revoke some of them.

Printed: streams served, outcome classes, time to first byte and total p50/p99, the faults the fake
played, the gateway's RSS at start and end (growth means a leak), its log's tracebacks; then, from the
stores, every acknowledged admin write checked: lost writes (expected 0) and torn token records.
A baseline from the same run: the stream figures of the first seconds against the last ones.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers/common/python"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_harness import local_stack, pct, proc_stats  # noqa: E402
from cursor_gateway.emulator.tokens import fake_jwt  # noqa: E402

ADMIN = "soak-admin"
AUTH = {"authorization": f"Bearer {ADMIN}"}
TOKENS = 8
TIMEZONES = ("UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo")


@dataclass
class Tally:
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    ttfb: list[float] = field(default_factory=list)
    totals: list[float] = field(default_factory=list)
    early: list[float] = field(default_factory=list)  # totals of the first 10 s
    late: list[float] = field(default_factory=list)  # totals of the last 10 s


@dataclass
class Writes:
    timezones: dict[str, str] = field(default_factory=dict)  # alias -> last acknowledged
    alias_target: str = ""
    config_updates: int = 0
    built: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    acked: int = 0
    refused: collections.Counter[str] = field(default_factory=collections.Counter)


async def stream_once(
    client: httpx.AsyncClient, base: str, tally: Tally, started: float, ends: float
) -> None:
    body = {"model": "claude-4.6-sonnet", "stream": True, "messages": [{"role": "user", "content": "soak"}]}
    t0 = time.perf_counter()
    first = None
    try:
        async with client.stream("POST", base + "/v1/chat/completions", json=body, headers=AUTH) as response:
            if response.status_code != 200:
                data = (await response.aread()).decode("utf-8", "replace")
                code = data.split('"code":"', 1)[1].split('"', 1)[0] if '"code":"' in data else "?"
                tally.outcomes[f"http {response.status_code} {code}"] += 1
                return
            outcome, done = "ok", False
            async for line in response.aiter_lines():
                if line.startswith("data: {") and '"error"' in line:
                    outcome = "in-band " + (
                        line.split('"code":"', 1)[1].split('"', 1)[0] if '"code":"' in line else "?"
                    )
                elif line.startswith("data: {") and first is None and '"content":"' in line:
                    first = time.perf_counter() - t0
                done = done or line == "data: [DONE]"
            tally.outcomes[outcome if done else outcome + " (no [DONE])"] += 1
    except httpx.HTTPError as exc:
        tally.outcomes[f"transport {type(exc).__name__}"] += 1
        return
    total = time.perf_counter() - t0
    if outcome == "ok":
        tally.totals.append(total)
        tally.ttfb.append(first or total)
        now = time.monotonic()
        if now - started < 10:
            tally.early.append(total)
        elif ends - now < 10:
            tally.late.append(total)


async def streams(client: httpx.AsyncClient, base: str, tally: Tally, seconds: float, workers: int) -> None:
    started = time.monotonic()
    ends = started + seconds

    async def worker() -> None:
        while time.monotonic() < ends:
            await stream_once(client, base, tally, started, ends)

    await asyncio.gather(*(worker() for _ in range(workers)))


async def admin_writes(
    client: httpx.AsyncClient, base: str, writes: Writes, aliases: list[str], ends: float, kinds: str
) -> None:
    rng = random.Random(16)

    async def post(path: str, body: Any) -> dict[str, Any] | None:
        try:
            response = await client.post(base + path, json=body, headers=AUTH)
        except httpx.HTTPError as exc:
            writes.refused[f"{path} {type(exc).__name__}"] += 1
            return None
        if response.status_code != 200:
            writes.refused[f"{path} {response.status_code}"] += 1
            return None
        writes.acked += 1
        result: dict[str, Any] = response.json()
        return result

    async def timezone_writer(alias: str) -> None:
        n = 0
        while time.monotonic() < ends:
            zone = TIMEZONES[n % len(TIMEZONES)]
            if await post("/tokens/timezone/set", {"aliases": [alias], "timezone": zone}) is not None:
                writes.timezones[alias] = zone
            n += 1
            await asyncio.sleep(0.05)

    async def config_writer() -> None:
        n = 0
        while time.monotonic() < ends:
            target = f"soak-target-{n}"
            if await post("/config", {"action": "update", "model_aliases": {"soak": target}}) is not None:
                writes.alias_target, writes.config_updates = target, writes.config_updates + 1
            n += 1
            await asyncio.sleep(0.05)

    async def key_writer() -> None:
        n = 0
        while time.monotonic() < ends:
            built = await post("/build-key", {"name": f"soak-{n}"})
            if built is not None:
                writes.built.append(built["id"])
            if len(writes.built) > 3 and rng.random() < 0.5:
                victim = rng.choice(writes.built)
                answer = await post("/keys/revoke", {"ids": [victim]})
                if answer is not None:
                    writes.revoked.update(answer["revoked"])
            n += 1
            await asyncio.sleep(0.05)

    chosen = {
        "tokens": [timezone_writer(a) for a in aliases[:3]],
        "config": [config_writer()],
        "keys": [key_writer()],
    }
    await asyncio.gather(*(c for name, coros in chosen.items() if name in kinds for c in coros))


def verify(
    base: str, writes: Writes, tokens: dict[str, str], config_version_before: int
) -> tuple[int, list[str]]:
    """(lost writes, torn records) read back from the stores."""
    lost: list[str] = []
    torn: list[str] = []
    with httpx.Client(timeout=30, headers=AUTH) as http:
        pool = http.post(base + "/tokens/get", json={"reveal": True}).json()
        infos = {alias: info for _, alias, info in pool["tokens"]}
        for alias, token in tokens.items():
            info = infos.get(alias)
            if info is None:
                torn.append(f"{alias}: missing")
                continue
            if info["bundle"]["primary_token"] != token or info["status"] not in ("enabled", "disabled"):
                torn.append(f"{alias}: bundle or status changed")
            if info["health"]["state"] not in ("healthy", "cooling_down", "half_open", "disabled"):
                torn.append(f"{alias}: health {info['health']}")
        for alias, zone in writes.timezones.items():
            if infos.get(alias, {}).get("bundle", {}).get("timezone") != zone:
                lost.append(f"timezone of {alias}")
        config = http.post(base + "/config", json={"action": "get"}).json()
        stored = config["data"]["model_aliases"].get("soak", {}).get("model")
        if writes.config_updates and stored != writes.alias_target:
            lost.append(f"config model_aliases: {stored} != {writes.alias_target}")
        if config["version"] != config_version_before + writes.config_updates:
            lost.append(
                f"config version {config['version']} != {config_version_before} + {writes.config_updates}"
            )
        keys = {k["id"]: k for k in http.get(base + "/keys").json()["keys"]}
        for key_id in writes.built:
            if key_id not in keys:
                lost.append(f"key {key_id}")
            elif keys[key_id]["revoked"] != (key_id in writes.revoked):
                lost.append(f"revocation of {key_id}")
    return len(lost), torn + lost[:10]


async def fake_control(fake_url: str, **change: Any) -> dict[str, int]:
    """The fake's faults played so far; `fault_rate=` changes its rate."""
    async with httpx.AsyncClient(http1=False, http2=True) as h2:
        if change:
            response = await h2.post(fake_url + "/_emulator/behaviour", json=change)
        else:
            response = await h2.get(fake_url + "/_emulator/behaviour")
        played: dict[str, int] = response.json()["faults_played"]
        return played


async def main_async(args: argparse.Namespace) -> None:
    tokens = {f"soak{i}": fake_jwt(user_id=f"user_01SOAK{i:021d}") for i in range(TOKENS)}
    with local_stack(
        "cgw-soak-",
        key=ADMIN,
        env={"CURSOR_HEARTBEAT_SECONDS": "30", "RATE_LIMIT_COOLDOWN": "2", "CURSOR_FIRST_EVENT_TIMEOUT": "5"},
        emulate=("--delay", "0.005", "--fault-rate", str(args.fault_rate)),
        tokens=tokens,
        gateway_log="gateway.log",
        health_timeout=60,
    ) as stack:
        base, fake_url, gateway = stack.url, stack.fake_url, stack.gateway
        version_before = httpx.post(base + "/config", json={"action": "get"}, headers=AUTH).json()["version"]
        limits = httpx.Limits(max_connections=args.streams + 16, max_keepalive_connections=args.streams + 16)
        tally, writes = Tally(), Writes()
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            await streams(client, base, Tally(), 3, 8)  # warm-up
            # Baseline, same run: the same streams without faults or admin writes.
            await fake_control(fake_url, fault_rate=0.0)
            quiet = Tally()
            t0 = time.perf_counter()
            await streams(client, base, quiet, args.baseline_seconds, args.streams)
            quiet_wall = time.perf_counter() - t0
            chosen = [n for n in args.faults.split(",") if n] if args.faults else []
            await fake_control(fake_url, fault_rate=args.fault_rate, **({"faults": chosen} if chosen else {}))
            rss_start, cpu_start = proc_stats(gateway.pid)
            fake_rss_start, fake_cpu_start = proc_stats(stack.fake.pid)
            started = time.perf_counter()
            ends = time.monotonic() + args.seconds
            await asyncio.gather(
                streams(client, base, tally, args.seconds, args.streams),
                admin_writes(client, base, writes, list(tokens), ends, args.writers),
            )
            wall = time.perf_counter() - started
        await asyncio.sleep(1)
        rss_end, cpu_end = proc_stats(gateway.pid)
        fake_rss_end, fake_cpu_end = proc_stats(stack.fake.pid)
        played = await fake_control(fake_url)
        lost, problems = verify(base, writes, tokens, version_before)
        report(args, tally, writes, played, wall, (rss_start, rss_end), cpu_end - cpu_start, lost, problems)
        baseline(quiet, quiet_wall, tally, wall)
        print(
            f"  fake Cursor RSS {fake_rss_start:.1f} -> {fake_rss_end:.1f} MiB, "
            f"CPU {fake_cpu_end - fake_cpu_start:.1f} s over {wall:.1f} s"
        )
        tracebacks = (stack.data_dir / "gateway.log").read_text(errors="replace").count("Traceback")
        print(f"gateway log: {tracebacks} tracebacks")


def report(
    args: argparse.Namespace,
    tally: Tally,
    writes: Writes,
    played: dict[str, int],
    wall: float,
    rss: tuple[float, float],
    cpu: float,
    lost: int,
    problems: list[str],
) -> None:
    served = sum(tally.outcomes.values())
    print(f"soak: {args.seconds:.0f} s, {args.streams} concurrent streams, fault rate {args.fault_rate:.0%}")
    print(f"  streams: {served} finished ({served / wall:.1f}/s), {tally.outcomes['ok']} answered in full")
    for outcome, count in tally.outcomes.most_common():
        print(f"    {outcome:<40} {count:6d}  ({count / max(1, served):.1%})")
    if tally.totals:
        ttfb, totals = tally.ttfb, tally.totals
        print(
            f"  ttfb p50 {statistics.median(ttfb) * 1000:.1f} ms p99 {pct(ttfb, 99) * 1000:.1f} ms; "
            f"total p50 {statistics.median(totals) * 1000:.1f} ms p99 {pct(totals, 99) * 1000:.1f} ms"
        )
    if tally.early and tally.late:
        early, late = statistics.median(tally.early), statistics.median(tally.late)
        print(
            f"  drift: total p50 of the first 10 s {early * 1000:.1f} ms, "
            f"of the last 10 s {late * 1000:.1f} ms (x{late / early:.2f})"
        )
    print(f"  faults played by the fake: {sum(played.values())} {dict(sorted(played.items()))}")
    print(
        f"  gateway RSS {rss[0]:.1f} -> {rss[1]:.1f} MiB ({rss[1] - rss[0]:+.1f}), "
        f"CPU {cpu:.1f} s over {wall:.1f} s"
    )
    print(
        f"  admin writes acknowledged {writes.acked} (timezones {len(writes.timezones)} tokens, config "
        f"{writes.config_updates}, keys built {len(writes.built)}, revoked {len(writes.revoked)}); "
        f"refused {dict(writes.refused)}"
    )
    print(f"  writes lost: {lost}; torn or lost records: {problems or 'none'}")


def baseline(quiet: Tally, quiet_wall: float, soak: Tally, soak_wall: float) -> None:
    if not quiet.totals or not soak.totals:
        return
    q50, s50 = statistics.median(quiet.totals), statistics.median(soak.totals)
    q_rate = sum(quiet.outcomes.values()) / quiet_wall
    s_rate = sum(soak.outcomes.values()) / soak_wall
    print(
        f"  baseline (same run, no faults, no admin writes): {q_rate:.1f} streams/s, "
        f"total p50 {q50 * 1000:.1f} ms "
        f"p99 {pct(quiet.totals, 99) * 1000:.1f} ms; soak/baseline: streams/s x{s_rate / q_rate:.2f}, "
        f"p50 x{s50 / q50:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--streams", type=int, default=32)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--baseline-seconds", type=float, default=15.0)
    parser.add_argument("--faults", default="", help="only these emulator CHAOS faults, comma list")
    parser.add_argument("--writers", default="tokens,config,keys", help="admin writers to run alongside")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
