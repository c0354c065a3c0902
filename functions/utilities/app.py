"""UtilitiesFunction: the public utility routes (`/gen-uuid`, `/gen-hash`, `/gen-checksum`,
`/get-timestamp-header`) and the gateway's schema `/openapi.json`, buffered behind API Gateway."""

from __future__ import annotations

from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import schema, utilities
from mangum import Mangum

handler = Mangum(create_app(utilities.router, schema.router), lifespan="off")
