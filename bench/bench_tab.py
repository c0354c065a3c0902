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
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers/common/python"))

from bench_harness import One, load_arguments, local_stack, measure, print_added, streamed_post  # noqa: E402
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


def gateway_call(client: httpx.AsyncClient, url: str, key: str) -> One:
    headers = {**HEADERS, "authorization": f"Bearer {key}"}

    return streamed_post(
        client,
        url + "/cpp/stream",
        BODY,
        headers,
        counts=lambda line: line.startswith("event: "),
        expected=10,
        what="events (a whole completion)",
    )


def direct_call(upstream: TabUpstream) -> One:
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
    levels: list[int] = args.concurrency
    with local_stack("cgw-bench-tab-") as stack:
        upstream = TabUpstream(Settings(cursor_api_url=stack.fake_url))
        async with stack.client(max(levels)) as client:
            paths = {"direct": direct_call(upstream), "gateway": gateway_call(client, stack.url, stack.key)}
            results = await measure(
                paths,
                levels,
                args.requests,
                heading=" (ttfb = time to the first completion event)",
                process=("gateway", stack.gateway.pid),
            )
        print_added(results, levels, what="the first event", label="first event")
        print("target: added first-event p50 <= 2 ms at c=1")


def main() -> None:
    args = load_arguments(__doc__, requests_help="completions per concurrency level", concurrency="1,16")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
