"""What `/tokens/get` shows about a token beyond its bundle and health: facts learnt from Cursor since
the fact sheet (issue 14), kept out of `services.tokens` so that module stays about the pool's edits."""

from __future__ import annotations

import time
from typing import Any

from cursor_gateway.domain.model_cooldowns import live_cooldowns
from cursor_gateway.domain.tokens import TokenRecord


def account_details(record: TokenRecord, now: float | None = None) -> dict[str, Any]:
    """Extra `info` keys, present only when known."""
    details: dict[str, Any] = {}
    if record.agent_url:
        details["agent_url"] = record.agent_url  # from GetServerConfig; Run goes there
    resting = live_cooldowns(record.health, time.time() if now is None else now)
    if resting:
        details["model_cooldowns"] = resting  # model class -> end of its rest (unix seconds)
    return details
