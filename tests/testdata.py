"""Locate the shared test fixtures (`shared/testdata`, described in its README.md).

Tests run from a clone at `<x>/main` with `shared/` beside it, so the default is
`<repo>/../shared/testdata`. Set `CURSOR_GATEWAY_TESTDATA` to point somewhere else. A missing directory or
file is an error, never a skip: these fixtures are the only ground truth for the stream decoder.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

ENV_VAR = "CURSOR_GATEWAY_TESTDATA"
REPO_ROOT = Path(__file__).resolve().parent.parent


def _resolve_shared_testdata() -> Path:
    override = os.environ.get(ENV_VAR)
    return Path(override).expanduser().resolve() if override else REPO_ROOT.parent / "shared" / "testdata"


SHARED_TESTDATA: Path = _resolve_shared_testdata()

# file name -> (size in bytes, sha256), copied from shared/testdata/README.md.
FIXTURES: dict[str, tuple[int, str]] = {
    "cursor-stream-capture.hex": (3196, "7a2f6d0dc9a764fda7b5d65776ce0040548d07534e49d235aeb84384df0ffc88"),
    "cursor-stream-capture.bin": (1598, "f9e1bd8cfe345f1d8d125bd62d09ab42819e9b44d0b3c5ae6c7969cc18e3246d"),
    "cursor-stream-capture.expected.txt": (
        168,
        "74527ec795fee70229d99c8f44c31e96c605489594954a1f673005caf28ecae4",
    ),
    "cursor-stream-capture.synthetic-unified.bin": (
        1683,
        "ed3a7b5958551b5c1969dd09057ae307fb185a63af32ccde660c3ad8ed08ed11",
    ),
    "cursor-error-endstream.synthetic.bin": (
        569,
        "67101ba897f6a813c3aa7df01652bb68070d24c65001116c69dc531487d132db",
    ),
}


class MissingTestData(FileNotFoundError):
    """The shared fixtures are not where the tests expect them."""


def shared_path(name: str) -> Path:
    """Path of one shared fixture; raises (so the test fails) if it is not there."""
    if not SHARED_TESTDATA.is_dir():
        raise MissingTestData(
            f"shared test data directory not found: {SHARED_TESTDATA} "
            f"(expected <repo>/../shared/testdata, or set {ENV_VAR})"
        )
    path = SHARED_TESTDATA / name
    if not path.is_file():
        raise MissingTestData(f"shared fixture missing: {path}")
    return path


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_fixture(name: str) -> bytes:
    """Bytes of a fixture listed in FIXTURES, after checking its size and sha256 against the README."""
    data = shared_path(name).read_bytes()
    size, digest = FIXTURES[name]
    if len(data) != size or sha256_hex(data) != digest:
        raise AssertionError(
            f"{name}: got {len(data)} bytes sha256 {sha256_hex(data)}, README says {size} bytes {digest}"
        )
    return data
