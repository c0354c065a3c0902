"""`POST /cursor/chat/completions`: the entry for the Cursor IDE's "Override OpenAI Base URL". Depending on
the mode and model the IDE sends an OpenAI Chat body, a Responses-shaped one (`input`) or an
Anthropic-shaped one (`system` plus content blocks); the shape is read from the fields
(adapters.body_shape), the body is checked by that API's own model and parameter table, and the answer is
always in chat-completions format. `x-body-shape` says which shape was seen."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ValidationError

from cursor_gateway.adapters import anthropic_request, openai_request, responses_request
from cursor_gateway.adapters.body_shape import body_shape
from cursor_gateway.api.answering import begin_trace
from cursor_gateway.api.app import services_of
from cursor_gateway.api.auth import Caller, require_chat_key
from cursor_gateway.api.routes.chat import answer_as_chat
from cursor_gateway.domain.chat import ChatRequest
from cursor_gateway.errors import InvalidRequest
from cursor_gateway.services.messages import resolve_model

router = APIRouter()
Body = TypeVar("Body", bound=BaseModel)


def _validated(model: type[Body], body: dict[str, Any]) -> Body:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        # Rendered by api.errors like any body validation failure: a 400 that names the field.
        raise RequestValidationError(exc.errors()) from exc


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise InvalidRequest("Request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise InvalidRequest("Request body must be a JSON object")
    return body


@router.post("/cursor/chat/completions", response_model=None)
async def cursor_chat_completions(
    request: Request, caller: Annotated[Caller, Depends(require_chat_key)]
) -> StreamingResponse | JSONResponse:
    deadline = asyncio.get_running_loop().time()
    services = services_of(request.app)
    deadline += services.settings.max_stream_seconds
    raw = await _json_object(request)
    shape = body_shape(raw)
    request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
    hint = request.headers.get("x-conversation-id")
    include_usage = False
    chat_request: ChatRequest
    if shape == "responses":
        responses = _validated(responses_request.ResponsesIn, raw)
        ignored = responses_request.check_parameters(responses)
        history = await services.responses.history(responses.previous_response_id, caller.key_id)
        chat_request = responses_request.to_chat_request(
            responses,
            services.catalog.resolve(responses.model),
            [*history, *responses_request.input_items(responses)],
            history=len(history),
            conversation_hint=hint,
            request_id=request_id,
            caller_scope=caller.key_id,
        )
        model = responses.model
    elif shape == "anthropic":
        messages = _validated(anthropic_request.MessagesIn, raw)
        ignored = anthropic_request.check_parameters(messages)
        choice = resolve_model(
            services.catalog, messages.model, anthropic_request.thinking_requested(messages)
        )
        chat_request = anthropic_request.to_chat_request(
            messages, choice, conversation_hint=hint, request_id=request_id, caller_scope=caller.key_id
        )
        model = messages.model
    else:
        chat = _validated(openai_request.ChatCompletionIn, raw)
        ignored = openai_request.check_parameters(chat)
        chat_request = openai_request.to_chat_request(
            chat,
            services.catalog.resolve(chat.model),
            conversation_hint=hint,
            request_id=request_id,
            caller_scope=caller.key_id,
        )
        model = chat.model
        include_usage = bool(chat.stream_options and chat.stream_options.include_usage)
    # The request log starts once the body parsed (a body error is a 400 with nothing to record yet).
    trace = begin_trace(
        services, request, caller, endpoint="cursor.chat.completions", model=model, stream=chat_request.stream
    )
    headers = {"x-request-id": request_id, "x-body-shape": shape, "x-log-id": trace.id}
    if ignored:
        headers["x-ignored-params"] = ",".join(ignored)
    return await answer_as_chat(
        services,
        chat_request,
        caller,
        trace,
        model=model,
        include_usage=include_usage,
        headers=headers,
        deadline=deadline,
    )
