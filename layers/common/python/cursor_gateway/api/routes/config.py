"""`POST /config`: read or change the runtime config (admin). Flat body: `{"action": ..., <field>: ...}`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from cursor_gateway.api.app import services_of
from cursor_gateway.api.auth import require_admin
from cursor_gateway.api.body import json_body

router = APIRouter()


class ConfigRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    action: Literal["get", "update"]
    expected_version: int | None = None


@router.post("/config", dependencies=[Depends(require_admin)])
async def post_config(
    request: Request, body: Annotated[ConfigRequest, Depends(json_body(ConfigRequest))]
) -> dict[str, Any]:
    service = services_of(request.app).config
    if body.action == "get":
        return service.get()
    return service.update(dict(body.model_extra or {}), body.expected_version)
