"""Runtime config as a use case: read (cached a few seconds per process, so warm instances pick up a
change quickly without a store read per request), update with a conditional write, and the identity a
profile presents (defaults <- environment <- stored config)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from cursor_gateway.domain.config import RuntimeConfig, apply_update, from_stored
from cursor_gateway.errors import InvalidRequest
from cursor_gateway.settings import Settings
from cursor_gateway.storage.config import ConfigStore
from cursor_gateway.upstream.identity import ClientIdentity, default_identity


class ConfigService:
    def __init__(
        self, store: ConfigStore, settings: Settings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, RuntimeConfig] | None = None

    def defaults(self) -> RuntimeConfig:
        return RuntimeConfig(
            cursor_protocol=self.settings.cursor_protocol, thinking_output=self.settings.thinking_output
        )

    def current(self) -> RuntimeConfig:
        now = self.clock()
        cached = self._cached
        if cached is not None and now - cached[0] < self.settings.config_cache_seconds:
            return cached[1]
        version, data = self.store.load()
        config = from_stored(data, version, self.defaults())
        with self._lock:
            self._cached = (now, config)
        return config

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None

    def identity_for(self, profile: str, config: RuntimeConfig | None = None) -> ClientIdentity:
        config = config or self.current()
        client_type = config.client_type_for(profile)
        return default_identity(client_type, self.settings).merged(config.identity_overrides(profile))

    def base_url_for(self, profile: str, config: RuntimeConfig | None = None) -> str:
        config = config or self.current()
        return str(config.identity_overrides(profile).get("base_url") or self.settings.cursor_api_url)

    # -- admin use cases --------------------------------------------------------------------------------

    def get(self) -> dict[str, Any]:
        self.invalidate()
        config = self.current()
        return _answer("Current configuration", config)

    def update(self, changes: Mapping[str, Any], expected_version: int | None = None) -> dict[str, Any]:
        if not changes:
            raise InvalidRequest("Nothing to update: send at least one config field")
        version, data = self.store.load()
        if expected_version is not None and expected_version != version:
            from cursor_gateway.storage.config import ConfigConflict

            raise ConfigConflict(f"Config is at version {version}, not {expected_version}; read it again")
        current = from_stored(data, version, self.defaults())
        updated = apply_update(current, changes)
        new_version = self.store.save(updated.as_json(), version)
        self.invalidate()
        config = self.current()
        return _answer(f"Configuration updated to version {new_version}", config)


def _answer(message: str, config: RuntimeConfig) -> dict[str, Any]:
    return {"status": "success", "message": message, "data": config.public_json(), "version": config.version}


def build_config_service(settings: Settings) -> ConfigService:
    from cursor_gateway.storage.config import DynamoConfigStore

    return ConfigService(DynamoConfigStore(settings.config_table), settings)
