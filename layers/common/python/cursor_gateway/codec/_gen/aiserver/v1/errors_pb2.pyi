from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_UNSPECIFIED: _ClassVar[ErrorCode]
    ERROR_BAD_API_KEY: _ClassVar[ErrorCode]
    ERROR_NOT_LOGGED_IN: _ClassVar[ErrorCode]
    ERROR_INVALID_AUTH_ID: _ClassVar[ErrorCode]
    ERROR_NOT_HIGH_ENOUGH_PERMISSIONS: _ClassVar[ErrorCode]
    ERROR_BAD_MODEL_NAME: _ClassVar[ErrorCode]
    ERROR_USER_NOT_FOUND: _ClassVar[ErrorCode]
    ERROR_FREE_USER_RATE_LIMIT_EXCEEDED: _ClassVar[ErrorCode]
    ERROR_PRO_USER_RATE_LIMIT_EXCEEDED: _ClassVar[ErrorCode]
    ERROR_FREE_USER_USAGE_LIMIT: _ClassVar[ErrorCode]
    ERROR_PRO_USER_USAGE_LIMIT: _ClassVar[ErrorCode]
    ERROR_AUTH_TOKEN_NOT_FOUND: _ClassVar[ErrorCode]
    ERROR_AUTH_TOKEN_EXPIRED: _ClassVar[ErrorCode]
    ERROR_OPENAI: _ClassVar[ErrorCode]
    ERROR_OPENAI_RATE_LIMIT_EXCEEDED: _ClassVar[ErrorCode]
    ERROR_OPENAI_ACCOUNT_LIMIT_EXCEEDED: _ClassVar[ErrorCode]
    ERROR_TASK_UUID_NOT_FOUND: _ClassVar[ErrorCode]
    ERROR_TASK_NO_PERMISSIONS: _ClassVar[ErrorCode]
    ERROR_AGENT_REQUIRES_LOGIN: _ClassVar[ErrorCode]
    ERROR_AGENT_ENGINE_NOT_FOUND: _ClassVar[ErrorCode]
    ERROR_MAX_TOKENS: _ClassVar[ErrorCode]
    ERROR_USER_ABORTED_REQUEST: _ClassVar[ErrorCode]
    ERROR_GENERIC_RATE_LIMIT_EXCEEDED: _ClassVar[ErrorCode]
    ERROR_PRO_USER_ONLY: _ClassVar[ErrorCode]
    ERROR_API_KEY_NOT_SUPPORTED: _ClassVar[ErrorCode]
    ERROR_TIMEOUT: _ClassVar[ErrorCode]
    ERROR_SLASH_EDIT_FILE_TOO_LONG: _ClassVar[ErrorCode]
    ERROR_FILE_UNSUPPORTED: _ClassVar[ErrorCode]
    ERROR_GPT_4_VISION_PREVIEW_RATE_LIMIT: _ClassVar[ErrorCode]
    ERROR_CUSTOM_MESSAGE: _ClassVar[ErrorCode]
    ERROR_OUTDATED_CLIENT: _ClassVar[ErrorCode]
    ERROR_CLAUDE_IMAGE_TOO_LARGE: _ClassVar[ErrorCode]
    ERROR_GITGRAPH_NOT_FOUND: _ClassVar[ErrorCode]
    ERROR_FILE_NOT_FOUND: _ClassVar[ErrorCode]
    ERROR_API_KEY_RATE_LIMIT: _ClassVar[ErrorCode]
    ERROR_DEBOUNCED: _ClassVar[ErrorCode]
    ERROR_BAD_REQUEST: _ClassVar[ErrorCode]
    ERROR_REPOSITORY_SERVICE_REPOSITORY_IS_NOT_INITIALIZED: _ClassVar[ErrorCode]
    ERROR_UNAUTHORIZED: _ClassVar[ErrorCode]
    ERROR_NOT_FOUND: _ClassVar[ErrorCode]
    ERROR_DEPRECATED: _ClassVar[ErrorCode]
    ERROR_RESOURCE_EXHAUSTED: _ClassVar[ErrorCode]
    ERROR_BAD_USER_API_KEY: _ClassVar[ErrorCode]
    ERROR_CONVERSATION_TOO_LONG: _ClassVar[ErrorCode]
    ERROR_USAGE_PRICING_REQUIRED: _ClassVar[ErrorCode]
    ERROR_USAGE_PRICING_REQUIRED_CHANGEABLE: _ClassVar[ErrorCode]
    ERROR_GITHUB_NO_USER_CREDENTIALS: _ClassVar[ErrorCode]
    ERROR_GITHUB_USER_NO_ACCESS: _ClassVar[ErrorCode]
    ERROR_GITHUB_APP_NO_ACCESS: _ClassVar[ErrorCode]
    ERROR_GITHUB_MULTIPLE_OWNERS: _ClassVar[ErrorCode]
    ERROR_RATE_LIMITED: _ClassVar[ErrorCode]
    ERROR_RATE_LIMITED_CHANGEABLE: _ClassVar[ErrorCode]
    ERROR_CUSTOM: _ClassVar[ErrorCode]
    ERROR_HOOKS_BLOCKED: _ClassVar[ErrorCode]
