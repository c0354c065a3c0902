"""The admin console's serving rules (api/pages.py, api/routes/pages.py, services/pages.py) and the
pages' own safety rules, checked on the files themselves (the browser tests check them in use)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cursor_gateway.api.app import create_app
from cursor_gateway.api.pages import PAGES
from cursor_gateway.local.moto_server import EmbeddedMoto
from cursor_gateway.services.container import build_services
from cursor_gateway.services.pages import PageFiles, packaged_names
from cursor_gateway.settings import Settings
from cursor_gateway.storage.config import InMemoryConfigStore
from cursor_gateway.storage.keys import InMemoryKeyStore
from cursor_gateway.storage.pages import S3PageObjects
from cursor_gateway.storage.tokens import InMemoryTokenStore
from fastapi.testclient import TestClient

STATIC = Path(__file__).resolve().parents[2] / "layers/common/python/cursor_gateway/api/static"
ADMIN = "pages-admin"
HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
def client() -> TestClient:
    settings = Settings(auth_token=ADMIN)
    services = build_services(
        settings,
        token_store=InMemoryTokenStore(),
        config_store=InMemoryConfigStore(),
        key_store=InMemoryKeyStore(),
    )
    return TestClient(create_app(settings=settings, services=services))


def test_a_browser_gets_the_page_and_everyone_else_keeps_the_json(client: TestClient) -> None:
    assert client.get("/").json()["status"] == "ok"
    page = client.get("/", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'data-page="dashboard"' in page.text
    # /keys: a page for a navigating browser (no key needed), the admin API for the rest.
    assert 'data-page="keys"' in client.get("/keys", headers=HTML).text
    assert client.get("/keys").status_code == 401
    listed = client.get("/keys", headers={"authorization": f"Bearer {ADMIN}"})
    assert listed.status_code == 200 and listed.json()["status"] == "success"
    head = client.head("/config", headers=HTML)
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 0


@pytest.mark.parametrize("path", sorted(PAGES))
def test_every_page_sends_the_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path, headers=HTML)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_static_files_are_the_packaged_ones_only(client: TestClient) -> None:
    css = client.get("/static/app.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert css.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/common.js").headers["content-type"].startswith("text/javascript")
    for name in ("nope.js", "index.html", "..%2Fpages.py", "%2e%2e%2fapp.py"):
        missing = client.get(f"/static/{name}")
        assert missing.status_code == 404, name
        assert missing.json()["error"] == "not_found"
    assert client.get("/static/../api/pages.py").status_code == 404


def page_files() -> list[Path]:
    return sorted(STATIC.glob("*.html"))


@pytest.mark.parametrize("html", page_files(), ids=lambda p: p.name)
def test_pages_have_no_inline_script_or_style_and_load_only_packaged_files(html: Path) -> None:
    text = html.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline script"
    assert "<style" not in text and not re.search(r"\sstyle=", text), "inline style"
    assert not re.search(r"\son[a-z]+=", text), "inline event handler"
    referenced = re.findall(r'(?:src|href)="static/([^"]+)"', text)
    assert referenced and set(referenced) <= packaged_names()
    assert html.name in PAGES.values()


@pytest.mark.parametrize("script", sorted(STATIC.glob("*.js")), ids=lambda p: p.name)
def test_scripts_insert_data_as_text_only(script: Path) -> None:
    sinks = r"\.(innerHTML|outerHTML)\b|insertAdjacentHTML\(|document\.write|\beval\(|new Function\("
    found = re.search(sinks, script.read_text())
    assert found is None, f"{script.name} uses {found.group(0) if found else ''}"


def test_every_english_string_of_the_pages_has_a_chinese_translation() -> None:
    dictionary = (STATIC / "i18n.js").read_text()
    keys = set(re.findall(r'^\s+"((?:[^"\\]|\\.)*)": "', dictionary, re.MULTILINE))
    missing = set()
    for html in page_files():
        for match in re.finditer(r"<\w+[^>]*\bdata-i18n\b[^>]*>([^<]+)<", html.read_text()):
            text = match.group(1).strip().replace("&amp;", "&")
            if text and text.replace('"', '\\"') not in keys:
                missing.add(text)
    assert missing == set()


class FakeObjects:
    def __init__(self, objects: dict[str, bytes], fail: bool = False) -> None:
        self.objects = objects
        self.fail = fail
        self.reads = 0

    def get(self, name: str) -> bytes | None:
        self.reads += 1
        if self.fail:
            raise ConnectionError("bucket unreachable")
        return self.objects.get(name)


def test_a_published_copy_wins_is_cached_and_the_package_is_the_fallback() -> None:
    now = [0.0]
    objects = FakeObjects({"app.css": b"/* published */"})
    files = PageFiles(objects, cache_seconds=60, clock=lambda: now[0])
    assert files.get("app.css") == b"/* published */"
    assert files.get("common.js") == (STATIC / "common.js").read_bytes()  # not published: the package's
    files.get("app.css")
    assert objects.reads == 2  # the second app.css came from the cache
    now[0] = 61
    objects.objects["app.css"] = b"/* republished */"
    assert files.get("app.css") == b"/* republished */"
    assert files.get("secrets.txt") is None and objects.reads == 3  # unknown names never reach the bucket
    broken = PageFiles(FakeObjects({}, fail=True))
    assert broken.get("app.css") == (STATIC / "app.css").read_bytes()


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = EmbeddedMoto("127.0.0.1", 0)
    endpoint = server.start()
    try:
        yield endpoint
    finally:
        server.stop()


def test_pages_published_to_the_assets_bucket_are_read_from_s3(moto_endpoint: str) -> None:
    s3: Any = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    s3.create_bucket(Bucket="console-assets")
    objects = S3PageObjects("console-assets", client=s3)
    assert objects.get("index.html") is None
    objects.put("index.html", b"<!doctype html><title>published</title>", "text/html; charset=utf-8")
    assert objects.get("index.html") == b"<!doctype html><title>published</title>"
    stored = s3.head_object(Bucket="console-assets", Key="pages/index.html")
    assert stored["ContentType"] == "text/html; charset=utf-8"
