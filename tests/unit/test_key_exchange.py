from __future__ import annotations

import json
import logging

import httpx
import pytest
from cursor_gateway.errors import (
    UpstreamAuthError,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from cursor_gateway.settings import Settings
from cursor_gateway.upstream.key_exchange import KeyExchanger
from fakes.jwts import NOW, api_key, make_jwt

KEY = api_key("exchange")


def exchanger_answering(handler) -> tuple[KeyExchanger, list[httpx.Request]]:  # type: ignore[no-untyped-def]
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(record))
    settings = Settings(cursor_api_url="https://api2.example.test")
    return KeyExchanger(settings, client=client), seen


async def test_exchange_posts_the_key_and_returns_the_jwt_and_its_exp() -> None:
    access = make_jwt(token_type="api_key_token", exp=NOW + 3600)
    exchanger, seen = exchanger_answering(
        lambda r: httpx.Response(200, json={"accessToken": access, "refreshToken": access})
    )
    assert await exchanger.exchange(KEY) == (access, NOW + 3600)
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "https://api2.example.test/auth/exchange_user_api_key"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {}


@pytest.mark.parametrize(
    "status, error",
    [
        (401, UpstreamAuthError),
        (403, UpstreamAuthError),
        (429, UpstreamRateLimited),
        (500, UpstreamUnavailable),
        (503, UpstreamUnavailable),
        (404, UpstreamError),
    ],
)
async def test_http_failures_map_to_the_error_tree(
    status: int, error: type[Exception], caplog: pytest.LogCaptureFixture
) -> None:
    answer = httpx.Response(status, json={"error": "Invalid User API Key"})
    exchanger, _ = exchanger_answering(lambda r: answer)
    with caplog.at_level(logging.DEBUG), pytest.raises(error) as info:
        await exchanger.exchange(KEY)
    assert type(info.value) is error
    assert KEY not in str(info.value) and KEY not in caplog.text  # the key is masked everywhere


async def test_retry_after_is_carried() -> None:
    exchanger, _ = exchanger_answering(lambda r: httpx.Response(429, headers={"retry-after": "12"}))
    with pytest.raises(UpstreamRateLimited) as info:
        await exchanger.exchange(KEY)
    assert info.value.retry_after == 12.0


@pytest.mark.parametrize(
    "exc, error",
    [(httpx.ConnectError("refused"), UpstreamUnavailable), (httpx.ReadTimeout("slow"), UpstreamTimeout)],
)
async def test_network_failures(exc: Exception, error: type[Exception]) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exc

    exchanger, _ = exchanger_answering(fail)
    with pytest.raises(error):
        await exchanger.exchange(KEY)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>"),
        httpx.Response(200, json={"refreshToken": "x"}),
        httpx.Response(200, json={"accessToken": "not-a-jwt"}),
        httpx.Response(200, json={"accessToken": make_jwt(exp=None)}),
    ],
    ids=["not-json", "no-access-token", "not-a-jwt", "no-exp"],
)
async def test_unusable_answers_are_protocol_errors(response: httpx.Response) -> None:
    exchanger, _ = exchanger_answering(lambda r: response)
    with pytest.raises(UpstreamProtocolError):
        await exchanger.exchange(KEY)
