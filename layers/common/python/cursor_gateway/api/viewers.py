"""Who may read request logs and usage statistics (logs-stats-pages.md E.2).

The admin (`Authorization: Bearer <AUTH_TOKEN>`; on `/api/*` also `x-admin-token`, Antigravity's
documented header) sees everything. Any credential the chat routes accept (the shared token, a gateway
key, a dynamic key) reads only its own requests: the scope is forced from the credential, never taken
from the request. A missing or unknown credential is 401.
"""

from __future__ import annotations

import hmac

from fastapi import Request

from cursor_gateway.api.answering import recorded_caller
from cursor_gateway.api.auth import api_keys, require_chat_key
from cursor_gateway.errors import AuthenticationFailed, PermissionDenied
from cursor_gateway.services.log_reader import Viewer


async def require_viewer(request: Request) -> Viewer:
    admin_header = request.headers.get("x-admin-token", "").strip()
    if admin_header and request.url.path.startswith("/api/"):
        admin = await api_keys(request).admin_async()
        if admin and hmac.compare_digest(admin_header.encode(), admin.encode()):
            return Viewer(admin=True)
        raise AuthenticationFailed("Invalid x-admin-token")
    caller = await require_chat_key(request)
    recorded = recorded_caller(caller)
    return Viewer(admin=caller.role == "admin", key_id=recorded.key_id)


async def require_admin_viewer(request: Request) -> Viewer:
    viewer = await require_viewer(request)
    if not viewer.admin:
        raise PermissionDenied("Only the admin may do this")
    return viewer
