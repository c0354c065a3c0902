"""ModelsFunction: `GET /v1/models`, buffered behind API Gateway."""

from __future__ import annotations

from mangum import Mangum

from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import models

handler = Mangum(create_app(models.router), lifespan="off")
