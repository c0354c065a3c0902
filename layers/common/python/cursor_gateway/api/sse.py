"""Server-sent events encoding (`data: <json>\\n\\n`)."""

from __future__ import annotations

import json
from typing import Any

DONE = b"data: [DONE]\n\n"
# A comment line: clients ignore it, proxies and API Gateway see traffic (their idle timers restart).
KEEPALIVE = b": keep-alive\n\n"
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def data(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"
