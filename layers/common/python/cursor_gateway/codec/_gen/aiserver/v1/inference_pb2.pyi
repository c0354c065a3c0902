from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InferenceMessageRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INFERENCE_MESSAGE_ROLE_UNSPECIFIED: _ClassVar[InferenceMessageRole]
    INFERENCE_MESSAGE_ROLE_USER: _ClassVar[InferenceMessageRole]
    INFERENCE_MESSAGE_ROLE_ASSISTANT: _ClassVar[InferenceMessageRole]
    INFERENCE_MESSAGE_ROLE_TOOL: _ClassVar[InferenceMessageRole]
    INFERENCE_MESSAGE_ROLE_SYSTEM: _ClassVar[InferenceMessageRole]

class InferenceErrorType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INFERENCE_ERROR_TYPE_UNSPECIFIED: _ClassVar[InferenceErrorType]
    INFERENCE_ERROR_TYPE_INPUT_TOKEN_LIMIT: _ClassVar[InferenceErrorType]
    INFERENCE_ERROR_TYPE_OUTPUT_TOKEN_LIMIT: _ClassVar[InferenceErrorType]
    INFERENCE_ERROR_TYPE_RATE_LIMIT: _ClassVar[InferenceErrorType]
    INFERENCE_ERROR_TYPE_AUTHENTICATION: _ClassVar[InferenceErrorType]
    INFERENCE_ERROR_TYPE_PERMISSION: _ClassVar[InferenceErrorType]
    INFERENCE_ERROR_TYPE_OVERLOADED: _ClassVar[InferenceErrorType]
    INFERENCE_ERROR_TYPE_CONTENT_FILTER: _ClassVar[InferenceErrorType]
INFERENCE_MESSAGE_ROLE_UNSPECIFIED: InferenceMessageRole
INFERENCE_MESSAGE_ROLE_USER: InferenceMessageRole
INFERENCE_MESSAGE_ROLE_ASSISTANT: InferenceMessageRole
INFERENCE_MESSAGE_ROLE_TOOL: InferenceMessageRole
INFERENCE_MESSAGE_ROLE_SYSTEM: InferenceMessageRole
INFERENCE_ERROR_TYPE_UNSPECIFIED: InferenceErrorType
INFERENCE_ERROR_TYPE_INPUT_TOKEN_LIMIT: InferenceErrorType
INFERENCE_ERROR_TYPE_OUTPUT_TOKEN_LIMIT: InferenceErrorType
INFERENCE_ERROR_TYPE_RATE_LIMIT: InferenceErrorType
INFERENCE_ERROR_TYPE_AUTHENTICATION: InferenceErrorType
INFERENCE_ERROR_TYPE_PERMISSION: InferenceErrorType
INFERENCE_ERROR_TYPE_OVERLOADED: InferenceErrorType
INFERENCE_ERROR_TYPE_CONTENT_FILTER: InferenceErrorType

class RunInferenceClientMessage(_message.Message):
    __slots__ = ("run_request", "invoke_model", "cancel_invocation", "finish_run")
    RUN_REQUEST_FIELD_NUMBER: _ClassVar[int]
    INVOKE_MODEL_FIELD_NUMBER: _ClassVar[int]
    CANCEL_INVOCATION_FIELD_NUMBER: _ClassVar[int]
    FINISH_RUN_FIELD_NUMBER: _ClassVar[int]
    run_request: RunInferenceRunRequest
    invoke_model: RunInferenceInvokeModel
    cancel_invocation: RunInferenceCancelInvocation
    finish_run: RunInferenceFinishRun
    def __init__(self, run_request: _Optional[_Union[RunInferenceRunRequest, _Mapping]] = ..., invoke_model: _Optional[_Union[RunInferenceInvokeModel, _Mapping]] = ..., cancel_invocation: _Optional[_Union[RunInferenceCancelInvocation, _Mapping]] = ..., finish_run: _Optional[_Union[RunInferenceFinishRun, _Mapping]] = ...) -> None: ...

