"""CppFunction's ASGI app: Copilot++ (Cursor Tab) routes, served by uvicorn (`run.sh`) under Lambda Web
Adapter so that `/cpp/stream` streams its SSE events as they decode (Mangum cannot stream)."""

from __future__ import annotations

from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import tab

# /cpp/config, /cpp/models, /file/upload, /file/sync (JSON) and /cpp/stream (SSE).
app = create_app(tab.router)
