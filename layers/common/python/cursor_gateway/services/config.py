"""Runtime config as a use case: read (cached a few seconds per process, so warm instances pick up a
change quickly without a store read per request), update / reset / rollback with a conditional write, and
the identity a profile presents (built-in defaults <- environment <- stored config).

The store keeps only what an operator set (a field sent with `null` is removed again), so a field never
set follows its environment twin (settings.SETTINGS, `GET /env-example`); `reset` stores nothing set.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cursor_gateway.domain.config import RuntimeConfig, apply_update, from_stored
from cursor_gateway.errors import InvalidRequest, NotFound
from cursor_gateway.settings import Settings
from cursor_gateway.storage.config import ConfigConflict, ConfigStore
from cursor_gateway.upstream.cli_discovery import ide_shaped
from cursor_gateway.upstream.identity import DEFAULT_VERSIONS, ClientIdentity, default_identity

if TYPE_CHECKING:
    from cursor_gateway.services.version_discovery import VersionDiscovery

log = logging.getLogger("cursor_gateway.services.config")

# A change without `expected_version` is re-applied on the newer version after a conflict (it names only
# the fields it changes, so nothing another writer did is lost); this many tries, then 409.
_CONFLICT_RETRIES = 8


class ConfigService:
    def __init__(
        self, store: ConfigStore, settings: Settings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, RuntimeConfig] | None = None
        self._defaults: RuntimeConfig | None = None
        # The CLI build id discovery (services.version_discovery), set by the container; None: built-in id.
        self.discovery: VersionDiscovery | None = None

    def defaults(self) -> RuntimeConfig:
        """The config before any stored change: built-in defaults overridden by the environment twins.
        A twin whose value the config rules refuse is logged and skipped (the rest still apply)."""
        if self._defaults is None:
            config = RuntimeConfig()
            for name, value in environment_twins(self.settings).items():
                try:
                    config = apply_update(config, {name: value})
                except InvalidRequest as exc:
                    log.error("ignoring %s from the environment: %s", name.upper(), exc.message)
            self._defaults = config
        return self._defaults

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
        identity = default_identity(client_type, self.settings).merged(config.identity_overrides(profile))
        if client_type == "cli" and self.identity_source(profile, config) != "configured" and self.discovery:
            identity = replace(identity, client_version=self.discovery.current()[0])
        elif client_type == "cli" and ide_shaped(identity.client_version):
            log.warning(
                "client version %r is not a dated CLI build; sending the default", identity.client_version
            )
            identity = replace(identity, client_version=DEFAULT_VERSIONS["cli"])
        return identity

    def identity_source(self, profile: str, config: RuntimeConfig | None = None) -> str:
        """Where the profile's client version comes from: configured | discovered | default."""
        config = config or self.current()
        client_type = config.client_type_for(profile)
        pinned_env = (
            self.settings.cursor_client_version if client_type == self.settings.cursor_client_type else ""
        )
        pinned = str(config.identity_overrides(profile).get("client_version") or pinned_env or "")
        if pinned and not (client_type == "cli" and ide_shaped(pinned)):
            return "configured"
        if client_type == "cli" and self.discovery is not None:
            return self.discovery.current()[1]
        return "default"

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

        def change(version: int, data: dict[str, Any]) -> dict[str, Any]:
            updated = apply_update(from_stored(data, version, self.defaults()), changes)
            as_json = updated.as_json()
            stored = dict(data)
            for name in changes:
                if changes[name] is None and name not in ("client_identity", "model_aliases"):
                    stored.pop(name, None)  # back to the environment twin
                else:
                    stored[name] = as_json[name]
            return stored

        written = self._write(change, expected_version)
        return _answer(f"Configuration updated to version {written.version}", written)

    def reset(self, expected_version: int | None = None) -> dict[str, Any]:
        """Back to the defaults (environment twins), as a new version; earlier versions stay."""
        written = self._write(lambda _version, _data: {}, expected_version)
        return _answer(f"Configuration reset to the defaults as version {written.version}", written)

    def rollback(self, version: int, expected_version: int | None = None) -> dict[str, Any]:
        """Restore what version `version` stored, as a new version (history is never rewritten)."""
        if version < 1:
            raise InvalidRequest("version must be >= 1", param="version")
        restored = self.store.load_version(version)
        if restored is None:
            raise NotFound(f"Config version {version} does not exist")
        written = self._write(lambda _version, _data: dict(restored), expected_version)
        return _answer(f"Configuration version {version} restored as version {written.version}", written)

    def _write(
        self, change: Callable[[int, dict[str, Any]], dict[str, Any]], expected_version: int | None
    ) -> RuntimeConfig:
        """Read, change, conditional write; the config as written (a later write by someone else may
        already be newer). With `expected_version` a newer stored version is a 409; without, a conflicting
        concurrent write makes us re-read and apply the change again."""
        for attempt in range(_CONFLICT_RETRIES):
            if attempt:
                # Jittered backoff: writers that collided should not collide again in lockstep.
                time.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 5)))
            version, data = self.store.load()
            if expected_version is not None and expected_version != version:
                raise ConfigConflict(f"Config is at version {version}, not {expected_version}; read it again")
            changed = change(version, data)
            try:
                new_version = self.store.save(changed, version)
            except ConfigConflict:
                if expected_version is not None:
                    raise
                continue
            self.invalidate()
            return from_stored(changed, new_version, self.defaults())
        raise ConfigConflict("Config kept changing concurrently; try again")


def environment_twins(settings: Settings) -> dict[str, Any]:
    """Each config field's environment twin (settings.SETTINGS), in the config's own shapes."""
    aliases = settings.model_aliases.strip()
    return {
        "cursor_protocol": settings.cursor_protocol,
        "thinking_output": settings.thinking_output,
        "vision_ability": settings.vision_ability,
        "token_selection": settings.token_selection,
        "enable_slow_pool": settings.enable_slow_pool,
        "enable_long_context": settings.enable_long_context,
        "include_web_references": settings.include_web_references,
        "enable_dynamic_key": settings.enable_dynamic_key,
        "usage_check_models": usage_check_from_text(settings.usage_check_models),
        "share_token": settings.shared_token,
        "model_aliases": json.loads(aliases) if aliases else {},
    }


def usage_check_from_text(text: str) -> Any:
    """USAGE_CHECK_MODELS: `none` | `default` | `all` | `list:a,b` | the JSON object of the config field."""
    text = text.strip()
    if text.startswith("{"):
        return json.loads(text)
    if text.startswith("list:"):
        return {"type": "list", "content": text[len("list:") :]}
    return {"type": text, "content": ""}


def _answer(message: str, config: RuntimeConfig) -> dict[str, Any]:
    return {"status": "success", "message": message, "data": config.public_json(), "version": config.version}


def build_config_service(settings: Settings) -> ConfigService:
    from cursor_gateway.storage.config import DynamoConfigStore

    return ConfigService(DynamoConfigStore(settings.config_table), settings)
