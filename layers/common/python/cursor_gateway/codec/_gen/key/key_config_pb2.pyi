from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class KeyConfig(_message.Message):
    __slots__ = ("token_info", "secret", "disable_vision", "enable_slow_pool", "include_web_references", "usage_check_models")
    class TokenInfo(_message.Message):
        __slots__ = ("token", "checksum", "client_key", "config_version", "session_id", "proxy_name", "timezone", "gcpp_host")
        TOKEN_FIELD_NUMBER: _ClassVar[int]
        CHECKSUM_FIELD_NUMBER: _ClassVar[int]
        CLIENT_KEY_FIELD_NUMBER: _ClassVar[int]
        CONFIG_VERSION_FIELD_NUMBER: _ClassVar[int]
        SESSION_ID_FIELD_NUMBER: _ClassVar[int]
        PROXY_NAME_FIELD_NUMBER: _ClassVar[int]
        TIMEZONE_FIELD_NUMBER: _ClassVar[int]
        GCPP_HOST_FIELD_NUMBER: _ClassVar[int]
        token: KeyConfig.Token
        checksum: bytes
        client_key: bytes
        config_version: bytes
        session_id: bytes
        proxy_name: str
        timezone: str
        gcpp_host: int
        def __init__(self, token: _Optional[_Union[KeyConfig.Token, _Mapping]] = ..., checksum: _Optional[bytes] = ..., client_key: _Optional[bytes] = ..., config_version: _Optional[bytes] = ..., session_id: _Optional[bytes] = ..., proxy_name: _Optional[str] = ..., timezone: _Optional[str] = ..., gcpp_host: _Optional[int] = ...) -> None: ...
    class Token(_message.Message):
        __slots__ = ("provider", "sub_id", "randomness", "start", "end", "signature", "is_session")
        PROVIDER_FIELD_NUMBER: _ClassVar[int]
        SUB_ID_FIELD_NUMBER: _ClassVar[int]
        RANDOMNESS_FIELD_NUMBER: _ClassVar[int]
        START_FIELD_NUMBER: _ClassVar[int]
        END_FIELD_NUMBER: _ClassVar[int]
        SIGNATURE_FIELD_NUMBER: _ClassVar[int]
        IS_SESSION_FIELD_NUMBER: _ClassVar[int]
        provider: str
        sub_id: bytes
        randomness: bytes
        start: int
        end: int
        signature: bytes
        is_session: bool
        def __init__(self, provider: _Optional[str] = ..., sub_id: _Optional[bytes] = ..., randomness: _Optional[bytes] = ..., start: _Optional[int] = ..., end: _Optional[int] = ..., signature: _Optional[bytes] = ..., is_session: _Optional[bool] = ...) -> None: ...
    class UsageCheckModel(_message.Message):
        __slots__ = ("type", "model_ids")
        class Type(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = ()
            TYPE_DEFAULT: _ClassVar[KeyConfig.UsageCheckModel.Type]
            TYPE_DISABLED: _ClassVar[KeyConfig.UsageCheckModel.Type]
            TYPE_ALL: _ClassVar[KeyConfig.UsageCheckModel.Type]
            TYPE_CUSTOM: _ClassVar[KeyConfig.UsageCheckModel.Type]
        TYPE_DEFAULT: KeyConfig.UsageCheckModel.Type
        TYPE_DISABLED: KeyConfig.UsageCheckModel.Type
        TYPE_ALL: KeyConfig.UsageCheckModel.Type
        TYPE_CUSTOM: KeyConfig.UsageCheckModel.Type
        TYPE_FIELD_NUMBER: _ClassVar[int]
        MODEL_IDS_FIELD_NUMBER: _ClassVar[int]
        type: KeyConfig.UsageCheckModel.Type
        model_ids: _containers.RepeatedScalarFieldContainer[str]
        def __init__(self, type: _Optional[_Union[KeyConfig.UsageCheckModel.Type, str]] = ..., model_ids: _Optional[_Iterable[str]] = ...) -> None: ...
    TOKEN_INFO_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    DISABLE_VISION_FIELD_NUMBER: _ClassVar[int]
    ENABLE_SLOW_POOL_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_WEB_REFERENCES_FIELD_NUMBER: _ClassVar[int]
    USAGE_CHECK_MODELS_FIELD_NUMBER: _ClassVar[int]
    token_info: KeyConfig.TokenInfo
    secret: bytes
    disable_vision: bool
    enable_slow_pool: bool
    include_web_references: bool
    usage_check_models: KeyConfig.UsageCheckModel
    def __init__(self, token_info: _Optional[_Union[KeyConfig.TokenInfo, _Mapping]] = ..., secret: _Optional[bytes] = ..., disable_vision: _Optional[bool] = ..., enable_slow_pool: _Optional[bool] = ..., include_web_references: _Optional[bool] = ..., usage_check_models: _Optional[_Union[KeyConfig.UsageCheckModel, _Mapping]] = ...) -> None: ...
