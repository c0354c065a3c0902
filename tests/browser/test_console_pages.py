"""The admin console's main actions, end to end in Chromium: the page does it, the admin API confirms it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from console_stack import Console, Stack, admin, navigate, open_context, session_token, visit, watch
from playwright.sync_api import expect

pytestmark = pytest.mark.slow

PAGES = ["/", "/tokens", "/proxies", "/config", "/logs", "/stats", "/keys", "/analytics", "/api"]


def add_token(stack: Stack, alias: str) -> None:
    answer = admin(stack, "/tokens/add", {"tokens": [{"token": session_token(alias), "alias": alias}]})
    assert answer["results"][0]["outcome"] in ("added", "duplicate"), answer


@pytest.mark.no_key
def test_the_key_is_asked_once_and_a_401_asks_again(page: Any, stack: Stack, console: Console) -> None:
    console.allow(r"status of 401")  # the rejected key's request, by design
    page.goto("/")  # not ready until a key is given
    expect(page.locator("#auth-dialog")).to_be_visible()
    page.fill("#admin-key", "not-the-key")
    page.click("#admin-key-save")
    expect(page.locator("#auth-error")).to_contain_text("401")
    page.fill("#admin-key", stack.admin)
    page.click("#admin-key-save")
    expect(page.locator("#card-tokens .value")).to_have_text(re.compile(r"^\d+$"))
    # Kept for this tab only: another page of the same tab does not ask again...
    visit(page, "/tokens")
    expect(page.locator("#tokens tbody")).to_be_attached()
    expect(page.locator("#auth-dialog")).to_have_count(0)
    assert page.evaluate("localStorage.getItem('cg.adminKey')") is None
    # ...and the API stays JSON for everyone but a navigating browser.
    assert httpx.get(stack.url + "/").json()["status"] == "ok"
    assert httpx.get(stack.url + "/", headers={"accept": "text/html"}).text.startswith("<!doctype html>")


def test_add_tokens_shows_each_outcome_and_disabling_one_changes_the_dashboard(
    page: Any, stack: Stack
) -> None:
    token = session_token("bramble")
    visit(page, "/tokens")
    page.click("#show-add")
    page.fill("#add-text", f"bramble={token}\nnot-a-token-at-all")
    page.click("#add-submit")
    results = page.locator("#add-results tbody tr")
    expect(results).to_have_count(2)
    expect(page.locator('#add-results tr[data-outcome="added"]')).to_contain_text("bramble")
    rejected = page.locator('#add-results tr[data-outcome="malformed"]')
    expect(rejected).to_contain_text("three dot-separated parts")  # the server's diagnostic, verbatim
    row = page.locator('#tokens tr[data-alias="bramble"]')
    expect(row).to_contain_text("Healthy")
    # Masked until revealed.
    expect(row.locator("td.mono")).not_to_have_text(token)
    row.locator("button.reveal").click()
    expect(row.locator("td.mono")).to_have_text(token)

    row.locator("input[type=checkbox]").check()
    page.click('#actions button[data-action="disable"]')
    expect(row).to_contain_text("Disabled")
    listed = {alias: info for _, alias, info in admin(stack, "/tokens/get", {})["tokens"]}
    assert listed["bramble"]["status"] == "disabled"

    navigate(page, "dashboard")
    expect(page.locator('#pool tr[data-alias="bramble"]')).to_contain_text("Disabled")
    disabled = sum(1 for info in listed.values() if info["status"] == "disabled")
    expect(page.locator("#card-disabled .value")).to_have_text(str(disabled))


def test_tokens_rename_filter_and_set_time_zone(page: Any, stack: Stack) -> None:
    add_token(stack, "quince")
    visit(page, "/tokens")
    row = page.locator('#tokens tr[data-alias="quince"]')
    row.locator("input[type=checkbox]").check()
    page.click('#actions button[data-action="timezone"]')
    page.fill("#ask-input", "Asia/Tokyo")
    page.click("#ask-ok")
    expect(row).to_contain_text("Asia/Tokyo")
    page.select_option("#f-timezone", "Asia/Tokyo")
    expect(page.locator("#tokens tbody tr")).to_have_count(1)
    row.locator("button.rename").click()
    page.fill("#ask-input", "quince-renamed")
    page.click("#ask-ok")
    expect(page.locator('#tokens tr[data-alias="quince-renamed"]')).to_be_visible()
    aliases = [alias for _, alias, _ in admin(stack, "/tokens/get", {})["tokens"]]
    assert "quince-renamed" in aliases and "quince" not in aliases


def test_export_then_import_gives_back_the_same_pool(page: Any, stack: Stack, tmp_path: Path) -> None:
    add_token(stack, "sorrel")
    before = admin(stack, "/tokens/get", {"reveal": True})["tokens"]
    visit(page, "/tokens")
    with page.expect_download() as download:
        page.click("#export")
        page.click("#ask-ok")  # "export with the tokens in clear text?"
    exported = Path(download.value.path()).read_text()
    pool = json.loads(exported)
    assert [alias for alias, _ in pool] == [alias for _, alias, _ in before]
    saved = tmp_path / "pool.json"
    saved.write_text(exported)
    page.set_input_files("#import", str(saved))
    expect(page.locator("#ask-dialog")).to_contain_text(f"{len(pool)} tokens")
    page.click("#ask-ok")
    expect(page.locator("#toast")).to_contain_text(str(len(pool)))
    after = admin(stack, "/tokens/get", {"reveal": True})["tokens"]
    assert [(a, i["bundle"]["primary_token"]) for _, a, i in after] == [
        (a, i["bundle"]["primary_token"]) for _, a, i in before
    ]


def test_add_and_delete_a_proxy(page: Any, stack: Stack) -> None:
    visit(page, "/proxies")
    page.fill("#add-name", "egress-eu")
    page.fill("#add-value", "socks5://127.0.0.1:1080")
    page.click("#add-submit")
    row = page.locator('#proxies tr[data-name="egress-eu"]')
    expect(row).to_contain_text("socks5://127.0.0.1:1080")
    assert admin(stack, "/proxies/get", {})["proxies"]["proxies"]["egress-eu"] == "socks5://127.0.0.1:1080"
    row.locator("button.delete").click()
    page.click("#ask-ok")
    expect(row).to_have_count(0)
    assert "egress-eu" not in admin(stack, "/proxies/get", {})["proxies"]["proxies"]


def test_change_a_setting_see_the_diff_and_roll_it_back(page: Any, stack: Stack) -> None:
    start = admin(stack, "/config", {"action": "get"})
    visit(page, "/config")
    expect(page.locator("#version")).to_have_text(f"Version {start['version']}")
    page.select_option("#f-vision_ability", "all")
    page.click("#save")
    first = start["version"] + 1
    expect(page.locator("#version")).to_have_text(f"Version {first}")
    expect(page.locator("#meta-vision_ability")).to_contain_text('stored: "all"')
    page.check("#f-enable_slow_pool")
    page.click("#save")
    expect(page.locator("#version")).to_have_text(f"Version {first + 1}")
    assert admin(stack, "/config", {"action": "get"})["data"]["enable_slow_pool"] is True

    page.locator(f'#history tr[data-version="{first + 1}"] button.show-diff').click()
    expect(page.locator("#diff .diff-add")).to_have_text("+ enable_slow_pool: true")
    page.locator(f'#history tr[data-version="{first}"] button.rollback').click()
    page.click("#ask-ok")
    expect(page.locator("#version")).to_have_text(f"Version {first + 2}")
    data = admin(stack, "/config", {"action": "get"})["data"]
    assert data["enable_slow_pool"] is False and data["vision_ability"] == "all"
    expect(page.locator("#f-enable_slow_pool")).not_to_be_checked()
    admin(stack, "/config", {"action": "reset"})  # leave the defaults to the other tests


def test_build_a_key_use_it_and_revoke_it(page: Any, stack: Stack) -> None:
    visit(page, "/keys")
    page.fill("#k-name", "ci-robot")
    page.select_option("#k-protocol", "agent")
    page.click("#build")
    key = page.locator("#built-key")
    expect(key).to_have_text(re.compile(r"^cgk_"))
    secret = key.inner_text()
    models = httpx.get(stack.url + "/v1/models", headers={"authorization": f"Bearer {secret}"})
    assert models.status_code == 200
    listed = [k for k in admin(stack, "/keys", method="GET")["keys"] if k["name"] == "ci-robot"]
    assert len(listed) == 1 and secret not in str(listed)
    row = page.locator(f'#keys tr[data-id="{listed[0]["id"]}"]')
    expect(row).to_contain_text("cursor_protocol=agent")
    expect(page.locator("#keys")).not_to_contain_text(secret)  # the list never shows the secret
    row.locator("button.revoke").click()
    page.click("#ask-ok")
    expect(row).to_have_count(0)  # revoked keys are hidden unless asked for
    page.check("#show-revoked")
    expect(row).to_contain_text("revoked")
    assert (
        httpx.get(stack.url + "/v1/models", headers={"authorization": f"Bearer {secret}"}).status_code == 401
    )


def test_playground_streams_the_answer_and_shows_thinking_apart(page: Any, stack: Stack) -> None:
    add_token(stack, "juniper")
    visit(page, "/api")
    page.select_option("#model", "claude-4.6-sonnet-thinking")
    page.fill("#prompt", "ping from the playground")
    page.click("#send")
    answer = page.locator('.msg[data-role="assistant"]').last
    expect(answer.locator(".text")).to_contain_text("ping from the playground", timeout=20_000)
    expect(answer.locator(".thinking")).to_be_visible()
    expect(answer.locator(".thinking")).not_to_have_text("")
    expect(page.locator("#chat-status")).to_contain_text("done in")
    snippet = page.locator("#snippet")
    expect(snippet).to_contain_text(f"curl {stack.url}/v1/chat/completions")
    page.click('#snippet-tabs button[data-snippet="openai"]')
    expect(snippet).to_contain_text(f'OpenAI(base_url="{stack.url}/v1"')
    page.click('#snippet-tabs button[data-snippet="anthropic"]')
    expect(snippet).to_contain_text("client.messages.stream(")
    assert stack.admin not in snippet.inner_text()  # snippets never carry the admin key


def test_markup_in_a_prompt_is_shown_as_text(page: Any, stack: Stack) -> None:
    add_token(stack, "juniper")
    payload = "<img src=x onerror=alert(1)>"
    visit(page, "/api")
    page.select_option("#model", "claude-4.6-sonnet")
    page.fill("#prompt", payload)
    page.click("#send")
    expect(page.locator('.msg[data-role="user"] .text')).to_have_text(payload)
    expect(page.locator('.msg[data-role="assistant"] .text')).to_contain_text(payload, timeout=20_000)
    assert page.locator("main img").count() == 0
    # The config page too (a model alias named with markup); the fixture fails the test on any alert.
    admin(stack, "/config", {"action": "update", "model_aliases": {payload: "claude-4.6-sonnet"}})
    try:
        visit(page, "/config")
        expect(page.locator("#meta-model_aliases")).to_contain_text(payload)
        assert page.locator("main img").count() == 0
    finally:
        admin(stack, "/config", {"action": "update", "model_aliases": {payload: None}})


def test_language_follows_the_browser_and_switches_in_the_page(
    browser: Any, stack: Stack, console: Console
) -> None:
    context = open_context(browser, stack, locale="zh-CN")
    try:
        page = context.new_page()
        watch(page, console)
        visit(page, "/tokens")
        expect(page.locator('a[data-nav="dashboard"]')).to_have_text("仪表盘")
        expect(page.locator("h1")).to_have_text("令牌")
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        page.select_option("#lang", "en")
        expect(page.locator("h1")).to_have_text("Tokens")
        page.reload()  # the choice is kept
        expect(page.locator('a[data-nav="dashboard"]')).to_have_text("Dashboard")
        page.select_option("#lang", "zh-CN")
        expect(page.locator("#refresh")).to_have_text("刷新")
        assert console.unexpected() == [] and console.dialogs == []
    finally:
        context.close()


def test_phone_width_has_no_sideways_scrolling_and_dark_mode_follows_the_system(
    browser: Any, stack: Stack, console: Console
) -> None:
    context = open_context(browser, stack, viewport={"width": 375, "height": 740}, color_scheme="dark")
    try:
        page = context.new_page()
        watch(page, console)
        for path in ["/", "/tokens", "/config", "/logs", "/api"]:
            visit(page, path)
            expect(page.locator("h1")).to_be_visible()
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{path} is {width}px wide at phone width"
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(20, 20, 22)", background  # the dark palette
        assert console.unexpected() == [] and console.dialogs == []
    finally:
        context.close()


def test_every_page_loads_clean_with_its_security_headers(page: Any) -> None:
    for path in PAGES:
        response = visit(page, path)
        assert response is not None and response.status == 200, path
        headers = response.headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        expect(page.locator("h1")).to_be_visible()
        expect(page.locator("header.nav a[aria-current=page]")).to_have_count(1)
        page.wait_for_load_state("networkidle")  # every call the page makes on load has answered
    # The fixture then fails the test if any of these pages logged an error or opened a dialog.


def test_the_logs_and_stats_links_follow_what_the_gateway_serves(
    page: Any, stack: Stack, logs_deployed: bool
) -> None:
    calls: list[str] = []
    page.on("request", lambda request: calls.append(request.url))
    visit(page, "/")
    expect(page.locator("#card-tokens .value")).to_have_text(re.compile(r"^\d+$"))
    for name in ("logs", "stats"):
        link = page.locator(f'header.nav a[data-nav="{name}"]')
        expect(link).to_be_visible() if logs_deployed else expect(link).to_be_hidden()
    visit(page, "/logs")
    notice = page.locator("#unavailable")
    if logs_deployed:
        expect(page.locator("#logs")).to_be_visible()
        expect(notice).to_be_hidden()
    else:
        # Without the routes the pages say so and never call them (no 404 in the console either).
        expect(notice).to_be_visible()
        expect(page.locator("#filters")).to_be_hidden()
        assert not [url for url in calls if "/logs/get" in url or "/api/stats/" in url]


def test_analytics_pull_shows_its_run_and_the_stream_error(page: Any, stack: Stack) -> None:
    visit(page, "/analytics")
    expect(page.locator('#streams tr[data-dataset="commits"]')).to_be_visible()
    page.uncheck("#pull-changes")
    page.click("#pull")
    # No Cursor Admin API key in the local stack: the run fails and says why, in the page.
    expect(page.locator("#pull-status")).to_contain_text("failed", timeout=15_000)
    row = page.locator('#streams tr[data-dataset="commits"]')
    expect(row.locator(".last-error")).to_contain_text("CURSOR_ADMIN_API_KEY")
    expect(row.locator(".last-run")).to_contain_text("failed")
    page.click("#export")
    expect(page.locator("#exports li a").first).to_have_attribute(
        "href", re.compile(r"^http://127\.0\.0\.1:\d+/")
    )
