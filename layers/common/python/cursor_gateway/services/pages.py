"""The admin console's static files: HTML pages and their shared CSS/JS (`api/static/`).

The package carries every file, so a function always has a copy. When `ASSETS_BUCKET` is set (AWS), a
copy published to the bucket (`pages/<name>`) wins: pages can then be updated without a new layer.
Only names the package ships are ever looked up, so a request can never name an arbitrary key or path.
Reads are cached per process for `cache_seconds` (a warm Lambda does not read S3 per page view).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

from cursor_gateway.settings import Settings

log = logging.getLogger("cursor_gateway.services.pages")

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}


def packaged_names() -> frozenset[str]:
    """Every file of `api/static/` (flat: no sub-directories, so no path in a name)."""
    folder = resources.files("cursor_gateway.api").joinpath("static")
    return frozenset(
        entry.name
        for entry in folder.iterdir()
        if entry.is_file() and any(entry.name.endswith(ext) for ext in CONTENT_TYPES)
    )


def content_type(name: str) -> str:
    return CONTENT_TYPES["." + name.rsplit(".", 1)[-1]]


class PageFiles:
    def __init__(
        self,
        objects: Any | None = None,
        *,
        cache_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.objects = objects
        self.names = packaged_names()
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, bytes]] = {}

    def get(self, name: str) -> bytes | None:
        if name not in self.names:
            return None
        now = self.clock()
        cached = self._cache.get(name)
        if cached is not None and now - cached[0] < self.cache_seconds:
            return cached[1]
        body = self._read(name)
        with self._lock:
            self._cache[name] = (now, body)
        return body

    def _read(self, name: str) -> bytes:
        if self.objects is not None:
            try:
                published = self.objects.get(name)
            except Exception:  # the bucket is an override; the packaged copy keeps the console up
                log.exception("reading pages/%s from the assets bucket failed; serving the package's", name)
                published = None
            if published is not None:
                return bytes(published)
        return resources.files("cursor_gateway.api").joinpath("static", name).read_bytes()


def build_page_files(settings: Settings) -> PageFiles:
    if not settings.assets_bucket:
        return PageFiles()
    from cursor_gateway.storage.pages import S3PageObjects

    return PageFiles(S3PageObjects(settings.assets_bucket))
