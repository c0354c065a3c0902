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

import httpx
from bench_harness import PROMPT, One, Stack, load_arguments, local_stack, measure, streamed_post


def streamed(client: httpx.AsyncClient, stack: Stack, path: str, body: dict[str, object], marker: str) -> One:
    """One streamed request: (time to the first text delta, total time); checks all 20 deltas came."""
    return streamed_post(
        client,
        stack.url + path,
        body,
        {"authorization": f"Bearer {stack.key}"},
        counts=lambda line: marker in line,
        expected=20,
        what="text deltas",
    )


async def main_async(args: argparse.Namespace) -> None:
    levels: list[int] = args.concurrency
    model = "claude-4.6-sonnet"
    chat_body = {"model": model, "stream": True, "messages": [{"role": "user", "content": PROMPT}]}
    responses_body = {"model": model, "stream": True, "input": PROMPT}
    with local_stack("cgw-bench-responses-", env={"CURSOR_HEARTBEAT_SECONDS": "30"}) as stack:
        async with stack.client(max(levels)) as client:
            routes = {
                "chat": streamed(client, stack, "/v1/chat/completions", chat_body, '"content":"'),
                "responses": streamed(client, stack, "/v1/responses", responses_body, "output_text.delta"),
                "resp-nostore": streamed(
                    client, stack, "/v1/responses", {**responses_body, "store": False}, "output_text.delta"
                ),
            }
            results = await measure(routes, levels, args.requests)
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


def main() -> None:
    args = load_arguments(
        __doc__, requests_help="streams per route and concurrency level", concurrency="1,16"
    )
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
