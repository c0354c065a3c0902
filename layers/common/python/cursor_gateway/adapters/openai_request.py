"""OpenAI `/v1/chat/completions` request -> domain `ChatRequest` (pure).

The parameter table below is published in docs/api.md ("Request parameters"): every parameter is
honoured, ignored (and listed in the `x-ignored-params` response header), or rejected with a 400
that names it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import replace
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from cursor_gateway.domain.chat import ChatRequest, ImagePart, Message, ModelChoice, Role, ToolCall, ToolSpec
from cursor_gateway.domain.tools import EMPTY_SCHEMA, name_problem, schema_problem
from cursor_gateway.errors import InvalidRequest, UnsupportedParameter

HONOURED = ("model", "messages", "stream", "stream_options", "user", "tools", "tool_choice")
IGNORED = (
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "logit_bias",
    "metadata",
    "store",
    "service_tier",
    "parallel_tool_calls",
    "response_format",
    "reasoning_effort",
    "prediction",
    "web_search_options",
    "verbosity",
)
# Rejected: n > 1, logprobs/top_logprobs, audio output, and the deprecated `functions` / `function_call`
# (their answers have their own legacy shape; `tools` does the same job).
REJECTED = ("n", "logprobs", "top_logprobs", "modalities", "audio", "functions", "function_call")

_ROLES: dict[str, Role] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
    "tool": "tool",
}


def any_case_of(names: Iterable[str]) -> dict[str, Any]:
    """A JSON Schema pattern matching these names in any letter case (JSON Schema regexes have no flags)."""
    spelled = ("".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in n) for n in sorted(names))
    return {"pattern": "^(" + "|".join(spelled) + ")$"}


IMAGE_TYPES = {"image/png", "image/jpeg", "image/jpg", "image/webp", "image/gif"}
CONVERSATION_NAMESPACE = uuid.UUID("4f3c2a10-6b1e-4c47-9a35-0c1b7d2e9f61")


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: StrictBool = False


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    # OpenAI's roles and the aliases `human` / `ai`, in any case; checked by to_chat_request (whose 400
    # names the message) and published as the pattern it is.
    role: StrictStr = Field(json_schema_extra=any_case_of(_ROLES))
    content: StrictStr | list[dict[str, Any]] | None = None
    name: StrictStr | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: StrictStr | None = None


def _number(low: float, high: float) -> Any:
    """A JSON number in [low, high] (OpenAI's range): never a string, a bool, NaN or infinity."""
    return Field(default=None, strict=True, ge=low, le=high, allow_inf_nan=False)


class ChatCompletionIn(BaseModel):
    """The body of `/v1/chat/completions`. Ignored parameters are still type-checked as OpenAI does
    (a `temperature` of "hot" is a 400 there, so it is here); unknown parameters are let through."""

    model_config = ConfigDict(extra="allow")
    model: StrictStr = Field(min_length=1)
    messages: list[ChatMessageIn] = Field(json_schema_extra={"minItems": 1})  # to_chat_request refuses []
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    user: StrictStr | None = None
    n: StrictInt | None = None
    logprobs: StrictBool | None = None
    top_logprobs: StrictInt | None = None
    modalities: list[StrictStr] | None = None
    tools: list[Any] | None = None
    tool_choice: StrictStr | dict[str, Any] | None = None
    functions: list[dict[str, Any]] | None = None
    # Ignored (IGNORED), typed as OpenAI types them.
    temperature: float | None = _number(0, 2)
    top_p: float | None = _number(0, 1)
    presence_penalty: float | None = _number(-2, 2)
    frequency_penalty: float | None = _number(-2, 2)
    max_tokens: StrictInt | None = Field(default=None, ge=1)
    max_completion_tokens: StrictInt | None = Field(default=None, ge=1)
    stop: StrictStr | list[StrictStr] | None = None
    seed: StrictInt | None = None
    logit_bias: dict[StrictStr, Annotated[float, Field(strict=True, ge=-100, le=100)]] | None = None
    metadata: dict[StrictStr, StrictStr] | None = None
    store: StrictBool | None = None
    service_tier: StrictStr | None = None
    parallel_tool_calls: StrictBool | None = None
    response_format: dict[str, Any] | None = None
    reasoning_effort: StrictStr | None = None
    prediction: dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None
    verbosity: StrictStr | None = None


def check_parameters(body: ChatCompletionIn) -> list[str]:
    """Raise on rejected parameters; return the ignored ones that were sent."""
    if body.n is not None and body.n != 1:
        raise UnsupportedParameter("Only n=1 is supported", param="n")
    if body.logprobs:
        raise UnsupportedParameter("logprobs are not available from Cursor", param="logprobs")
    if body.top_logprobs:
        raise UnsupportedParameter("logprobs are not available from Cursor", param="top_logprobs")
    if body.modalities and any(m != "text" for m in body.modalities):
        raise UnsupportedParameter("Only text output is supported", param="modalities")
    extra = body.model_extra or {}
    if extra.get("audio") is not None:
        raise UnsupportedParameter("Audio output is not supported", param="audio")
    no_functions = "The deprecated functions API is not supported: send the same definitions as `tools`"
    if body.functions:
        raise UnsupportedParameter(no_functions, param="functions")
    if extra.get("function_call") is not None:
        raise UnsupportedParameter(no_functions, param="function_call")
    return sorted(k for k in IGNORED if getattr(body, k) is not None)


def _image(url: str, index: int) -> ImagePart:
    return image_from_url(url, f"messages[{index}].content")


def image_from_url(url: str, param: str) -> ImagePart:
    """A data: URL decoded, or an http(s) URL recorded for services.images (also used by /v1/responses)."""
    if url.lower().startswith(("http://", "https://")):
        # Fetched (or refused, per vision_ability) by services.images before the chat opens.
        return ImagePart(mime_type="", data=b"", url=url)
    if not url.startswith("data:"):
        raise InvalidRequest(
            "Images must be base64 data: URLs or http(s) URLs", param=param, code="image_url_not_allowed"
        )
    header, _, data = url.partition(",")
    mime = header[5:].split(";")[0].lower()
    if ";base64" not in header or mime not in IMAGE_TYPES:
        raise InvalidRequest("Images must be base64 data URLs of type png, jpeg, webp or gif", param=param)
    try:
        # Some clients wrap base64 at 76 columns; whitespace is not data.
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest("Image data is not valid base64", param=param) from exc
    return ImagePart(mime_type="image/jpeg" if mime == "image/jpg" else mime, data=raw)


def _message(index: int, m: ChatMessageIn, call_names: dict[str, str]) -> Message:
    role = _ROLES.get(m.role.lower())
    if role is None:
        raise InvalidRequest(f"Unsupported role '{m.role}'", param=f"messages[{index}].role")
    message = _content(index, role, m)
    if role == "assistant" and m.tool_calls:
        calls = tuple(_tool_call(index, i, c) for i, c in enumerate(m.tool_calls))
        call_names.update((c.id, c.name) for c in calls)
        return replace(message, tool_calls=calls)
    if role == "tool":
        if not m.tool_call_id:
            raise InvalidRequest(
                "tool messages must carry the tool_call_id they answer",
                param=f"messages[{index}].tool_call_id",
            )
        # The name comes from the call it answers (OpenAI tool messages do not repeat it).
        name = call_names.get(m.tool_call_id) or m.name or ""
        return replace(message, tool_call_id=m.tool_call_id, tool_name=name)
    return message


def _tool_call(index: int, position: int, call: Any) -> ToolCall:
    param = f"messages[{index}].tool_calls[{position}]"
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict) or call.get("type", "function") != "function":
        raise InvalidRequest("tool_calls entries must be of type 'function'", param=param)
    call_id, name, arguments = call.get("id"), function.get("name"), function.get("arguments", "")
    if not isinstance(call_id, str) or not call_id:
        raise InvalidRequest("tool_calls entries need an id", param=f"{param}.id")
    if not isinstance(name, str) or not name:
        raise InvalidRequest("tool_calls entries need a function name", param=f"{param}.function.name")
    if not isinstance(arguments, str):
        # Some clients send the arguments object itself instead of its JSON text.
        arguments = json.dumps(arguments, ensure_ascii=False)
    return ToolCall(id=call_id, name=name, arguments=arguments)


