"""`GET /v1/models`: Cursor's model list (cached), or the built-in one, in OpenAI's list shape."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from cursor_gateway.api.auth import require_chat_key
from cursor_gateway.api.deps import services_of

router = APIRouter()


@router.get("/v1/models", dependencies=[Depends(require_chat_key)])
async def list_models(request: Request) -> dict[str, Any]:
    catalog = services_of(request.app).catalog
    models = await catalog.list_models()
    return {"object": "list", "data": [m.as_openai() for m in models], "source": catalog.source}
