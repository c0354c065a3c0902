"""One typed settings object, read from the environment once (lazily, never at import time).

Every setting is declared in `SETTINGS` with its default and meaning; that table feeds the README and
`GET /env-example`. Explicit arguments beat the environment: tests build `Settings(...)` directly.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from typing import Any


@dataclass(frozen=True, slots=True)
class SettingSpec:
    name: str
    default: str
    meaning: str


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("HOST", "127.0.0.1", "Interface `cursor-gateway serve` binds."),
    SettingSpec("PORT", "3000", "Port `cursor-gateway serve` listens on."),
    SettingSpec(
        "AUTH_TOKEN", "", "Admin bearer token (admin routes and chat). `make run` generates one if unset."
    ),
    SettingSpec(
        "SHARED_TOKEN", "", "Optional bearer token that may use the chat routes but not the admin API."
    ),
    SettingSpec(
        "CURSOR_API_URL",
        "https://api2.cursor.sh",
        "Base URL of every api2/agent host (chat, catalog, key exchange, refresh). "
        "`http://` means HTTP/2 with prior knowledge (emulator, tests).",
    ),
    SettingSpec("CURSOR_WEB_URL", "https://cursor.com", "Base URL of cursor.com (dashboard JSON APIs)."),
    SettingSpec(
        "CURSOR_PROTOCOL",
        "agent",
        "Chat RPC: agent (AgentService/Run), inference (RunInference) or legacy "
        "(StreamUnifiedChatWithTools). The stored config's cursor_protocol overrides it at run time.",
    ),
    SettingSpec("CURSOR_CLIENT_TYPE", "cli", "x-cursor-client-type sent upstream (cli | sdk | ide)."),
    SettingSpec(
        "CURSOR_CLIENT_VERSION",
        "",
        "x-cursor-client-version, pinned (turns discovery off). Empty: the built-in cli-2026.10.01-e373342, "
        "raised by discovery. Set it when Cursor answers 'Update Required'.",
    ),
    SettingSpec(
        "CURSOR_VERSION_DISCOVERY_URL",
        "https://cursor.com/install",
        "Cursor's installer script; its downloads.cursor.com/lab/<build>/ folder names the newest CLI "
        "build (read in the background, 3 s timeout, kept a day). `off` disables discovery.",
    ),
    SettingSpec(
        "CURSOR_AGENT_FLATTEN_BYTES",
        "65536",
        "Agent history above this many bytes of root blobs: older turns go into the user message as a "
        "transcript (structured history this large drew stream resets). 0 = never flatten.",
    ),
    SettingSpec(
        "USAGE_REFRESH_INTERVAL",
        "0",
        "Seconds between scheduled GetCurrentPeriodUsage fetches for every token (run by the canary "
        "schedule); 0 = only with POST /tokens/profile/update.",
    ),
    SettingSpec(
        "CURSOR_VERSION_FLOOR",
        "",
        "Lowest CLI build id discovery may present (empty: the built-in default).",
    ),
    SettingSpec("CURSOR_GHOST_MODE", "true", "x-ghost-mode (privacy mode) sent upstream."),
    SettingSpec("CURSOR_AGENT_CODEC", "proto", "Agent RPC codec: proto (application/connect+proto) or json."),
    SettingSpec("CURSOR_TIMEZONE", "UTC", "Default IANA time zone reported upstream."),
    SettingSpec("CURSOR_HEARTBEAT_SECONDS", "5", "Interval of client heartbeats on the agent stream."),
    SettingSpec(
        "CURSOR_FIRST_EVENT_TIMEOUT", "60", "Seconds to wait for the first answer event before failing over."
    ),
    SettingSpec(
        "CURSOR_IDLE_TIMEOUT", "120", "Seconds of upstream silence after which a stream is abandoned."
    ),
    SettingSpec("CURSOR_CONNECT_TIMEOUT", "10", "Seconds to establish the upstream connection."),
    SettingSpec(
        "SESSION_REFRESH_MARGIN",
        "86400",
        "Refresh a session JWT via /oauth/token when it expires sooner than this.",
    ),
    SettingSpec("MAX_TOKEN_ATTEMPTS", "3", "Distinct tokens a chat request may try before the first event."),
    SettingSpec(
        "RATE_LIMIT_COOLDOWN",
        "60",
        "Seconds a rate-limited token first rests; each further rate limit before a success doubles it.",
    ),
    SettingSpec(
        "RATE_LIMIT_MAX_COOLDOWN",
        "3600",
        "Cap of a token's cooldown (the doubling, and a Retry-After from Cursor).",
    ),
    SettingSpec("POOL_CACHE_SECONDS", "2", "How long one process reuses its listing of the token pool."),
    SettingSpec("MODELS_CACHE_SECONDS", "1800", "How long the upstream model list is cached."),
    SettingSpec(
        "MAX_BODY_BYTES",
        "6000000",
        "Largest request body accepted (413 above). Lambda's payload cap is 6 MB.",
    ),
    SettingSpec(
        "CORS_ORIGINS", "", "Comma-separated origins allowed by CORS; `*` for any; empty disables CORS."
    ),
    SettingSpec(
        "THINKING_OUTPUT",
        "reasoning_content",
        "Where thinking goes in OpenAI responses: reasoning_content or think_tags.",
    ),
    SettingSpec("THINKING_TAG", "think", "Tag name used when THINKING_OUTPUT=think_tags."),
    SettingSpec("CANARY_PROFILES", "agent", "Comma-separated protocol profiles the drift canary probes."),
    SettingSpec("CANARY_MODEL", "default", "Model the drift canary asks."),
    SettingSpec(
        "CANARY_MIN_INTERVAL", "3600", "Seconds between two canary probes of one profile (quota is spent)."
    ),
    SettingSpec(
        "CANARY_TABLE", "cursor-gateway-canary", "DynamoDB table of the last canary result per profile."
    ),
    SettingSpec(
        "CONFIG_TABLE", "cursor-gateway-config", "DynamoDB table of the runtime config and its versions."
    ),
    SettingSpec(
        "CONFIG_CACHE_SECONDS", "5", "How long one process reuses the stored config before re-reading it."
    ),
    # --- runtime config defaults: each is the environment twin of a POST /config field (the stored config
    # overrides it at run time; `{"action": "reset"}` goes back to these) ---
    SettingSpec(
        "VISION_ABILITY",
        "base64",
        "Images in chat: none (refused), base64 (data: URLs only) or all (also http(s) URLs). "
        "Config field vision_ability.",
    ),
    SettingSpec(
        "TOKEN_SELECTION",
        "round_robin",
        "How chat picks a token: round_robin, fill_first or most_remaining (the most plan left, from "
        "GetCurrentPeriodUsage). Config field token_selection.",
    ),
    SettingSpec("ENABLE_SLOW_POOL", "false", "Allow Cursor's slow pool. Config field enable_slow_pool."),
    SettingSpec(
        "ENABLE_LONG_CONTEXT", "false", "Ask for long-context mode. Config field enable_long_context."
    ),
    SettingSpec(
        "INCLUDE_WEB_REFERENCES",
        "false",
        "Put web references into the answer text. Config field include_web_references.",
    ),
    SettingSpec(
        "ENABLE_DYNAMIC_KEY",
        "false",
        "Accept the reference's self-describing `sk-` keys (they carry their own Cursor token) on the "
        "chat routes. Config field enable_dynamic_key.",
    ),
    SettingSpec(
        "USAGE_CHECK_MODELS",
        "default",
        "Models whose usage is checked: none, default, all, list:model-a,model-b, or the JSON "
        '{"type", "content"}. Config field usage_check_models.',
    ),
    SettingSpec(
        "MODEL_ALIASES",
        "",
        'JSON object: client model id -> Cursor model id or {"model", "max_mode"?, "parameters"?}. '
        "Config field model_aliases.",
    ),
    SettingSpec(
        "KEY_PREFIX", "sk-", "Prefix of the reference's dynamic keys (read when ENABLE_DYNAMIC_KEY is on)."
    ),
    # --- gateway keys (POST /build-key, GET /keys) ---
    SettingSpec("KEYS_TABLE", "cursor-gateway-keys", "DynamoDB table of gateway keys (`cgk_...`)."),
    SettingSpec(
        "KEYS_CACHE_SECONDS",
        "10",
        "How long one process trusts a checked gateway key (a revocation reaches other instances within "
        "this; the instance that revoked it forgets the key at once).",
    ),
    SettingSpec(
        "KEY_LAST_USED_SECONDS",
        "300",
        "A key's last-used time is written at most once per this interval (not on every request).",
    ),
    SettingSpec(
        "PROXIES_CACHE_SECONDS",
        "5",
        "How long one process reuses the stored proxy table before re-reading it.",
    ),
    SettingSpec("TOKENS_TABLE", "cursor-gateway-tokens", "DynamoDB table of the account pool."),
    SettingSpec("DATA_DIR", "./data", "Local stack only: where `make run` keeps its state between restarts."),
    SettingSpec(
        "LOCAL_TTL_SWEEP_SECONDS",
        "60",
        "Local stack only: how often expired DynamoDB items (TTL) are deleted from DATA_DIR's state.",
    ),
    SettingSpec(
        "LOCAL_STATE_FSYNC",
        "false",
        "Local stack only: fsync every write to DATA_DIR (survives a power cut too, not only a crash).",
    ),
    SettingSpec("LOG_LEVEL", "INFO", "Python log level."),
    # --- serverless deployment (issue 5): secrets from SSM / Secrets Manager, long streams on Lambda ---
    SettingSpec(
        "AUTH_TOKEN_PARAM",
        "",
        "In AWS: the SSM parameter (SecureString) or Secrets Manager ARN holding AUTH_TOKEN, read on first "
        "use. AUTH_TOKEN, when set, wins.",
    ),
    SettingSpec(
        "SHARED_TOKEN_PARAM", "", "In AWS: where SHARED_TOKEN lives (like AUTH_TOKEN_PARAM); may not exist."
    ),
    SettingSpec(
        "SECRETS_CACHE_SECONDS",
        "300",
        "How long one process reuses a secret read from SSM / Secrets Manager.",
    ),
    SettingSpec(
        "SSE_KEEPALIVE_SECONDS",
        "15",
        "Upstream silence after which a streamed answer sends an SSE comment (`: keep-alive`), so clients "
        "and API Gateway (idle limit 5 min) keep the connection.",
    ),
    SettingSpec(
        "MAX_STREAM_SECONDS",
        "840",
        "Longest a chat request may stream; then it ends with an in-band error. API Gateway stops streams "
        "at 15 min and Lambda would keep running, so the template sets 840.",
    ),
    # --- vision (issue 6): http(s) image URLs, fetched only when vision_ability is `all` ---
    SettingSpec(
        "IMAGE_FETCH_MAX_BYTES", "5000000", "Largest image fetched from an http(s) URL (a 400 above)."
    ),
    SettingSpec(
        "IMAGE_FETCH_TIMEOUT", "10", "Seconds one image URL may take, redirects and download included."
    ),
    SettingSpec("IMAGE_FETCH_MAX_REDIRECTS", "3", "Redirects followed per image URL (each hop re-checked)."),
    SettingSpec(
        "IMAGE_FETCH_ALLOW_NETWORKS",
        "",
        "Comma-separated CIDRs exempt from the image fetch guard (tests on 127.0.0.1, a trusted internal "
        "image host). Empty: every non-public address is refused. Cloud metadata addresses never pass.",
    ),
    # --- analytics (issue 7): scheduled pulls of Cursor's Admin API AI code tracking data ---
    SettingSpec("CURSOR_ADMIN_API_URL", "https://api.cursor.com", "Base URL of Cursor's Admin API."),
    SettingSpec(
        "CURSOR_ADMIN_API_KEY",
        "",
        "Cursor Admin API key (a team admin's, Enterprise plan) for the analytics pulls.",
    ),
    SettingSpec(
        "CURSOR_ADMIN_API_KEY_PARAM",
        "",
        "In AWS: the SSM parameter (SecureString) or Secrets Manager ARN holding CURSOR_ADMIN_API_KEY.",
    ),
    SettingSpec(
        "CURSOR_ADMIN_API_RPM",
        "5",
        "Requests per minute per Admin API endpoint, shared by every process (Cursor allows 5).",
    ),
    SettingSpec("ANALYTICS_DATASETS", "commits,changes", "Datasets a pull reads when none are named."),
    SettingSpec(
        "ANALYTICS_BACKFILL_START",
        "90d",
        "Where the first pull starts: a date (YYYY-MM-DD) or relative days (90d).",
    ),
    SettingSpec(
        "ANALYTICS_SCHEDULE_RATE",
        "rate(1 hour)",
        "How often `make run` pulls when CURSOR_ADMIN_API_KEY is set (`off` disables); in AWS the "
        "template parameter AnalyticsScheduleRate.",
    ),
    SettingSpec("ANALYTICS_WINDOW_DAYS", "30", "Days per request window (1-30)."),
    SettingSpec(
        "ANALYTICS_OVERLAP_HOURS", "6", "Each pull re-reads this much before its checkpoint (late rows)."
    ),
    SettingSpec("ANALYTICS_PAGE_SIZE", "1000", "Rows per Admin API page (1-1000)."),
    SettingSpec(
        "ANALYTICS_EXPORT_URL_SECONDS",
        "3600",
        "Lifetime of the presigned URL POST /analytics/export returns.",
    ),
    SettingSpec(
        "ANALYTICS_COMMITS_TABLE", "cursor-gateway-analytics-commits", "DynamoDB table of AI commit metrics."
    ),
    SettingSpec(
        "ANALYTICS_CHANGES_TABLE", "cursor-gateway-analytics-changes", "DynamoDB table of AI code changes."
    ),
    SettingSpec(
        "ANALYTICS_STATE_TABLE",
        "cursor-gateway-analytics-state",
        "DynamoDB table of pull checkpoints, runs and the shared rate limiter.",
    ),
    SettingSpec(
        "ANALYTICS_BUCKET",
        "cursor-gateway-analyticsbucket",
        "S3 bucket of raw rows (analytics/) and CSV exports (exports/).",
    ),
    SettingSpec(
        "ANALYTICS_FUNCTION_NAME",
        "",
        "Set in AWS: POST /analytics/pull invokes this function asynchronously; empty: a background thread.",
    ),
    # --- Copilot++ / Cursor Tab (issue 13): /cpp/* and /file/* ---
    SettingSpec(
        "GENERAL_GCPP_HOST",
        "Asia",
        "Tab region of tokens without their own gcpp_host: Asia, EU, US or a host name "
        "(us-asia / us-eu / us-only.gcpp.cursor.sh).",
    ),
    SettingSpec(
        "CURSOR_TAB_CLIENT_VERSION",
        "",
        "x-cursor-client-version of the Tab RPCs (IDE-shaped); empty: the IDE default of the chat identity.",
    ),
    SettingSpec(
        "CURSOR_TAB_GEO_HOST",
        "false",
        "Tab: for tokens without a gcpp_host, use the backend CppConfig names (geo_cpp_backend_url, asked "
        "once per token and process, kept an hour) instead of GENERAL_GCPP_HOST.",
    ),
    SettingSpec(
        "CURSOR_TAB_TIMEOUT",
        "10",
        "Seconds a Tab RPC may take to answer (a unary reply, StreamCpp's first frame, any later frame); "
        "before the first frame, another token is tried.",
    ),
    # --- request logs and usage statistics (issue 11) ---
    SettingSpec(
        "REQUEST_RECORDING",
        "true",
        "false records nothing at all, neither log entries nor usage statistics (the benchmark's baseline).",
    ),
    SettingSpec(
        "REQUEST_LOGS_LIMIT",
        "100",
        "0 disables request-log entries (usage statistics still count); otherwise the largest page "
        "POST /logs/get returns (at most 500). Retention is by time (LOG_RETENTION_DAYS).",
    ),
    SettingSpec("LOG_RETENTION_DAYS", "30", "Days a request-log entry is kept (DynamoDB TTL)."),
    SettingSpec(
        "LOG_STORE_BODIES", "true", "Keep prompt, thinking, answer and chunk delays of each request in S3."
    ),
    SettingSpec(
        "LOG_BODY_RETENTION_DAYS",
        "3",
        "Days log bodies are kept (the bucket's lifecycle rule; template parameter LogBodyRetentionDays).",
    ),
    SettingSpec("LOG_BODY_MAX_BYTES", "262144", "Each body field is cut at this many bytes, with a marker."),
    SettingSpec("STATS_TZ", "UTC", "Default IANA time zone of log timestamps and statistics buckets."),
    SettingSpec("STATS_HOURLY_RETENTION_DAYS", "90", "Days hourly usage counters are kept."),
    SettingSpec("STATS_DAILY_RETENTION_DAYS", "730", "Days daily usage counters are kept."),
    SettingSpec(
        "LOG_SHARDS",
        "1",
        "Partitions per day of the request-log table: more spread the write load (the template sets 4 "
        "in AWS); a listing reads each. Set it before the first entry: ids are placed by it.",
    ),
    SettingSpec(
        "REQUEST_LOGS_TABLE", "cursor-gateway-request-logs", "DynamoDB table of request-log entries."
    ),
    SettingSpec("USAGE_STATS_TABLE", "cursor-gateway-usage-stats", "DynamoDB table of usage counters."),
    SettingSpec("LOG_BODIES_BUCKET", "cursor-gateway-logbodiesbucket", "S3 bucket of request-log bodies."),
    SettingSpec(
        "ASSETS_BUCKET",
        "",
        "S3 bucket whose pages/<file> copies of the admin pages win over the packaged ones (set in AWS; "
        "`infra/scripts/publish_pages.py` uploads them). Empty: the packaged pages only.",
    ),
    # --- OpenAI Responses API (issue 15): stored responses for previous_response_id ---
    SettingSpec(
        "RESPONSES_TABLE",
        "cursor-gateway-responses",
        "DynamoDB table of stored /v1/responses answers (previous_response_id, GET/DELETE).",
    ),
    SettingSpec(
        "RESPONSES_TTL_DAYS",
        "30",
        "Days a stored response can be continued or fetched (`store: false` skips it).",
    ),
)

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
