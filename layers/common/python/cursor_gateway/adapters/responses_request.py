"""OpenAI `/v1/responses` request -> domain `ChatRequest` (pure).

The same parameter rule as chat completions: each parameter is honoured, ignored (listed in the
`x-ignored-params` response header), or rejected with a 400 that names it. Input items are `message`
(text and image parts), `function_call` and `function_call_output`; `reasoning` items are accepted and
skipped (their encrypted content means nothing to Cursor). The stored items of a `previous_response_id`
chain come first (the route loads them), so one walk turns the whole conversation into domain messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from cursor_gateway.adapters.openai_request import conversation_id_for, image_from_url, tool_choice_of
from cursor_gateway.domain.chat import ChatRequest, ImagePart, Message, ModelChoice, Role, ToolCall, ToolSpec
from cursor_gateway.domain.tools import EMPTY_SCHEMA, name_problem, schema_problem
from cursor_gateway.errors import InvalidRequest, UnsupportedParameter

HONOURED = (
    "model",
    "input",
    "instructions",
    "stream",
    "tools",
    "tool_choice",
    "text",  # format "text" only: the json modes are a 400, as chat cannot enforce them
    "metadata",  # echoed on the response and stored with it
    "user",  # conversation hint, as for chat
    "prompt_cache_key",  # conversation hint (keeps Cursor's prompt cache warm), before `user`
    "previous_response_id",
    "store",
)
# Ignored exactly as chat completions ignores its twins (parallel_tool_calls, max_tokens, reasoning_effort,
# sampling): Cursor decides these itself.
IGNORED = (
    "temperature",
    "top_p",
    "max_output_tokens",
    "max_tool_calls",
    "parallel_tool_calls",
    "include",
    "truncation",
    "service_tier",
    "safety_identifier",
    "stream_options",
    "top_logprobs",
)
_ROLES: dict[str, Role] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
}
_TEXT_PARTS = ("input_text", "output_text", "text")
_SKIPPED_ITEMS = ("reasoning",)


class ResponsesIn(BaseModel):
    """The body of `POST /v1/responses` (fields not declared here are checked by `check_parameters`)."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1)
    input: str | list[dict[str, Any]]
    instructions: str | None = None
    stream: StrictBool = False
    tools: list[Any] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: StrictBool | None = None
    text: dict[str, Any] | None = None
    metadata: dict[str, str] | None = None
    user: str | None = None
    prompt_cache_key: str | None = None
    previous_response_id: str | None = None
    store: StrictBool = True
    reasoning: dict[str, Any] | None = None
    max_output_tokens: int | None = Field(default=None, ge=1)
    top_logprobs: int | None = None
    background: StrictBool | None = None
    conversation: str | dict[str, Any] | None = None
    prompt: dict[str, Any] | None = None


def check_parameters(body: ResponsesIn) -> list[str]:
    """Raise on what cannot be honoured; return the ignored parameters that were sent."""
    if body.background:
        raise UnsupportedParameter("Background responses are not supported", param="background")
    if body.conversation is not None:
        raise UnsupportedParameter(
            "The Conversations API is not supported: chain responses with previous_response_id",
            param="conversation",
        )
    if body.prompt is not None:
        raise UnsupportedParameter("Stored prompt templates are not supported", param="prompt")
    if body.top_logprobs:
        raise UnsupportedParameter("logprobs are not available from Cursor", param="top_logprobs")
    ignored = {k for k, v in (body.model_extra or {}).items() if v is not None and k in IGNORED}
    declared = ("parallel_tool_calls", "max_output_tokens", "top_logprobs")  # top_logprobs: 0 here
    ignored.update(k for k in declared if getattr(body, k) is not None)
    # reasoning.effort is mapped as chat maps reasoning_effort (the route drops it when the model honours it)
    ignored.update(f"reasoning.{k}" for k, v in (body.reasoning or {}).items() if v is not None)
    text = body.text or {}
    fmt = text.get("format")
    if fmt is not None:
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if kind != "text":
            raise UnsupportedParameter(
                f"text.format '{kind}' is not supported: Cursor cannot enforce JSON output (use 'text')",
                param="text.format",
            )
    ignored.update(f"text.{k}" for k, v in text.items() if k != "format" and v is not None)
    return sorted(ignored)


