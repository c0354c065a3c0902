"""The model list clients see: Cursor's own (`AvailableModels` + `GetUsableModels`, with a token from
the pool, cached ~30 minutes per process) or the built-in list when no token can ask. The usable list
that comes back is stored on the token that asked (opportunistically, between admin profile refreshes),
so model-aware selection knows that account's plan. Model names resolve through the runtime config's
`model_aliases` first."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from cursor_gateway.domain.chat import ModelChoice
from cursor_gateway.domain.config import ModelAlias
from cursor_gateway.domain.model_parameters import finalise, with_effort
from cursor_gateway.domain.models import BUILTIN_MODELS, ModelInfo, resolve_model
from cursor_gateway.errors import GatewayError
from cursor_gateway.settings import Settings
from cursor_gateway.upstream.catalog import fetch_catalog

log = logging.getLogger("cursor_gateway.catalog")


class ModelCatalog:
    def __init__(
        self,
        settings: Settings,
        pool: Any,
        clock: Callable[[], float] = time.monotonic,
        config: Any = None,
        proxy_resolver: Callable[[str], str] | None = None,
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.clock = clock
        # The runtime config service, for `model_aliases` (None: no aliases).
        self.config = config
        # A token's proxy name -> transport argument (as for chat); None: the value as stored.
        self.proxy_resolver = proxy_resolver
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
                proxy = self.proxy_resolver(record.proxy) if self.proxy_resolver else record.proxy
                models, usable = await fetch_catalog(self.settings, bearer, proxy)
            except GatewayError as exc:
                log.warning("model list from Cursor failed (token %s): %s", record.alias, exc.message)
                break
            if usable:
                try:
                    await asyncio.to_thread(self.pool.record_usable_models, record.alias, usable)
                except GatewayError as exc:
                    log.warning(
                        "could not store the usable models of token %s: %s", record.alias, exc.message
                    )
            if models:
                self._models = {m.id: m for m in models}
                self._source = "cursor"
                self._fetched_at = self.clock()
                return
        # Nothing to ask with, or asking failed: keep what we have, retry after a short pause.
        self._fetched_at = self.clock() - self.settings.models_cache_seconds + 60

    def shape(self, choice: ModelChoice, level: str | None) -> tuple[ModelChoice, bool]:
        """`choice` as Cursor must be asked for it (a published slug bare, or the base id with parameters,
        never both), with the reasoning `level` when the catalog offers a way to ask for it; the flag says
        whether it did (domain.model_parameters)."""
        honoured = False
        if level:
            shaped = with_effort(choice, self._models, level)
            if shaped is not None:
                choice, honoured = shaped, True
        return finalise(choice, self._models), honoured

    def resolve(self, name: str, aliases: Mapping[str, ModelAlias] | None = None) -> ModelChoice:
        """Resolution never waits for the network: it uses whatever list is cached now. `aliases`
        default to the runtime config's `model_aliases` (cached per process like the rest of it)."""
        if aliases is None and self.config is not None:
            aliases = self.config.current().model_aliases
        return resolve_model(name, self._models, aliases)


def build_catalog(
    settings: Settings, pool: Any, config: Any = None, proxy_resolver: Callable[[str], str] | None = None
) -> ModelCatalog:
    return ModelCatalog(settings, pool, config=config, proxy_resolver=proxy_resolver)
