from __future__ import annotations

import sys
from pathlib import Path

# Test helpers (e.g. `testdata`) are plain modules in tests/; there are no __init__.py files.
_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)
