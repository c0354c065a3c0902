"""The runtime config (admin-api.md "Config") and the settings reference.

- `POST /config` (admin), flat body `{"action": ..., <field>: ...}`: get, update (fields), reset,
  rollback (`"version": n`); `expected_version` makes any change conditional (409 when stale); describe
  (each field's default, environment and stored value) and history (the last versions), for the page.
- `GET /config` (public): the admin console's config page (api/pages.py); it holds no data, its script
  calls `POST /config` with the admin key the user types in.
- `GET /env-example` (public): every setting with its default and meaning, from settings.SETTINGS.

Handlers are sync on purpose: the store calls block, and FastAPI runs sync handlers in its thread pool.
"""

from __future__ import annotations

import textwrap
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, StrictInt
from starlette.responses import Response

from cursor_gateway.api.auth import require_admin
from cursor_gateway.api.body import json_body
from cursor_gateway.api.deps import services_of
from cursor_gateway.api.pages import PAGES, file_response
from cursor_gateway.errors import InvalidRequest
from cursor_gateway.settings import SETTINGS

router = APIRouter()


class ConfigRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    action: Literal["get", "update", "reset", "rollback", "describe", "history"]
    expected_version: StrictInt | None = None
    version: StrictInt | None = None


@router.post("/config", dependencies=[Depends(require_admin)])
def post_config(
    request: Request, body: Annotated[ConfigRequest, Depends(json_body(ConfigRequest))]
) -> dict[str, Any]:
    service = services_of(request.app).config
    fields = dict(body.model_extra or {})
    if body.action != "update" and fields:
        raise InvalidRequest(
            f"Config fields are only accepted with action 'update' (got {', '.join(sorted(fields))})",
            param=sorted(fields)[0],
        )
    if body.action != "rollback" and body.version is not None:
        raise InvalidRequest("'version' is only for action 'rollback'", param="version")
    if body.action == "get":
        return service.get()
    if body.action in ("describe", "history"):  # the admin console's views (services/config_console.py)
        from cursor_gateway.services import config_console

        if body.action == "describe":
            return config_console.describe(service)
        return config_console.history(service)
    if body.action == "reset":
        return service.reset(body.expected_version)
    if body.action == "rollback":
        if body.version is None:
            raise InvalidRequest("Missing required parameter: 'version'", param="version")
        return service.rollback(body.version, body.expected_version)
    return service.update(fields, body.expected_version)


@router.get("/config", response_class=HTMLResponse)
def config_page(request: Request) -> Response:
    # Browsers get the page from api.pages.PagesForBrowsers; this answers any other GET the same way.
    response = file_response(request.app, PAGES["/config"])
    assert response is not None  # the package ships config.html
    return response


@router.get("/env-example", response_class=PlainTextResponse)
def env_example() -> PlainTextResponse:
    return PlainTextResponse(env_example_text())


def env_example_text() -> str:
    """A `.env` file: each setting's meaning as a comment above `NAME=default`."""
    lines = [
        "# cursor-gateway settings: environment variables, shown with their defaults.",
        "# Fields of POST /config have a twin here; the stored config overrides the twin at run time.",
        "",
    ]
    for spec in SETTINGS:
        lines.extend(textwrap.wrap(spec.meaning, width=98, initial_indent="# ", subsequent_indent="# "))
        lines.append(f"{spec.name}={spec.default}")
        lines.append("")
    return "\n".join(lines)
