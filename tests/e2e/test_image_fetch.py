"""The image-fetch guard over real sockets: an image host on 127.0.0.1, reachable only through the test
seams (IMAGE_FETCH_ALLOW_NETWORKS and an injected resolver); redirects to forbidden addresses refused."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any
from urllib.parse import quote

import pytest
from cursor_gateway.errors import InvalidRequest
from cursor_gateway.settings import Settings
from cursor_gateway.upstream.image_fetch import ImageFetcher
from image_server import PNG, ImageHost, running_image_host

NAMES = {"images.test": ["127.0.0.1"], "internal.test": ["10.0.0.5"], "both.test": ["127.0.0.1", "::1"]}


async def resolver(host: str, port: int) -> Sequence[str]:
    return NAMES[host]


@pytest.fixture
def host() -> Iterator[ImageHost]:
    with running_image_host() as server:
        yield server


def fetcher_for(**settings: Any) -> ImageFetcher:
    values: dict[str, Any] = {"image_fetch_allow_networks": ("127.0.0.1/32",), "image_fetch_max_redirects": 3}
    values.update(settings)
    return ImageFetcher(Settings(**values), resolver=resolver)


@pytest.fixture
async def fetcher() -> AsyncIterator[ImageFetcher]:
    made = fetcher_for()
    yield made
    await made.aclose()


async def refused(fetcher: ImageFetcher, url: str) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        await fetcher.fetch(url)
    assert info.value.status == 400
    return info.value


async def test_allowed_fetch_connects_to_the_vetted_address_with_the_original_host(
    host: ImageHost, fetcher: ImageFetcher
) -> None:
    # `images.test` exists only in the injected resolver: had the client looked the name up again, the
    # fetch would fail. The server still sees the name in Host.
    image = await fetcher.fetch(host.url("/cat.png", host="images.test"))
    assert (image.mime_type, image.data, image.url) == ("image/png", PNG, "")
    assert host.requests == [("/cat.png", f"images.test:{host.port}")]


async def test_without_the_allow_list_loopback_is_refused_and_never_contacted(host: ImageHost) -> None:
    plain = ImageFetcher(Settings(), resolver=resolver)
    error = await refused(plain, host.url("/cat.png"))
    assert error.code == "image_url_forbidden" and "loopback" in error.message
    error = await refused(plain, host.url("/cat.png", host="images.test"))
    assert "images.test resolves to 127.0.0.1, which is a loopback address" in error.message
    assert host.requests == []


async def test_a_name_resolving_to_an_unlisted_address_is_refused(
    host: ImageHost, fetcher: ImageFetcher
) -> None:
    error = await refused(fetcher, host.url("/cat.png", host="both.test"))
    assert "resolves to ::1, which is a loopback address" in error.message
    assert host.requests == []


def redirect_to(host: ImageHost, target: str) -> str:
    return host.url("/redirect?to=" + quote(target, safe=""))


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://127.0.0.2:{port}/cat.png", "127.0.0.2 is a loopback address"),
        ("http://[::1]:{port}/cat.png", "::1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/iam/security-credentials/", "a cloud metadata address"),
        ("http://[::ffff:169.254.169.254]/latest/", "a cloud metadata address"),
        ("http://internal.test/cat.png", "internal.test resolves to 10.0.0.5, which is a private address"),
        ("http://metadata.google.internal/computeMetadata/v1/", "metadata or internal host name"),
        ("file:///etc/passwd", "only http and https"),
    ],
)
async def test_redirect_from_an_allowed_host_to_a_forbidden_one_is_refused(
    host: ImageHost, fetcher: ImageFetcher, target: str, reason: str
) -> None:
    error = await refused(fetcher, redirect_to(host, target.format(port=host.port)))
    assert reason in error.message
    assert [path for path, _ in host.requests] == [
        redirect_to(host, target.format(port=host.port))[len(host.url("")) :]
    ]


async def test_allowed_redirects_are_followed_relative_and_absolute(
    host: ImageHost, fetcher: ImageFetcher
) -> None:
    relative = await fetcher.fetch(redirect_to(host, "/cat.png"))
    absolute = await fetcher.fetch(redirect_to(host, host.url("/cat.png", host="images.test")))
    assert relative.data == PNG and absolute.data == PNG
    assert [p for p, _ in host.requests if p == "/cat.png"] == ["/cat.png", "/cat.png"]


async def test_redirect_hops_are_capped(host: ImageHost, fetcher: ImageFetcher) -> None:
    error = await refused(fetcher, host.url("/loop"))
    assert error.code == "image_fetch_failed" and "redirected more than 3 times" in error.message
    assert len(host.requests) == 4


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("/page.html", "image_not_image", "'text/html', not an image"),
        ("/fake.png", "image_not_image", "not a PNG, JPEG, GIF or WebP"),
        ("/big.png", "image_too_large", "larger than 1000 bytes"),
        ("/stream.png", "image_too_large", "larger than 1000 bytes"),  # no Content-Length: counted as read
        ("/missing.png", "image_fetch_failed", "answered HTTP 404"),
    ],
)
async def test_only_small_real_images_are_accepted(
    host: ImageHost, path: str, code: str, message: str
) -> None:
    capped = fetcher_for(image_fetch_max_bytes=1000)
    try:
        error = await refused(capped, host.url(path))
    finally:
        await capped.aclose()
    assert error.code == code and message in error.message


async def test_the_whole_fetch_has_a_deadline(host: ImageHost) -> None:
    quick = fetcher_for(image_fetch_timeout=0.3)
    try:
        error = await refused(quick, host.url("/slow.png"))
    finally:
        await quick.aclose()
    assert error.code == "image_fetch_failed" and "did not answer within 0.3 s" in error.message
