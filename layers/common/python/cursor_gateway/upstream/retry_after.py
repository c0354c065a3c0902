"""`Retry-After` on an HTTP-level refusal from Cursor (a 429 or 503 before any stream), honoured as the
token's cooldown instead of our own backoff (pure)."""

from __future__ import annotations

import email.utils
import time

from cursor_gateway.errors import UpstreamError

# A value beyond this is treated as garbage rather than a day-long ban of the token.
MAX_RETRY_AFTER = 24 * 3600.0


def parse_retry_after(value: str, now: float | None = None) -> float | None:
    """Seconds to wait: delta-seconds or an HTTP date (RFC 9110 §10.2.3); None when absent or unreadable."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment is None or moment.tzinfo is None:
            return None
        seconds = moment.timestamp() - (time.time() if now is None else now)
    if seconds <= 0 or seconds > MAX_RETRY_AFTER:
        return None
    return seconds


def honour_retry_after(error: BaseException, header: str | None) -> None:
    """Put Cursor's `Retry-After` on an upstream error that has none yet."""
    if isinstance(error, UpstreamError) and error.retry_after is None and header:
        error.retry_after = parse_retry_after(header)
