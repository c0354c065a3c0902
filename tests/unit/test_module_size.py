"""No module of the package over 400 lines: past that, a file holds more than one thing and should be
split along the seams it already has. The generated protobuf code (`codec/_gen`) is not ours to split."""

from __future__ import annotations

from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "layers/common/python/cursor_gateway"
LIMIT = 400


def line_count(path: Path) -> int:
    """What `wc -l` says (newlines), so the figure here is the one a reader measures."""
    return path.read_bytes().count(b"\n")


def test_no_module_over_the_limit() -> None:
    files = [p for p in PACKAGE.rglob("*.py") if "_gen" not in p.relative_to(PACKAGE).parts]
    assert len(files) > 100
    sizes = sorted(((line_count(p), p.relative_to(PACKAGE)) for p in files), reverse=True)
    over = [f"{path}: {lines} lines" for lines, path in sizes if lines > LIMIT]
    if over:
        pytest.fail(
            f"modules over {LIMIT} lines (split them along their seams):\n" + "\n".join(over), pytrace=False
        )
