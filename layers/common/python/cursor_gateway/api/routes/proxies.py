"""`/proxies/*`: the named outbound proxies and the general one (admin-api.md "Proxies"). Parse, call the
service, return. Sync handlers: the store calls block, FastAPI runs them in its thread pool."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, StrictStr

from cursor_gateway.api.auth import require_admin
from cursor_gateway.api.body import json_body
from cursor_gateway.api.deps import services_of

router = APIRouter(dependencies=[Depends(require_admin)])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GetProxiesRequest(_Body):
    pass


class SetProxiesRequest(_Body):
    proxies: dict[StrictStr, Any]
    general: StrictStr | None = None


class AddProxiesRequest(_Body):
    proxies: dict[StrictStr, Any]


class DeleteProxiesRequest(_Body):
    names: list[StrictStr]
    expectation: StrictStr | None = None


class SetGeneralRequest(_Body):
    name: StrictStr


@router.post("/proxies/get")
def get_proxies(
    request: Request, _body: Annotated[GetProxiesRequest, Depends(json_body(GetProxiesRequest))]
) -> dict[str, Any]:
    return services_of(request.app).proxies.get()


@router.post("/proxies/set")
def set_proxies(
    request: Request, body: Annotated[SetProxiesRequest, Depends(json_body(SetProxiesRequest))]
) -> dict[str, Any]:
    return services_of(request.app).proxies.set(body.proxies, body.general)


@router.post("/proxies/add")
def add_proxies(
    request: Request, body: Annotated[AddProxiesRequest, Depends(json_body(AddProxiesRequest))]
) -> dict[str, Any]:
    return services_of(request.app).proxies.add(body.proxies)


@router.post("/proxies/del")
def delete_proxies(
    request: Request, body: Annotated[DeleteProxiesRequest, Depends(json_body(DeleteProxiesRequest))]
) -> dict[str, Any]:
    return services_of(request.app).proxies.delete(body.names, body.expectation)


@router.post("/proxies/set-general")
def set_general_proxy(
    request: Request, body: Annotated[SetGeneralRequest, Depends(json_body(SetGeneralRequest))]
) -> dict[str, Any]:
    return services_of(request.app).proxies.set_general(body.name)
