"""Serving the admin console: page responses with their security headers, and the browser
negotiation that lets a page and an API route share a path.

`/`, `/config` and `/keys` are both a page and a JSON API route. A browser navigating there sends
`Accept: text/html`; curl, SDKs and `fetch` do not. So `PagesForBrowsers` (installed by create_app in
every function) answers a GET whose Accept asks for HTML on a page path with the page, and leaves every
other request to the routes: the API keeps JSON for everyone else, and the function that owns a path in
template.yaml also serves its page. Paths that are only pages are plain routes (api/routes/pages.py).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from cursor_gateway.services.pages import PageFiles, build_page_files, content_type

# path -> file in api/static/
PAGES: dict[str, str] = {
    "/": "index.html",
    "/tokens": "tokens.html",
    "/proxies": "proxies.html",
    "/config": "config.html",
    "/logs": "logs.html",
    "/stats": "stats.html",
    "/keys": "keys.html",
    "/analytics": "analytics.html",
    "/api": "api.html",
}

# No inline script or style anywhere (every page loads static/*.js and static/app.css), no framing, no
# sniffing. `connect-src 'self'` keeps the admin key from being sent anywhere but this gateway.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    # Pages change with deployments; revalidating is cheap and never shows a stale console.
    "cache-control": "no-cache",
}


def page_files(app: Any) -> PageFiles:
    state = app.state
    files: PageFiles | None = getattr(state, "page_files", None)
    if files is None:
        files = state.page_files = build_page_files(state.settings)
    return files


def file_response(app: Any, name: str, *, head: bool = False) -> Response | None:
    body = page_files(app).get(name)
    if body is None:
        return None
    response = Response(b"" if head else body, media_type=content_type(name), headers=SECURITY_HEADERS)
    if head:
        response.headers["content-length"] = str(len(body))
    return response


def wants_html(scope: Scope) -> bool:
    accept = dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1").lower()
    return "text/html" in accept


class PagesForBrowsers:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and scope["path"] in PAGES
            and wants_html(scope)
        ):
            response = file_response(scope["app"], PAGES[scope["path"]], head=scope["method"] == "HEAD")
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
