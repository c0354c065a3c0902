"""The documented environment variables of the optional features, one block per issue that added them:
vision URL fetches, analytics pulls, Copilot++ (Tab), request logs and usage statistics, the Responses
API. `settings.SETTINGS` lists them after `settings.env.GATEWAY_SETTINGS`.
"""

from __future__ import annotations

from cursor_gateway.settings.env import SettingSpec

FEATURE_SETTINGS: tuple[SettingSpec, ...] = (
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
