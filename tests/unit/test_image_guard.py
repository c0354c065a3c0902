"""The image-fetch guard's address rules, with an injected resolver (no network, nothing is connected to)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pytest
from cursor_gateway.errors import InvalidRequest
from cursor_gateway.settings import Settings
from cursor_gateway.upstream.image_fetch import ImageFetcher, forbidden_reason


def resolving_to(*addresses: str) -> ImageFetcher:
    async def resolver(host: str, port: int) -> Sequence[str]:
        return addresses

    return ImageFetcher(Settings(), resolver=resolver)


async def never(host: str, port: int) -> Sequence[str]:
    raise AssertionError("an IP literal or refused URL must not be resolved")


FORBIDDEN = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.5.4", "private"),
    ("192.168.0.10", "private"),
    ("169.254.169.254", "cloud metadata"),
    ("169.254.170.2", "cloud metadata"),
    ("100.100.100.200", "cloud metadata"),
    ("169.254.10.20", "link-local"),
    ("224.0.0.251", "multicast"),
    ("240.0.0.1", "reserved"),
    ("0.0.0.0", "unspecified"),
    ("100.64.0.1", "not a public address"),  # shared address space (CGNAT)
    ("192.0.2.7", "private"),  # documentation range
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fc00::5", "private"),
    ("fd00:ec2::254", "cloud metadata"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "embedding 127.0.0.1, a loopback"),
    ("::ffff:10.0.0.1", "embedding 10.0.0.1, a private"),
    ("::ffff:169.254.169.254", "embedding 169.254.169.254, a cloud metadata"),
    ("2002:a9fe:a9fe::1", "embedding 169.254.169.254"),  # 6to4
    ("64:ff9b::7f00:1", "embedding 127.0.0.1"),  # NAT64
    ("::7f00:1", "reserved"),  # IPv4-compatible (deprecated)
]


@pytest.mark.parametrize(("address", "reason"), FORBIDDEN)
async def test_each_forbidden_class_is_refused_after_resolution(address: str, reason: str) -> None:
    fetcher = resolving_to(address)
    with pytest.raises(InvalidRequest) as info:
        await fetcher.fetch("https://images.example.com/cat.png")
    assert info.value.status == 400 and info.value.code == "image_url_forbidden"
    assert (
        reason in info.value.message and f"resolves to {ipaddress.ip_address(address)}" in info.value.message
    )


@pytest.mark.parametrize(("address", "reason"), FORBIDDEN)
async def test_each_forbidden_class_is_refused_as_a_literal(address: str, reason: str) -> None:
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(InvalidRequest) as info:
        await ImageFetcher(Settings(), resolver=never).fetch(f"http://{host}:8080/x.png")
    assert info.value.code == "image_url_forbidden" and reason in info.value.message


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is None


async def test_one_forbidden_address_among_public_ones_refuses_the_name() -> None:
    with pytest.raises(InvalidRequest, match=r"resolves to 10\.0\.0\.1, which is a private address"):
        await resolving_to("93.184.216.34", "10.0.0.1").fetch("http://images.example.com/cat.png")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://metadata.google.internal/computeMetadata/v1/", "metadata or internal host name"),
        ("http://metadata/latest", "metadata or internal host name"),
        ("http://something.internal/x.png", "metadata or internal host name"),
        ("ftp://example.com/cat.png", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http:///cat.png", "no host"),
    ],
)
async def test_hosts_and_schemes_refused_before_resolution(url: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        await ImageFetcher(Settings(), resolver=never).fetch(url)


async def test_unresolvable_name_is_a_400() -> None:
    async def failing(host: str, port: int) -> Sequence[str]:
        raise OSError("Name or service not known")

    with pytest.raises(InvalidRequest) as info:
        await ImageFetcher(Settings(), resolver=failing).fetch("http://nowhere.example/cat.png")
    assert info.value.code == "image_fetch_failed" and "could not be resolved" in info.value.message


async def test_allow_list_exempts_its_networks_but_never_metadata() -> None:
    settings = Settings(image_fetch_allow_networks=("127.0.0.0/8", "169.254.0.0/16"))
    fetcher = ImageFetcher(settings, resolver=never)
    assert fetcher.check_address("h", "127.0.0.1") == "127.0.0.1"
    assert fetcher.check_address("h", "169.254.1.1") == "169.254.1.1"
    with pytest.raises(InvalidRequest, match="cloud metadata"):
        fetcher.check_address("h", "169.254.169.254")
    with pytest.raises(InvalidRequest, match="loopback"):
        fetcher.check_address("h", "::1")  # not in the list


def test_the_allow_list_is_empty_by_default_and_validated() -> None:
    assert Settings().image_fetch_allow_networks == ()
    env = Settings.from_env({"IMAGE_FETCH_ALLOW_NETWORKS": "127.0.0.1/32, ::1/128"})
    assert env.image_fetch_allow_networks == ("127.0.0.1/32", "::1/128")
    with pytest.raises(ValueError, match="not a CIDR"):
        Settings.from_env({"IMAGE_FETCH_ALLOW_NETWORKS": "localhost"})