class RunInferenceServerMessage(_message.Message):
    __slots__ = ("heartbeat", "run_ready", "invocation_response", "invocation_end")
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    RUN_READY_FIELD_NUMBER: _ClassVar[int]
    INVOCATION_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    INVOCATION_END_FIELD_NUMBER: _ClassVar[int]
    heartbeat: RunInferenceHeartbeat
    run_ready: RunInferenceRunReady
    invocation_response: RunInferenceInvocationResponse
    invocation_end: RunInferenceInvocationEnd
    def __init__(self, heartbeat: _Optional[_Union[RunInferenceHeartbeat, _Mapping]] = ..., run_ready: _Optional[_Union[RunInferenceRunReady, _Mapping]] = ..., invocation_response: _Optional[_Union[RunInferenceInvocationResponse, _Mapping]] = ..., invocation_end: _Optional[_Union[RunInferenceInvocationEnd, _Mapping]] = ...) -> None: ...

class InferenceRoutingMessage(_message.Message):
    __slots__ = ("role", "text")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    role: InferenceMessageRole
    text: str
    def __init__(self, role: _Optional[_Union[InferenceMessageRole, str]] = ..., text: _Optional[str] = ...) -> None: ...

class RunInferenceRunRequest(_message.Message):
    __slots__ = ("conversation_id", "conversation_group_id", "requested_model", "routing_conversation", "agent_mode")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_MODEL_FIELD_NUMBER: _ClassVar[int]
    ROUTING_CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    AGENT_MODE_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    conversation_group_id: str
    requested_model: InferenceRequestedModel
    routing_conversation: _containers.RepeatedCompositeFieldContainer[InferenceRoutingMessage]
    agent_mode: str
    def __init__(self, conversation_id: _Optional[str] = ..., conversation_group_id: _Optional[str] = ..., requested_model: _Optional[_Union[InferenceRequestedModel, _Mapping]] = ..., routing_conversation: _Optional[_Iterable[_Union[InferenceRoutingMessage, _Mapping]]] = ..., agent_mode: _Optional[str] = ...) -> None: ...

