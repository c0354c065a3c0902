"""The `/v1/responses` use case's own steps around the chat core: the stored chain behind a
`previous_response_id`, saving a finished response (unless `store: false`), and GET/DELETE of stored
ones. A response belongs to the key that created it: any other caller gets the same 404 as for an
unknown id (no probing of other callers' ids). Store calls run in a worker thread (boto3 blocks)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from cursor_gateway.errors import NotFound
from cursor_gateway.settings import Settings
from cursor_gateway.storage.responses import ResponseStore, StoredResponse

log = logging.getLogger("cursor_gateway.responses")


class ResponseService:
    def __init__(
        self, store: ResponseStore, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock

    async def _find(self, response_id: str, owner: str, param: str | None) -> StoredResponse:
        record = await asyncio.to_thread(self.store.get, response_id)
        if record is None or record.owner != owner or record.expires_at <= self.clock():
            raise NotFound(f"Response with id '{response_id}' not found.", param=param)
        return record

    async def history(self, previous_response_id: str | None, owner: str) -> list[dict[str, Any]]:
        """The conversation items up to and including the named response's output ([] without one)."""
        if not previous_response_id:
            return []
        record = await self._find(previous_response_id, owner, "previous_response_id")
        return list(record.items)

    async def save(self, response: dict[str, Any], items: list[dict[str, Any]], owner: str) -> bool:
        """Store a finished response with its conversation (`items` = history + input + output); False
        (and a warning) when it is too large to store."""
        expires_at = int(self.clock() + self.settings.responses_ttl_days * 86400)
        record = StoredResponse(response["id"], owner, expires_at, response, items)
        stored = await asyncio.to_thread(self.store.put, record)
        if not stored:
            log.warning("response %s not stored: larger than a DynamoDB item", response["id"])
        return stored

    async def get(self, response_id: str, owner: str) -> dict[str, Any]:
        return (await self._find(response_id, owner, None)).response

    async def delete(self, response_id: str, owner: str) -> None:
        await self._find(response_id, owner, None)
        await asyncio.to_thread(self.store.delete, response_id)
