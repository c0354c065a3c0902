"""CLI build id discovery (issue 14): the identity follows Cursor's installer script, served here by a
local HTTP server through the real fetch, never on the request path, never below the floor, off when a
version is pinned; /health and the canary say which identity is in force and where it came from."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.storage.canary import InMemoryCanaryStore
from cursor_gateway.upstream.cli_discovery import fetch_install_script, parse_build_id
from cursor_gateway.upstream.identity import DEFAULT_VERSIONS
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record

NEWER = "2026.11.20-4b1c9d2"
SCRIPT = f"""#!/usr/bin/env bash
set -euo pipefail
# Cursor Agent installer
DOWNLOAD_URL="https://downloads.cursor.com/lab/{NEWER}/${{OS}}/${{ARCH}}/agent-cli-package.tar.gz"
OLD="https://downloads.cursor.com/lab/2026.08.02-0aa11bb/linux/x64/agent-cli-package.tar.gz"
"""


class Installer:
    """A local stand-in for https://cursor.com/install: counts requests, can hold answers back."""

    def __init__(self, script: str = SCRIPT) -> None:
        self.script = script
        self.requests = 0
        self.release = threading.Event()
        self.release.set()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                owner.release.wait(10)
                body = owner.script.encode()
                self.send_response(200)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/install"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Installer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def fake() -> Iterator[FakeCursor]:
    with running_fake(Behaviour()) as server:
        yield server


class Clock:
    def __init__(self) -> None:
        import time

        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def chat(url: str) -> httpx.Response:
    return httpx.post(
        url + "/v1/chat/completions",
        headers={"authorization": f"Bearer {ADMIN}"},
        json={"model": "gpt-5.2", "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )


def wait_for(condition: Any, limit: float = 10.0) -> bool:
    """Poll (a safety limit only, never a performance claim)."""
    import time

    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_parse_build_id_takes_the_newest_lab_folder() -> None:
    assert parse_build_id(SCRIPT) == f"cli-{NEWER}"
    assert parse_build_id("echo nothing here") is None


def test_discovered_build_is_sent_and_reported(fake: FakeCursor) -> None:
    clock = Clock()
    with Installer() as installer:
        settings = gateway_settings(fake, cursor_version_discovery_url=installer.url)
        services = make_services(
            settings,
            [session_record("a")],
            canary_store=InMemoryCanaryStore(),
            version_fetch=fetch_install_script,
            clock=clock,
        )
        report = asyncio.run(services.version_discovery.refresh())
        assert report["source"] == "discovered" and report["version"] == f"cli-{NEWER}"
        with running_gateway(settings, services) as url:
            assert chat(url).status_code == 200
            assert fake.runs[-1].headers["x-cursor-client-version"] == f"cli-{NEWER}"
            health = httpx.get(url + "/health", headers={"authorization": f"Bearer {ADMIN}"}).json()
        assert health["identity"]["client_version"] == f"cli-{NEWER}"
        assert health["identity"]["source"] == "discovered"
        [canary] = asyncio.run(services.canary.run(force=True))
        assert canary["client_version"] == f"cli-{NEWER}" and canary["client_version_source"] == "discovered"
        # Kept for a day: neither the canary nor a second refresh asked again ...
        assert installer.requests == 1
        asyncio.run(services.version_discovery.refresh())
        assert installer.requests == 1
        # ... and another instance adopts the stored result without asking at all.
        other = make_services(
            settings, [], canary_store=services.canary.store, version_fetch=fetch_install_script
        )
        assert asyncio.run(other.version_discovery.refresh())["version"] == f"cli-{NEWER}"
        assert installer.requests == 1
        clock.now += 86401
        asyncio.run(services.version_discovery.refresh())
        assert installer.requests == 2


def test_discovery_never_holds_a_request_and_never_goes_below_the_floor(fake: FakeCursor) -> None:
    with Installer(SCRIPT.replace(NEWER, "2026.09.30-1234567")) as installer:
        installer.release.clear()  # the installer hangs until the test lets it answer
        settings = gateway_settings(fake, cursor_version_discovery_url=installer.url)
        services = make_services(settings, [session_record("a")], version_fetch=fetch_install_script)
        with running_gateway(settings, services) as url:
            assert chat(url).status_code == 200  # answered while the installer had not
            assert fake.runs[-1].headers["x-cursor-client-version"] == DEFAULT_VERSIONS["cli"]
            # The first look-up started the discovery in the background; its request is still held.
            assert wait_for(lambda: installer.requests == 1)
            installer.release.set()
            # An older build than the built-in floor is found but not used.
            report = asyncio.run(services.version_discovery.refresh(force=True))
            assert report["discovered"] == "cli-2026.09.30-1234567"
            assert report["version"] == DEFAULT_VERSIONS["cli"] and report["source"] == "default"


def test_a_pinned_version_turns_discovery_off_and_a_dead_installer_changes_nothing(fake: FakeCursor) -> None:
    with Installer() as installer:
        pinned = gateway_settings(
            fake, cursor_version_discovery_url=installer.url, cursor_client_version="cli-2026.12.24-ffff000"
        )
        services = make_services(pinned, [session_record("a")], version_fetch=fetch_install_script)
        assert asyncio.run(services.version_discovery.refresh(force=True))["discovery"] == "off"
        assert services.config.identity_source("agent") == "configured"
        assert services.config.identity_for("agent").client_version == "cli-2026.12.24-ffff000"
        assert installer.requests == 0

        # Stored config pins it too.
        settings = gateway_settings(fake, cursor_version_discovery_url=installer.url)
        services = make_services(settings, [session_record("a")], version_fetch=fetch_install_script)
        asyncio.run(services.version_discovery.refresh())
        services.config.update({"client_identity": {"agent": {"client_version": "cli-2026.12.01-abcdef0"}}})
        assert services.config.identity_source("agent") == "configured"
        assert services.config.identity_for("agent").client_version == "cli-2026.12.01-abcdef0"

    dead = gateway_settings(fake, cursor_version_discovery_url="http://127.0.0.1:9/install")
    services = make_services(dead, [session_record("a")], version_fetch=fetch_install_script)
    report = asyncio.run(services.version_discovery.refresh())
    assert report["error"] and report["source"] == "default" and report["version"] == DEFAULT_VERSIONS["cli"]


def test_an_ide_shaped_cli_version_is_never_sent(fake: FakeCursor) -> None:
    settings = gateway_settings(fake, cursor_client_version="cli-3.2.1")
    services = make_services(settings, [session_record("a")])
    assert services.config.identity_source("agent") == "default"
    assert services.config.identity_for("agent").client_version == DEFAULT_VERSIONS["cli"]
