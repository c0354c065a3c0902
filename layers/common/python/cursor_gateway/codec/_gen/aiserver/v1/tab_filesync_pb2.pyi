from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FSUploadErrorType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FS_UPLOAD_ERROR_TYPE_UNSPECIFIED: _ClassVar[FSUploadErrorType]
    FS_UPLOAD_ERROR_TYPE_NON_EXISTANT: _ClassVar[FSUploadErrorType]
    FS_UPLOAD_ERROR_TYPE_HASH_MISMATCH: _ClassVar[FSUploadErrorType]

class FSSyncErrorType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FS_SYNC_ERROR_TYPE_UNSPECIFIED: _ClassVar[FSSyncErrorType]
    FS_SYNC_ERROR_TYPE_NON_EXISTANT: _ClassVar[FSSyncErrorType]
    FS_SYNC_ERROR_TYPE_HASH_MISMATCH: _ClassVar[FSSyncErrorType]
FS_UPLOAD_ERROR_TYPE_UNSPECIFIED: FSUploadErrorType
FS_UPLOAD_ERROR_TYPE_NON_EXISTANT: FSUploadErrorType
FS_UPLOAD_ERROR_TYPE_HASH_MISMATCH: FSUploadErrorType
FS_SYNC_ERROR_TYPE_UNSPECIFIED: FSSyncErrorType
FS_SYNC_ERROR_TYPE_NON_EXISTANT: FSSyncErrorType
FS_SYNC_ERROR_TYPE_HASH_MISMATCH: FSSyncErrorType

class SimpleRange(_message.Message):
    __slots__ = ("start_line_number", "start_column", "end_line_number_inclusive", "end_column")
    START_LINE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    START_COLUMN_FIELD_NUMBER: _ClassVar[int]
    END_LINE_NUMBER_INCLUSIVE_FIELD_NUMBER: _ClassVar[int]
    END_COLUMN_FIELD_NUMBER: _ClassVar[int]
    start_line_number: int
    start_column: int
    end_line_number_inclusive: int
    end_column: int
    def __init__(self, start_line_number: _Optional[int] = ..., start_column: _Optional[int] = ..., end_line_number_inclusive: _Optional[int] = ..., end_column: _Optional[int] = ...) -> None: ...

class SingleUpdateRequest(_message.Message):
    __slots__ = ("start_position", "end_position", "change_length", "replaced_string", "range")
    START_POSITION_FIELD_NUMBER: _ClassVar[int]
    END_POSITION_FIELD_NUMBER: _ClassVar[int]
    CHANGE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    REPLACED_STRING_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    start_position: int
    end_position: int
    change_length: int
    replaced_string: str
    range: SimpleRange
    def __init__(self, start_position: _Optional[int] = ..., end_position: _Optional[int] = ..., change_length: _Optional[int] = ..., replaced_string: _Optional[str] = ..., range: _Optional[_Union[SimpleRange, _Mapping]] = ...) -> None: ...

class FilesyncUpdateWithModelVersion(_message.Message):
    __slots__ = ("model_version", "relative_workspace_path", "updates", "expected_file_length")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_WORKSPACE_PATH_FIELD_NUMBER: _ClassVar[int]
    UPDATES_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_FILE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    model_version: int
    relative_workspace_path: str
    updates: _containers.RepeatedCompositeFieldContainer[SingleUpdateRequest]
    expected_file_length: int
    def __init__(self, model_version: _Optional[int] = ..., relative_workspace_path: _Optional[str] = ..., updates: _Optional[_Iterable[_Union[SingleUpdateRequest, _Mapping]]] = ..., expected_file_length: _Optional[int] = ...) -> None: ...

class FSUploadFileRequest(_message.Message):
    __slots__ = ("uuid", "relative_workspace_path", "contents", "model_version", "sha256_hash")
    UUID_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_WORKSPACE_PATH_FIELD_NUMBER: _ClassVar[int]
    CONTENTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SHA256_HASH_FIELD_NUMBER: _ClassVar[int]
    uuid: str
    relative_workspace_path: str
    contents: str
    model_version: int
    sha256_hash: str
    def __init__(self, uuid: _Optional[str] = ..., relative_workspace_path: _Optional[str] = ..., contents: _Optional[str] = ..., model_version: _Optional[int] = ..., sha256_hash: _Optional[str] = ...) -> None: ...

class FSUploadFileResponse(_message.Message):
    __slots__ = ("error",)
    ERROR_FIELD_NUMBER: _ClassVar[int]
    error: FSUploadErrorType
    def __init__(self, error: _Optional[_Union[FSUploadErrorType, str]] = ...) -> None: ...

class FSSyncFileRequest(_message.Message):
    __slots__ = ("uuid", "relative_workspace_path", "model_version", "filesync_updates", "sha256_hash")
    UUID_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_WORKSPACE_PATH_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    FILESYNC_UPDATES_FIELD_NUMBER: _ClassVar[int]
    SHA256_HASH_FIELD_NUMBER: _ClassVar[int]
    uuid: str
    relative_workspace_path: str
    model_version: int
    filesync_updates: _containers.RepeatedCompositeFieldContainer[FilesyncUpdateWithModelVersion]
    sha256_hash: str
    def __init__(self, uuid: _Optional[str] = ..., relative_workspace_path: _Optional[str] = ..., model_version: _Optional[int] = ..., filesync_updates: _Optional[_Iterable[_Union[FilesyncUpdateWithModelVersion, _Mapping]]] = ..., sha256_hash: _Optional[str] = ...) -> None: ...

class FSSyncFileResponse(_message.Message):
    __slots__ = ("error",)
    ERROR_FIELD_NUMBER: _ClassVar[int]
    error: FSSyncErrorType
    def __init__(self, error: _Optional[_Union[FSSyncErrorType, str]] = ...) -> None: ...
