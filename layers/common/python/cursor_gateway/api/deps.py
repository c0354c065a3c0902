"""What a route reads from the app it is mounted on: the collaborators (`Services`).

Routers, `auth` and the local stack import this module, never `api.app` (which imports every router):
`create_app` puts the settings and how to build the collaborators on `app.state`, and these read it back,
so the two sides meet here without importing each other."""

from __future__ import annotations

from typing import Any

from cursor_gateway.services.container import Services, build_services


def services_of(app: Any) -> Services:
    """The app's collaborators, built on first use and then reused by the warm process."""
    state = app.state
    if state.services_instance is None:
        factory = state.services_factory or (lambda: build_services(state.settings))
        state.services_instance = factory()
    services: Services = state.services_instance
    return services
