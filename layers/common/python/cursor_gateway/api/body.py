"""JSON request bodies for the admin API, parsed whatever the Content-Type says.

Admin clients are scripts and `curl -d '{...}'`, which sends `application/x-www-form-urlencoded`;
FastAPI would then not parse the JSON at all. As a dependency (declared after the auth dependency) it
also runs after authentication, so an unauthenticated caller gets 401, never a body error. Failures
become `RequestValidationError`, which api.errors renders as 400.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def json_body(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    async def parse(request: Request) -> M:
        raw = await request.body()
        try:
            return model.model_validate_json(raw if raw.strip() else b"{}")
        except ValidationError as exc:
            errors = [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors(include_url=False)]
            raise RequestValidationError(errors, body=raw) from None

    return parse
