"""Large conversations on the agent Run (issue 14): what flattening and a small HTTP/2 window cost.

    .venv/bin/python bench/bench_large_conversation.py [--kb 400] [--runs 5]

Builds a conversation of about `--kb` KB (alternating 4 KB turns), then measures, in the same run:
- `build_run` with the history structured (flattening off) and flattened above 64 KiB;
- a whole Run against the fake Cursor over HTTP/2 cleartext with h2's default receive window (the
  baseline) and with a 16 KiB window that the client must respect (send-side flow control).
Ratios are against the baseline of the same run. A measurement script, not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers/common/python"))

from cursor_gateway.domain.chat import ChatRequest, Message, ModelChoice  # noqa: E402
from cursor_gateway.emulator.behaviour import Behaviour  # noqa: E402
from cursor_gateway.emulator.server import FakeCursor  # noqa: E402
from cursor_gateway.settings import Settings  # noqa: E402
from cursor_gateway.upstream import agent_request as agent_messages  # noqa: E402
from cursor_gateway.upstream.agent import AgentProfile  # noqa: E402
from cursor_gateway.upstream.profile import UpstreamCredential  # noqa: E402


def conversation(kb: int) -> ChatRequest:
    turns = max(2, kb // 4)
    messages = [
        Message("user" if i % 2 == 0 else "assistant", f"turn {i}: " + "x" * 4096) for i in range(turns)
    ]
    messages.append(Message("user", "Sum it up."))
    return ChatRequest(
        model=ModelChoice("claude-sonnet-5", "claude-sonnet-5"),
        messages=tuple(messages),
        conversation_id="5b0e4c1e-2f0a-4d8e-9a51-7d1f3b8c9e20",
    )


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def time_build(request: ChatRequest, flatten: int, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        agent_messages.build_run(request, timezone="UTC", flatten_above=flatten)
        samples.append(time.perf_counter() - started)
    return median_ms(samples)


async def time_runs(request: ChatRequest, window: int, runs: int) -> float:
    fake = FakeCursor(Behaviour(reply="ok", ask_blob=False, send_builtin_exec=False))
    fake.server.window = window
    await fake.start()
    try:
        profile = AgentProfile(Settings(cursor_api_url=fake.url))
        samples = []
        for index in range(runs + 1):  # the first Run (new connection, warm-up) is not counted
            started = time.perf_counter()
            async for _event in profile.stream(request, UpstreamCredential("bench")):
                pass
            if index:
                samples.append(time.perf_counter() - started)
        return median_ms(samples)
    finally:
        await fake.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kb", type=int, default=400)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    request = conversation(args.kb)
    size = sum(len(m.text) for m in request.messages)
    structured = time_build(request, 0, args.runs)
    flattened = time_build(request, 64 * 1024, args.runs)
    baseline = asyncio.run(time_runs(request, 0, args.runs))
    small = asyncio.run(time_runs(request, 16 * 1024, args.runs))
    print(f"conversation: {size / 1024:.0f} KiB in {len(request.messages)} messages, median of {args.runs}")
    print(f"build_run structured      {structured:8.2f} ms  (1.00x)")
    print(f"build_run flattened 64KiB {flattened:8.2f} ms  ({flattened / structured:.2f}x)")
    print(f"Run, default window       {baseline:8.2f} ms  (1.00x, baseline)")
    print(f"Run, 16 KiB window        {small:8.2f} ms  ({small / baseline:.2f}x)")


if __name__ == "__main__":
    main()
