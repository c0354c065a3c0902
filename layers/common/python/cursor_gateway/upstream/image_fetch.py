"""Fetching a client's http(s) image URL without letting it reach inside our network (SSRF guard).

A URL a client sends is attacker-chosen: in Lambda `http://169.254.169.254/` hands out the function's
credentials, and a local gateway sits next to admin consoles. So, for the URL and again for every
redirect (followed by hand, at most IMAGE_FETCH_MAX_REDIRECTS hops):

1. only http/https; the host is resolved here, first (an injected resolver in tests);
2. every address it resolves to must be public: loopback, private, link-local, multicast, reserved,
   unspecified, shared (CGNAT) and other non-global ranges and cloud metadata endpoints are refused,
   for IPv4 and IPv6, including IPv4 embedded in IPv6 (mapped, 6to4, Teredo, NAT64);
3. the connection goes to the vetted address itself (TLS still checks the certificate against the
   host name via SNI), so no second DNS lookup can rebind the name to an internal address; connections
   are never pooled, and proxies from the environment are ignored (a proxy would resolve on its own);
4. the whole fetch has one deadline (IMAGE_FETCH_TIMEOUT), the body a size cap (IMAGE_FETCH_MAX_BYTES),
   the response must say `image/*` and its bytes must be a PNG, JPEG, GIF or WebP.

IMAGE_FETCH_ALLOW_NETWORKS exempts chosen networks (tests on 127.0.0.1; empty by default); metadata
addresses are never exempt. Every refusal is an `InvalidRequest` (400) that names the reason.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence

import httpx

from cursor_gateway.domain.chat import ImagePart
from cursor_gateway.errors import InvalidRequest
from cursor_gateway.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

# Instance metadata services: AWS/GCP/Azure/OpenStack/DigitalOcean (169.254.169.254), ECS task metadata,
# AWS DNS and NTP, AWS's IPv6 IMDS, Alibaba Cloud, Oracle Cloud's second address.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.169.253",
        "169.254.169.123",
        "fd00:ec2::254",
        "fd00:ec2::23",
        "100.100.100.200",
        "192.0.0.192",
    )
)
METADATA_HOSTS = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data"})
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# What Cursor accepts; the sniffed type wins over a mislabelled Content-Type.
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
)
_REDIRECTS = {301, 302, 303, 307, 308}


def refused(message: str, code: str = "image_url_forbidden") -> InvalidRequest:
    return InvalidRequest(f"Image URL refused: {message}", code=code)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's (obfuscation undone by ipaddress)
    for network in _NAT64:
        if ip in network:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why `ip` must not be fetched from, or None for a public address."""
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner = forbidden_reason(embedded)
            return f"an IPv6 address embedding {embedded}, {inner}" if inner else None
    checks = (
        ("an unspecified address", ip.is_unspecified),
        ("a loopback address", ip.is_loopback),
        ("a link-local address", ip.is_link_local),
        ("a multicast address", ip.is_multicast),
        ("a reserved address", ip.is_reserved),
        ("a private address", ip.is_private),
    )
    for name, hit in checks:
        if hit:
            return name
    if not ip.is_global:  # shared address space (CGNAT), documentation, benchmarking ...
        return "not a public address"
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in seen:
            seen.append(address)
    return seen


def _sniff(head: bytes) -> str | None:
    for magic, offset, mime in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            if mime == "image/webp" and head[:4] != b"RIFF":
                continue
            return mime
    return None


