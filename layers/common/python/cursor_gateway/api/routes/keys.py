"""Gateway keys (admin-api.md "Keys"): `POST /build-key`, `GET /keys`, `POST /keys/revoke`,
`POST /config-version`. Admin only (unlike the reference, where /build-key is open unless sharing is on:
here a key is stored and may add a token to the pool). Parse, call the service, return."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from cursor_gateway.api.auth import require_admin
from cursor_gateway.api.body import json_body
from cursor_gateway.api.deps import services_of

router = APIRouter(dependencies=[Depends(require_admin)])


class Checksum(BaseModel):
    first: StrictStr
    second: StrictStr


class _Bundle(BaseModel):
    """The token bundle fields shared by both requests (the reference's shapes)."""

    model_config = ConfigDict(extra="forbid")

    checksum: StrictStr | Checksum | None = None
    client_key: StrictStr | None = None
    session_id: StrictStr | None = None
    proxy_name: StrictStr | None = None
    timezone: StrictStr | None = None
    gcpp_host: StrictStr | None = None


class BuildKeyRequest(_Bundle):
    token: StrictStr | None = None
    config_version: StrictStr | None = None
    disable_vision: StrictBool | None = None
    enable_slow_pool: StrictBool | None = None
    include_web_references: StrictBool | None = None
    usage_check_models: dict[StrictStr, Any] | None = None
    # The reference's optional key secret: accepted and, as there, not used.
    secret: StrictStr | None = None
    # ours: pin an existing token instead of passing one, a label, and two more overrides
    alias: StrictStr | None = None
    name: StrictStr | None = None
    vision_ability: StrictStr | None = None
    cursor_protocol: StrictStr | None = None


class ConfigVersionRequest(_Bundle):
    token: StrictStr


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[StrictStr] = Field(min_length=1)


@router.post("/build-key")
def build_key(
    request: Request, body: Annotated[BuildKeyRequest, Depends(json_body(BuildKeyRequest))]
) -> dict[str, Any]:
    payload = body.model_dump(exclude_none=True)
    if isinstance(body.checksum, Checksum):
        payload["checksum"] = body.checksum.model_dump()
    return services_of(request.app).keys.build(payload)


@router.get("/keys")
def list_keys(request: Request) -> dict[str, Any]:
    return services_of(request.app).keys.list()


@router.post("/keys/revoke")
def revoke_keys(
    request: Request, body: Annotated[RevokeRequest, Depends(json_body(RevokeRequest))]
) -> dict[str, Any]:
    return services_of(request.app).keys.revoke(body.ids)


@router.post("/config-version")
async def config_version(
    request: Request, body: Annotated[ConfigVersionRequest, Depends(json_body(ConfigVersionRequest))]
) -> dict[str, Any]:
    payload = body.model_dump(exclude_none=True)
    if isinstance(body.checksum, Checksum):
        payload["checksum"] = body.checksum.model_dump()
    return await services_of(request.app).keys.config_version(payload)
