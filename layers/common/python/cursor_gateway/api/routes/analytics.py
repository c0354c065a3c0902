"""`/analytics/*`: pulls of Cursor's Admin API analytics, and queries of what was pulled (admin).

`GET /analytics/ai-code/commits` and `/changes` take Cursor's parameters and answer Cursor's shape,
`{items, totalCount, page, pageSize}` and nothing else, so scripts written for api.cursor.com work against
the gateway by changing the base URL and the key: they may keep Cursor's Basic auth (`-u KEY:`), with
the gateway's AUTH_TOKEN as the user name. The other routes take the admin bearer and answer the admin
envelope. Parse, call the service, wrap.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, StrictStr

from cursor_gateway.api.auth import Caller, require_admin
from cursor_gateway.api.body import json_body
from cursor_gateway.api.deps import services_of
from cursor_gateway.errors import AuthenticationFailed
from cursor_gateway.services.analytics import AnalyticsService

router = APIRouter()

Dataset = Literal["commits", "changes"]


def require_admin_or_basic(request: Request) -> Caller:
    """The admin bearer, or Cursor's Basic form with the admin token as the user name."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return require_admin(request)
    try:
        user = base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise AuthenticationFailed("Malformed Basic credential") from None
    headers = [(k, v) for k, v in request.scope["headers"] if k != b"authorization"]
    headers.append((b"authorization", f"Bearer {user}".encode()))
    return require_admin(Request({**request.scope, "headers": headers}))


# api.openapi: these routes take the admin bearer or Cursor's Basic form.
setattr(require_admin_or_basic, "__openapi_security__", [{"AdminBearer": []}, {"CursorBasic": []}])  # noqa: B010


def _service(request: Request) -> AnalyticsService:
    service: AnalyticsService = services_of(request.app).analytics
    return service


class PullRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: StrictStr | None = None
    datasets: list[Dataset] | None = None


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: Dataset
    startDate: StrictStr
    endDate: StrictStr
    user: StrictStr | None = None


PullBody = Annotated[PullRequest, Depends(json_body(PullRequest))]
ExportBody = Annotated[ExportRequest, Depends(json_body(ExportRequest))]
Admin = [Depends(require_admin)]


@router.post("/analytics/pull", status_code=202, dependencies=Admin)
def pull(request: Request, body: PullBody) -> dict[str, Any]:
    run_id = _service(request).start_pull(since=body.since, datasets=body.datasets, trigger="api")
    return {"status": "success", "run_id": run_id}


@router.get("/analytics/status", dependencies=Admin)
def status(request: Request) -> dict[str, Any]:
    return {"status": "success", **_service(request).status()}


@router.get("/analytics/runs/{run_id}", dependencies=Admin)
def run(request: Request, run_id: str) -> dict[str, Any]:
    return {"status": "success", "run": _service(request).run(run_id)}


@router.post("/analytics/streams/{dataset}/enable", dependencies=Admin)
def enable(request: Request, dataset: str) -> dict[str, Any]:
    stream = _service(request).enable(dataset)
    return {"status": "success", "message": f"{dataset} stream enabled", "stream": stream}


@router.post("/analytics/export", dependencies=Admin)
def export(request: Request, body: ExportBody) -> dict[str, Any]:
    result = _service(request).export(body.dataset, body.startDate, body.endDate, body.user)
    return {"status": "success", **result}


def _query(
    request: Request,
    dataset: Dataset,
    start: str | None,
    end: str | None,
    page: int,
    page_size: int,
    user: str | None,
) -> dict[str, Any]:
    return _service(request).query(dataset, start=start, end=end, page=page, page_size=page_size, user=user)


StartDate = Annotated[str | None, Query(alias="startDate")]
EndDate = Annotated[str | None, Query(alias="endDate")]
PageNumber = Annotated[int, Query(ge=1)]
PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=1000)]
User = Annotated[str | None, Query()]
Cursorish = [Depends(require_admin_or_basic)]


@router.get("/analytics/ai-code/commits", dependencies=Cursorish)
def commits(
    request: Request,
    start: StartDate = None,
    end: EndDate = None,
    page: PageNumber = 1,
    page_size: PageSize = 100,
    user: User = None,
) -> dict[str, Any]:
    return _query(request, "commits", start, end, page, page_size, user)


@router.get("/analytics/ai-code/changes", dependencies=Cursorish)
def changes(
    request: Request,
    start: StartDate = None,
    end: EndDate = None,
    page: PageNumber = 1,
    page_size: PageSize = 100,
    user: User = None,
) -> dict[str, Any]:
    return _query(request, "changes", start, end, page, page_size, user)
