"""Cursor Tab (Copilot++) RPCs over the shared HTTP/2 transports (copilot-plus-plus.md §2).

- CppConfig on api4, CppService/AvailableModels on api2, FSUploadFile / FSSyncFile / StreamCpp on the
  token's regional gcpp host (`gcpp_host`: Asia, EU, US or a host name; else GENERAL_GCPP_HOST).
- Unary calls: the raw message as `application/proto` (gzip above 1 KiB when it shrinks), answered by
  `application/proto` or a Connect JSON error. StreamCpp: one Connect frame out, frames back, through
  `BidiCall` (so a dead pooled connection is handled the same way as chat's).
- CURSOR_API_URL other than its default sends every Tab RPC there (emulator, tests, a reverse proxy),
  with `x-co: <real host>` naming the host it stands for, as the reference's reverse proxies do.
- The IDE identity of the token (checksum, client key, session id), plus what the caller brings for its
  file-sync session: its `x-client-key` as `x-fs-client-key` and its `Cookie`, both forwarded as is.

Nothing here picks tokens or shapes answers for callers (services.tab and api.routes.tab do).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
from dataclasses import dataclass
from typing import Any

import pyqwest

from cursor_gateway.codec.connect_error import connect_error_from_json
from cursor_gateway.codec.envelope import GZIP_MIN_SIZE, ProtocolViolation, inflate_limited
from cursor_gateway.errors import UpstreamError, UpstreamProtocolError, UpstreamTimeout, UpstreamUnavailable
from cursor_gateway.settings import Settings
from cursor_gateway.upstream.classify import classify_connect_error
from cursor_gateway.upstream.connect import BidiCall
from cursor_gateway.upstream.identity import ClientIdentity, MachineIds, default_identity, stream_headers
from cursor_gateway.upstream.transport import stream_client

log = logging.getLogger("cursor_gateway.upstream.tab")

GCPP_HOSTS = {"asia": "us-asia.gcpp.cursor.sh", "eu": "us-eu.gcpp.cursor.sh", "us": "us-only.gcpp.cursor.sh"}
DEFAULT_API_URL = "https://api2.cursor.sh"
GCPP = ""  # placeholder host: the token's region

# rpc name -> (host, path); GCPP means the token's regional host.
RPCS: dict[str, tuple[str, str]] = {
    "config": ("api4.cursor.sh", "/aiserver.v1.AiService/CppConfig"),
    "models": ("api2.cursor.sh", "/aiserver.v1.CppService/AvailableModels"),
    "upload": (GCPP, "/aiserver.v1.FileSyncService/FSUploadFile"),
    "sync": (GCPP, "/aiserver.v1.FileSyncService/FSSyncFile"),
    "stream": (GCPP, "/aiserver.v1.AiService/StreamCpp"),
}
MAX_MESSAGE = 4 * 1024 * 1024  # the reference's cap, both ways
_TRANSPORT_ERRORS = (
    ConnectionError,
    OSError,
    pyqwest.ReadError,
    pyqwest.WriteError,
    pyqwest.StreamError,
    pyqwest.RemoteProtocolError,
)


def gcpp_host(token_value: str, general: str) -> str:
    """The regional host: the token's value, else the general setting, else Asia. A region name
    (any case) or a host name; `https://` and a trailing slash are dropped."""
    for value in (token_value, general):
        name = value.strip().removeprefix("https://").rstrip("/")
        if not name:
            continue
        return GCPP_HOSTS.get(name.lower(), name.lower())
    return GCPP_HOSTS["asia"]


@dataclass(frozen=True, slots=True)
class TabCredential:
    """One token's side of a Tab call plus the caller's file-sync session."""

    bearer: str
    machine: MachineIds
    gcpp_host: str
    proxy: str = ""
    timezone: str = ""
    fs_client_key: str = ""
    cookie: str = ""


@dataclass(slots=True)
class UnaryReply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    # A Connect error (non-2xx JSON) as Cursor sent it, and what it means for the token.
    error: dict[str, Any] | None = None
    failure: UpstreamError | None = None
    host: str = ""


class TabUpstream:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        identity = default_identity("ide", settings)
        if settings.cursor_tab_client_version:
            identity = identity.merged({"client_version": settings.cursor_tab_client_version})
        self.identity: ClientIdentity = identity

    # -- addressing and headers ---------------------------------------------------------------------------

    def target(self, rpc: str, credential: TabCredential) -> tuple[str, str]:
        """(URL, real host) of one RPC for this token."""
        host, path = RPCS[rpc]
        host = host or credential.gcpp_host
        base = self.settings.cursor_api_url
        url = f"{base}{path}" if base != DEFAULT_API_URL else f"https://{host}{path}"
        return url, host

    def headers(
        self, credential: TabCredential, host: str, *, streaming: bool, gzipped: bool
    ) -> list[tuple[str, str]]:
        extra: dict[str, str] = {}
        if streaming:
            extra["connect-content-encoding"] = "gzip"
        else:
            extra["accept-encoding"] = "gzip"
            if gzipped:
                extra["content-encoding"] = "gzip"
        if credential.cookie:
            extra["cookie"] = credential.cookie
        if credential.fs_client_key:
            extra["x-fs-client-key"] = credential.fs_client_key
        if self.settings.cursor_api_url != DEFAULT_API_URL:
            extra["x-co"] = host
        return stream_headers(
            self.identity,
            bearer=credential.bearer,
            content_type="application/connect+proto" if streaming else "application/proto",
            conversation_id="",
            machine=credential.machine,
            timezone=credential.timezone,
            extra=extra,
        )

    # -- unary --------------------------------------------------------------------------------------------

    async def unary(self, rpc: str, payload: bytes, credential: TabCredential) -> UnaryReply:
        """Cursor's answer, success or Connect error; transport failures and unreadable answers raise."""
        url, host = self.target(rpc, credential)
        gzipped = False
        if len(payload) > GZIP_MIN_SIZE:
            packed = gzip.compress(payload, compresslevel=6, mtime=0)
            if len(packed) < len(payload):
                payload, gzipped = packed, True
        headers = self.headers(credential, host, streaming=False, gzipped=gzipped)
        client = stream_client(
            url, proxy=credential.proxy, connect_timeout=self.settings.cursor_connect_timeout
        )
        try:
            response = await asyncio.wait_for(
                client.post(url, headers=pyqwest.Headers(headers), content=payload),
                self.settings.cursor_tab_timeout,
            )
        except TimeoutError as exc:
            raise UpstreamTimeout(f"Request failed: {host} did not answer in time") from exc
        except _TRANSPORT_ERRORS as exc:
            raise UpstreamUnavailable(f"Request failed: could not reach {host}: {exc}") from exc
        reply = UnaryReply(status=response.status, headers=list(response.headers.items()), host=host)
        body = _inflate(bytes(response.content), response.headers.get("content-encoding", ""))
        content_type = response.headers.get("content-type", "").split(";")[0].strip()
        if content_type == "application/proto" and 200 <= response.status < 300:
            reply.body = body
            return reply
        if content_type == "application/json":
            try:
                obj = json.loads(body)
            except ValueError as exc:
                raise UpstreamProtocolError(
                    "Cursor's error body is not JSON", code="upstream_error_json_decode_failed"
                ) from exc
            if isinstance(obj, dict):
                reply.error = obj
                reply.failure = classify_connect_error(connect_error_from_json(obj, http_status=reply.status))
                return reply
        if response.status >= 500:  # a load balancer's own error page: that host is in trouble, not us
            raise UpstreamUnavailable(f"Request failed: {host} answered {response.status}")
        raise UpstreamProtocolError(
            f"Cursor answered {response.status} with content type {content_type or 'none'}",
            code="upstream_unsupported_content_type",
        )

    # -- StreamCpp ----------------------------------------------------------------------------------------

    def stream_call(self, payload: bytes, credential: TabCredential) -> TabStreamCall:
        url, host = self.target("stream", credential)
        call = TabStreamCall(
            url,
            self.headers(credential, host, streaming=True, gzipped=False),
            proxy=credential.proxy,
            connect_timeout=self.settings.cursor_connect_timeout,
            compress_requests=True,
        )
        call.host = host
        call.send(payload)
        call.close_send()  # server streaming: one request message, then the half-close
        return call


