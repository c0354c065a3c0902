"""The admin-console screenshots (docs/admin-console.md) (dashboard and logs pages), taken on the browser tests' stack with a little
traffic first. `infra/scripts/screenshots.py` writes them to docs/img/; the browser tests run the same
code into a temporary directory, so the tooling cannot rot."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from console_stack import Stack, admin, open_context, session_token, visit

MODELS = ("claude-4.6-sonnet", "gpt-5.2", "claude-4.6-sonnet-thinking", "gemini-3.1-pro-preview")


def seed(stack: Stack) -> None:
    tokens = [{"token": session_token(alias), "alias": alias} for alias in ("aster", "birch", "cedar")]
    admin(stack, "/tokens/add", {"tokens": tokens})
    admin(stack, "/tokens/status/set", {"aliases": ["cedar"], "status": "disabled"})
    for index, model in enumerate(MODELS):
        answer = httpx.post(
            stack.url + "/v1/chat/completions",
            json={
                "model": model,
                "messages": [{"role": "user", "content": f"Summarise ticket #{100 + index}"}],
            },
            headers={"authorization": f"Bearer {stack.admin}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 15  # entries settle off the response path
    while time.monotonic() < deadline:
        logs = admin(stack, "/logs/get", {"query": {"limit": 50, "reverse": True}})["logs"]
        if logs and all(entry["status"] != "pending" for entry in logs):
            return
        time.sleep(0.3)


def readme_screenshots(browser: Any, stack: Stack, out_dir: Path) -> list[Path]:
    seed(stack)
    out_dir.mkdir(parents=True, exist_ok=True)
    context = open_context(browser, stack, viewport={"width": 1280, "height": 860}, color_scheme="light")
    made = []
    try:
        page = context.new_page()
        for path, name, ready in (
            ("/", "dashboard.png", "#pool tbody tr"),
            ("/logs", "logs.png", "#logs tbody tr"),
        ):
            visit(page, path)
            page.locator(ready).first.wait_for()
            page.wait_for_load_state("networkidle")
            target = out_dir / name
            page.screenshot(path=str(target), full_page=False)
            made.append(target)
    finally:
        context.close()
    return made
