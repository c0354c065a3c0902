"""AnalyticsApiFunction: the `/analytics/*` admin routes, buffered behind API Gateway."""

from __future__ import annotations

from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import analytics
from mangum import Mangum

# Built at import (no I/O: collaborators are built on first use); lifespan "off" because Mangum would run
# it on every invocation.
handler = Mangum(create_app(analytics.router), lifespan="off")
