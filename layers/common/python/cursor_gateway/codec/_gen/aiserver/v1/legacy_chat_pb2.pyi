from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
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

class ClientSideToolV2Call(_message.Message):
    __slots__ = ("tool", "tool_call_id", "timeout_ms", "name", "raw_args", "is_streaming", "is_last_message", "tool_index", "model_call_id", "internal")
    TOOL_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_ID_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RAW_ARGS_FIELD_NUMBER: _ClassVar[int]
    IS_STREAMING_FIELD_NUMBER: _ClassVar[int]
    IS_LAST_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TOOL_INDEX_FIELD_NUMBER: _ClassVar[int]
    MODEL_CALL_ID_FIELD_NUMBER: _ClassVar[int]
    INTERNAL_FIELD_NUMBER: _ClassVar[int]
    tool: int
    tool_call_id: str
    timeout_ms: float
    name: str
    raw_args: str
    is_streaming: bool
    is_last_message: bool
    tool_index: int
    model_call_id: str
    internal: bool
    def __init__(self, tool: _Optional[int] = ..., tool_call_id: _Optional[str] = ..., timeout_ms: _Optional[float] = ..., name: _Optional[str] = ..., raw_args: _Optional[str] = ..., is_streaming: _Optional[bool] = ..., is_last_message: _Optional[bool] = ..., tool_index: _Optional[int] = ..., model_call_id: _Optional[str] = ..., internal: _Optional[bool] = ...) -> None: ...

class StreamStart(_message.Message):
    __slots__ = ("padding",)
    PADDING_FIELD_NUMBER: _ClassVar[int]
    padding: str
    def __init__(self, padding: _Optional[str] = ...) -> None: ...

class StreamUnifiedChatResponseWithTools(_message.Message):
    __slots__ = ("client_side_tool_v2_call", "stream_unified_chat_response", "stream_start")
    CLIENT_SIDE_TOOL_V2_CALL_FIELD_NUMBER: _ClassVar[int]
    STREAM_UNIFIED_CHAT_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    STREAM_START_FIELD_NUMBER: _ClassVar[int]
    client_side_tool_v2_call: ClientSideToolV2Call
    stream_unified_chat_response: StreamUnifiedChatResponse
    stream_start: StreamStart
    def __init__(self, client_side_tool_v2_call: _Optional[_Union[ClientSideToolV2Call, _Mapping]] = ..., stream_unified_chat_response: _Optional[_Union[StreamUnifiedChatResponse, _Mapping]] = ..., stream_start: _Optional[_Union[StreamStart, _Mapping]] = ...) -> None: ...

class StreamUnifiedChatRequestWithTools(_message.Message):
    __slots__ = ("stream_unified_chat_request",)
    STREAM_UNIFIED_CHAT_REQUEST_FIELD_NUMBER: _ClassVar[int]
    stream_unified_chat_request: StreamUnifiedChatRequest
    def __init__(self, stream_unified_chat_request: _Optional[_Union[StreamUnifiedChatRequest, _Mapping]] = ...) -> None: ...

