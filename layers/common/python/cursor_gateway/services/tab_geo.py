"""The Tab backend Cursor itself names per account: `CppConfigResponse.geo_cpp_backend_url` (field 18),
what the IDE uses in its "auto" mode (copilot-plus-plus.md §2.2, §7.1). Opt-in (CURSOR_TAB_GEO_HOST):
the first Tab call of a token in a process asks CppConfig once and the answer is kept for an hour
(a failed or empty answer for five minutes, then the regional host applies again).

Only tokens without an explicit region use it: a key's or token's `gcpp_host` is an admin's choice."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from google.protobuf.message import DecodeError

from cursor_gateway.codec._gen.aiserver.v1 import tab_pb2 as pb
from cursor_gateway.errors import UpstreamError
from cursor_gateway.upstream.tab import TabCredential, TabUpstream

log = logging.getLogger("cursor_gateway.services.tab")

KNOWN_FOR = 3600.0
UNKNOWN_FOR = 300.0
_REQUEST = pb.CppConfigRequest(model="fast").SerializeToString()


class GeoHosts:
    def __init__(self, upstream: TabUpstream, clock: Callable[[], float] = time.monotonic) -> None:
        self.upstream = upstream
        self.clock = clock
        self._hosts: dict[str, tuple[str, float]] = {}

    async def host_for(self, alias: str, credential: TabCredential) -> str:
        """The host CppConfig names for this token, or "" (use the regional host)."""
        now = self.clock()
        cached = self._hosts.get(alias)
        if cached is not None and cached[1] > now:
            return cached[0]
        host = ""
        try:
            reply = await self.upstream.unary("config", _REQUEST, credential)
            if reply.error is None:
                url = pb.CppConfigResponse.FromString(reply.body).geo_cpp_backend_url.strip()
                host = (urlsplit(url).hostname or "") if "//" in url else url.strip("/")
        except (UpstreamError, DecodeError) as exc:
            log.info("CppConfig for token %s gave no geo host: %s", alias, exc)
        self._hosts[alias] = (host, now + (KNOWN_FOR if host else UNKNOWN_FOR))
        return host
