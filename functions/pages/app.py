"""PagesFunction: the admin console's page-only paths and `/static/<name>` (public, buffered)."""

from __future__ import annotations

from cursor_gateway.api.app import create_app
from cursor_gateway.api.routes import pages
from mangum import Mangum

handler = Mangum(create_app(pages.router), lifespan="off")
