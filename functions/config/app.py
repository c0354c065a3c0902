"""ConfigFunction: `POST /config` (the runtime config, admin), buffered behind API Gateway."""

from __future__ import annotations

from mangum import Mangum

from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import config

handler = Mangum(create_app(config.router), lifespan="off")
