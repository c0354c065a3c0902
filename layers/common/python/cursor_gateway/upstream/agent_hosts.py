"""The agent host of an account, from `GetServerConfig`'s `agentUrlConfig` (pure; issue 14).

Cursor answers `agentUrlConfig {agentUrl (privacy mode), agentnUrl (otherwise)}`; accounts in some
regions get hosts such as `https://agentn.us.api5.cursor.sh` and fail on the global one. The field
numbers of that message in the binary answer are not in any public schema yet, so the sub-message is
recognised by what it holds (URLs; see `parse_agent_urls`).

Which base URL a Run uses: the account's host first (an account that Cursor sends elsewhere fails on the
others), then the stored config's per-profile `base_url`, then CURSOR_API_URL. A plain-`http://`
CURSOR_API_URL (the emulator, tests) overrides everything: no TLS host stands in for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from google.protobuf import empty_pb2
from google.protobuf.message import DecodeError

from cursor_gateway.upstream.drift import unknown_fields_of

_WIRE_LENGTH_DELIMITED = 2


@dataclass(frozen=True, slots=True)
class AgentUrls:
    agent_url: str = ""  # privacy mode
    agentn_url: str = ""  # non-privacy

    def for_mode(self, ghost_mode: bool) -> str:
        """The host for this privacy mode, or the other one when only that one was sent."""
        first, second = (self.agent_url, self.agentn_url) if ghost_mode else (self.agentn_url, self.agent_url)
        return first or second


def _strings(payload: bytes) -> list[tuple[int, bytes]]:
    """(field number, bytes) of the length-delimited fields of an arbitrary message."""
    holder = empty_pb2.Empty()
    try:
        holder.ParseFromString(payload)
    except DecodeError:
        return []
    return [
        (f.field_number, bytes(f.data))
        for f in unknown_fields_of(holder)
        if f.wire_type == _WIRE_LENGTH_DELIMITED
    ]


def _url(value: bytes) -> str:
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        return ""
    parts = urlsplit(text)
    return text.rstrip("/") if parts.scheme in ("https", "http") and parts.hostname else ""


def parse_agent_urls(payload: bytes) -> AgentUrls:
    """The account's agent hosts from a binary `GetServerConfigResponse` (empty when it names none): the
    first sub-message holding URLs. A host labelled `agentn` / `agent` says which it is; otherwise the
    order of the schema the JSON names show (`agentUrl`, then `agentnUrl`) decides."""
    for _number, inner in _strings(payload):
        urls = [url for _field, value in sorted(_strings(inner)) if (url := _url(value))]
        if not urls:
            continue
        labels = {(urlsplit(u).hostname or "").split(".", 1)[0]: u for u in urls}
        if "agent" in labels or "agentn" in labels:
            return AgentUrls(agent_url=labels.get("agent", ""), agentn_url=labels.get("agentn", ""))
        return AgentUrls(agent_url=urls[0], agentn_url=urls[1] if len(urls) > 1 else "")
    return AgentUrls()


def run_base_url(api_url: str, account_host: str, configured: str = "") -> str:
    """The base URL for an agent Run (see the module docstring)."""
    plaintext = urlsplit(api_url).scheme == "http"
    for candidate in (account_host, configured):
        if candidate and (not plaintext or urlsplit(candidate).scheme == "http"):
            return candidate
    return api_url