ERROR_UNSPECIFIED: ErrorCode
ERROR_BAD_API_KEY: ErrorCode
ERROR_NOT_LOGGED_IN: ErrorCode
ERROR_INVALID_AUTH_ID: ErrorCode
ERROR_NOT_HIGH_ENOUGH_PERMISSIONS: ErrorCode
ERROR_BAD_MODEL_NAME: ErrorCode
ERROR_USER_NOT_FOUND: ErrorCode
ERROR_FREE_USER_RATE_LIMIT_EXCEEDED: ErrorCode
ERROR_PRO_USER_RATE_LIMIT_EXCEEDED: ErrorCode
ERROR_FREE_USER_USAGE_LIMIT: ErrorCode
ERROR_PRO_USER_USAGE_LIMIT: ErrorCode
ERROR_AUTH_TOKEN_NOT_FOUND: ErrorCode
ERROR_AUTH_TOKEN_EXPIRED: ErrorCode
ERROR_OPENAI: ErrorCode
ERROR_OPENAI_RATE_LIMIT_EXCEEDED: ErrorCode
ERROR_OPENAI_ACCOUNT_LIMIT_EXCEEDED: ErrorCode
ERROR_TASK_UUID_NOT_FOUND: ErrorCode
ERROR_TASK_NO_PERMISSIONS: ErrorCode
ERROR_AGENT_REQUIRES_LOGIN: ErrorCode
ERROR_AGENT_ENGINE_NOT_FOUND: ErrorCode
ERROR_MAX_TOKENS: ErrorCode
ERROR_USER_ABORTED_REQUEST: ErrorCode
ERROR_GENERIC_RATE_LIMIT_EXCEEDED: ErrorCode
ERROR_PRO_USER_ONLY: ErrorCode
ERROR_API_KEY_NOT_SUPPORTED: ErrorCode
ERROR_TIMEOUT: ErrorCode
ERROR_SLASH_EDIT_FILE_TOO_LONG: ErrorCode
ERROR_FILE_UNSUPPORTED: ErrorCode
ERROR_GPT_4_VISION_PREVIEW_RATE_LIMIT: ErrorCode
ERROR_CUSTOM_MESSAGE: ErrorCode
ERROR_OUTDATED_CLIENT: ErrorCode
ERROR_CLAUDE_IMAGE_TOO_LARGE: ErrorCode
ERROR_GITGRAPH_NOT_FOUND: ErrorCode
ERROR_FILE_NOT_FOUND: ErrorCode
ERROR_API_KEY_RATE_LIMIT: ErrorCode
ERROR_DEBOUNCED: ErrorCode
ERROR_BAD_REQUEST: ErrorCode
ERROR_REPOSITORY_SERVICE_REPOSITORY_IS_NOT_INITIALIZED: ErrorCode
ERROR_UNAUTHORIZED: ErrorCode
ERROR_NOT_FOUND: ErrorCode
ERROR_DEPRECATED: ErrorCode
ERROR_RESOURCE_EXHAUSTED: ErrorCode
ERROR_BAD_USER_API_KEY: ErrorCode
ERROR_CONVERSATION_TOO_LONG: ErrorCode
ERROR_USAGE_PRICING_REQUIRED: ErrorCode
ERROR_USAGE_PRICING_REQUIRED_CHANGEABLE: ErrorCode
ERROR_GITHUB_NO_USER_CREDENTIALS: ErrorCode
ERROR_GITHUB_USER_NO_ACCESS: ErrorCode
ERROR_GITHUB_APP_NO_ACCESS: ErrorCode
ERROR_GITHUB_MULTIPLE_OWNERS: ErrorCode
ERROR_RATE_LIMITED: ErrorCode
ERROR_RATE_LIMITED_CHANGEABLE: ErrorCode
ERROR_CUSTOM: ErrorCode
ERROR_HOOKS_BLOCKED: ErrorCode

class CustomErrorDetails(_message.Message):
    __slots__ = ("title", "detail", "additional_info")
    class AdditionalInfoEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    ADDITIONAL_INFO_FIELD_NUMBER: _ClassVar[int]
    title: str
    detail: str
    additional_info: _containers.ScalarMap[str, str]
    def __init__(self, title: _Optional[str] = ..., detail: _Optional[str] = ..., additional_info: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ErrorDetails(_message.Message):
    __slots__ = ("error", "details", "is_expected")
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    IS_EXPECTED_FIELD_NUMBER: _ClassVar[int]
    error: ErrorCode
    details: CustomErrorDetails
    is_expected: bool
    def __init__(self, error: _Optional[_Union[ErrorCode, str]] = ..., details: _Optional[_Union[CustomErrorDetails, _Mapping]] = ..., is_expected: _Optional[bool] = ...) -> None: ...
