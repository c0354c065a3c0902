"""Settings read from the environment get their declared types (a `PORT` is an int, `false` is False)."""

from __future__ import annotations

from cursor_gateway.settings import Settings


def test_environment_values_are_converted_to_the_field_types() -> None:
    settings = Settings.from_env(
        {
            "PORT": "3001",
            "RATE_LIMIT_COOLDOWN": "7.5",
            "CURSOR_GHOST_MODE": "false",
            "MAX_TOKEN_ATTEMPTS": "2",
            "CORS_ORIGINS": "https://a.example, https://b.example",
            "CURSOR_API_URL": "http://127.0.0.1:3100/",
            "TOKENS_TABLE": "t",
        }
    )
    assert settings.port == 3001
    assert settings.rate_limit_cooldown == 7.5
    assert settings.cursor_ghost_mode is False
    assert settings.max_token_attempts == 2
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.cursor_api_url == "http://127.0.0.1:3100"
    assert settings.tokens_table == "t"


def test_empty_values_keep_the_defaults() -> None:
    assert Settings.from_env({"PORT": "", "CURSOR_GHOST_MODE": ""}) == Settings()