class InferenceModelParameter(_message.Message):
    __slots__ = ("id", "value")
    ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    id: str
    value: str
    def __init__(self, id: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class InferenceRequestedModel(_message.Message):
    __slots__ = ("model_id", "max_mode", "parameters", "built_in_model", "is_variant_string_representation")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_MODE_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    BUILT_IN_MODEL_FIELD_NUMBER: _ClassVar[int]
    IS_VARIANT_STRING_REPRESENTATION_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    max_mode: bool
    parameters: _containers.RepeatedCompositeFieldContainer[InferenceModelParameter]
    built_in_model: bool
    is_variant_string_representation: bool
    def __init__(self, model_id: _Optional[str] = ..., max_mode: _Optional[bool] = ..., parameters: _Optional[_Iterable[_Union[InferenceModelParameter, _Mapping]]] = ..., built_in_model: _Optional[bool] = ..., is_variant_string_representation: _Optional[bool] = ...) -> None: ...

class RunInferenceInvokeModel(_message.Message):
    __slots__ = ("invocation_id", "request")
    INVOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    invocation_id: str
    request: InferenceStreamRequest
    def __init__(self, invocation_id: _Optional[str] = ..., request: _Optional[_Union[InferenceStreamRequest, _Mapping]] = ...) -> None: ...

class RunInferenceCancelInvocation(_message.Message):
    __slots__ = ("invocation_id",)
    INVOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    invocation_id: str
    def __init__(self, invocation_id: _Optional[str] = ...) -> None: ...

class RunInferenceFinishRun(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RunInferenceHeartbeat(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RunInferenceRunReady(_message.Message):
    __slots__ = ("resolved_model", "supports_self_summary", "routed_model_display_name", "prompt_model_metadata")
    RESOLVED_MODEL_FIELD_NUMBER: _ClassVar[int]
    SUPPORTS_SELF_SUMMARY_FIELD_NUMBER: _ClassVar[int]
    ROUTED_MODEL_DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PROMPT_MODEL_METADATA_FIELD_NUMBER: _ClassVar[int]
    resolved_model: str
    supports_self_summary: bool
    routed_model_display_name: str
    prompt_model_metadata: bytes
    def __init__(self, resolved_model: _Optional[str] = ..., supports_self_summary: _Optional[bool] = ..., routed_model_display_name: _Optional[str] = ..., prompt_model_metadata: _Optional[bytes] = ...) -> None: ...

class RunInferenceInvocationResponse(_message.Message):
    __slots__ = ("invocation_id", "response")
    INVOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    invocation_id: str
    response: InferenceStreamResponse
    def __init__(self, invocation_id: _Optional[str] = ..., response: _Optional[_Union[InferenceStreamResponse, _Mapping]] = ...) -> None: ...

class RunInferenceInvocationError(_message.Message):
    __slots__ = ("code", "message", "details")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    details: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., details: _Optional[_Iterable[bytes]] = ...) -> None: ...

class RunInferenceInvocationEnd(_message.Message):
    __slots__ = ("invocation_id", "error")
    INVOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    invocation_id: str
    error: RunInferenceInvocationError
    def __init__(self, invocation_id: _Optional[str] = ..., error: _Optional[_Union[RunInferenceInvocationError, _Mapping]] = ...) -> None: ...

class InferenceStreamRequest(_message.Message):
    __slots__ = ("messages", "tools", "model_config", "model_id", "invocation_id", "requested_model", "conversation_id", "accepted_unadvertised_tool_names", "automation_id", "conversation_group_id")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    MODEL_CONFIG_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    INVOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_MODEL_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_UNADVERTISED_TOOL_NAMES_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[InferenceCoreMessage]
    tools: _containers.RepeatedCompositeFieldContainer[InferenceAgentTool]
    model_config: InferenceModelConfig
    model_id: str
    invocation_id: str
    requested_model: InferenceRequestedModel
    conversation_id: str
    accepted_unadvertised_tool_names: _containers.RepeatedScalarFieldContainer[str]
    automation_id: str
    conversation_group_id: str
    def __init__(self, messages: _Optional[_Iterable[_Union[InferenceCoreMessage, _Mapping]]] = ..., tools: _Optional[_Iterable[_Union[InferenceAgentTool, _Mapping]]] = ..., model_config: _Optional[_Union[InferenceModelConfig, _Mapping]] = ..., model_id: _Optional[str] = ..., invocation_id: _Optional[str] = ..., requested_model: _Optional[_Union[InferenceRequestedModel, _Mapping]] = ..., conversation_id: _Optional[str] = ..., accepted_unadvertised_tool_names: _Optional[_Iterable[str]] = ..., automation_id: _Optional[str] = ..., conversation_group_id: _Optional[str] = ...) -> None: ...

class InferenceAgentTool(_message.Message):
    __slots__ = ("name", "description", "parameters", "custom_tool_format")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_TOOL_FORMAT_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    parameters: _struct_pb2.Struct
    custom_tool_format: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., custom_tool_format: _Optional[str] = ...) -> None: ...

class InferenceModelConfig(_message.Message):
    __slots__ = ("max_tokens", "temperature", "top_p", "stop_sequences")
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    TOP_P_FIELD_NUMBER: _ClassVar[int]
    STOP_SEQUENCES_FIELD_NUMBER: _ClassVar[int]
    max_tokens: int
    temperature: float
    top_p: float
    stop_sequences: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, max_tokens: _Optional[int] = ..., temperature: _Optional[float] = ..., top_p: _Optional[float] = ..., stop_sequences: _Optional[_Iterable[str]] = ...) -> None: ...

class InferenceCoreMessage(_message.Message):
    __slots__ = ("role", "text", "parts", "tool_calls", "tool_content", "reasoning_parts", "model_provider_message_id")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PARTS_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALLS_FIELD_NUMBER: _ClassVar[int]
    TOOL_CONTENT_FIELD_NUMBER: _ClassVar[int]
    REASONING_PARTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_PROVIDER_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    role: InferenceMessageRole
    text: str
    parts: _containers.RepeatedCompositeFieldContainer[InferenceContentPart]
    tool_calls: _containers.RepeatedCompositeFieldContainer[InferenceToolCall]
    tool_content: InferenceToolContent
    reasoning_parts: _containers.RepeatedCompositeFieldContainer[InferenceReasoningPart]
    model_provider_message_id: str
    def __init__(self, role: _Optional[_Union[InferenceMessageRole, str]] = ..., text: _Optional[str] = ..., parts: _Optional[_Iterable[_Union[InferenceContentPart, _Mapping]]] = ..., tool_calls: _Optional[_Iterable[_Union[InferenceToolCall, _Mapping]]] = ..., tool_content: _Optional[_Union[InferenceToolContent, _Mapping]] = ..., reasoning_parts: _Optional[_Iterable[_Union[InferenceReasoningPart, _Mapping]]] = ..., model_provider_message_id: _Optional[str] = ...) -> None: ...

