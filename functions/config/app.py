"""ConfigFunction: `POST /config` (the runtime config, admin), buffered behind API Gateway."""

from __future__ import annotations

from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import config
from mangum import Mangum

handler = Mangum(create_app(config.router), lifespan="off")
