"""The model list clients see: Cursor's own (`AvailableModels` + `GetUsableModels`, with a token from
the pool, cached ~30 minutes per process) or the built-in list when no token can ask."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from cursor_gateway.domain.chat import ModelChoice
from cursor_gateway.domain.models import BUILTIN_MODELS, ModelInfo, resolve_model
from cursor_gateway.errors import GatewayError
from cursor_gateway.settings import Settings
from cursor_gateway.upstream.catalog import fetch_models

log = logging.getLogger("cursor_gateway.catalog")


class ModelCatalog:
    def __init__(self, settings: Settings, pool: Any, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.pool = pool
        self.clock = clock
        self._models: dict[str, ModelInfo] = {m.id: m for m in BUILTIN_MODELS}
        self._source = "builtin"
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    @property
    def source(self) -> str:
        return self._source

    @property
    def models(self) -> dict[str, ModelInfo]:
        """The list cached now (never waits for the network)."""
        return self._models

    def _fresh(self) -> bool:
        return (
            self._fetched_at is not None
            and self.clock() - self._fetched_at < self.settings.models_cache_seconds
        )

    async def list_models(self) -> list[ModelInfo]:
        if not self._fresh():
            async with self._lock:
                if not self._fresh():
                    await self._refresh()
        return list(self._models.values())

    async def _refresh(self) -> None:
        for record in self.pool.candidates()[:1]:
            try:
                bearer = await self.pool.bearer_for(record)
                models = await fetch_models(self.settings, bearer, record.proxy)
            except GatewayError as exc:
                log.warning("model list from Cursor failed (token %s): %s", record.alias, exc.message)
                break
            if models:
                self._models = {m.id: m for m in models}
                self._source = "cursor"
                self._fetched_at = self.clock()
                return
        # Nothing to ask with, or asking failed: keep what we have, retry after a short pause.
        self._fetched_at = self.clock() - self.settings.models_cache_seconds + 60

    def resolve(self, name: str) -> ModelChoice:
        """Resolution never waits for the network: it uses whatever list is cached now."""
        return resolve_model(name, self._models)


def build_catalog(settings: Settings, pool: Any) -> ModelCatalog:
    return ModelCatalog(settings, pool)
