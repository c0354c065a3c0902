"""The public utility routes of the reference (`/gen-uuid`, `/gen-hash`, `/gen-checksum`,
`/get-timestamp-header`): values a user needs when assembling a token bundle by hand. Random values come
from `secrets`; the checksum is the real header layout (upstream.checksum) around two fresh machine ids."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable

from cursor_gateway.upstream.checksum import checksum_header, timestamp_part


def gen_uuid() -> str:
    return str(uuid.uuid4())


def gen_hash() -> str:
    """64 lowercase hex: the shape of a machine id, a client key or one checksum half."""
    return secrets.token_hex(32)


def gen_checksum(clock: Callable[[], float] = time.time) -> str:
    """A full `x-cursor-checksum` value (137 chars): time part, machine id, '/', mac machine id."""
    return checksum_header(gen_hash(), gen_hash(), now=clock())


def timestamp_header(clock: Callable[[], float] = time.time) -> str:
    """The 8-character time part of the checksum for now (it changes every 1000 seconds)."""
    return timestamp_part(clock())
