from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WebReference(_message.Message):
    __slots__ = ("url", "title", "chunk")
    URL_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    url: str
    title: str
    chunk: str
    def __init__(self, url: _Optional[str] = ..., title: _Optional[str] = ..., chunk: _Optional[str] = ...) -> None: ...

class WebCitation(_message.Message):
    __slots__ = ("references",)
    REFERENCES_FIELD_NUMBER: _ClassVar[int]
    references: _containers.RepeatedCompositeFieldContainer[WebReference]
    def __init__(self, references: _Optional[_Iterable[_Union[WebReference, _Mapping]]] = ...) -> None: ...

class ThinkingChunk(_message.Message):
    __slots__ = ("text", "signature", "redacted_thinking", "is_last_thinking_chunk")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    REDACTED_THINKING_FIELD_NUMBER: _ClassVar[int]
    IS_LAST_THINKING_CHUNK_FIELD_NUMBER: _ClassVar[int]
    text: str
    signature: str
    redacted_thinking: str
    is_last_thinking_chunk: bool
    def __init__(self, text: _Optional[str] = ..., signature: _Optional[str] = ..., redacted_thinking: _Optional[str] = ..., is_last_thinking_chunk: _Optional[bool] = ...) -> None: ...

class StreamChatResponse(_message.Message):
    __slots__ = ("text", "filled_prompt", "web_citation")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FILLED_PROMPT_FIELD_NUMBER: _ClassVar[int]
    WEB_CITATION_FIELD_NUMBER: _ClassVar[int]
    text: str
    filled_prompt: str
    web_citation: WebCitation
    def __init__(self, text: _Optional[str] = ..., filled_prompt: _Optional[str] = ..., web_citation: _Optional[_Union[WebCitation, _Mapping]] = ...) -> None: ...

class StreamUnifiedChatResponse(_message.Message):
    __slots__ = ("text", "filled_prompt", "web_citation", "thinking")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FILLED_PROMPT_FIELD_NUMBER: _ClassVar[int]
    WEB_CITATION_FIELD_NUMBER: _ClassVar[int]
    THINKING_FIELD_NUMBER: _ClassVar[int]
    text: str
    filled_prompt: str
    web_citation: WebCitation
    thinking: ThinkingChunk
    def __init__(self, text: _Optional[str] = ..., filled_prompt: _Optional[str] = ..., web_citation: _Optional[_Union[WebCitation, _Mapping]] = ..., thinking: _Optional[_Union[ThinkingChunk, _Mapping]] = ...) -> None: ...

class StreamUnifiedChatResponseWithTools(_message.Message):
    __slots__ = ("client_side_tool_v2_call", "stream_unified_chat_response")
    CLIENT_SIDE_TOOL_V2_CALL_FIELD_NUMBER: _ClassVar[int]
    STREAM_UNIFIED_CHAT_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    client_side_tool_v2_call: bytes
    stream_unified_chat_response: StreamUnifiedChatResponse
    def __init__(self, client_side_tool_v2_call: _Optional[bytes] = ..., stream_unified_chat_response: _Optional[_Union[StreamUnifiedChatResponse, _Mapping]] = ...) -> None: ...
