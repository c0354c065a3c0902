"""JSON request bodies, for every route: one parser, one decoding rule, one place the schema comes from.

Every route that takes a body declares it as a dependency, `Annotated[Model, Depends(json_body(Model))]`,
after its auth dependency. That gives, for every route alike:
- the body is parsed whatever the Content-Type says (admin clients are scripts and `curl -d '{...}'`,
  which sends `application/x-www-form-urlencoded`, and FastAPI would then not parse the JSON at all);
- it is parsed after authentication, so an unauthenticated caller gets 401, never a body error;
- one decoding rule for strings: pydantic's JSON parser reads the bytes as strict UTF-8 and refuses a
  lone surrogate escape (`"\\ud800"`), which could never be encoded again (a hash of the text, a
  protobuf field, a DynamoDB item) and used to surface far from the request as a 500. NUL and other
  control characters are valid JSON text and pass;
- an empty body counts as `{}` when the model accepts that (admin calls without parameters), and is
  otherwise a 400 that names the required fields;
- failures are `RequestValidationError`, which api.errors renders as 400 in the route's envelope;
- the model is published as the operation's request body in `/openapi.json` (api.openapi finds it on
  the dependency), so the schema describes exactly what is validated.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, RootModel, ValidationError

from cursor_gateway.errors import InvalidRequest

M = TypeVar("M", bound=BaseModel)

# The attribute api.openapi reads to publish a dependency's model as the route's request body.
BODY_MODEL_ATTRIBUTE = "__body_model__"


def json_body(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    async def parse(request: Request) -> M:
        raw = await request.body()
        if not raw.strip():
            return _empty(model)
        try:
            return model.model_validate_json(raw)
        except ValidationError as exc:
            errors = [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors(include_url=False)]
            raise RequestValidationError(errors, body=_preview(raw)) from None

    setattr(parse, BODY_MODEL_ATTRIBUTE, model)
    return parse


def body_model_of(call: Any) -> type[BaseModel] | None:
    model = getattr(call, BODY_MODEL_ATTRIBUTE, None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _empty(model: type[M]) -> M:
    try:
        return model.model_validate({})
    except ValidationError:
        if issubclass(model, RootModel):
            wanted = f"a JSON {model.model_json_schema().get('type', 'value')}"
        else:
            required = [name for name, field in model.model_fields.items() if field.is_required()]
            wanted = f"a JSON object with {', '.join(repr(n) for n in required)}"
        raise InvalidRequest(f"The request body is empty: expected {wanted}") from None


def _preview(raw: bytes) -> str:
    """What the error keeps of the body: a short, always-encodable prefix (never logged in full)."""
    return raw[:200].decode("utf-8", "replace")


async def read_json(request: Request, allowed: set[str] | None = None) -> Any:
    """A body the route checks itself: any JSON (an empty body is `{}`), or with `allowed`, an object whose
    fields are all in it. For routes that name a bad field themselves instead of declaring a model."""
    raw = await request.body()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise InvalidRequest("Request body is not valid JSON") from None
    if allowed is not None:
        if not isinstance(data, dict):
            raise InvalidRequest("The request body must be a JSON object")
        for name in data:
            if name not in allowed:
                raise InvalidRequest(f"Unknown field '{name}'", param=name)
    return data
