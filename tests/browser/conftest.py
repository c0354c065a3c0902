"""Browser tests of the admin console: Playwright driving Debian's Chromium against the real `make run`
stack (gateway + embedded moto) with the fake Cursor behind it.

One stack and one browser per session (they take seconds to start); each test gets a fresh browser
context (its own storage), so tests do not see each other's key, language or dialogs. A test fails if its
page logged a console error, threw, or opened an alert (an alert is what an XSS payload would do); a
failing test leaves a screenshot in test-artifacts/browser/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from console_stack import (
    CHROMIUM_ARGS,
    ROOT,
    Console,
    Stack,
    chromium_path,
    open_context,
    running_stack,
    watch,
)

ARTIFACTS = ROOT / "test-artifacts" / "browser"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last. While the browser is open, Playwright's sync API keeps its event loop
    running in the main thread, and a test after it that drives a loop itself (Mangum handlers,
    asyncio.run) would fail with "This event loop is already running"."""
    here = Path(__file__).resolve().parent
    ours = [item for item in items if here in Path(item.path).resolve().parents]
    if ours:
        items[:] = [item for item in items if item not in ours] + ours


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("console")) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        executable = chromium_path()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)  # never a silent skip
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, "report_" + report.when, report)
    return report


@pytest.fixture(scope="session")
def logs_deployed(stack: Stack) -> bool:
    """Whether this gateway serves the request-log and statistics routes (issue 11)."""
    answer = httpx.post(
        stack.url + "/logs/get", json={"query": {}}, headers={"authorization": f"Bearer {stack.admin}"}
    )
    return answer.status_code != 404


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Any, stack: Stack, console: Console, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = open_context(browser, stack, key="no_key" not in request.keywords)
    page = context.new_page()
    watch(page, console)
    try:
        yield page
        report = getattr(request.node, "report_call", None)
        if report is None or report.passed:
            assert console.dialogs == [], f"the page opened dialogs: {console.dialogs}"
            assert console.unexpected() == [], f"console errors: {console.unexpected()}"
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        context.close()
