"""ChatFunction's ASGI app: the chat routes, served by uvicorn (`run.sh`) under Lambda Web Adapter so that
answers stream. Mangum cannot stream, so there is no `handler` here: LWA is the Lambda handler."""

from __future__ import annotations

from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import chat, cursor, messages, responses

# Chat completions (OpenAI) and the Messages API (Anthropic, with count_tokens): both stream.
# The OpenAI Responses API (with GET/DELETE of stored responses) streams the same way.
# /cursor/chat/completions (any of the three body shapes, answered as chat) streams too.
app = create_app(chat.router, messages.router, responses.router, cursor.router)
