"""Fixtures for the request-log and statistics tests; helpers live in tests/logs_env.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cursor_gateway.local.moto_server import EmbeddedMoto
from logs_env import LogAws, create_log_resources


@pytest.fixture(scope="session")
def log_moto() -> Iterator[str]:
    server = EmbeddedMoto("127.0.0.1", 0)
    endpoint = server.start()
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture
def log_aws(log_moto: str) -> LogAws:
    return create_log_resources(log_moto)
