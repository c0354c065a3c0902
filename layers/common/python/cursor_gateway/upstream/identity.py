"""The client identity Cursor sees: header sets shaped like the official CLI or SDK (2026 sheet §3.3).

CLI/SDK-shaped requests carry no checksum, client key or session id; the version string is the knob
Cursor turns ("Update Required"), so it comes from settings, never from code.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cursor_gateway.settings import Settings


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    client_type: str
    client_version: str
    ghost_mode: bool
    timezone: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ClientIdentity:
        return cls(
            client_type=settings.cursor_client_type,
            client_version=settings.cursor_client_version,
            ghost_mode=settings.cursor_ghost_mode,
            timezone=settings.cursor_timezone,
        )


def stream_headers(
    identity: ClientIdentity,
    *,
    bearer: str,
    content_type: str,
    conversation_id: str,
    request_id: str | None = None,
    extra: dict[str, str] | None = None,
) -> list[tuple[str, str]]:
    request_id = request_id or str(uuid.uuid4())
    headers = [
        ("authorization", f"Bearer {bearer}"),
        ("content-type", content_type),
        ("connect-protocol-version", "1"),
        ("connect-accept-encoding", "gzip"),
        ("connect-content-encoding", "gzip"),
        ("te", "trailers"),
        ("user-agent", "connect-es/1.6.1"),
        ("x-cursor-client-type", identity.client_type),
        ("x-cursor-client-version", identity.client_version),
        ("x-ghost-mode", "true" if identity.ghost_mode else "false"),
        ("x-cursor-streaming", "true"),
        ("x-cursor-timezone", identity.timezone),
        ("x-request-id", request_id),
        ("x-amzn-trace-id", f"Root={request_id}"),
    ]
    if identity.client_type == "sdk":
        # The SDK sends a stable session id per conversation; it also drives prompt-cache hits.
        headers.append(("x-session-id", conversation_id))
    headers.extend((extra or {}).items())
    return headers
