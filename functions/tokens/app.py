"""TokensFunction: the account-pool admin API (`/tokens/*`), buffered behind API Gateway."""

from __future__ import annotations

from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import tokens
from mangum import Mangum

handler = Mangum(create_app(tokens.router), lifespan="off")
