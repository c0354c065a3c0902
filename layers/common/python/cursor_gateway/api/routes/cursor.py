"""`POST /cursor/chat/completions`: the entry for the Cursor IDE's "Override OpenAI Base URL". Depending on
the mode and model the IDE sends an OpenAI Chat body, a Responses-shaped one (`input`) or an
Anthropic-shaped one (`system` plus content blocks); the shape is read from the fields
(adapters.body_shape), the body is checked by that API's own model and parameter table, and the answer is
always in chat-completions format. `x-body-shape` says which shape was seen."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, RootModel, ValidationError

from cursor_gateway.adapters import anthropic_request, openai_request, responses_request
from cursor_gateway.adapters.body_shape import body_shape
from cursor_gateway.api.answering import begin_trace
from cursor_gateway.api.auth import Caller, require_chat_key
from cursor_gateway.api.body import json_body
from cursor_gateway.api.deps import services_of
from cursor_gateway.api.routes.chat import answer_as_chat
from cursor_gateway.domain.chat import ChatRequest
from cursor_gateway.domain.model_parameters import effort_level
from cursor_gateway.services.messages import budget_level, resolve_model

router = APIRouter()
Body = TypeVar("Body", bound=BaseModel)


def _validated(model: type[Body], body: dict[str, Any]) -> Body:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        # Rendered by api.errors like any body validation failure: a 400 that names the field.
        raise RequestValidationError(exc.errors()) from exc


class CursorChatBody(RootModel[dict[str, Any]]):
    """Any JSON object: an OpenAI Chat body, a Responses body (`input`) or an Anthropic Messages body
    (`system`, content blocks); the shape is read from its fields, then its own model validates it."""


@router.post("/cursor/chat/completions", response_model=None)
async def cursor_chat_completions(
    request: Request,
    caller: Annotated[Caller, Depends(require_chat_key)],
    body: Annotated[CursorChatBody, Depends(json_body(CursorChatBody))],
) -> StreamingResponse | JSONResponse:
    deadline = asyncio.get_running_loop().time()
    services = services_of(request.app)
    deadline += services.settings.max_stream_seconds
    raw = body.root
    shape = body_shape(raw)
    request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
    hint = request.headers.get("x-conversation-id")
    include_usage = False
    chat_request: ChatRequest
    if shape == "responses":
        responses = _validated(responses_request.ResponsesIn, raw)
        ignored = responses_request.check_parameters(responses)
        history = await services.responses.history(responses.previous_response_id, caller.key_id)
        level = effort_level((responses.reasoning or {}).get("effort"))
        choice, honoured = services.catalog.shape(services.catalog.resolve(responses.model), level)
        if honoured:
            ignored = [name for name in ignored if name != "reasoning.effort"]
        chat_request = responses_request.to_chat_request(
            responses,
            choice,
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
        level = budget_level(messages)
        choice, honoured = services.catalog.shape(choice, level)
        if level and not honoured:
            ignored = [*ignored, "thinking.budget_tokens"]
        chat_request = anthropic_request.to_chat_request(
            messages, choice, conversation_hint=hint, request_id=request_id, caller_scope=caller.key_id
        )
        model = messages.model
    else:
        chat = _validated(openai_request.ChatCompletionIn, raw)
        ignored = openai_request.check_parameters(chat)
        choice, honoured = services.catalog.shape(
            services.catalog.resolve(chat.model), effort_level(chat.reasoning_effort)
        )
        if honoured:
            ignored = [name for name in ignored if name != "reasoning_effort"]
        chat_request = openai_request.to_chat_request(
            chat,
            choice,
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
