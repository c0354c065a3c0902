"""`/tokens/*`: the account pool admin API (admin-api.md "Tokens"). Parse, call the service, return."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr

from cursor_gateway.api.app import services_of
from cursor_gateway.api.auth import require_admin
from cursor_gateway.api.body import json_body

router = APIRouter(dependencies=[Depends(require_admin)])


class Checksum(BaseModel):
    first: StrictStr
    second: StrictStr


class TokenInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    token: StrictStr
    alias: StrictStr | None = None
    refresh_token: StrictStr | None = None
    checksum: StrictStr | Checksum | None = None
    client_key: StrictStr | None = None
    session_id: StrictStr | None = None
    config_version: StrictStr | None = None
    proxy: StrictStr | None = None
    timezone: StrictStr | None = None
    gcpp_host: StrictStr | None = None


class AddTokensRequest(BaseModel):
    tokens: list[TokenInput]
    status: Literal["enabled", "disabled"] | None = None


class GetTokensRequest(BaseModel):
    reveal: StrictBool = False


AddBody = Annotated[AddTokensRequest, Depends(json_body(AddTokensRequest))]
GetBody = Annotated[GetTokensRequest, Depends(json_body(GetTokensRequest))]


@router.post("/tokens/add")
def add_tokens(request: Request, body: AddBody) -> dict[str, Any]:
    return services_of(request.app).tokens.add(body.model_dump(exclude_none=True))


@router.post("/tokens/get")
def get_tokens(request: Request, body: GetBody) -> dict[str, Any]:
    return services_of(request.app).tokens.get(reveal=body.reveal)