class StreamUnifiedChatRequest(_message.Message):
    __slots__ = ("conversation", "explicit_context", "model_details", "use_web", "external_links", "should_cache", "current_file", "use_reference_composer_diff_prompt", "use_new_compression_scheme", "is_chat", "conversation_id", "environment_info", "is_agentic", "full_conversation_headers_only", "use_full_inputs_context", "is_resume", "allow_model_fallbacks", "number_of_times_shown_fallback_model_warning", "unified_mode", "should_disable_tools", "thinking_level", "uses_rules", "mode_uses_auto_apply", "unified_mode_name")
    class UnifiedMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        UNIFIED_MODE_UNSPECIFIED: _ClassVar[StreamUnifiedChatRequest.UnifiedMode]
        UNIFIED_MODE_CHAT: _ClassVar[StreamUnifiedChatRequest.UnifiedMode]
        UNIFIED_MODE_AGENT: _ClassVar[StreamUnifiedChatRequest.UnifiedMode]
        UNIFIED_MODE_EDIT: _ClassVar[StreamUnifiedChatRequest.UnifiedMode]
        UNIFIED_MODE_CUSTOM: _ClassVar[StreamUnifiedChatRequest.UnifiedMode]
    UNIFIED_MODE_UNSPECIFIED: StreamUnifiedChatRequest.UnifiedMode
    UNIFIED_MODE_CHAT: StreamUnifiedChatRequest.UnifiedMode
    UNIFIED_MODE_AGENT: StreamUnifiedChatRequest.UnifiedMode
    UNIFIED_MODE_EDIT: StreamUnifiedChatRequest.UnifiedMode
    UNIFIED_MODE_CUSTOM: StreamUnifiedChatRequest.UnifiedMode
    class ThinkingLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        THINKING_LEVEL_UNSPECIFIED: _ClassVar[StreamUnifiedChatRequest.ThinkingLevel]
        THINKING_LEVEL_MEDIUM: _ClassVar[StreamUnifiedChatRequest.ThinkingLevel]
        THINKING_LEVEL_HIGH: _ClassVar[StreamUnifiedChatRequest.ThinkingLevel]
    THINKING_LEVEL_UNSPECIFIED: StreamUnifiedChatRequest.ThinkingLevel
    THINKING_LEVEL_MEDIUM: StreamUnifiedChatRequest.ThinkingLevel
    THINKING_LEVEL_HIGH: StreamUnifiedChatRequest.ThinkingLevel
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    EXPLICIT_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    MODEL_DETAILS_FIELD_NUMBER: _ClassVar[int]
    USE_WEB_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_LINKS_FIELD_NUMBER: _ClassVar[int]
    SHOULD_CACHE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FILE_FIELD_NUMBER: _ClassVar[int]
    USE_REFERENCE_COMPOSER_DIFF_PROMPT_FIELD_NUMBER: _ClassVar[int]
    USE_NEW_COMPRESSION_SCHEME_FIELD_NUMBER: _ClassVar[int]
    IS_CHAT_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_INFO_FIELD_NUMBER: _ClassVar[int]
    IS_AGENTIC_FIELD_NUMBER: _ClassVar[int]
    FULL_CONVERSATION_HEADERS_ONLY_FIELD_NUMBER: _ClassVar[int]
    USE_FULL_INPUTS_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    IS_RESUME_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MODEL_FALLBACKS_FIELD_NUMBER: _ClassVar[int]
    NUMBER_OF_TIMES_SHOWN_FALLBACK_MODEL_WARNING_FIELD_NUMBER: _ClassVar[int]
    UNIFIED_MODE_FIELD_NUMBER: _ClassVar[int]
    SHOULD_DISABLE_TOOLS_FIELD_NUMBER: _ClassVar[int]
    THINKING_LEVEL_FIELD_NUMBER: _ClassVar[int]
    USES_RULES_FIELD_NUMBER: _ClassVar[int]
    MODE_USES_AUTO_APPLY_FIELD_NUMBER: _ClassVar[int]
    UNIFIED_MODE_NAME_FIELD_NUMBER: _ClassVar[int]
    conversation: _containers.RepeatedCompositeFieldContainer[ConversationMessage]
    explicit_context: ExplicitContext
    model_details: ModelDetails
    use_web: str
    external_links: _containers.RepeatedCompositeFieldContainer[ComposerExternalLink]
    should_cache: bool
    current_file: CurrentFileInfo
    use_reference_composer_diff_prompt: bool
    use_new_compression_scheme: bool
    is_chat: bool
    conversation_id: str
    environment_info: EnvironmentInfo
    is_agentic: bool
    full_conversation_headers_only: _containers.RepeatedCompositeFieldContainer[ConversationMessageHeader]
    use_full_inputs_context: bool
    is_resume: bool
    allow_model_fallbacks: bool
    number_of_times_shown_fallback_model_warning: int
    unified_mode: StreamUnifiedChatRequest.UnifiedMode
    should_disable_tools: bool
    thinking_level: StreamUnifiedChatRequest.ThinkingLevel
    uses_rules: bool
    mode_uses_auto_apply: bool
    unified_mode_name: str
    def __init__(self, conversation: _Optional[_Iterable[_Union[ConversationMessage, _Mapping]]] = ..., explicit_context: _Optional[_Union[ExplicitContext, _Mapping]] = ..., model_details: _Optional[_Union[ModelDetails, _Mapping]] = ..., use_web: _Optional[str] = ..., external_links: _Optional[_Iterable[_Union[ComposerExternalLink, _Mapping]]] = ..., should_cache: _Optional[bool] = ..., current_file: _Optional[_Union[CurrentFileInfo, _Mapping]] = ..., use_reference_composer_diff_prompt: _Optional[bool] = ..., use_new_compression_scheme: _Optional[bool] = ..., is_chat: _Optional[bool] = ..., conversation_id: _Optional[str] = ..., environment_info: _Optional[_Union[EnvironmentInfo, _Mapping]] = ..., is_agentic: _Optional[bool] = ..., full_conversation_headers_only: _Optional[_Iterable[_Union[ConversationMessageHeader, _Mapping]]] = ..., use_full_inputs_context: _Optional[bool] = ..., is_resume: _Optional[bool] = ..., allow_model_fallbacks: _Optional[bool] = ..., number_of_times_shown_fallback_model_warning: _Optional[int] = ..., unified_mode: _Optional[_Union[StreamUnifiedChatRequest.UnifiedMode, str]] = ..., should_disable_tools: _Optional[bool] = ..., thinking_level: _Optional[_Union[StreamUnifiedChatRequest.ThinkingLevel, str]] = ..., uses_rules: _Optional[bool] = ..., mode_uses_auto_apply: _Optional[bool] = ..., unified_mode_name: _Optional[str] = ...) -> None: ...