class InferenceContentPart(_message.Message):
    __slots__ = ("text", "image", "file")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    text: InferenceTextContent
    image: InferenceImageContent
    file: InferenceFileContent
    def __init__(self, text: _Optional[_Union[InferenceTextContent, _Mapping]] = ..., image: _Optional[_Union[InferenceImageContent, _Mapping]] = ..., file: _Optional[_Union[InferenceFileContent, _Mapping]] = ...) -> None: ...

class InferenceTextContent(_message.Message):
    __slots__ = ("text", "provider_options")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    text: str
    provider_options: _struct_pb2.Struct
    def __init__(self, text: _Optional[str] = ..., provider_options: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class InferenceImageContent(_message.Message):
    __slots__ = ("data", "mime_type")
    DATA_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    data: str
    mime_type: str
    def __init__(self, data: _Optional[str] = ..., mime_type: _Optional[str] = ...) -> None: ...

class InferenceFileContent(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class InferenceToolCall(_message.Message):
    __slots__ = ("tool_call_id", "tool_name", "args", "raw_tool_call_args")
    TOOL_CALL_ID_FIELD_NUMBER: _ClassVar[int]
    TOOL_NAME_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    RAW_TOOL_CALL_ARGS_FIELD_NUMBER: _ClassVar[int]
    tool_call_id: str
    tool_name: str
    args: _struct_pb2.Struct
    raw_tool_call_args: str
    def __init__(self, tool_call_id: _Optional[str] = ..., tool_name: _Optional[str] = ..., args: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., raw_tool_call_args: _Optional[str] = ...) -> None: ...

class InferenceToolContent(_message.Message):
    __slots__ = ("parts",)
    PARTS_FIELD_NUMBER: _ClassVar[int]
    parts: _containers.RepeatedCompositeFieldContainer[InferenceToolResultPart]
    def __init__(self, parts: _Optional[_Iterable[_Union[InferenceToolResultPart, _Mapping]]] = ...) -> None: ...

class InferenceToolResultPart(_message.Message):
    __slots__ = ("tool_call_id", "tool_name", "result", "is_error", "provider_options")
    TOOL_CALL_ID_FIELD_NUMBER: _ClassVar[int]
    TOOL_NAME_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    IS_ERROR_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    tool_call_id: str
    tool_name: str
    result: _struct_pb2.Value
    is_error: bool
    provider_options: _struct_pb2.Struct
    def __init__(self, tool_call_id: _Optional[str] = ..., tool_name: _Optional[str] = ..., result: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., is_error: _Optional[bool] = ..., provider_options: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class InferenceReasoningPart(_message.Message):
    __slots__ = ("is_redacted", "text", "signature", "redacted_data", "model_name")
    IS_REDACTED_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    REDACTED_DATA_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    is_redacted: bool
    text: str
    signature: str
    redacted_data: str
    model_name: str
    def __init__(self, is_redacted: _Optional[bool] = ..., text: _Optional[str] = ..., signature: _Optional[str] = ..., redacted_data: _Optional[str] = ..., model_name: _Optional[str] = ...) -> None: ...

class InferenceStreamResponse(_message.Message):
    __slots__ = ("text_part", "tool_call_part", "usage", "response_info", "extended_usage", "error", "thinking_part", "provider_metadata", "invocation_id", "image_descriptions")
    TEXT_PART_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_PART_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_INFO_FIELD_NUMBER: _ClassVar[int]
    EXTENDED_USAGE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    THINKING_PART_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_METADATA_FIELD_NUMBER: _ClassVar[int]
    INVOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_DESCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    text_part: InferenceTextPart
    tool_call_part: InferenceToolCallPart
    usage: InferenceUsage
    response_info: InferenceResponseInfo
    extended_usage: InferenceExtendedUsage
    error: InferenceError
    thinking_part: InferenceThinkingPart
    provider_metadata: bytes
    invocation_id: str
    image_descriptions: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, text_part: _Optional[_Union[InferenceTextPart, _Mapping]] = ..., tool_call_part: _Optional[_Union[InferenceToolCallPart, _Mapping]] = ..., usage: _Optional[_Union[InferenceUsage, _Mapping]] = ..., response_info: _Optional[_Union[InferenceResponseInfo, _Mapping]] = ..., extended_usage: _Optional[_Union[InferenceExtendedUsage, _Mapping]] = ..., error: _Optional[_Union[InferenceError, _Mapping]] = ..., thinking_part: _Optional[_Union[InferenceThinkingPart, _Mapping]] = ..., provider_metadata: _Optional[bytes] = ..., invocation_id: _Optional[str] = ..., image_descriptions: _Optional[_Iterable[bytes]] = ...) -> None: ...

class InferenceTextPart(_message.Message):
    __slots__ = ("text", "is_final")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IS_FINAL_FIELD_NUMBER: _ClassVar[int]
    text: str
    is_final: bool
    def __init__(self, text: _Optional[str] = ..., is_final: _Optional[bool] = ...) -> None: ...

class InferenceToolCallPart(_message.Message):
    __slots__ = ("tool_call_id", "tool_name", "args", "is_complete", "tool_index")
    TOOL_CALL_ID_FIELD_NUMBER: _ClassVar[int]
    TOOL_NAME_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    IS_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    TOOL_INDEX_FIELD_NUMBER: _ClassVar[int]
    tool_call_id: str
    tool_name: str
    args: str
    is_complete: bool
    tool_index: int
    def __init__(self, tool_call_id: _Optional[str] = ..., tool_name: _Optional[str] = ..., args: _Optional[str] = ..., is_complete: _Optional[bool] = ..., tool_index: _Optional[int] = ...) -> None: ...

class InferenceUsage(_message.Message):
    __slots__ = ("prompt_tokens", "completion_tokens", "total_tokens")
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    def __init__(self, prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., total_tokens: _Optional[int] = ...) -> None: ...

class InferenceResponseInfo(_message.Message):
    __slots__ = ("id", "model", "created_at", "messages", "error_message")
    ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    model: str
    created_at: bytes
    messages: _containers.RepeatedCompositeFieldContainer[InferenceCoreMessage]
    error_message: str
    def __init__(self, id: _Optional[str] = ..., model: _Optional[str] = ..., created_at: _Optional[bytes] = ..., messages: _Optional[_Iterable[_Union[InferenceCoreMessage, _Mapping]]] = ..., error_message: _Optional[str] = ...) -> None: ...

class InferenceExtendedUsage(_message.Message):
    __slots__ = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "max_tokens")
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    max_tokens: int
    def __init__(self, input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cache_read_tokens: _Optional[int] = ..., cache_write_tokens: _Optional[int] = ..., max_tokens: _Optional[int] = ...) -> None: ...

class InferenceError(_message.Message):
    __slots__ = ("message", "code", "is_input_token_limit_error", "is_output_token_limit_error", "error_type")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    IS_INPUT_TOKEN_LIMIT_ERROR_FIELD_NUMBER: _ClassVar[int]
    IS_OUTPUT_TOKEN_LIMIT_ERROR_FIELD_NUMBER: _ClassVar[int]
    ERROR_TYPE_FIELD_NUMBER: _ClassVar[int]
    message: str
    code: str
    is_input_token_limit_error: bool
    is_output_token_limit_error: bool
    error_type: InferenceErrorType
    def __init__(self, message: _Optional[str] = ..., code: _Optional[str] = ..., is_input_token_limit_error: _Optional[bool] = ..., is_output_token_limit_error: _Optional[bool] = ..., error_type: _Optional[_Union[InferenceErrorType, str]] = ...) -> None: ...

class InferenceThinkingPart(_message.Message):
    __slots__ = ("text", "signature", "is_final")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    IS_FINAL_FIELD_NUMBER: _ClassVar[int]
    text: str
    signature: str
    is_final: bool
    def __init__(self, text: _Optional[str] = ..., signature: _Optional[str] = ..., is_final: _Optional[bool] = ...) -> None: ...
