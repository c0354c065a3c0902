"""Anthropic `/v1/messages` (and `/count_tokens`) request -> domain `ChatRequest` (pure).

Honoured: model, messages (text, image, tool_use, tool_result blocks), system (a string or text
blocks), stream, thinking, tools, tool_choice. Accepted and ignored: cache_control on any block,
incoming `thinking` / `redacted_thinking` blocks (their signatures cannot be replayed to Cursor),
max_tokens (Cursor applies its own limit), and the sampling parameters below, which are listed in the
`x-ignored-params` response header. Anything that would silently change the answer (document blocks,
Files API ids, server tools, MCP servers) is a 400 that names it, in Anthropic's error envelope.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from cursor_gateway.adapters.openai_request import IMAGE_TYPES, any_case_of, conversation_id_for
from cursor_gateway.domain.chat import ChatRequest, ImagePart, Message, ModelChoice, ToolCall, ToolSpec
from cursor_gateway.domain.tools import name_problem, schema_problem
from cursor_gateway.errors import InvalidRequest, UnsupportedParameter

IGNORED = (
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "metadata",
    "service_tier",
    "container",
    "context_management",
    "inference_geo",
)
_TOOL_CHOICES = {"auto": "auto", "any": "required", "none": "none"}
_SKIPPED_BLOCKS = {"thinking", "redacted_thinking"}


class AnthropicMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    # `user` or `assistant` in any case; checked by to_chat_request (whose 400 says where system text goes)
    # and published as the pattern it is.
    role: StrictStr = Field(json_schema_extra=any_case_of(("user", "assistant")))
    content: StrictStr | list[dict[str, Any]]


def _number(low: float, high: float) -> Any:
    """A JSON number in [low, high] (Anthropic's range): never a string, a bool, NaN or infinity."""
    return Field(default=None, strict=True, ge=low, le=high, allow_inf_nan=False)


class MessagesIn(BaseModel):
    """The body of `/v1/messages`; `/v1/messages/count_tokens` takes the same minus max_tokens/stream.
    Ignored parameters are still type-checked as Anthropic does; unknown ones are let through."""

    model_config = ConfigDict(extra="allow")
    model: StrictStr = Field(min_length=1)
    messages: list[AnthropicMessageIn] = Field(json_schema_extra={"minItems": 1})  # [] refused later
    max_tokens: StrictInt | None = Field(default=None, ge=1)
    system: StrictStr | list[dict[str, Any]] | None = None
    stream: StrictBool = False
    thinking: dict[str, Any] | None = None
    tools: list[Any] | None = None
    tool_choice: dict[str, Any] | None = None
    mcp_servers: list[Any] | None = None
    # Ignored (IGNORED), typed as Anthropic types them.
    temperature: float | None = _number(0, 1)
    top_p: float | None = _number(0, 1)
    top_k: StrictInt | None = Field(default=None, ge=0)
    stop_sequences: list[StrictStr] | None = None
    metadata: dict[str, Any] | None = None
    service_tier: StrictStr | None = None


def check_parameters(body: MessagesIn) -> list[str]:
    """Raise on what cannot be honoured; return the ignored parameters that were sent."""
    if body.mcp_servers:
        raise UnsupportedParameter("The MCP connector (mcp_servers) is not supported", param="mcp_servers")
    extra = body.model_extra or {}
    values = {**extra, **{k: getattr(body, k) for k in IGNORED if k in MessagesIn.model_fields}}
    return sorted(k for k in IGNORED if values.get(k) is not None)


def thinking_requested(body: MessagesIn) -> bool | None:
    """`thinking: {type: enabled | adaptive}` -> True, `{type: disabled}` -> False, absent -> None."""
    if body.thinking is None:
        return None
    kind = body.thinking.get("type")
    if kind in ("enabled", "adaptive"):
        budget = body.thinking.get("budget_tokens")
        if budget is not None and (not isinstance(budget, int) or isinstance(budget, bool) or budget < 1):
            raise InvalidRequest("thinking.budget_tokens must be a positive integer", param="thinking")
        return True
    if kind == "disabled":
        return False
    raise InvalidRequest("thinking.type must be 'enabled', 'adaptive' or 'disabled'", param="thinking.type")


def system_text(system: str | list[dict[str, Any]] | None) -> str:
    if system is None or isinstance(system, str):
        return system or ""
    texts = []
    for i, block in enumerate(system):
        if block.get("type") != "text" or not isinstance(block.get("text"), str):
            raise InvalidRequest("system blocks must be text blocks", param=f"system[{i}]")
        texts.append(block["text"])
    return "\n\n".join(t for t in texts if t)


def image_part(block: dict[str, Any], param: str) -> ImagePart:
    source = block.get("source")
    if not isinstance(source, dict):
        raise InvalidRequest("image blocks need a source", param=f"{param}.source")
    kind = source.get("type")
    if kind == "base64":
        mime = str(source.get("media_type", "")).lower()
        if mime not in IMAGE_TYPES:
            raise InvalidRequest(
                "image media_type must be image/png, image/jpeg, image/gif or image/webp",
                param=f"{param}.source.media_type",
            )
        data = source.get("data")
        try:
            raw = (
                base64.b64decode("".join(str(data).split()), validate=True) if isinstance(data, str) else b""
            )
        except (binascii.Error, ValueError) as exc:
            raise InvalidRequest("image data is not valid base64", param=f"{param}.source.data") from exc
        if not raw:
            raise InvalidRequest("image data is empty", param=f"{param}.source.data")
        return ImagePart(mime_type="image/jpeg" if mime == "image/jpg" else mime, data=raw)
    if kind == "url":
        url = source.get("url")
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise InvalidRequest("image source url must be an http(s) URL", param=f"{param}.source.url")
        # Fetched (or refused, per vision_ability) by services.images before the chat opens.
        return ImagePart(mime_type="", data=b"", url=url)
    if kind == "file":
        raise InvalidRequest(
            "Files API images (source.type 'file') are not supported", param=f"{param}.source"
        )
    raise InvalidRequest(f"Unsupported image source type '{kind}'", param=f"{param}.source.type")


def _tool_result_content(content: Any, param: str) -> tuple[str, tuple[ImagePart, ...]]:
    if content is None or isinstance(content, str):
        return content or "", ()
    if not isinstance(content, list):
        raise InvalidRequest("tool_result content must be a string or a list of blocks", param=param)
    texts: list[str] = []
    images: list[ImagePart] = []
    for j, block in enumerate(content):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif kind == "image":
            images.append(image_part(block, f"{param}[{j}]"))
        else:
            raise InvalidRequest(f"Unsupported tool_result content block '{kind}'", param=f"{param}[{j}]")
    return "\n".join(texts), tuple(images)


@dataclass(slots=True)
class _Walk:
    """Turns Anthropic messages into domain messages, remembering tool_use ids -> names (a tool_result
    names only the id it answers; the domain's tool messages carry the name too)."""

    messages: list[Message] = field(default_factory=list)
    call_names: dict[str, str] = field(default_factory=dict)

    def user(self, index: int, content: str | list[dict[str, Any]]) -> None:
        if isinstance(content, str):
            self.messages.append(Message("user", content))
            return
        texts: list[str] = []
        images: list[ImagePart] = []
        for j, block in enumerate(content):
            param = f"messages[{index}].content[{j}]"
            kind = block.get("type")
            if kind == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"])
            elif kind == "image":
                images.append(image_part(block, param))
            elif kind == "tool_result":
                self.tool_result(block, param)
            elif kind in _SKIPPED_BLOCKS:
                continue
            else:
                raise InvalidRequest(
                    f"Unsupported content block type '{kind}' in a user message", param=param
                )
        if texts or images:
            self.messages.append(Message("user", "\n".join(texts), tuple(images)))

    def tool_result(self, block: dict[str, Any], param: str) -> None:
        call_id = block.get("tool_use_id")
        if not isinstance(call_id, str) or not call_id:
            raise InvalidRequest("tool_result blocks need the tool_use_id they answer", param=param)
        text, images = _tool_result_content(block.get("content"), f"{param}.content")
        self.messages.append(
            Message(
                "tool",
                text,
                images,
                tool_call_id=call_id,
                tool_name=self.call_names.get(call_id, ""),
                is_error=bool(block.get("is_error")),
            )
        )

    def assistant(self, index: int, content: str | list[dict[str, Any]]) -> None:
        if isinstance(content, str):
            self.messages.append(Message("assistant", content))
            return
        texts: list[str] = []
        calls: list[ToolCall] = []
        for j, block in enumerate(content):
            param = f"messages[{index}].content[{j}]"
            kind = block.get("type")
            if kind == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"])
            elif kind == "tool_use":
                calls.append(self.tool_use(block, param))
            elif kind in _SKIPPED_BLOCKS:
                continue  # our own signatures are opaque to Cursor: history thinking is not replayed
            else:
                raise InvalidRequest(
                    f"Unsupported content block type '{kind}' in an assistant message", param=param
                )
        self.messages.append(Message("assistant", "\n".join(texts), tool_calls=tuple(calls)))

    def tool_use(self, block: dict[str, Any], param: str) -> ToolCall:
        call_id, name, arguments = block.get("id"), block.get("name"), block.get("input", {})
        if not isinstance(call_id, str) or not call_id:
            raise InvalidRequest("tool_use blocks need an id", param=f"{param}.id")
        if not isinstance(name, str) or not name:
            raise InvalidRequest("tool_use blocks need a name", param=f"{param}.name")
        if not isinstance(arguments, dict):
            raise InvalidRequest("tool_use input must be an object", param=f"{param}.input")
        self.call_names[call_id] = name
        return ToolCall(id=call_id, name=name, arguments=json.dumps(arguments, ensure_ascii=False))


def domain_messages(body: MessagesIn) -> tuple[Message, ...]:
    if not body.messages:
        raise InvalidRequest("messages must contain at least one message", param="messages")
    walk = _Walk()
    system = system_text(body.system)
    if system:
        walk.messages.append(Message("system", system))
    for index, m in enumerate(body.messages):
        role = m.role.lower()
        if role == "user":
            walk.user(index, m.content)
        elif role == "assistant":
            walk.assistant(index, m.content)
        else:
            raise InvalidRequest(
                f"Unsupported role '{m.role}': messages are 'user' or 'assistant' (system goes in 'system')",
                param=f"messages[{index}].role",
            )
    return tuple(walk.messages)


def tool_specs(tools: list[Any] | None) -> tuple[ToolSpec, ...]:
    specs: list[ToolSpec] = []
    seen: set[str] = set()
    for index, tool in enumerate(tools or ()):
        param = f"tools[{index}]"
        if not isinstance(tool, dict):
            raise InvalidRequest("tools entries must be objects", param=param)
        kind = tool.get("type", "custom")
        if kind != "custom" or "input_schema" not in tool:
            # web_search, bash, text_editor ...: Anthropic runs or defines those; Cursor cannot.
            raise UnsupportedParameter(
                f"Server and Anthropic-defined tools ('{kind}') are not supported: define a custom tool "
                "with name, description and input_schema",
                param=param,
            )
        name, schema = tool.get("name"), tool.get("input_schema")
        problem = name_problem(name)
        if problem:
            raise InvalidRequest(f"Invalid tool name {name!r}: {problem}", param=f"{param}.name")
        assert isinstance(name, str)
        if name in seen:
            raise InvalidRequest(f"Tool name '{name}' is defined twice", param=f"{param}.name")
        problem = schema_problem(schema)
        if problem:
            raise InvalidRequest(f"Tool '{name}': {problem}", param=f"{param}.input_schema")
        assert isinstance(schema, dict)
        description = tool.get("description") or ""
        if not isinstance(description, str):
            raise InvalidRequest("tool descriptions must be strings", param=f"{param}.description")
        seen.add(name)
        specs.append(ToolSpec(name=name, description=description, parameters=schema))
    return tuple(specs)


def tool_choice(choice: dict[str, Any] | None, tools: tuple[ToolSpec, ...]) -> str:
    """Anthropic's {type: auto | any | tool(name) | none} -> the domain's auto | required | <name> | none
    (whether a profile can honour it is the tool-calling layer's decision)."""
    if choice is None:
        return "auto"
    kind = choice.get("type")
    if kind in _TOOL_CHOICES:
        return _TOOL_CHOICES[kind]
    if kind == "tool":
        name = choice.get("name")
        if not isinstance(name, str) or name not in {t.name for t in tools}:
            raise InvalidRequest("tool_choice.name must name one of the tools", param="tool_choice.name")
        return name
    raise InvalidRequest("tool_choice.type must be auto, any, tool or none", param="tool_choice.type")


def to_chat_request(
    body: MessagesIn,
    model: ModelChoice,
    *,
    conversation_hint: str | None = None,
    request_id: str = "",
    caller_scope: str = "",
) -> ChatRequest:
    messages = domain_messages(body)
    if not any(m.role == "user" for m in messages):
        raise InvalidRequest("messages must contain at least one user message with content", param="messages")
    if any(m.images for m in messages) and not model.supports_images:
        raise InvalidRequest(f"Model '{model.client_id}' does not accept images", param="messages")
    tools = tool_specs(body.tools)
    return ChatRequest(
        model=model,
        messages=messages,
        conversation_id=conversation_id_for(messages, conversation_hint, caller_scope),
        stream=body.stream,
        request_id=request_id,
        tools=tools,
        tool_choice=tool_choice(body.tool_choice, tools),
        thinking=thinking_requested(body),
    )