class ConversationMessage(_message.Message):
    __slots__ = ("text", "type", "images", "bubble_id", "is_capability_iteration", "is_agentic", "server_bubble_id", "web_references", "thinking", "unified_mode", "external_links", "use_web")
    class MessageType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        MESSAGE_TYPE_UNSPECIFIED: _ClassVar[ConversationMessage.MessageType]
        MESSAGE_TYPE_HUMAN: _ClassVar[ConversationMessage.MessageType]
        MESSAGE_TYPE_AI: _ClassVar[ConversationMessage.MessageType]
    MESSAGE_TYPE_UNSPECIFIED: ConversationMessage.MessageType
    MESSAGE_TYPE_HUMAN: ConversationMessage.MessageType
    MESSAGE_TYPE_AI: ConversationMessage.MessageType
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    BUBBLE_ID_FIELD_NUMBER: _ClassVar[int]
    IS_CAPABILITY_ITERATION_FIELD_NUMBER: _ClassVar[int]
    IS_AGENTIC_FIELD_NUMBER: _ClassVar[int]
    SERVER_BUBBLE_ID_FIELD_NUMBER: _ClassVar[int]
    WEB_REFERENCES_FIELD_NUMBER: _ClassVar[int]
    THINKING_FIELD_NUMBER: _ClassVar[int]
    UNIFIED_MODE_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_LINKS_FIELD_NUMBER: _ClassVar[int]
    USE_WEB_FIELD_NUMBER: _ClassVar[int]
    text: str
    type: ConversationMessage.MessageType
    images: _containers.RepeatedCompositeFieldContainer[ImageProto]
    bubble_id: str
    is_capability_iteration: bool
    is_agentic: bool
    server_bubble_id: str
    web_references: _containers.RepeatedCompositeFieldContainer[WebReference]
    thinking: ThinkingChunk
    unified_mode: StreamUnifiedChatRequest.UnifiedMode
    external_links: _containers.RepeatedCompositeFieldContainer[ComposerExternalLink]
    use_web: bool
    def __init__(self, text: _Optional[str] = ..., type: _Optional[_Union[ConversationMessage.MessageType, str]] = ..., images: _Optional[_Iterable[_Union[ImageProto, _Mapping]]] = ..., bubble_id: _Optional[str] = ..., is_capability_iteration: _Optional[bool] = ..., is_agentic: _Optional[bool] = ..., server_bubble_id: _Optional[str] = ..., web_references: _Optional[_Iterable[_Union[WebReference, _Mapping]]] = ..., thinking: _Optional[_Union[ThinkingChunk, _Mapping]] = ..., unified_mode: _Optional[_Union[StreamUnifiedChatRequest.UnifiedMode, str]] = ..., external_links: _Optional[_Iterable[_Union[ComposerExternalLink, _Mapping]]] = ..., use_web: _Optional[bool] = ...) -> None: ...

class ConversationMessageHeader(_message.Message):
    __slots__ = ("bubble_id", "server_bubble_id", "type")
    BUBBLE_ID_FIELD_NUMBER: _ClassVar[int]
    SERVER_BUBBLE_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    bubble_id: str
    server_bubble_id: str
    type: ConversationMessage.MessageType
    def __init__(self, bubble_id: _Optional[str] = ..., server_bubble_id: _Optional[str] = ..., type: _Optional[_Union[ConversationMessage.MessageType, str]] = ...) -> None: ...

class ExplicitContext(_message.Message):
    __slots__ = ("context", "repo_context", "mode_specific_context")
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    REPO_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    MODE_SPECIFIC_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    context: str
    repo_context: str
    mode_specific_context: str
    def __init__(self, context: _Optional[str] = ..., repo_context: _Optional[str] = ..., mode_specific_context: _Optional[str] = ...) -> None: ...

