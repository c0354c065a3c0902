"""Models as Cursor publishes them (issue 14): against a fake whose catalog has parameter ids and
published variant slugs, and whose Run refuses a slug sent with parameters (as Cursor does), the real
OpenAI and Anthropic SDKs get `reasoning_effort` / `thinking.budget_tokens` mapped onto what the catalog
offers, and `x-ignored-params` when it offers nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[FakeCursor, str]]:
    with running_fake(Behaviour()) as fake:
        fake.catalog_2026 = True
        settings = gateway_settings(fake)
        with running_gateway(settings, make_services(settings, [session_record("a")])) as url:
            models = httpx.get(url + "/v1/models", headers={"authorization": f"Bearer {ADMIN}"})
            assert "claude-sonnet-5" in {m["id"] for m in models.json()["data"]}  # Cursor's list is in
            yield fake, url


def requested(fake: FakeCursor) -> tuple[str, dict[str, str]]:
    model = fake.runs[-1].run_request.requested_model  # type: ignore[union-attr]
    return model.model_id, {p.id: p.value for p in model.parameters}


def openai_call(url: str, model: str, **extra: Any) -> Any:
    client = openai.OpenAI(base_url=url + "/v1", api_key=ADMIN, max_retries=0)
    return client.chat.completions.with_raw_response.create(model=model, messages=HI, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("model", "effort", "sent", "ignored"),
    [
        ("claude-opus-4-8", "high", ("claude-opus-4-8", {"effort": "high"}), False),  # base id + parameter
        ("gpt-5.5", "minimal", ("gpt-5.5", {"reasoning": "low"}), False),
        ("claude-sonnet-5", "low", ("claude-sonnet-5-thinking-low", {}), False),  # only variants: the slug
        ("claude-sonnet-5-thinking-low", "high", ("claude-sonnet-5-thinking-high", {}), False),
        ("grok-4.7", "high", ("grok-4.7", {}), True),  # the catalog offers no way: said so
        ("composer-2.5", None, ("composer-2.5", {"fast": "false"}), False),  # not Cursor's fast default
        ("composer-2.5-fast", None, ("composer-2.5-fast", {}), False),
    ],
)
def test_reasoning_effort_follows_the_catalog(
    stack: tuple[FakeCursor, str],
    model: str,
    effort: str | None,
    sent: tuple[str, dict[str, str]],
    ignored: bool,
) -> None:
    fake, url = stack
    extra = {"reasoning_effort": effort} if effort else {}
    raw = openai_call(url, model, **extra)
    assert raw.http_response.status_code == 200
    assert requested(fake) == sent
    assert ("reasoning_effort" in raw.headers.get("x-ignored-params", "")) is ignored
    assert raw.parse().model == model  # the client keeps seeing the id it asked for


def test_a_slug_alias_with_parameters_sends_the_slug_bare(stack: tuple[FakeCursor, str]) -> None:
    fake, url = stack
    alias = {"model": "claude-sonnet-5-thinking-high", "parameters": {"effort": "high"}}
    answer = httpx.post(
        url + "/config",
        headers={"authorization": f"Bearer {ADMIN}"},
        json={"action": "update", "model_aliases": {"deep": alias}},
    )
    assert answer.status_code == 200, answer.text
    try:
        assert openai_call(url, "deep").http_response.status_code == 200  # Cursor would refuse the mix
        assert requested(fake) == ("claude-sonnet-5-thinking-high", {})
    finally:
        httpx.post(
            url + "/config",
            headers={"authorization": f"Bearer {ADMIN}"},
            json={"action": "update", "model_aliases": None},
        )


def test_anthropic_thinking_budget_becomes_the_effort(stack: tuple[FakeCursor, str]) -> None:
    fake, url = stack
    client = anthropic.Anthropic(base_url=url, api_key=ADMIN, max_retries=0)
    raw = client.messages.with_raw_response.create(
        model="claude-opus-4-8-20261001",
        max_tokens=20000,
        thinking={"type": "enabled", "budget_tokens": 18000},
        messages=HI,  # type: ignore[arg-type]
    )
    assert raw.http_response.status_code == 200
    assert requested(fake) == ("claude-opus-4-8", {"effort": "high"})
    assert "thinking.budget_tokens" not in raw.headers.get("x-ignored-params", "")
    raw = client.messages.with_raw_response.create(
        model="grok-4.7",
        max_tokens=1024,
        thinking={"type": "enabled", "budget_tokens": 2048},
        messages=HI,  # type: ignore[arg-type]
    )
    assert raw.http_response.status_code == 200
    assert "thinking.budget_tokens" in raw.headers["x-ignored-params"]
    assert requested(fake) == ("grok-4.7", {})
