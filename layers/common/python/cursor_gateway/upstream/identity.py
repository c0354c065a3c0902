"""The client identity Cursor sees, as data: CLI-, SDK- and IDE-shaped header sets (2026 sheet §3.3).

CLI/SDK-shaped requests carry no checksum, client key or session id. IDE-shaped requests add the
checksum with the token's machine ids, the client key and session id, the build commit and the
platform. Versions and commits are what Cursor gates on ("Update Required"), so they come from
settings and the stored config, never from code; operators bump them with one `POST /config`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, fields, replace
from typing import Any

from cursor_gateway.settings import Settings
from cursor_gateway.upstream.checksum import checksum_header

CLIENT_TYPES = ("cli", "sdk", "ide")


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    client_type: str
    client_version: str
    client_commit: str = ""
    client_os: str = "linux"
    client_arch: str = "x64"
    device_type: str = "desktop"
    ghost_mode: bool = True
    timezone: str = "UTC"
    checksum_alphabet: str = "urlsafe"
    user_agent: str = "connect-es/1.6.1"
    # Host override for this identity's RPCs (e.g. an agent.api5 host); empty means CURSOR_API_URL.
    base_url: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> ClientIdentity:
        """The environment's identity (the `agent` profile's default before stored config applies)."""
        return default_identity(settings.cursor_client_type, settings)

    def merged(self, overrides: dict[str, Any]) -> ClientIdentity:
        known = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in overrides.items() if k in known and v is not None})


# Defaults current as of late 2026 (2026 sheet §1 notes). The IDE commit must match the version; it is
# left empty (header omitted) until an operator sets the pair they verified.
# The CLI id is a dated build (`cli-<YYYY.MM.DD-hash>`, the installer's download folder), never
# `cli-<IDE version>`; services.version_discovery raises it when Cursor's installer names a newer one.
DEFAULT_VERSIONS = {"cli": "cli-2026.10.01-e373342", "sdk": "sdk-1.0.30", "ide": "3.21.12"}


def default_identity(client_type: str, settings: Settings) -> ClientIdentity:
    version = settings.cursor_client_version if client_type == settings.cursor_client_type else ""
    return ClientIdentity(
        client_type=client_type,
        client_version=version or DEFAULT_VERSIONS.get(client_type, ""),
        ghost_mode=settings.cursor_ghost_mode if client_type != "sdk" else False,
        timezone=settings.cursor_timezone,
    )


@dataclass(frozen=True, slots=True)
class MachineIds:
    """Per-token device identity for IDE-shaped requests (derived and stored at import)."""

    machine_id: str = ""
    mac_machine_id: str = ""
    client_key: str = ""
    session_id: str = ""
    config_version: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def stream_headers(
    identity: ClientIdentity,
    *,
    bearer: str,
    content_type: str,
    conversation_id: str,
    request_id: str | None = None,
    machine: MachineIds | None = None,
    timezone: str = "",
    now: float | None = None,
    extra: dict[str, str] | None = None,
) -> list[tuple[str, str]]:
    request_id = request_id or str(uuid.uuid4())
    headers = [
        ("authorization", f"Bearer {bearer}"),
        ("content-type", content_type),
        ("connect-protocol-version", "1"),
        ("connect-accept-encoding", "gzip"),
        ("te", "trailers"),
        ("user-agent", identity.user_agent),
        ("x-cursor-client-type", identity.client_type),
        ("x-cursor-client-version", identity.client_version),
        ("x-ghost-mode", "true" if identity.ghost_mode else "false"),
        ("x-cursor-streaming", "true"),
        ("x-cursor-timezone", timezone or identity.timezone),
        ("x-request-id", request_id),
        ("x-amzn-trace-id", f"Root={request_id}"),
    ]
    if identity.client_type == "sdk":
        # The SDK sends a stable session id per conversation; it also drives prompt-cache hits.
        headers.append(("x-session-id", conversation_id))
    if identity.client_type == "ide":
        moment = now if now is not None else time.time()
        headers.extend(_ide_headers(identity, machine or MachineIds(), moment))
    headers.extend((extra or {}).items())
    return headers


def _ide_headers(identity: ClientIdentity, machine: MachineIds, now: float) -> list[tuple[str, str]]:
    headers = [
        ("x-cursor-client-os", identity.client_os),
        ("x-cursor-client-arch", identity.client_arch),
        ("x-cursor-client-device-type", identity.device_type),
        ("x-new-onboarding-completed", "false"),
    ]
    if identity.client_commit:
        headers.append(("x-cursor-client-commit", identity.client_commit))
    if machine.machine_id:
        headers.append(
            (
                "x-cursor-checksum",
                checksum_header(
                    machine.machine_id, machine.mac_machine_id, now=now, alphabet=identity.checksum_alphabet
                ),
            )
        )
    if machine.client_key:
        headers.append(("x-client-key", machine.client_key))
    if machine.session_id:
        headers.append(("x-session-id", machine.session_id))
    if machine.config_version:
        headers.append(("x-cursor-config-version", machine.config_version))
    return headers
