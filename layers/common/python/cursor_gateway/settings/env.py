"""The documented environment variables of the gateway itself: server, auth, the Cursor upstream, chat,
the runtime config's environment twins, keys, the token pool, the local stack and the AWS deployment.

`settings.SETTINGS` joins this table with `settings.env_features.FEATURE_SETTINGS` (the optional
features); it feeds docs/configuration.md and `GET /env-example`. A new setting gets a `SettingSpec`
in the table of its area and a field of the same name, lower case, on `settings.Settings`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SettingSpec:
    name: str
    default: str
    meaning: str


GATEWAY_SETTINGS: tuple[SettingSpec, ...] = (
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
)