def _content(index: int, role: Role, m: ChatMessageIn) -> Message:
    if m.content is None and role != "assistant":
        # Only an assistant turn may omit its text (it carries tool_calls instead), as at OpenAI.
        raise InvalidRequest(
            f"messages[{index}].content is required for {m.role} messages", param=f"messages[{index}].content"
        )
    if m.content is None or isinstance(m.content, str):
        return Message(role, m.content or "")
    texts: list[str] = []
    images: list[ImagePart] = []
    for part in m.content:
        kind = part.get("type")
        if kind in ("text", "input_text") and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url":
            image_url = part.get("image_url")
            url = image_url.get("url") if isinstance(image_url, dict) else image_url
            if not isinstance(url, str):
                raise InvalidRequest("image_url.url must be a string", param=f"messages[{index}].content")
            if role != "user":
                raise InvalidRequest(
                    "Images are only accepted in user messages", param=f"messages[{index}].content"
                )
            images.append(_image(url, index))
        else:
            raise InvalidRequest(
                f"Unsupported content part type '{kind}'", param=f"messages[{index}].content"
            )
    return Message(role, "\n".join(texts), tuple(images))


def tool_specs(tools: list[Any] | None) -> tuple[ToolSpec, ...]:
    """`tools` entries of type function, each name and schema checked; a 400 names the bad one."""
    specs: list[ToolSpec] = []
    for index, tool in enumerate(tools or ()):
        param = f"tools[{index}]"
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            raise UnsupportedParameter("Only tools of type 'function' are supported", param=f"{param}.type")
        function = tool.get("function")
        if not isinstance(function, dict):
            raise InvalidRequest("A function tool needs a 'function' object", param=f"{param}.function")
        name = function.get("name")
        problem = name_problem(name)
        if problem:
            raise InvalidRequest(f"Invalid tool name {name!r}: {problem}", param=f"{param}.function.name")
        assert isinstance(name, str)
        if any(s.name == name for s in specs):
            raise InvalidRequest(f"Tool name '{name}' is defined twice", param=f"{param}.function.name")
        schema = function.get("parameters")
        if schema is None:
            schema = dict(EMPTY_SCHEMA)
        problem = schema_problem(schema)
        if problem:
            raise InvalidRequest(f"Tool '{name}': {problem}", param=f"{param}.function.parameters")
        description = function.get("description") or ""
        if not isinstance(description, str):
            raise InvalidRequest("description must be a string", param=f"{param}.function.description")
        specs.append(ToolSpec(name=name, description=description, parameters=schema))
    return tuple(specs)


