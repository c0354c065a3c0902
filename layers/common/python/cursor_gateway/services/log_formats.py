"""How request-log entries leave the reader as other shapes: the CSV export's columns and rows, and the
search text and error test of Antigravity's `/api/logs` (services.log_reader uses them)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from cursor_gateway.domain.request_logs import effective_status

ENDPOINT_PATHS = {
    "chat.completions": "/v1/chat/completions",
    "messages": "/v1/messages",
    "responses": "/v1/responses",
}
PROTOCOLS = {"chat.completions": "openai", "messages": "anthropic", "responses": "openai"}

EXPORT_COLUMNS = (
    "id",
    "timestamp",
    "endpoint",
    "model",
    "upstream_model",
    "account",
    "api_key_id",
    "stream",
    "status",
    "http_status",
    "total_time",
    "ttft",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "error",
)


def csv_chunks(entries: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """Presented entries as CSV, in chunks of about 64 KB (the export streams)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for e in entries:
        usage = e["usage"] or {}
        error = e["error"]
        writer.writerow(
            [
                e["id"],
                e["timestamp"],
                e["endpoint"],
                e["model"],
                e["upstream_model"] or "",
                e["token_info"]["alias"],
                e["api_key"]["id"],
                e["stream"],
                e["status"],
                e["http_status"] or "",
                e["timing"]["total"],
                e["timing"]["first"] if e["timing"]["first"] is not None else "",
                usage.get("input", ""),
                usage.get("output", ""),
                usage.get("cache_read", ""),
                (error.get("error", "") if isinstance(error, dict) else error or ""),
            ]
        )
        if buffer.tell() > 64_000:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def is_error(doc: dict[str, Any], now_ms: int, stale_after_ms: int) -> bool:
    status, _ = effective_status(doc, now_ms, stale_after_ms)
    http = doc.get("http_status") or 0
    return status == "failure" or not 200 <= http < 400


def searchable(doc: dict[str, Any]) -> str:
    account = doc.get("account") or {}
    parts = [
        ENDPOINT_PATHS.get(doc.get("endpoint", ""), doc.get("endpoint", "")),
        "POST",
        doc.get("model"),
        doc.get("upstream_model"),
        str(doc.get("http_status") or ""),
        account.get("email"),
        account.get("alias"),
        (doc.get("client") or {}).get("ip"),
    ]
    return " ".join(str(p) for p in parts if p).lower()


def error_message(error: Any) -> str | None:
    if error is None:
        return None
    if isinstance(error, dict):
        return f"{error.get('error')}: {error.get('details')}"
    return str(error)
