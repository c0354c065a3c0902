"""One typed settings object, read from the environment once (lazily, never at import time).

Every setting is declared in `SETTINGS` with its default and meaning (the tables of `settings.env` and
`settings.env_features`); that table feeds docs/configuration.md and `GET /env-example`.
Explicit arguments beat the environment: tests build `Settings(...)` directly.

A package only so that those tables live beside this module (and count as settings for the layering
rules); `from cursor_gateway.settings import Settings` is the import everywhere.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from typing import Any

from cursor_gateway.settings.env import GATEWAY_SETTINGS, SettingSpec
from cursor_gateway.settings.env_features import FEATURE_SETTINGS

SETTINGS: tuple[SettingSpec, ...] = GATEWAY_SETTINGS + FEATURE_SETTINGS

_TRUE = {"1", "true", "yes", "on"}


def _as_bool(value: str) -> bool:
    return value.strip().lower() in _TRUE


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 3000
    auth_token: str = ""
    shared_token: str = ""
    cursor_api_url: str = "https://api2.cursor.sh"
    cursor_web_url: str = "https://cursor.com"
    cursor_protocol: str = "agent"
    cursor_client_type: str = "cli"
    cursor_client_version: str = ""
    cursor_version_discovery_url: str = "https://cursor.com/install"
    cursor_version_floor: str = ""
    usage_refresh_interval: float = 0.0
    cursor_agent_flatten_bytes: int = 65536
    cursor_ghost_mode: bool = True
    cursor_agent_codec: str = "proto"
    cursor_timezone: str = "UTC"
    cursor_heartbeat_seconds: float = 5.0
    cursor_first_event_timeout: float = 60.0
    cursor_idle_timeout: float = 120.0
    cursor_connect_timeout: float = 10.0
    session_refresh_margin: float = 86400.0
    max_token_attempts: int = 3
    rate_limit_cooldown: float = 60.0
    rate_limit_max_cooldown: float = 3600.0
    pool_cache_seconds: float = 2.0
    models_cache_seconds: float = 1800.0
    max_body_bytes: int = 6_000_000
    cors_origins: tuple[str, ...] = ()
    thinking_output: str = "reasoning_content"
    thinking_tag: str = "think"
    canary_profiles: tuple[str, ...] = ("agent",)
    canary_model: str = "default"
    canary_min_interval: float = 3600.0
    canary_table: str = "cursor-gateway-canary"
    config_table: str = "cursor-gateway-config"
    config_cache_seconds: float = 5.0
    vision_ability: str = "base64"
    token_selection: str = "round_robin"
    enable_slow_pool: bool = False
    enable_long_context: bool = False
    include_web_references: bool = False
    enable_dynamic_key: bool = False
    usage_check_models: str = "default"
    model_aliases: str = ""
    key_prefix: str = "sk-"
    keys_table: str = "cursor-gateway-keys"
    keys_cache_seconds: float = 10.0
    key_last_used_seconds: float = 300.0
    proxies_cache_seconds: float = 5.0
    tokens_table: str = "cursor-gateway-tokens"
    data_dir: str = "./data"
    local_ttl_sweep_seconds: float = 60.0
    local_state_fsync: bool = False
    log_level: str = "INFO"
    auth_token_param: str = ""
    shared_token_param: str = ""
    secrets_cache_seconds: float = 300.0
    sse_keepalive_seconds: float = 15.0
    max_stream_seconds: float = 840.0
    # --- vision (issue 6) ---
    image_fetch_max_bytes: int = 5_000_000
    image_fetch_timeout: float = 10.0
    image_fetch_max_redirects: int = 3
    image_fetch_allow_networks: tuple[str, ...] = ()
    # --- analytics (issue 7) ---
    cursor_admin_api_url: str = "https://api.cursor.com"
    cursor_admin_api_key: str = ""
    cursor_admin_api_key_param: str = ""
    cursor_admin_api_rpm: int = 5
    analytics_datasets: str = "commits,changes"
    analytics_backfill_start: str = "90d"
    analytics_schedule_rate: str = "rate(1 hour)"
    analytics_window_days: int = 30
    analytics_overlap_hours: float = 6.0
    analytics_page_size: int = 1000
    analytics_export_url_seconds: int = 3600
    analytics_commits_table: str = "cursor-gateway-analytics-commits"
    analytics_changes_table: str = "cursor-gateway-analytics-changes"
    analytics_state_table: str = "cursor-gateway-analytics-state"
    analytics_bucket: str = "cursor-gateway-analyticsbucket"
    analytics_function_name: str = ""
    # --- Copilot++ (issue 13) ---
    general_gcpp_host: str = "Asia"
    cursor_tab_client_version: str = ""
    cursor_tab_timeout: float = 10.0
    cursor_tab_geo_host: bool = False
    # --- request logs and usage statistics (issue 11) ---
    request_recording: bool = True
    request_logs_limit: int = 100
    log_retention_days: float = 30.0
    log_store_bodies: bool = True
    log_body_retention_days: float = 3.0
    log_body_max_bytes: int = 262_144
    stats_tz: str = "UTC"
    stats_hourly_retention_days: float = 90.0
    stats_daily_retention_days: float = 730.0
    log_shards: int = 1
    request_logs_table: str = "cursor-gateway-request-logs"
    usage_stats_table: str = "cursor-gateway-usage-stats"
    log_bodies_bucket: str = "cursor-gateway-logbodiesbucket"
    assets_bucket: str = ""
    # --- OpenAI Responses API (issue 15) ---
    responses_table: str = "cursor-gateway-responses"
    responses_ttl_days: float = 30.0
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = env.get(f.name.upper())
            if raw is None or raw == "":
                continue
            # The field default gives the type (a slots dataclass has no class attribute to read it from).
            values[f.name] = _convert(f.name, raw, f.default)
        settings = cls(**values)
        settings.validate()
        return settings

    def with_overrides(self, **changes: Any) -> Settings:
        updated = replace(self, **changes)
        updated.validate()
        return updated

    def validate(self) -> None:
        if self.cursor_protocol not in ("agent", "inference", "legacy"):
            raise ValueError("CURSOR_PROTOCOL must be agent, inference or legacy")
        if self.cursor_agent_codec not in ("proto", "json"):
            raise ValueError("CURSOR_AGENT_CODEC must be proto or json")
        if self.thinking_output not in ("reasoning_content", "think_tags"):
            raise ValueError("THINKING_OUTPUT must be reasoning_content or think_tags")
        if self.max_token_attempts < 1:
            raise ValueError("MAX_TOKEN_ATTEMPTS must be >= 1")
        self._validate_config_defaults()
        if self.rate_limit_cooldown <= 0 or self.rate_limit_max_cooldown < self.rate_limit_cooldown:
            raise ValueError("RATE_LIMIT_COOLDOWN must be > 0 and <= RATE_LIMIT_MAX_COOLDOWN")
        if self.sse_keepalive_seconds <= 0 or self.max_stream_seconds <= 0:
            raise ValueError("SSE_KEEPALIVE_SECONDS and MAX_STREAM_SECONDS must be > 0")
        self._validate_analytics()
        self._validate_image_fetch()
        if self.local_ttl_sweep_seconds <= 0:
            raise ValueError("LOCAL_TTL_SWEEP_SECONDS must be > 0")
        self._validate_request_logs()

    def _validate_request_logs(self) -> None:
        if self.request_logs_limit < 0 or self.log_body_max_bytes < 1 or self.log_shards < 1:
            raise ValueError("REQUEST_LOGS_LIMIT must be >= 0, LOG_BODY_MAX_BYTES and LOG_SHARDS >= 1")
        if (
            min(self.log_retention_days, self.stats_hourly_retention_days, self.stats_daily_retention_days)
            <= 0
        ):
            raise ValueError("LOG_RETENTION_DAYS and STATS_*_RETENTION_DAYS must be > 0")
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.stats_tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"STATS_TZ: unknown time zone '{self.stats_tz}'") from None
        if self.responses_ttl_days <= 0:
            raise ValueError("RESPONSES_TTL_DAYS must be > 0")

    def _validate_image_fetch(self) -> None:
        if self.image_fetch_max_bytes < 1 or self.image_fetch_timeout <= 0:
            raise ValueError("IMAGE_FETCH_MAX_BYTES and IMAGE_FETCH_TIMEOUT must be > 0")
        if self.image_fetch_max_redirects < 0:
            raise ValueError("IMAGE_FETCH_MAX_REDIRECTS must be >= 0")
        for network in self.image_fetch_allow_networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"IMAGE_FETCH_ALLOW_NETWORKS: '{network}' is not a CIDR") from None

    def _validate_config_defaults(self) -> None:
        """The environment twins of the config fields: values checked here; ConfigService.defaults() checks
        the shapes inside the JSON ones with the config's own rules."""
        if self.vision_ability not in ("none", "base64", "all"):
            raise ValueError("VISION_ABILITY must be none, base64 or all")
        if self.token_selection not in ("round_robin", "fill_first", "most_remaining"):
            raise ValueError("TOKEN_SELECTION must be round_robin, fill_first or most_remaining")
        usage = self.usage_check_models.strip()
        if not (usage in ("none", "default", "all") or usage.startswith(("list:", "{"))):
            raise ValueError('USAGE_CHECK_MODELS must be none, default, all, list:a,b or {"type", "content"}')
        for name, text in (("USAGE_CHECK_MODELS", usage), ("MODEL_ALIASES", self.model_aliases.strip())):
            if text.startswith("{") or (name == "MODEL_ALIASES" and text):
                try:
                    parsed = json.loads(text)
                except ValueError as exc:
                    raise ValueError(f"{name} is not valid JSON: {exc}") from None
                if not isinstance(parsed, dict):
                    raise ValueError(f"{name} must be a JSON object")
        if not self.key_prefix:
            raise ValueError("KEY_PREFIX must not be empty")

    def _validate_analytics(self) -> None:
        if self.cursor_admin_api_rpm < 1:
            raise ValueError("CURSOR_ADMIN_API_RPM must be >= 1")
        if not 1 <= self.analytics_window_days <= 30:
            raise ValueError("ANALYTICS_WINDOW_DAYS must be 1..30")
        if not 1 <= self.analytics_page_size <= 1000:
            raise ValueError("ANALYTICS_PAGE_SIZE must be 1..1000")
        unknown = set(self.analytics_dataset_names) - {"commits", "changes"}
        if unknown or not self.analytics_dataset_names:
            raise ValueError("ANALYTICS_DATASETS must name commits and/or changes")

    @property
    def analytics_dataset_names(self) -> tuple[str, ...]:
        return tuple(n.strip() for n in self.analytics_datasets.split(",") if n.strip())


def _convert(name: str, raw: str, default: Any) -> Any:
    if name in ("cors_origins", "canary_profiles", "image_fetch_allow_networks"):
        return tuple(o.strip() for o in raw.split(",") if o.strip())
    if isinstance(default, bool):
        return _as_bool(raw)
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw.rstrip("/") if name.endswith("_url") else raw


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, read on first use (Lambda cold start or server start)."""
    return Settings.from_env()
