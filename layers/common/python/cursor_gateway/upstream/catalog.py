"""Cursor's model catalog over unary Connect (`application/proto`, no envelope): `AvailableModels`
(with parameter tables) and the account-specific `GetUsableModels`. Plain request/response, so httpx."""

from __future__ import annotations

import httpx

from cursor_gateway.codec._gen.agent.v1 import agent_pb2
from cursor_gateway.codec._gen.aiserver.v1 import models_pb2
from cursor_gateway.codec.connect_error import connect_error_from_json
from cursor_gateway.domain.model_parameters import Variant
from cursor_gateway.domain.models import ModelInfo
from cursor_gateway.errors import UpstreamProtocolError, UpstreamUnavailable
from cursor_gateway.settings import Settings
from cursor_gateway.upstream.classify import classify_connect_error
from cursor_gateway.upstream.http import json_client
from cursor_gateway.upstream.identity import ClientIdentity

AVAILABLE_PATH = "/aiserver.v1.AiService/AvailableModels"
USABLE_PATH = "/agent.v1.AgentService/GetUsableModels"


async def unary(settings: Settings, path: str, request: bytes, bearer: str, proxy: str = "") -> bytes:
    identity = ClientIdentity.from_settings(settings)
    headers = {
        "authorization": f"Bearer {bearer}",
        "content-type": "application/proto",
        "connect-protocol-version": "1",
        "x-cursor-client-type": identity.client_type,
        "x-cursor-client-version": identity.client_version,
        "x-ghost-mode": "true" if identity.ghost_mode else "false",
    }
    try:
        response = await json_client(settings.cursor_api_url, proxy=proxy).post(
            settings.cursor_api_url + path, content=request, headers=headers
        )
    except httpx.HTTPError as exc:
        raise UpstreamUnavailable(f"Could not reach Cursor: {exc}") from exc
    if response.status_code != 200:
        try:
            obj = response.json()
        except ValueError:
            obj = {}
        code = obj.get("code") if isinstance(obj, dict) else None
        raise classify_connect_error(
            connect_error_from_json(
                obj if code else {"code": "unknown", "message": f"HTTP {response.status_code}"},
                http_status=response.status_code,
            )
        )
    return response.content


async def fetch_models(settings: Settings, bearer: str, proxy: str = "") -> list[ModelInfo]:
    return (await fetch_catalog(settings, bearer, proxy))[0]


async def fetch_catalog(
    settings: Settings, bearer: str, proxy: str = ""
) -> tuple[list[ModelInfo], list[str] | None]:
    """The catalog as this account sees it, and its usable model ids (None when that call failed)."""
    request = models_pb2.AvailableModelsRequest(use_model_parameters=True, do_not_use_markdown=True)
    body = await unary(settings, AVAILABLE_PATH, request.SerializeToString(), bearer, proxy)
    try:
        available = models_pb2.AvailableModelsResponse.FromString(body)
    except Exception as exc:  # protobuf raises DecodeError, but be strict about what leaves here
        raise UpstreamProtocolError(f"Undecodable model list: {exc}") from exc
    usable_ids: list[str] | None = None
    try:
        usable_body = await unary(
            settings, USABLE_PATH, agent_pb2.GetUsableModelsRequest().SerializeToString(), bearer, proxy
        )
        usable_ids = [m.model_id for m in agent_pb2.GetUsableModelsResponse.FromString(usable_body).models]
    except Exception:
        usable_ids = None  # the account-specific list is a refinement; the full list still serves
    usable = set(usable_ids) if usable_ids is not None else None
    models = []
    for m in available.models:
        if m.degradation_status == 2 or (usable is not None and usable and m.name not in usable):
            continue
        models.append(
            ModelInfo(
                id=m.name,
                display_name=m.client_display_name or m.name,
                supports_thinking=m.supports_thinking,
                supports_images=m.supports_images if m.HasField("supports_images") else True,
                supports_max_mode=m.supports_max_mode,
                max_only=m.HasField("supports_non_max_mode") and not m.supports_non_max_mode,
                parameter_ids=tuple(p.id for p in m.parameter_definitions if p.id),
                variants=tuple(
                    Variant(
                        slug=v.variant_string_representation or v.legacy_slug,
                        values=tuple((p.id, p.value) for p in v.parameter_values),
                        max_mode=v.is_max_mode,
                    )
                    for v in m.variants
                    if v.variant_string_representation or v.legacy_slug
                ),
            )
        )
    return models, usable_ids
