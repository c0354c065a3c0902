"""`/openapi.json` tells the truth: every route the app serves is in it (derived from the routes, never a
list here), a validator accepts it, each body is the model the route validates, errors are 400 (never 422)
in the route's surface envelope, and auth is published per operation."""

from __future__ import annotations

from typing import Any

import pytest
from cursor_gateway.api.app import all_routers, create_app
from cursor_gateway.api.body import body_model_of
from cursor_gateway.api.errors import envelope_kind
from cursor_gateway.api.openapi import SECURITY_ATTRIBUTE
from cursor_gateway.api.routes.schema import gateway_schema
from cursor_gateway.services.container import build_services
from cursor_gateway.settings import Settings
from cursor_gateway.storage.config import InMemoryConfigStore
from cursor_gateway.storage.tokens import InMemoryTokenStore
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

ENVELOPES = {"openai": "OpenAIError", "anthropic": "AnthropicError", "admin": "AdminError"}


def app_routes() -> list[tuple[str, str, Any]]:
    app = create_app(*all_routers(), settings=Settings())
    found = []
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.path_format:
            found.extend((m.lower(), context.path_format, context) for m in sorted(context.methods or ()))
    return found


def calls_of(dependant: Any) -> list[Any]:
    out = []
    for dependency in dependant.dependencies:
        out.extend(calls_of(dependency))
        out.append(dependency.call)
    return out


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return gateway_schema()


def test_the_schema_is_valid_openapi_and_served_publicly(schema: dict[str, Any]) -> None:
    validate(schema)
    settings = Settings(auth_token="admin-secret", shared_token="shared-secret")
    services = build_services(settings, token_store=InMemoryTokenStore(), config_store=InMemoryConfigStore())
    with TestClient(create_app(settings=settings, services=services)) as http:
        response = http.get("/openapi.json")  # no credential
    assert response.status_code == 200
    assert response.json() == schema
    assert "admin-secret" not in response.text and "shared-secret" not in response.text


def test_every_route_of_the_app_is_in_the_schema(schema: dict[str, Any]) -> None:
    routes = app_routes()
    assert ("post", "/v1/chat/completions") in {(m, p) for m, p, _ in routes}
    missing = sorted((m, p) for m, p, _ in routes if m not in schema["paths"].get(p, {}))
    assert missing == []
    published = {(m, p) for p, ops in schema["paths"].items() for m in ops}
    assert published == {(m, p) for m, p, _ in routes}


def test_bodies_are_parsed_by_json_body_and_published_as_validated(schema: dict[str, Any]) -> None:
    for method, path, context in app_routes():
        # A body FastAPI parses itself would skip api.body's decoding rule (lone surrogates -> 400).
        assert context.dependant.body_params == [], f"{method} {path}: declare the body with json_body()"
        model = next((m for m in map(body_model_of, calls_of(context.dependant)) if m is not None), None)
        operation = schema["paths"][path][method]
        if model is not None:
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.rsplit("/", 1)[-1] in schema["components"]["schemas"]
        elif method == "post" and "requestBody" in operation:
            # A route that parses its own body (the Tab routes: JSON -> protobuf) publishes it itself.
            assert "schema" in operation["requestBody"]["content"]["application/json"]
        elif method == "post":
            # Only actions named by their path take no body.
            assert "{" in path, f"POST {path} publishes no request body"


def test_request_models_carry_the_types_and_ranges_that_are_checked(schema: dict[str, Any]) -> None:
    defs = schema["components"]["schemas"]
    chat = defs["ChatCompletionIn"]
    assert set(chat["required"]) == {"model", "messages"}
    assert chat["properties"]["stream"]["type"] == "boolean"
    temperature = chat["properties"]["temperature"]["anyOf"][0]
    assert (temperature["type"], temperature["minimum"], temperature["maximum"]) == ("number", 0, 2)
    messages = defs["MessagesIn"]
    assert messages["properties"]["top_k"]["anyOf"][0] == {"type": "integer", "minimum": 0}
    tokens_get = schema["paths"]["/tokens/get"]["post"]["requestBody"]
    assert tokens_get["required"] is False  # an empty body is {} there
    assert schema["paths"]["/v1/chat/completions"]["post"]["requestBody"]["required"] is True


def test_errors_are_400_never_422_in_the_surface_envelope(schema: dict[str, Any]) -> None:
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" not in responses, f"{method} {path}"
            envelope = ENVELOPES[envelope_kind(path)]
            for status in ("400", "default"):
                ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/" + envelope), f"{method} {path} {status}"
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_security_is_published_from_the_auth_dependency(schema: dict[str, Any]) -> None:
    for method, path, context in app_routes():
        declared = [
            getattr(c, SECURITY_ATTRIBUTE)
            for c in calls_of(context.dependant)
            if hasattr(c, SECURITY_ATTRIBUTE)
        ]
        operation = schema["paths"][path][method]
        assert operation.get("security", []) == (declared[0] if declared else [])
        if declared:
            assert {"401", "403"} <= operation["responses"].keys()
    assert schema["paths"]["/tokens/add"]["post"]["security"] == [{"AdminBearer": []}]
    assert {"ChatApiKey": []} in schema["paths"]["/v1/messages"]["post"]["security"]
    assert "security" not in schema["paths"]["/openapi.json"]["get"]
