"""cursor-gateway: an OpenAI/Anthropic-compatible API over a pool of Cursor accounts."""

__version__ = "0.1.0"
