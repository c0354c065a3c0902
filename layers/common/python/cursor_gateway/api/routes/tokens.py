"""`/tokens/*`: the account pool admin API (admin-api.md "Tokens"). Parse, call the service, return.

Bodies are parsed by `json_body` after the admin check, so a bad body is a 400 for the admin only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, RootModel, StrictBool, StrictInt, StrictStr

from cursor_gateway.api.auth import require_admin
from cursor_gateway.api.body import json_body
from cursor_gateway.api.deps import services_of

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


class Bundle(BaseModel):
    """`info.bundle` as `/tokens/get` shows it (with `reveal`); `user` and other read-only keys ignored."""

    model_config = ConfigDict(extra="ignore")

    primary_token: StrictStr
    secondary_token: StrictStr | None = None
    checksum: StrictStr | Checksum | None = None
    client_key: StrictStr | None = None
    config_version: StrictStr | None = None
    session_id: StrictStr | None = None
    proxy: StrictStr | None = None
    timezone: StrictStr | None = None
    gcpp_host: StrictStr | None = None


class Info(BaseModel):
    model_config = ConfigDict(extra="ignore")

    bundle: Bundle
    status: Literal["enabled", "disabled"] | None = None


class SetTokensRequest(RootModel[list[tuple[StrictStr, Info] | tuple[StrictInt, StrictStr, Info]]]):
    """`[[alias, info], ...]`; `[index, alias, info]` entries (the `/tokens/get` shape) are accepted too."""


class DeleteTokensRequest(BaseModel):
    aliases: list[StrictStr]
    include_failed_tokens: StrictBool = False


class AliasMapping(RootModel[dict[StrictStr, StrictStr]]):
    """`{"<old alias>": "<new alias>", ...}`"""


class StatusRequest(BaseModel):
    aliases: list[StrictStr]
    status: Literal["enabled", "disabled"]


class ProxyRequest(BaseModel):
    aliases: list[StrictStr]
    proxy: StrictStr | None  # required; null clears the binding


class TimezoneRequest(BaseModel):
    aliases: list[StrictStr]
    timezone: StrictStr | None  # required; null clears it


class GcppHostRequest(BaseModel):
    aliases: list[StrictStr]
    gcpp_host: StrictStr | None  # required; null clears it (GENERAL_GCPP_HOST applies)


class ProtocolRequest(BaseModel):
    aliases: list[StrictStr]
    protocol: StrictStr | None  # required; null follows the runtime config


class AliasList(RootModel[list[StrictStr]]):
    """`["<alias>", ...]`"""


AddBody = Annotated[AddTokensRequest, Depends(json_body(AddTokensRequest))]
GetBody = Annotated[GetTokensRequest, Depends(json_body(GetTokensRequest))]
SetBody = Annotated[SetTokensRequest, Depends(json_body(SetTokensRequest))]
DeleteBody = Annotated[DeleteTokensRequest, Depends(json_body(DeleteTokensRequest))]
AliasBody = Annotated[AliasMapping, Depends(json_body(AliasMapping))]
StatusBody = Annotated[StatusRequest, Depends(json_body(StatusRequest))]
ProxyBody = Annotated[ProxyRequest, Depends(json_body(ProxyRequest))]
TimezoneBody = Annotated[TimezoneRequest, Depends(json_body(TimezoneRequest))]
GcppHostBody = Annotated[GcppHostRequest, Depends(json_body(GcppHostRequest))]
ProtocolBody = Annotated[ProtocolRequest, Depends(json_body(ProtocolRequest))]
AliasListBody = Annotated[AliasList, Depends(json_body(AliasList))]


@router.post("/tokens/add")
def add_tokens(request: Request, body: AddBody) -> dict[str, Any]:
    return services_of(request.app).tokens.add(body.model_dump(exclude_none=True))


@router.post("/tokens/get")
def get_tokens(request: Request, body: GetBody) -> dict[str, Any]:
    return services_of(request.app).tokens.get(reveal=body.reveal)


@router.post("/tokens/set")
def set_tokens(request: Request, body: SetBody) -> dict[str, Any]:
    entries = [(entry[-2], entry[-1].model_dump(exclude_none=True)) for entry in body.root]
    return services_of(request.app).tokens.set_pool(entries)


@router.post("/tokens/del")
def delete_tokens(request: Request, body: DeleteBody) -> dict[str, Any]:
    tokens = services_of(request.app).tokens
    return tokens.delete(body.aliases, include_failed=body.include_failed_tokens)


@router.post("/tokens/alias/set")
def set_aliases(request: Request, body: AliasBody) -> dict[str, Any]:
    return services_of(request.app).tokens.rename(body.root)


@router.post("/tokens/status/set")
def set_status(request: Request, body: StatusBody) -> dict[str, Any]:
    return services_of(request.app).tokens.set_status(body.aliases, body.status)


@router.post("/tokens/proxy/set")
def set_proxy(request: Request, body: ProxyBody) -> dict[str, Any]:
    return services_of(request.app).tokens.set_proxy(body.aliases, body.proxy)


@router.post("/tokens/timezone/set")
def set_timezone(request: Request, body: TimezoneBody) -> dict[str, Any]:
    return services_of(request.app).tokens.set_timezone(body.aliases, body.timezone)


@router.post("/tokens/gcpp-host/set")
def set_gcpp_host(request: Request, body: GcppHostBody) -> dict[str, Any]:
    return services_of(request.app).tokens.set_gcpp_host(body.aliases, body.gcpp_host)


@router.post("/tokens/protocol/set")
def set_protocol(request: Request, body: ProtocolBody) -> dict[str, Any]:
    return services_of(request.app).tokens.set_protocol(body.aliases, body.protocol)


@router.post("/tokens/refresh")
async def refresh_tokens(request: Request, body: AliasListBody) -> dict[str, Any]:
    return await services_of(request.app).token_accounts.refresh(body.root)


@router.post("/tokens/profile/update")
async def update_profiles(request: Request, body: AliasListBody) -> dict[str, Any]:
    return await services_of(request.app).token_accounts.update_profile(body.root)


@router.post("/tokens/config-version/update")
async def update_config_versions(request: Request, body: AliasListBody) -> dict[str, Any]:
    return await services_of(request.app).token_accounts.update_config_version(body.root)
