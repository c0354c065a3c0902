"""Pure types and rules: chat requests and events, models, tokens. No I/O here."""