def tool_choice_of(choice: str | dict[str, Any] | None, tools: tuple[ToolSpec, ...]) -> str:
    """`none` | `auto` | `required` | a tool name (checked against `tools`)."""
    if choice is None:
        return "auto"
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise InvalidRequest(
                "tool_choice must be 'none', 'auto', 'required' or a function", param="tool_choice"
            )
        if choice == "required" and not tools:
            raise InvalidRequest("tool_choice 'required' needs tools", param="tool_choice")
        return choice
    function = choice.get("function") if choice.get("type") == "function" else None
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(name, str) or not name:
        raise InvalidRequest(
            'tool_choice must look like {"type": "function", "function": {"name": ...}}', param="tool_choice"
        )
    if not any(t.name == name for t in tools):
        raise InvalidRequest(f"tool_choice names '{name}', which is not in tools", param="tool_choice")
    return name


def conversation_id_for(messages: tuple[Message, ...], explicit: str | None, scope: str = "") -> str:
    """Stable per client conversation (same caller, system text and first user turn), so Cursor's prompt
    cache stays warm across turns; a client may pin it with `x-conversation-id` or `user`. `scope` (the
    caller's key fingerprint) keeps different callers' conversations apart even when they start alike."""
    if explicit:
        return str(uuid.uuid5(CONVERSATION_NAMESPACE, f"{scope}\x00{explicit}"))
    system = "\n".join(m.text for m in messages if m.role == "system")
    first_user = next((m.text for m in messages if m.role == "user"), "")
    digest = hashlib.sha256(f"{scope}\x00{system}\x00{first_user}".encode()).hexdigest()
    return str(uuid.uuid5(CONVERSATION_NAMESPACE, digest))


def to_chat_request(
    body: ChatCompletionIn,
    model: ModelChoice,
    *,
    conversation_hint: str | None = None,
    request_id: str = "",
    caller_scope: str = "",
) -> ChatRequest:
    if not body.messages:
        raise InvalidRequest("messages must contain at least one message", param="messages")
    call_names: dict[str, str] = {}
    messages = tuple(_message(i, m, call_names) for i, m in enumerate(body.messages))
    if not any(m.role == "user" for m in messages):
        raise InvalidRequest("messages must contain at least one user message", param="messages")
    if any(m.images for m in messages) and not model.supports_images:
        raise InvalidRequest(f"Model '{model.client_id}' does not accept images", param="messages")
    tools = tool_specs(body.tools)
    return ChatRequest(
        model=model,
        messages=messages,
        conversation_id=conversation_id_for(messages, conversation_hint or body.user, caller_scope),
        stream=body.stream,
        request_id=request_id,
        tools=tools,
        tool_choice=tool_choice_of(body.tool_choice, tools),
    )


ThinkingOutput = Literal["reasoning_content", "think_tags"]
