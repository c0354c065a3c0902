"""The logs and statistics pages against the request-log and usage-statistics routes (issue 11): a chat
made in the playground is found in the logs page, its tokens in the statistics page."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from console_stack import Stack, admin, navigate, session_token, visit
from playwright.sync_api import expect
from screens import readme_screenshots

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _needs_the_log_routes(logs_deployed: bool) -> None:
    """Issue 11's routes are part of the gateway now: a stack where they do not answer is a failure."""
    if not logs_deployed:
        pytest.fail("POST /logs/get answers 404 on the running stack")


def settled_entry(stack: Stack, model: str, text: str) -> dict[str, Any]:
    """The newest finished log entry of `model` whose prompt holds `text` (entries are written off the
    response path, so wait a little for `success`)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        entries = admin(stack, "/logs/get", {"query": {"model": model, "reverse": True, "limit": 20}})["logs"]
        for entry in entries:
            if entry["status"] != "success":
                continue
            detail = admin(stack, f"/logs/{entry['id']}", method="GET")["log"]
            if text in str(detail["chain"].get("prompt")):
                return detail
        time.sleep(0.3)
    raise AssertionError(f"no finished log entry of {model} with {text!r}")


def test_a_playground_chat_is_in_the_logs_page_and_its_tokens_in_the_statistics(
    page: Any, stack: Stack
) -> None:
    admin(stack, "/tokens/add", {"tokens": [{"token": session_token("logberry"), "alias": "logberry"}]})
    visit(page, "/api")
    page.select_option("#model", "gpt-5.2")
    page.fill("#prompt", "find me in the logs 7f3a")
    page.click("#send")
    expect(page.locator("#chat-status")).to_contain_text("done in", timeout=20_000)
    entry = settled_entry(stack, "gpt-5.2", "find me in the logs 7f3a")

    navigate(page, "logs")
    row = page.locator(f'#logs tr[data-id="{entry["id"]}"]')
    expect(row).to_contain_text("gpt-5.2")
    expect(row).to_contain_text("success")
    expect(row.locator("td.num").nth(2)).to_have_text(f"{entry['usage']['input']:,}")
    # Bodies load only when the detail opens.
    assert page.locator(".prompt-text").count() == 0
    row.click()
    expect(page.locator("#detail")).to_be_visible()
    expect(page.locator("#detail-body .prompt-text").last).to_have_text("find me in the logs 7f3a")
    page.click('#detail-tabs button[data-tab="delays"]')
    expect(page.locator("#delays tbody tr")).to_have_count(entry["timing"]["chunks"])
    page.click('#detail-tabs button[data-tab="raw"]')
    expect(page.locator("#detail-body pre")).to_contain_text(entry["id"])
    page.click("#detail-close")

    page.fill("#q-model", "gpt-5.2")
    page.click("#apply")
    expect(page.locator("#logs tbody tr").filter(has_not_text="gpt-5.2")).to_have_count(0)
    expect(page.locator(f'#logs tr[data-id="{entry["id"]}"]')).to_be_visible()
    with page.expect_download() as download:
        page.click("#export")
    exported = Path(download.value.path()).read_text()
    ids = [line["id"] for line in csv.DictReader(io.StringIO(exported))]
    assert entry["id"] in ids

    navigate(page, "stats")
    by_model = {r["model"]: r for r in admin(stack, "/api/stats/token/by-model?hours=24", method="GET")}
    stats_row = page.locator('#breakdown tr[data-name="gpt-5.2"]')
    expect(stats_row).to_contain_text(f"{by_model['gpt-5.2']['total_tokens']:,}")
    assert by_model["gpt-5.2"]["total_tokens"] >= entry["usage"]["input"] + entry["usage"]["output"]
    expect(page.locator("#trend-chart .legend")).to_contain_text("gpt-5.2")
    page.click('#trend-tabs button[data-dim="account"]')
    account = entry["token_info"]["email"] or entry["token_info"]["alias"]  # whichever token served it
    expect(page.locator("#trend-chart .legend")).to_contain_text(account)
    page.click('#ranges button[data-range="7d"]')
    expect(page.locator("#trend-chart svg rect").first).to_be_attached()
    page.click('#ranges button[data-range="custom"]')
    page.fill("#tz", "Asia/Tokyo")
    page.click("#apply-custom")
    expect(page.locator("#window")).to_contain_text("+09:00")  # buckets in the chosen zone
    expect(page.locator("#breakdown tr[data-name]").first).to_be_visible()


def test_markup_in_a_logged_prompt_shows_as_text_in_the_detail(page: Any, stack: Stack) -> None:
    admin(stack, "/tokens/add", {"tokens": [{"token": session_token("logberry"), "alias": "logberry"}]})
    payload = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    answer = httpx.post(
        stack.url + "/v1/chat/completions",
        json={"model": "gemini-3.1-pro-preview", "messages": [{"role": "user", "content": payload}]},
        headers={"authorization": f"Bearer {stack.admin}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    entry = settled_entry(stack, "gemini-3.1-pro-preview", payload)
    visit(page, "/logs")
    page.locator(f'#logs tr[data-id="{entry["id"]}"]').click()
    expect(page.locator("#detail-body .prompt-text").last).to_have_text(payload)
    assert page.locator("#detail img, #detail script").count() == 0  # the fixture also fails on any alert


def test_the_readme_screenshots_are_made_by_this_tooling(browser: Any, stack: Stack, tmp_path: Path) -> None:
    made = readme_screenshots(browser, stack, tmp_path)
    assert sorted(p.name for p in made) == ["dashboard.png", "logs.png"]
    for shot in made:
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
