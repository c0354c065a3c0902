"""The published OpenAPI schema (`GET /openapi.json`): every route of the app, derived from the routes
themselves, so a route added anywhere is described without a list to keep up to date.

FastAPI's own generator gives the paths, path and query parameters and 2xx responses; this module adds
what it cannot see, from the same objects the requests go through:

- **Request bodies.** A route declares its body as `Annotated[Model, Depends(json_body(Model))]`
  (api.body); the model found on that dependency is published as the operation's `requestBody`, with
  every field's type and range exactly as it is validated. A route that reads its body some other way
  must say so with `openapi_extra={"requestBody": {...}}` on its decorator; tests/unit/test_openapi.py
  fails for a POST route with neither, and for one that lets FastAPI parse a body (that path would skip
  api.body's decoding rule).
- **Who may call.** The auth dependency's `__openapi_security__` (api.auth sets it on `require_admin`
  and `require_chat_key`; any other auth dependency sets its own) becomes the operation's `security`;
  no such dependency means public.
- **Errors.** Every operation lists its error statuses with the envelope of its surface (api.errors:
  OpenAI under `/v1/`, Anthropic under `/v1/messages`, admin elsewhere), and validation is 400: FastAPI's
  422 is removed because the app never answers it.
- **Answers FastAPI cannot type** (the chat routes return `JSONResponse` or an SSE stream): small
  response schemas keyed by (method, path) below.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from cursor_gateway import __version__
from cursor_gateway.api.body import body_model_of
from cursor_gateway.api.errors import envelope_kind

SECURITY_ATTRIBUTE = "__openapi_security__"
REF = "#/components/schemas/{model}"

SECURITY_SCHEMES: dict[str, Any] = {
    "AdminBearer": {"type": "http", "scheme": "bearer", "description": "AUTH_TOKEN"},
    "ChatBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "AUTH_TOKEN, AUTH_TOKEN-<alias>, SHARED_TOKEN, a gateway key cgk_..., an sk- key",
    },
    "ChatApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key", "description": "As ChatBearer"},
    "CursorBasic": {"type": "http", "scheme": "basic", "description": "AUTH_TOKEN as the user name"},
}

_NULLABLE_STRING = {"anyOf": [{"type": "string"}, {"type": "null"}]}
ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    "OpenAIError": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message", "type"],
                "properties": {
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                    "param": _NULLABLE_STRING,
                    "code": _NULLABLE_STRING,
                },
            }
        },
    },
    "AnthropicError": {
        "type": "object",
        "required": ["type", "error"],
        "properties": {
            "type": {"const": "error"},
            "error": {
                "type": "object",
                "required": ["type", "message"],
                "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "AdminError": {
        "type": "object",
        "required": ["status", "code", "error", "message"],
        "properties": {
            "status": {"const": "error"},
            "code": {"type": "integer"},
            "error": {"type": "string"},
            "message": {"type": "string"},
        },
    },
}
_ENVELOPES = {"openai": "OpenAIError", "anthropic": "AnthropicError", "admin": "AdminError"}
_ERROR_TEXT = {
    400: "Invalid request (validation is always 400, never 422)",
    401: "Missing or invalid credential",
    403: "Credential without the right (e.g. a gateway key on an admin route)",
    404: "Not found",
    409: "Conflict (a stale expected_version)",
    413: "Request body over MAX_BODY_BYTES",
    429: "Rate limited (with Retry-After)",
    500: "Internal error (never a traceback)",
    502: "Upstream error",
    503: "No usable token or upstream unavailable",
    504: "Upstream timeout",
}

_USAGE = {"type": "object", "additionalProperties": True}
_OPENAI_COMPLETION = {
    "type": "object",
    "required": ["id", "object", "choices", "model"],
    "properties": {
        "id": {"type": "string"},
        "object": {"const": "chat.completion"},
        "created": {"type": "integer"},
        "model": {"type": "string"},
        "choices": {"type": "array", "items": {"type": "object"}},
        "usage": _USAGE,
    },
}
_ANTHROPIC_MESSAGE = {
    "type": "object",
    "required": ["id", "type", "role", "content", "model"],
    "properties": {
        "id": {"type": "string"},
        "type": {"const": "message"},
        "role": {"const": "assistant"},
        "model": {"type": "string"},
        "content": {"type": "array", "items": {"type": "object"}},
        "stop_reason": _NULLABLE_STRING,
        "usage": _USAGE,
    },
}
_SSE = {"text/event-stream": {"schema": {"type": "string"}}}
ANSWERS: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/cpp/stream"): {
        "description": "Copilot++ completion events (model_info, range_replace, text, ... stream_end)",
        # Each event: `event: <type>` and `data: <a JSON object whose "type" repeats it>`.
        "content": {
            "text/event-stream": {
                "schema": {
                    "type": "object",
                    "properties": {"event": {"type": "string"}, "data": {"type": "string"}},
                }
            }
        },
    },
    ("post", "/v1/chat/completions"): {
        "description": "A chat.completion, or with `stream: true` its chunks as server-sent events",
        "content": {"application/json": {"schema": _OPENAI_COMPLETION}, **_SSE},
    },
    ("post", "/v1/messages"): {
        "description": "A message, or with `stream: true` Anthropic's server-sent events",
        "content": {"application/json": {"schema": _ANTHROPIC_MESSAGE}, **_SSE},
    },
    ("post", "/v1/messages/count_tokens"): {
        "description": "An estimated input token count",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["input_tokens"],
                    "properties": {"input_tokens": {"type": "integer", "minimum": 0}},
                }
            }
        },
    },
}


def build_schema(routes: Sequence[Any], *, title: str = "cursor-gateway") -> dict[str, Any]:
    schema = get_openapi(
        title=title,
        version=__version__,
        description=(
            "OpenAI- and Anthropic-compatible chat over a pool of Cursor accounts, and its admin API. "
            "Errors use the envelope of the route's surface; validation failures are always 400."
        ),
        routes=routes,
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas.update(ERROR_SCHEMAS)
    components["securitySchemes"] = dict(SECURITY_SCHEMES)

    operations = list(_operations(routes, schema))
    body_models = sorted({m for *_, m, _ in operations if m is not None}, key=lambda m: m.__qualname__)
    refs, defs = _body_schemas(body_models)
    schemas.update(defs)
    for method, path, operation, model, security in operations:
        if model is not None:
            operation["requestBody"] = {
                "required": not _accepts_empty(model),
                "content": {"application/json": {"schema": refs[model]}},
            }
        if security:
            operation["security"] = security
        has_body = model is not None or "requestBody" in operation
        _responses(operation, method, path, has_body=has_body, auth=security)
    return schema


def _operations(
    routes: Sequence[Any], schema: dict[str, Any]
) -> Iterator[tuple[str, str, dict[str, Any], type[BaseModel] | None, list[dict[str, list[str]]]]]:
    for context in iter_route_contexts(routes):
        if not isinstance(context.original_route, APIRoute) or not context.path_format:
            continue
        for method in sorted(context.methods or ()):
            operation = schema["paths"].get(context.path_format, {}).get(method.lower())
            if operation is None:
                continue  # include_in_schema=False
            calls = list(_calls(context.dependant))
            model = next((m for m in map(body_model_of, calls) if m is not None), None)
            security: list[Any] = next(
                (getattr(c, SECURITY_ATTRIBUTE) for c in calls if hasattr(c, SECURITY_ATTRIBUTE)), []
            )
            yield method.lower(), context.path_format, operation, model, list(security)


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield from _calls(dependency)
        if dependency.call is not None:
            yield dependency.call


def _body_schemas(
    models: list[type[BaseModel]],
) -> tuple[dict[type[BaseModel], dict[str, Any]], dict[str, Any]]:
    """One definition per model (pydantic qualifies names that clash, e.g. two routers' `Checksum`)."""
    if not models:
        return {}, {}
    keyed, top = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    return {m: keyed[(m, "validation")] for m in models}, dict(top.get("$defs", {}))


def _accepts_empty(model: type[BaseModel]) -> bool:
    try:
        model.model_validate({})
    except ValueError:
        return False
    return True


def _responses(
    operation: dict[str, Any], method: str, path: str, *, has_body: bool, auth: list[dict[str, list[str]]]
) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    answer = ANSWERS.get((method, path))
    if answer is not None:
        success = next((code for code in responses if code.startswith("2")), "200")
        responses[success] = answer
    envelope = {
        "content": {
            "application/json": {"schema": {"$ref": REF.format(model=_ENVELOPES[envelope_kind(path)])}}
        }
    }
    statuses = [400]
    if has_body:
        statuses.append(413)
    if auth:
        statuses += [401, 403]
    if path.startswith("/v1/"):
        statuses += [429, 502, 503, 504]  # what the upstream and the pool can answer
    for status in statuses:
        responses.setdefault(str(status), {"description": _ERROR_TEXT[status], **envelope})
    # Any other status (404, 405, 409, 500 ...) is an error in the same envelope.
    responses.setdefault(
        "default", {"description": "An error, in the envelope of the route's surface", **envelope}
    )
