"""KeysFunction: `/build-key`, `/keys`, `/keys/revoke`, `/config-version` (gateway keys, admin), buffered."""

from __future__ import annotations

from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import keys
from mangum import Mangum

handler = Mangum(create_app(keys.router), lifespan="off")
