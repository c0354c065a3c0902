"""ModelsFunction: `GET /v1/models`, buffered behind API Gateway."""

from __future__ import annotations

from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import models
from mangum import Mangum

handler = Mangum(create_app(models.router), lifespan="off")