def input_items(body: ResponsesIn) -> list[dict[str, Any]]:
    """`input` as a list of items (a string is one user message)."""
    if isinstance(body.input, str):
        return [{"type": "message", "role": "user", "content": body.input}]
    return [dict(item) for item in body.input]


@dataclass(slots=True)
class _Walk:
    """Items -> domain messages. Consecutive `function_call` items (and the assistant text just before
    them) make one assistant turn; a `function_call_output` names only its call_id, the name comes from
    the call it answers."""

    history: int  # how many leading items came from the stored chain (errors there name the chain)
    messages: list[Message] = field(default_factory=list)
    call_names: dict[str, str] = field(default_factory=dict)

    def param(self, index: int) -> str:
        if index < self.history:
            return "previous_response_id"
        return f"input[{index - self.history}]"

    def item(self, index: int, item: dict[str, Any]) -> None:
        kind = item.get("type", "message")
        if kind == "message":
            self.message(index, item)
        elif kind == "function_call":
            self.function_call(index, item)
        elif kind == "function_call_output":
            self.function_call_output(index, item)
        elif kind in _SKIPPED_ITEMS:
            return
        else:
            raise UnsupportedParameter(
                f"Input items of type '{kind}' are not supported: send message, function_call, "
                "function_call_output or reasoning items",
                param=f"{self.param(index)}.type",
            )

    def message(self, index: int, item: dict[str, Any]) -> None:
        param = self.param(index)
        role = _ROLES.get(str(item.get("role", "")).lower())
        if role is None:
            raise InvalidRequest(f"Unsupported role {item.get('role')!r}", param=f"{param}.role")
        text, images = self.content(item.get("content"), role, f"{param}.content")
        self.messages.append(Message(role, text, images))

    def content(self, content: Any, role: Role, param: str) -> tuple[str, tuple[ImagePart, ...]]:
        if content is None or isinstance(content, str):
            return content or "", ()
        if not isinstance(content, list):
            raise InvalidRequest("content must be a string or a list of parts", param=param)
        texts: list[str] = []
        images: list[ImagePart] = []
        for j, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind in _TEXT_PARTS and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif kind == "refusal" and isinstance(part.get("refusal"), str):
                texts.append(part["refusal"])
            elif kind == "input_image":
                images.append(self.image(part, role, f"{param}[{j}]"))
            else:
                raise UnsupportedParameter(f"Unsupported content part type '{kind}'", param=f"{param}[{j}]")
        return "\n".join(texts), tuple(images)

    def image(self, part: dict[str, Any], role: Role, param: str) -> ImagePart:
        if role not in ("user", "tool"):
            raise InvalidRequest("Images are only accepted in user messages and tool outputs", param=param)
        url = part.get("image_url")
        if isinstance(url, dict):  # some clients nest it as chat completions does
            url = url.get("url")
        if not isinstance(url, str) or not url:
            raise UnsupportedParameter(
                "input_image needs an image_url (a data: or http(s) URL); file_id is not supported",
                param=param,
            )
        return image_from_url(url, param)

    def function_call(self, index: int, item: dict[str, Any]) -> None:
        param = self.param(index)
        call_id, name, arguments = item.get("call_id"), item.get("name"), item.get("arguments", "")
        if not isinstance(call_id, str) or not call_id:
            raise InvalidRequest("function_call items need a call_id", param=f"{param}.call_id")
        if not isinstance(name, str) or not name:
            raise InvalidRequest("function_call items need a name", param=f"{param}.name")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, ensure_ascii=False)
        call = ToolCall(id=call_id, name=name, arguments=arguments)
        self.call_names[call_id] = name
        last = self.messages[-1] if self.messages else None
        if last is not None and last.role == "assistant":
            self.messages[-1] = replace(last, tool_calls=(*last.tool_calls, call))
        else:
            self.messages.append(Message("assistant", "", tool_calls=(call,)))

    def function_call_output(self, index: int, item: dict[str, Any]) -> None:
        param = self.param(index)
        call_id = item.get("call_id")
        if not isinstance(call_id, str) or not call_id:
            raise InvalidRequest("function_call_output items need the call_id they answer", param=param)
        text, images = self.content(item.get("output"), "tool", f"{param}.output")
        self.messages.append(
            Message("tool", text, images, tool_call_id=call_id, tool_name=self.call_names.get(call_id, ""))
        )


