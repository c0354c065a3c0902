"""OpenAI `/v1/chat/completions` request -> domain `ChatRequest` (pure).

The parameter table below is published in the README: every parameter is honoured, ignored (and
listed in the `x-ignored-params` response header), or rejected with a 400 that names it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cursor_gateway.domain.chat import ChatRequest, ImagePart, Message, ModelChoice, Role
from cursor_gateway.errors import InvalidRequest, UnsupportedParameter

HONOURED = ("model", "messages", "stream", "stream_options", "user")
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
    "tool_choice",
    "verbosity",
)
# Rejected: n > 1, logprobs/top_logprobs, audio output, tools and functions (until tool calling lands).
REJECTED = ("n", "logprobs", "top_logprobs", "modalities", "audio", "tools", "functions", "function_call")

_ROLES: dict[str, Role] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
}
IMAGE_TYPES = {"image/png", "image/jpeg", "image/jpg", "image/webp", "image/gif"}
CONVERSATION_NAMESPACE = uuid.UUID("4f3c2a10-6b1e-4c47-9a35-0c1b7d2e9f61")


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None


class ChatCompletionIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1)
    messages: list[ChatMessageIn]
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = None
    n: int | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    modalities: list[str] | None = None
    tools: list[dict[str, Any]] | None = None
    functions: list[dict[str, Any]] | None = None


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
    if body.tools:
        raise UnsupportedParameter("Tool calling is not supported by this gateway version", param="tools")
    no_functions = "Function calling is not supported by this gateway version"
    if body.functions:
        raise UnsupportedParameter(no_functions, param="functions")
    if extra.get("function_call") is not None:
        raise UnsupportedParameter(no_functions, param="function_call")
    return sorted(k for k, v in extra.items() if v is not None and k in IGNORED)


def _image(url: str, index: int) -> ImagePart:
    param = f"messages[{index}].content"
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


def _message(index: int, m: ChatMessageIn) -> Message:
    role = _ROLES.get(m.role.lower())
    if role is None:
        raise InvalidRequest(f"Unsupported role '{m.role}'", param=f"messages[{index}].role")
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
    messages = tuple(_message(i, m) for i, m in enumerate(body.messages))
    if not any(m.role == "user" for m in messages):
        raise InvalidRequest("messages must contain at least one user message", param="messages")
    if any(m.images for m in messages) and not model.supports_images:
        raise InvalidRequest(f"Model '{model.client_id}' does not accept images", param="messages")
    return ChatRequest(
        model=model,
        messages=messages,
        conversation_id=conversation_id_for(messages, conversation_hint or body.user, caller_scope),
        stream=body.stream,
        request_id=request_id,
    )


ThinkingOutput = Literal["reasoning_content", "think_tags"]
