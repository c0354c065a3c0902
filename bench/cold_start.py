"""Cold-start import cost of every Lambda function's handler module (functions/*/app.py).

    .venv/bin/python bench/cold_start.py [--runs 7] [--json bench/results/cold_start.json]

Each run is a fresh interpreter (a cold start) with the layer's source on PYTHONPATH and the environment
the template gives the functions, loading the module exactly as the runtime does. Reported per function:
the median and best wall time of loading the handler module (interpreter start-up excluded), the
heaviest packages it pulls in (one extra `-X importtime` run, whose own overhead is kept out of the wall
times), and how many network connections the import attempted (must be 0: handlers build their clients
on first use). The floor line is the same measurement for the third-party web stack alone (fastapi,
starlette, pydantic, mangum), which every buffered function needs: what is above it is ours. Target:
buffered functions under 400 ms on this machine. Wall times move with the machine's load (other
processes take the CPU), so the CPU time the import itself used is printed too: on a busy machine that
is the figure to compare. A measurement, not a test: nothing here fails on a time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 400.0
# Loads one handler module the way the Lambda runtime does and reports its wall time. Connections are
# counted (and refused) so a network call at import time shows up here rather than in a cold start.
DRIVER = r"""
import importlib.util, json, socket, sys, time
attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args[:2]))
    raise OSError("no network during import")
socket.socket.connect = refuse
socket.create_connection = refuse
started, cpu_started = time.perf_counter(), time.process_time()
if sys.argv[1] == "floor":
    import fastapi, mangum, pydantic, starlette.middleware.cors
    entry = "-"
else:
    spec = importlib.util.spec_from_file_location("app", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    entry = "handler" if hasattr(module, "handler") else "app"
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
print(json.dumps({"ms": elapsed * 1000, "cpu_ms": cpu * 1000, "connects": len(attempts), "entry": entry}))
"""
LAMBDA_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "cold-start-bench",
    "TOKENS_TABLE": "cursor-gateway-tokens",
    "CONFIG_TABLE": "cursor-gateway-config",
    "CANARY_TABLE": "cursor-gateway-canary",
    "AUTH_TOKEN_PARAM": "/cursor-gateway/auth-token",
    "SHARED_TOKEN_PARAM": "/cursor-gateway/shared-token",
    "LOG_LEVEL": "INFO",
}
IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def functions() -> list[Path]:
    return sorted(ROOT.glob("functions/*/app.py"))


def one_run(app: Path | None, *, importtime: bool = False) -> tuple[dict[str, Any], list[tuple[int, str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AUTH_TOKEN", "SHARED_TOKEN"))}
    env.update(LAMBDA_ENV)
    env["PYTHONPATH"] = str(ROOT / "layers/common/python")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # Lambda runs from compiled bytecode too (after the first run)
    flags = ["-X", "importtime"] if importtime else []
    answer = subprocess.run(
        [sys.executable, *flags, "-c", DRIVER, str(app) if app else "floor"],
        env=env,
        cwd=app.parent if app else ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if answer.returncode != 0:
        raise SystemExit(f"{app}: import failed\n{answer.stderr[-3000:]}")
    result = json.loads(answer.stdout.strip().splitlines()[-1])
    imported = []
    for line in answer.stderr.splitlines():
        match = IMPORTTIME.match(line)
        if match:
            imported.append((int(match.group(2)), match.group(4)))
    return result, imported


def heaviest(imported: list[tuple[int, str]]) -> list[tuple[str, float]]:
    """Our modules and third-party top-level packages, by cumulative import time (nested ones are part
    of their parent's figure, so each package is counted once, at its outermost import)."""
    best: dict[str, int] = {}
    for cumulative, name in imported:
        key = name if name.startswith("cursor_gateway.") else name.split(".")[0]
        if name.startswith("cursor_gateway.") and name.count(".") > 2:
            key = ".".join(name.split(".")[:3])
        best[key] = max(best.get(key, 0), cumulative)
    top = sorted(best.items(), key=lambda kv: -kv[1])
    return [(name, round(us / 1000, 1)) for name, us in top if name not in ("app", "cursor_gateway")][:6]


def measure(app: Path | None, runs: int) -> dict[str, Any]:
    one_run(app)  # warm the bytecode cache (.pyc), as a deployed package has it
    walls, cpus, connects, entry = [], [], 0, ""
    for _ in range(runs):
        result, _ = one_run(app)
        walls.append(result["ms"])
        cpus.append(result["cpu_ms"])
        connects = max(connects, result["connects"])
        entry = result["entry"]
    _, imported = one_run(app, importtime=True)
    return {
        "function": app.parent.name if app else "(floor)",
        "entry": entry,
        "median_ms": round(statistics.median(walls), 1),
        "min_ms": round(min(walls), 1),
        "max_ms": round(max(walls), 1),
        "cpu_ms": round(statistics.median(cpus), 1),
        "connects": connects,
        "heaviest": heaviest(imported),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]} on {os.uname().machine}, {args.runs} cold imports each (median)")
    print(f"{'function':<16} {'entry':<8} {'median':>8} {'best':>7} {'cpu':>7}  net  heaviest imports (ms)")
    results = []
    for app in [None, *functions()]:
        row = measure(app, args.runs)
        results.append(row)
        heavy = ", ".join(f"{name} {ms:.0f}" for name, ms in row["heaviest"][:4])
        print(
            f"{row['function']:<16} {row['entry']:<8} {row['median_ms']:>6.0f}ms {row['min_ms']:>5.0f}ms "
            f"{row['cpu_ms']:>5.0f}ms  {row['connects']:>3}  {heavy}"
        )
    buffered = [r for r in results if r["entry"] == "handler"]
    for figure in ("median_ms", "cpu_ms"):
        over = [r["function"] for r in buffered if r[figure] >= TARGET_MS]
        verdict = "all" if not over else "not " + ", ".join(over)
        print(f"buffered functions under {TARGET_MS:.0f} ms ({figure}): {verdict}")
    if any(r["connects"] for r in results):
        print("WARNING: a handler module tried to connect somewhere while importing")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
