"""vision_ability none | base64 | all through both APIs, with the real SDKs: the runtime config decides,
http(s) image URLs go through the guard (an image host on 127.0.0.1, allowed by the test-only
IMAGE_FETCH_ALLOW_NETWORKS), and the fetched bytes reach Cursor."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.services.container import Services
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record
from image_server import PNG, ImageHost, running_image_host


@pytest.fixture
def host() -> Iterator[ImageHost]:
    with running_image_host() as server:
        yield server


@pytest.fixture
def stack() -> Iterator[tuple[str, Services, FakeCursor]]:
    with running_fake(Behaviour(delay=0.0)) as fake:
        settings = gateway_settings(fake, image_fetch_allow_networks=("127.0.0.1/32",))
        services = make_services(settings, [session_record("alpha")])
        with running_gateway(settings, services) as url:
            yield url, services, fake


def set_vision(services: Services, value: str) -> None:
    services.config.update({"vision_ability": value})


def ask_openai(url: str, image_url: str) -> Any:
    return openai.OpenAI(base_url=url + "/v1", api_key=ADMIN, max_retries=0).chat.completions.create(
        model="gpt-5.2",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is it?"},
                    {"type": "image_url", "image_url": {"url": image_url}},
                ],
            }
        ],
    )


def ask_anthropic(url: str, source: dict[str, Any]) -> Any:
    return anthropic.Anthropic(base_url=url, api_key=ADMIN, max_retries=0).messages.create(
        model="gpt-5.2",
        max_tokens=64,
        messages=[
            {
                "role": "user",
                "content": [{"type": "text", "text": "what is it?"}, {"type": "image", "source": source}],
            }
        ],
    )


def sent_images(fake: FakeCursor) -> list[tuple[str, bytes]]:
    run = fake.runs[-1].run_request
    assert run is not None
    images = run.action.user_message_action.user_message.selected_context.selected_images
    return [(i.mime_type, i.data) for i in images]


DATA_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()
BASE64_SOURCE = {"type": "base64", "media_type": "image/png", "data": base64.b64encode(PNG).decode()}


def test_all_fetches_urls_through_the_guard_in_both_apis(
    stack: tuple[str, Services, FakeCursor], host: ImageHost
) -> None:
    url, services, fake = stack
    set_vision(services, "all")
    answer = ask_openai(url, host.url("/cat.png"))
    assert answer.choices[0].message.content == "Echo: what is it?"
    assert sent_images(fake) == [("image/png", PNG)]
    message = ask_anthropic(url, {"type": "url", "url": host.url("/redirect?to=/cat.png")})
    assert message.content[0].text == "Echo: what is it?"
    assert sent_images(fake) == [("image/png", PNG)]
    assert [path for path, _ in host.requests] == ["/cat.png", "/redirect?to=/cat.png", "/cat.png"]


def test_all_still_refuses_forbidden_addresses_in_both_apis(
    stack: tuple[str, Services, FakeCursor], host: ImageHost
) -> None:
    url, services, fake = stack
    set_vision(services, "all")
    runs = len(fake.runs)
    metadata = host.url("/redirect?to=http://169.254.169.254/latest/meta-data/")
    with pytest.raises(openai.BadRequestError) as oai:
        ask_openai(url, metadata)
    error = oai.value.body
    assert isinstance(error, dict)
    assert error["code"] == "image_url_forbidden" and error["param"] == "messages[0].content"
    assert "cloud metadata" in error["message"]
    with pytest.raises(anthropic.BadRequestError) as ant:
        ask_anthropic(url, {"type": "url", "url": f"http://127.0.0.2:{host.port}/cat.png"})
    assert ant.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert "127.0.0.2 is a loopback address" in ant.value.body["error"]["message"]  # type: ignore[index]
    assert len(fake.runs) == runs  # refused before the chat opened


def test_base64_refuses_urls_and_accepts_inline_images(
    stack: tuple[str, Services, FakeCursor], host: ImageHost
) -> None:
    url, services, fake = stack
    set_vision(services, "base64")
    with pytest.raises(openai.BadRequestError) as oai:
        ask_openai(url, host.url("/cat.png"))
    assert oai.value.body["code"] == "image_url_not_allowed"  # type: ignore[index]
    with pytest.raises(anthropic.BadRequestError) as ant:
        ask_anthropic(url, {"type": "url", "url": host.url("/cat.png")})
    assert "vision_ability is 'base64'" in ant.value.body["error"]["message"]  # type: ignore[index]
    assert host.requests == []  # never fetched
    ask_openai(url, DATA_URL)
    assert sent_images(fake) == [("image/png", PNG)]
    ask_anthropic(url, BASE64_SOURCE)
    assert sent_images(fake) == [("image/png", PNG)]


def test_none_refuses_every_image(stack: tuple[str, Services, FakeCursor]) -> None:
    url, services, fake = stack
    set_vision(services, "none")
    runs = len(fake.runs)
    with pytest.raises(openai.BadRequestError) as oai:
        ask_openai(url, DATA_URL)
    assert oai.value.body["code"] == "images_disabled"  # type: ignore[index]
    with pytest.raises(anthropic.BadRequestError) as ant:
        ask_anthropic(url, BASE64_SOURCE)
    assert "Images are disabled" in ant.value.body["error"]["message"]  # type: ignore[index]
    assert len(fake.runs) == runs
    text_only = anthropic.Anthropic(base_url=url, api_key=ADMIN, max_retries=0).messages.create(
        model="gpt-5.2", max_tokens=8, messages=[{"role": "user", "content": "no picture"}]
    )
    assert text_only.content[0].text == "Echo: no picture"  # type: ignore[union-attr]
