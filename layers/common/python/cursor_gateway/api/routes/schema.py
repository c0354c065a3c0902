"""`GET /openapi.json` (public): the schema of the whole gateway, whichever function serves it.

Built from every route group plus this one (not from the serving app, which in AWS holds one route
group), once per process, on first request: importing this module imports no other router. It holds
no secret: routes, body models, error envelopes and the names of the auth schemes only.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

from cursor_gateway.api.openapi import build_schema

router = APIRouter()


@router.get("/openapi.json", response_model=None, summary="This schema (OpenAPI 3.1)")
def openapi_json() -> JSONResponse:
    return JSONResponse(gateway_schema(), headers={"cache-control": "public, max-age=300"})


@cache
def gateway_schema() -> dict[str, Any]:
    from cursor_gateway.api.routers import route_groups

    app = FastAPI()
    for each in [*route_groups(), router]:
        app.include_router(each)
    return build_schema(app.routes)
