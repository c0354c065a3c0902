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
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers/common/python"))

from bench_harness import (  # noqa: E402
    PROMPT,
    One,
    load_arguments,
    local_stack,
    measure,
    print_added,
    streamed_post,
)

# Re-exported: bench_logs.py imports these from here (they lived here before bench_harness.py).
from bench_harness import free_port as free_port  # noqa: E402
from bench_harness import report as report  # noqa: E402
from bench_harness import run_load as run_load  # noqa: E402
from bench_harness import wait_http as wait_http  # noqa: E402
from bench_harness import wait_port as wait_port  # noqa: E402
from cursor_gateway.domain.chat import ChatRequest, Message, ModelChoice, TextDelta  # noqa: E402
from cursor_gateway.emulator.tokens import fake_jwt  # noqa: E402
from cursor_gateway.settings import Settings  # noqa: E402
from cursor_gateway.upstream.agent import AgentProfile  # noqa: E402
from cursor_gateway.upstream.profile import UpstreamCredential  # noqa: E402


def gateway_call(client: httpx.AsyncClient, url: str, key: str) -> One:
    body = {
        "model": "claude-4.6-sonnet",
        "stream": True,
        "messages": [{"role": "user", "content": PROMPT}],
    }
    return streamed_post(
        client,
        url + "/v1/chat/completions",
        body,
        {"authorization": f"Bearer {key}"},
        counts=lambda line: (
            line.startswith("data: {") and '"content":"' in line and '"content":""' not in line
        ),
        expected=20,
        what="content chunks",
    )


def direct_call(profile: AgentProfile) -> One:
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


async def main_async(args: argparse.Namespace) -> None:
    levels: list[int] = args.concurrency
    with local_stack("cgw-bench-", env={"CURSOR_HEARTBEAT_SECONDS": "30"}) as stack:
        profile = AgentProfile(Settings(cursor_api_url=stack.fake_url, cursor_heartbeat_seconds=30))
        async with stack.client(max(levels)) as client:
            paths = {"direct": direct_call(profile), "gateway": gateway_call(client, stack.url, stack.key)}
            results = await measure(paths, levels, args.requests, process=("gateway", stack.gateway.pid))
        print_added(results, levels, what="first byte", label="ttfb")
        print("targets: added ttfb <= 2 ms p50 at c=1, <= 25 ms p99 at c=32; >= 150 twenty-chunk streams/s")


def main() -> None:
    args = load_arguments(__doc__, requests_help="streams per concurrency level", concurrency="1,32")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
