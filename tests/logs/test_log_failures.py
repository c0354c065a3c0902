"""A log store that is down, or stuck, never fails or holds up a chat request (real SDK, real sockets):
the answers arrive, the failures are counted in /health, and a stuck store's writes land once it moves."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import anthropic
import httpx
import openai
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.storage.canary import InMemoryCanaryStore
from cursor_gateway.storage.request_logs_batch import Completion
from cursor_gateway.storage.request_logs_memory import InMemoryRequestLogStore
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record
from logs_env import settle


def test_a_failing_log_store_leaves_chat_untouched_and_shows_in_health() -> None:
    store = InMemoryRequestLogStore()
    store.fail = True
    with running_fake(Behaviour(delay=0.0)) as fake:
        settings = gateway_settings(fake)
        services = make_services(
            settings, [session_record("alpha")], request_log_store=store, canary_store=InMemoryCanaryStore()
        )
        services.request_log.pending_delay = 60  # no pending write: each request fails exactly one write
        with running_gateway(settings, services) as url:
            sdk = openai.OpenAI(base_url=url + "/v1", api_key=ADMIN, max_retries=0)
            answer = sdk.chat.completions.create(
                model="gpt-5.2", messages=[{"role": "user", "content": "hi"}]
            )
            assert answer.choices[0].message.content == "Echo: hi"
            claude = anthropic.Anthropic(base_url=url, api_key=ADMIN, max_retries=0)
            streamed = claude.messages.create(
                model="claude-4.6-sonnet",
                max_tokens=50,
                messages=[{"role": "user", "content": "yo"}],
                stream=True,
            )
            assert any(getattr(e, "type", "") == "message_stop" for e in streamed)
            settle(services.request_log)
            health = httpx.get(url + "/health", headers={"authorization": f"Bearer {ADMIN}"}).json()
            listing = httpx.post(url + "/logs/get", json={}, headers={"authorization": f"Bearer {ADMIN}"})
    assert health["storage"]["dynamodb"] == "error" and health["storage"]["log_write_failures"] == 2
    assert health["requests"] == {"in_flight": 0, "errors_today": None}
    assert listing.status_code == 503 and listing.json()["error"] == "log_store_unavailable"


class StuckStore(InMemoryRequestLogStore):
    """Every write waits until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def put_pending(self, *args: Any) -> None:
        assert self.release.wait(30)
        super().put_pending(*args)

    def complete(self, *args: Any) -> bool:
        assert self.release.wait(30)
        return super().complete(*args)

    def complete_many(self, completions: Sequence[Completion]) -> dict[str, bool]:
        assert self.release.wait(30)
        return super().complete_many(completions)


def test_the_answer_never_waits_for_a_stuck_log_store() -> None:
    store = StuckStore()
    with running_fake(Behaviour(delay=0.0)) as fake:
        settings = gateway_settings(fake)
        services = make_services(settings, [session_record("alpha")], request_log_store=store)
        with running_gateway(settings, services) as url:
            sdk = openai.OpenAI(base_url=url + "/v1", api_key=ADMIN, max_retries=0)
            stream = sdk.chat.completions.create(
                model="gpt-5.2", messages=[{"role": "user", "content": "stuck?"}], stream=True
            )
            text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            assert text == "Echo: stuck?"
            assert store.items == {} and services.request_log.health()["log_write_backlog"] >= 1
            store.release.set()
            settle(services.request_log)
    [item] = store.items.values()
    assert item["status"] == "success"