class ImageFetcher:
    def __init__(self, settings: Settings, resolver: Resolver | None = None) -> None:
        self.settings = settings
        self.resolver = resolver or system_resolver
        networks = settings.image_fetch_allow_networks
        self.allowed = tuple(ipaddress.ip_network(n, strict=False) for n in networks)
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                trust_env=False,  # an environment proxy would resolve the name itself
                follow_redirects=False,  # every hop is vetted here
                limits=httpx.Limits(max_keepalive_connections=0),  # a pooled connection is keyed by IP only
                timeout=httpx.Timeout(self.settings.image_fetch_timeout),
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def check_address(self, host: str, address: str) -> str:
        """The address to connect to, or a refusal naming why not."""
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
        except ValueError:
            raise refused(f"{host} resolved to '{address}', which is not an IP address") from None
        reason = forbidden_reason(ip)
        if reason is None:
            return str(ip)
        if ip not in METADATA_ADDRESSES and any(ip in net for net in self.allowed):
            return str(ip)
        target = f"{host} is" if host == str(ip) else f"{host} resolves to {ip}, which is"
        raise refused(f"{target} {reason}")

    async def vet(self, url: httpx.URL) -> str:
        """Check one hop's URL and return the one address to connect to."""
        if url.scheme not in ("http", "https"):
            raise refused(f"only http and https URLs can be fetched, not '{url.scheme}:'")
        host = url.host.rstrip(".").lower()
        if not host:
            raise refused("the URL has no host")
        if host in METADATA_HOSTS or host.endswith(".internal"):
            raise refused(f"{host} is a cloud metadata or internal host name")
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            return self.check_address(host, str(literal))
        try:
            addresses = list(await self.resolver(host, port))
        except (OSError, UnicodeError) as exc:
            raise refused(f"{host} could not be resolved ({exc})", code="image_fetch_failed") from None
        if not addresses:
            raise refused(f"{host} could not be resolved", code="image_fetch_failed")
        # Every address must pass: the client would pick any of them, and so could a retry.
        vetted = [self.check_address(host, a) for a in addresses]
        return vetted[0]

    async def fetch(self, url: str) -> ImagePart:
        try:
            async with asyncio.timeout(self.settings.image_fetch_timeout):
                return await self._follow(url)
        except TimeoutError:
            raise refused(
                f"{_short(url)} did not answer within {self.settings.image_fetch_timeout:g} s",
                code="image_fetch_failed",
            ) from None

    async def _follow(self, url: str) -> ImagePart:
        try:
            current = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise refused(f"not a valid URL ({exc})") from None
        for hop in range(self.settings.image_fetch_max_redirects + 1):
            address = await self.vet(current)
            location = await self._get(current, address)
            if isinstance(location, ImagePart):
                return location
            try:
                current = current.join(location)
            except httpx.InvalidURL as exc:
                raise refused(f"redirect {hop + 1} is not a valid URL ({exc})") from None
        raise refused(
            f"{_short(url)} redirected more than {self.settings.image_fetch_max_redirects} times",
            code="image_fetch_failed",
        )

    async def _get(self, url: httpx.URL, address: str) -> ImagePart | str:
        """One request to the vetted address: the image, or the next hop's Location."""
        host = url.host
        headers = {"host": url.netloc.decode("ascii"), "accept": "image/*"}
        extensions = {"sni_hostname": host} if url.scheme == "https" else {}
        request = self.client().build_request(
            "GET", url.copy_with(host=address), headers=headers, extensions=extensions
        )
        try:
            response = await self.client().send(request, stream=True)
        except httpx.HTTPError as exc:
            raise refused(
                f"{host} could not be fetched ({type(exc).__name__})", code="image_fetch_failed"
            ) from None
        try:
            if response.status_code in _REDIRECTS and response.headers.get("location"):
                return response.headers["location"]
            if response.status_code != 200:
                raise refused(f"{host} answered HTTP {response.status_code}", code="image_fetch_failed")
            declared = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if not declared.startswith("image/"):
                raise refused(
                    f"{host} sent '{declared or 'no content type'}', not an image", code="image_not_image"
                )
            data = await self._read(response, host)
        finally:
            await response.aclose()
        mime = _sniff(data[:16])
        if mime is None:
            raise refused(
                f"{host} sent bytes that are not a PNG, JPEG, GIF or WebP image", code="image_not_image"
            )
        return ImagePart(mime_type=mime, data=data)

    async def _read(self, response: httpx.Response, host: str) -> bytes:
        cap = self.settings.image_fetch_max_bytes
        too_large = refused(f"the image from {host} is larger than {cap} bytes", code="image_too_large")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise too_large
        body = bytearray()
        try:
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > cap:
                    raise too_large
        except httpx.HTTPError as exc:
            raise refused(
                f"reading from {host} failed ({type(exc).__name__})", code="image_fetch_failed"
            ) from None
        return bytes(body)


def _short(url: str) -> str:
    return url if len(url) <= 80 else url[:77] + "..."
