"""LogsFunction: request logs (`/logs/*`, `/api/logs*`, `/api/proxy/stats`) and usage statistics
(`/api/stats/*`), buffered (exports are built whole, up to Lambda's 6 MB response)."""

from __future__ import annotations

from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import logs, stats
from mangum import Mangum

handler = Mangum(create_app(logs.router, stats.router), lifespan="off")
