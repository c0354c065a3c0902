"""ProxiesFunction: `/proxies/*` (the outbound proxy table, admin), buffered behind API Gateway."""

from __future__ import annotations

from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import proxies
from mangum import Mangum

handler = Mangum(create_app(proxies.router), lifespan="off")
