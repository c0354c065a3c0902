"""The Lambda runtime ships no /usr/share/zoneinfo: time zones must resolve from the `tzdata` package the
layer installs (issue 14, left over from the pool issue)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_layer_pins_tzdata() -> None:
    pins = (ROOT / "layers/common/python/requirements.txt").read_text().splitlines()
    assert any(line.startswith("tzdata==") for line in pins)


def test_zones_resolve_without_a_system_database() -> None:
    # A fresh interpreter with an empty TZPATH sees only the tzdata package, as on Lambda.
    code = (
        "import zoneinfo; zoneinfo.reset_tzpath([]);"
        "from cursor_gateway.domain.tokens import is_valid_timezone;"
        "print(zoneinfo.ZoneInfo('Asia/Tokyo').utcoffset(__import__('datetime').datetime(2026, 1, 1)), is_valid_timezone('Europe/Paris'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["9:00:00", "True"]
