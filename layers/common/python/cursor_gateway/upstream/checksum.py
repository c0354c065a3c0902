"""`x-cursor-checksum`: an obfuscated time stamp plus the client's machine ids (fact sheet §2.1, 2026 §3.4).

Layout: 8 characters of obfuscated kilo-seconds, then `machineId` (64 hex) and optionally
`/macMachineId` (64 hex). Computed per request: a Lambda has no background task to rotate it.
IDE 3.18.9 uses the standard base64 alphabet; other gateways use the URL-safe one; both are reported
to work, so the alphabet is configurable (URL-safe by default).
"""

from __future__ import annotations

import base64


def timestamp_part(unix_seconds: float, *, alphabet: str = "urlsafe") -> str:
    k = int(unix_seconds // 1000)
    # JavaScript's 32-bit shifts in the IDE make bytes 0-1 repeat bytes 4-5.
    raw = [(k >> 8) & 255, k & 255, (k >> 24) & 255, (k >> 16) & 255, (k >> 8) & 255, k & 255]
    previous = 165
    for index, value in enumerate(raw):
        raw[index] = ((value ^ previous) + index) % 256
        previous = raw[index]
    encoded = base64.b64encode(bytes(raw)).decode()
    return encoded.replace("+", "-").replace("/", "_") if alphabet == "urlsafe" else encoded


def decode_timestamp_part(text: str) -> int | None:
    """The kilo-second count back from the 8 characters (either alphabet), or None if it is not valid."""
    try:
        data = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except ValueError:
        return None
    if len(data) != 6:
        return None
    out, previous = [], 165
    for index, value in enumerate(data):
        out.append(((value - index) % 256) ^ previous)
        previous = value
    if out[0:2] != out[4:6]:
        return None
    return int.from_bytes(bytes(out[2:6]), "big")


def checksum_header(
    machine_id: str, mac_machine_id: str = "", *, now: float, alphabet: str = "urlsafe"
) -> str:
    suffix = f"{machine_id}/{mac_machine_id}" if mac_machine_id else machine_id
    return timestamp_part(now, alphabet=alphabet) + suffix
