from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Test helpers (e.g. `testdata`) are plain modules in tests/; there are no __init__.py files.
_TESTS_DIR = str(Path(__file__).resolve().parent)
# Processes the tests start read settings from the environment: no CLI version discovery over the network.
os.environ.setdefault("CURSOR_VERSION_DISCOVERY_URL", "off")
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)


@pytest.fixture(autouse=True)
def _no_installer_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings built in a test default to Cursor's real installer URL: discovery must never reach it."""
    from cursor_gateway.upstream import cli_discovery

    async def refuse(url: str, timeout: float) -> str:
        raise ConnectionError(f"no network in tests ({url})")

    monkeypatch.setattr(cli_discovery, "fetch_install_script", refuse)
