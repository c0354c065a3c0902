"""The admin console's page-only paths and its shared files (`/static/<name>`): public, no data in them;
each page's script calls the admin API with the key the operator types in. Paths that are also API
routes (`/`, `/config`, `/keys`) get their page from api.pages.PagesForBrowsers instead."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from starlette.responses import Response

from cursor_gateway.api.pages import PAGES, file_response
from cursor_gateway.errors import NotFound

router = APIRouter()

PAGE_ONLY = ("/tokens", "/proxies", "/logs", "/stats", "/analytics", "/api")


def _serve(request: Request, name: str) -> Response:
    response = file_response(request.app, name, head=request.method == "HEAD")
    if response is None:
        raise NotFound(f"No such file: {name}")
    return response


def _page_route(path: str) -> None:
    name = PAGES[path]

    async def page(request: Request) -> Response:
        return _serve(request, name)

    page.__name__ = "page_" + path.strip("/")
    router.add_api_route(
        path, page, methods=["GET"], response_class=HTMLResponse, summary=f"Admin console page {path}"
    )


for _path in PAGE_ONLY:
    _page_route(_path)


@router.get("/static/{name}", response_class=PlainTextResponse, summary="Admin console CSS/JS/SVG file")
async def static_file(request: Request, name: str) -> Response:
    if name.endswith(".html"):  # pages live at their own paths
        raise NotFound(f"No such file: {name}")
    return _serve(request, name)
