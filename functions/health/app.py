"""HealthFunction: `GET /health` and `GET /`, buffered behind API Gateway."""

from __future__ import annotations

from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import health
from mangum import Mangum

# Built at import (no I/O: settings are read from the environment, collaborators on first use), so a
# warm container reuses the app; lifespan "off" because Mangum would run it on every invocation.
handler = Mangum(create_app(health.router), lifespan="off")
