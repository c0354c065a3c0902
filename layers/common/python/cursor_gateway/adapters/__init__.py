"""Pure translation between client APIs (OpenAI, Anthropic) and the domain."""