class CursorPosition(_message.Message):
    __slots__ = ("line", "column")
    LINE_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    line: int
    column: int
    def __init__(self, line: _Optional[int] = ..., column: _Optional[int] = ...) -> None: ...

class CursorRange(_message.Message):
    __slots__ = ("start_position", "end_position")
    START_POSITION_FIELD_NUMBER: _ClassVar[int]
    END_POSITION_FIELD_NUMBER: _ClassVar[int]
    start_position: CursorPosition
    end_position: CursorPosition
    def __init__(self, start_position: _Optional[_Union[CursorPosition, _Mapping]] = ..., end_position: _Optional[_Union[CursorPosition, _Mapping]] = ...) -> None: ...

class CurrentFileInfo(_message.Message):
    __slots__ = ("cursor_position", "selection", "total_number_of_lines", "contents_start_at_line")
    CURSOR_POSITION_FIELD_NUMBER: _ClassVar[int]
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    TOTAL_NUMBER_OF_LINES_FIELD_NUMBER: _ClassVar[int]
    CONTENTS_START_AT_LINE_FIELD_NUMBER: _ClassVar[int]
    cursor_position: CursorPosition
    selection: CursorRange
    total_number_of_lines: int
    contents_start_at_line: int
    def __init__(self, cursor_position: _Optional[_Union[CursorPosition, _Mapping]] = ..., selection: _Optional[_Union[CursorRange, _Mapping]] = ..., total_number_of_lines: _Optional[int] = ..., contents_start_at_line: _Optional[int] = ...) -> None: ...

class EnvironmentInfo(_message.Message):
    __slots__ = ("exthost_platform", "exthost_arch", "exthost_release", "exthost_shell", "local_timestamp", "workspace_uris")
    EXTHOST_PLATFORM_FIELD_NUMBER: _ClassVar[int]
    EXTHOST_ARCH_FIELD_NUMBER: _ClassVar[int]
    EXTHOST_RELEASE_FIELD_NUMBER: _ClassVar[int]
    EXTHOST_SHELL_FIELD_NUMBER: _ClassVar[int]
    LOCAL_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_URIS_FIELD_NUMBER: _ClassVar[int]
    exthost_platform: str
    exthost_arch: str
    exthost_release: str
    exthost_shell: str
    local_timestamp: str
    workspace_uris: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, exthost_platform: _Optional[str] = ..., exthost_arch: _Optional[str] = ..., exthost_release: _Optional[str] = ..., exthost_shell: _Optional[str] = ..., local_timestamp: _Optional[str] = ..., workspace_uris: _Optional[_Iterable[str]] = ...) -> None: ...

class ImageProto(_message.Message):
    __slots__ = ("data", "dimension", "uuid")
    class Dimension(_message.Message):
        __slots__ = ("width", "height")
        WIDTH_FIELD_NUMBER: _ClassVar[int]
        HEIGHT_FIELD_NUMBER: _ClassVar[int]
        width: int
        height: int
        def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ...) -> None: ...
    DATA_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    dimension: ImageProto.Dimension
    uuid: str
    def __init__(self, data: _Optional[bytes] = ..., dimension: _Optional[_Union[ImageProto.Dimension, _Mapping]] = ..., uuid: _Optional[str] = ...) -> None: ...

class ComposerExternalLink(_message.Message):
    __slots__ = ("url", "uuid")
    URL_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    url: str
    uuid: str
    def __init__(self, url: _Optional[str] = ..., uuid: _Optional[str] = ...) -> None: ...

class AzureState(_message.Message):
    __slots__ = ("api_key", "base_url", "deployment", "use_azure")
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    BASE_URL_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    USE_AZURE_FIELD_NUMBER: _ClassVar[int]
    api_key: str
    base_url: str
    deployment: str
    use_azure: bool
    def __init__(self, api_key: _Optional[str] = ..., base_url: _Optional[str] = ..., deployment: _Optional[str] = ..., use_azure: _Optional[bool] = ...) -> None: ...

class ModelDetails(_message.Message):
    __slots__ = ("model_name", "azure_state", "enable_slow_pool", "max_mode")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    AZURE_STATE_FIELD_NUMBER: _ClassVar[int]
    ENABLE_SLOW_POOL_FIELD_NUMBER: _ClassVar[int]
    MAX_MODE_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    azure_state: AzureState
    enable_slow_pool: bool
    max_mode: bool
    def __init__(self, model_name: _Optional[str] = ..., azure_state: _Optional[_Union[AzureState, _Mapping]] = ..., enable_slow_pool: _Optional[bool] = ..., max_mode: _Optional[bool] = ...) -> None: ...
