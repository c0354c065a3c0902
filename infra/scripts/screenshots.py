"""Take the admin-console screenshots (docs/img/dashboard.png, docs/img/logs.png) with the browser tests' own
tooling: the `make run` stack with the fake Cursor behind it, Debian's chromium, a little traffic.

    make screenshots          # or: .venv/bin/python infra/scripts/screenshots.py [--out docs/img]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests/browser"), str(ROOT / "tests"), str(ROOT / "layers/common/python")]

from console_stack import CHROMIUM_ARGS, chromium_path, running_stack  # noqa: E402
from screens import readme_screenshots  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs/img")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp)) as stack, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            for path in readme_screenshots(browser, stack, args.out):
                print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