def domain_messages(
    items: list[dict[str, Any]], instructions: str | None, *, history: int = 0
) -> tuple[Message, ...]:
    walk = _Walk(history)
    if instructions:
        walk.messages.append(Message("system", instructions))
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidRequest("input items must be objects", param=walk.param(index))
        walk.item(index, item)
    return tuple(walk.messages)


def tool_specs(tools: list[Any] | None) -> tuple[ToolSpec, ...]:
    """Responses tools are flat (`{type, name, description, parameters, strict}`); only `function` tools
    can be offered to Cursor, every other type (web_search, file_search, custom ...) is a 400 naming it."""
    specs: list[ToolSpec] = []
    for index, tool in enumerate(tools or ()):
        param = f"tools[{index}]"
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind != "function":
            raise UnsupportedParameter(
                f"Tools of type '{kind}' are not supported: only 'function' tools", param=f"{param}.type"
            )
        assert isinstance(tool, dict)
        name = tool.get("name")
        problem = name_problem(name)
        if problem:
            raise InvalidRequest(f"Invalid tool name {name!r}: {problem}", param=f"{param}.name")
        assert isinstance(name, str)
        if any(s.name == name for s in specs):
            raise InvalidRequest(f"Tool name '{name}' is defined twice", param=f"{param}.name")
        schema = tool.get("parameters")
        schema = dict(EMPTY_SCHEMA) if schema is None else schema
        problem = schema_problem(schema)
        if problem:
            raise InvalidRequest(f"Tool '{name}': {problem}", param=f"{param}.parameters")
        description = tool.get("description") or ""
        if not isinstance(description, str):
            raise InvalidRequest("description must be a string", param=f"{param}.description")
        specs.append(ToolSpec(name=name, description=description, parameters=schema))
    return tuple(specs)


def tool_choice(choice: str | dict[str, Any] | None, tools: tuple[ToolSpec, ...]) -> str:
    """`none` | `auto` | `required` | `{"type": "function", "name": ...}`, as chat completions checks them;
    hosted-tool and `allowed_tools` choices are a 400."""
    if isinstance(choice, dict):
        if choice.get("type") != "function":
            raise UnsupportedParameter(
                f"tool_choice of type '{choice.get('type')}' is not supported", param="tool_choice"
            )
        choice = {"type": "function", "function": {"name": choice.get("name")}}
    return tool_choice_of(choice, tools)


def to_chat_request(
    body: ResponsesIn,
    model: ModelChoice,
    items: list[dict[str, Any]],
    *,
    history: int = 0,
    conversation_hint: str | None = None,
    request_id: str = "",
    caller_scope: str = "",
) -> ChatRequest:
    """`items` = the stored chain's items (the first `history` of them), then this request's input."""
    messages = domain_messages(items, body.instructions, history=history)
    if not any(m.role == "user" for m in messages):
        raise InvalidRequest("input must contain at least one user message", param="input")
    if any(m.images for m in messages) and not model.supports_images:
        raise InvalidRequest(f"Model '{model.client_id}' does not accept images", param="input")
    tools = tool_specs(body.tools)
    hint = conversation_hint or body.prompt_cache_key or body.user
    return ChatRequest(
        model=model,
        messages=messages,
        conversation_id=conversation_id_for(messages, hint, caller_scope),
        stream=body.stream,
        request_id=request_id,
        tools=tools,
        tool_choice=tool_choice(body.tool_choice, tools),
    )