class TabStreamCall(BidiCall):
    """BidiCall that also keeps the Connect error a refused stream came with (`refusal`), so the route
    can answer in the reference's shape; BidiCall itself only keeps its meaning."""

    host = ""
    refusal: dict[str, Any] | None = None

    async def _check_response(self, response: pyqwest.Response) -> None:
        content_type = response.headers.get("content-type", "")
        if response.status == 200 and content_type.startswith("application/connect+"):
            return
        if content_type.startswith("application/json"):
            body = await self._read_bounded(response)
            with contextlib.suppress(ValueError):
                obj = json.loads(body)
                if isinstance(obj, dict) and obj.get("code"):
                    self.refusal = obj
                    raise classify_connect_error(connect_error_from_json(obj, http_status=response.status))
            await self._refuse_plain(response.status, body)
        await super()._check_response(response)

    async def _refuse_plain(self, status: int, body: bytes) -> None:
        log.info("StreamCpp answered %s with an unreadable JSON body (%d bytes)", status, len(body))
        raise UpstreamProtocolError(
            f"Cursor answered {status} with an unreadable error", code="upstream_error_json_decode_failed"
        )


def _inflate(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise UpstreamProtocolError(
            f"Cursor used content encoding {encoding}", code="upstream_unsupported_content_encoding"
        )
    try:
        return inflate_limited(body, MAX_MESSAGE)
    except ProtocolViolation as exc:
        raise UpstreamProtocolError(
            f"Cursor's gzip body did not inflate: {exc}", code="upstream_gzip_decompression_failed"
        ) from exc
