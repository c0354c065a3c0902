"""What `/tokens/get` shows about a token beyond its bundle and health: facts learnt from Cursor since
the fact sheet (issue 14), kept out of `services.tokens` so that module stays about the pool's edits."""

from __future__ import annotations

from typing import Any

from cursor_gateway.domain.tokens import TokenRecord


def account_details(record: TokenRecord) -> dict[str, Any]:
    """Extra `info` keys, present only when known."""
    details: dict[str, Any] = {}
    return details
