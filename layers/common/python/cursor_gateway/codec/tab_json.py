"""JSON <-> protobuf for the Tab routes, with the reference gateway's rules (copilot-plus-plus.md §1.1).

In: proto field names in snake_case (camelCase accepted too: clients written for other gateways send it),
every field optional, unknown keys ignored, `null` means "not set", enums as an integer or the
lower-snake short name without the enum's prefix (`"quiet"` for CONTROL_TOKEN_QUIET; the full name is
accepted as well). A value of the wrong type is an `InvalidRequest` naming the field's path.

Out: snake_case keys; fields with presence (proto3 `optional`, messages) only when set, other scalars
only when not the default, repeated fields only when non-empty, enums by short name (a number when the
value is unknown to our schema). Pure: no I/O.
"""

from __future__ import annotations

from typing import Any, cast

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from cursor_gateway.errors import InvalidRequest

_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
_FLOATS = (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT)
# Keys older clients send under another name (the ZW README spelled current_file's hash `sha256_hash`; the
# field is `sha_256_hash`, so the reference silently dropped it).
_ALIASES = {"aiserver.v1.tab.CurrentFileInfo": {"sha256_hash": "sha_256_hash"}}


def descriptor_of(message: Message | type[Message]) -> Descriptor:
    """A message's descriptor. protobuf's stubs type DESCRIPTOR as the pure-Python class or the upb one
    (the C backend, what actually runs); both have every attribute read here, under the same names, so
    one type stands for both."""
    return cast(Descriptor, message.DESCRIPTOR)


def enum_prefix(enum: EnumDescriptor) -> str:
    """`CONTROL_TOKEN_` of ControlToken: every Cursor enum starts with `<PREFIX>UNSPECIFIED = 0`."""
    zero = enum.values_by_number.get(0)
    if zero is not None and zero.name.endswith("UNSPECIFIED"):
        return zero.name[: -len("UNSPECIFIED")]
    return ""


def enum_short_name(enum: EnumDescriptor, number: int) -> str | int:
    value = enum.values_by_number.get(number)
    if value is None:
        return number
    return value.name.removeprefix(enum_prefix(enum)).lower()


# -- JSON -> message ---------------------------------------------------------------------------------------


def message_from_json(message_type: type[Message], obj: Any, *, path: str = "") -> Message:
    message = message_type()
    _fill(message, obj, path)
    return message


def _fill(message: Message, obj: Any, path: str) -> None:
    if not isinstance(obj, dict):
        raise _invalid(path or "body", "a JSON object")
    descriptor = descriptor_of(message)
    aliases = _ALIASES.get(descriptor.full_name, {})
    fields: dict[str, Any] = obj  # parsed JSON: the keys are strings
    for given, value in fields.items():
        key = aliases.get(given, given)
        field = descriptor.fields_by_name.get(key) or _by_json_name(descriptor, key)
        if field is None or value is None:
            continue  # unknown keys are ignored, like the reference (serde default)
        where = f"{path}.{field.name}" if path else field.name
        if field.is_repeated:
            if not isinstance(value, list):
                raise _invalid(where, "an array")
            target = getattr(message, field.name)
            for index, item in enumerate(value):
                item_path = f"{where}[{index}]"
                if field.type == FieldDescriptor.TYPE_MESSAGE:
                    _fill(target.add(), item, item_path)
                else:
                    target.append(_scalar(field, item, item_path))
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            sub = getattr(message, field.name)
            sub.SetInParent()  # `{}` still sets a message field (e.g. lsp_suggested_items)
            _fill(sub, value, where)
        else:
            setattr(message, field.name, _scalar(field, value, where))


def _by_json_name(descriptor: Descriptor, key: str) -> FieldDescriptor | None:
    return next((f for f in descriptor.fields if f.json_name == key), None)


def _scalar(field: FieldDescriptor, value: Any, path: str) -> Any:
    kind = field.type
    if kind == FieldDescriptor.TYPE_BOOL:
        if not isinstance(value, bool):
            raise _invalid(path, "true or false")
        return value
    if kind == FieldDescriptor.TYPE_STRING:
        if not isinstance(value, str):
            raise _invalid(path, "a string")
        try:
            value.encode("utf-8")  # a lone surrogate ("\\ud800") is valid JSON but no protobuf string
        except UnicodeEncodeError:
            raise _invalid(path, "valid Unicode text (no lone surrogates)") from None
        return value
    if kind == FieldDescriptor.TYPE_ENUM:
        return _enum(_enum_of(field), value, path)
    if kind in _FLOATS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _invalid(path, "a number")
        return float(value)
    if kind in _INT_RANGES:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        low, high = _INT_RANGES[kind]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _invalid(path, f"an integer in {low}..{high}")
        return value
    raise _invalid(path, "a supported value")  # bytes: no Tab request has them


def _enum(enum: EnumDescriptor, value: Any, path: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if value in enum.values_by_number:
            return value
    elif isinstance(value, str):
        wanted = value.strip().upper()
        prefix = enum_prefix(enum)
        for name in (prefix + wanted, wanted):
            if name in enum.values_by_name:
                return int(enum.values_by_name[name].number)
    choices = ", ".join(str(enum_short_name(enum, v.number)) for v in enum.values)
    raise _invalid(path, f"one of {choices} (or its number)")


def _enum_of(field: FieldDescriptor) -> EnumDescriptor:
    """An enum field's type (the stubs say Optional: only enum fields have one)."""
    if field.enum_type is None:
        raise TypeError(f"{field.full_name} is not an enum field")
    return field.enum_type


def _message_of(field: FieldDescriptor) -> Descriptor:
    """A message field's type (the stubs say Optional: only message fields have one)."""
    if field.message_type is None:
        raise TypeError(f"{field.full_name} is not a message field")
    return field.message_type


def _invalid(path: str, expected: str) -> InvalidRequest:
    return InvalidRequest(f"Invalid value for '{path}': expected {expected}", param=path)


# -- JSON Schema (for /openapi.json) ------------------------------------------------------------------------


def json_schema(descriptor: Descriptor, *, depth: int = 6) -> dict[str, Any]:
    """What `message_from_json` accepts, as JSON Schema: snake_case properties, all optional, unknown keys
    allowed, enums as a short name or a number; nesting below `depth` is published as a free object."""
    properties: dict[str, Any] = {}
    for field in descriptor.fields:
        value = _field_schema(field, depth)
        properties[field.name] = {"type": "array", "items": value} if field.is_repeated else value
    return {"type": "object", "properties": properties, "additionalProperties": True}


def _field_schema(field: FieldDescriptor, depth: int) -> dict[str, Any]:
    kind = field.type
    if kind == FieldDescriptor.TYPE_MESSAGE:
        if depth <= 0:
            return {"type": "object"}
        return json_schema(_message_of(field), depth=depth - 1)
    if kind == FieldDescriptor.TYPE_BOOL:
        return {"type": "boolean"}
    if kind == FieldDescriptor.TYPE_STRING:
        return {"type": "string"}
    if kind == FieldDescriptor.TYPE_ENUM:
        enum = _enum_of(field)
        names = [enum_short_name(enum, v.number) for v in enum.values]
        numbers = [v.number for v in enum.values]
        return {"anyOf": [{"type": "string", "enum": names}, {"type": "integer", "enum": numbers}]}
    if kind in _FLOATS:
        return {"type": "number"}
    if kind in _INT_RANGES:
        low, high = _INT_RANGES[kind]
        return {"type": "integer", "minimum": low, "maximum": high}
    return {}


# -- message -> JSON ---------------------------------------------------------------------------------------


def message_to_json(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in sorted(descriptor_of(message).fields, key=lambda f: f.number):
        value = getattr(message, field.name)
        if field.is_repeated:
            if len(value):
                out[field.name] = [_out_value(field, item) for item in value]
        elif field.has_presence:
            if message.HasField(field.name):
                out[field.name] = _out_value(field, value)
        elif value != field.default_value:
            out[field.name] = _out_value(field, value)
    return out


def _out_value(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return message_to_json(value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return enum_short_name(_enum_of(field), value)
    if field.type == FieldDescriptor.TYPE_FLOAT:
        return float(f"{value:.7g}")  # a float32 printed as it was meant (0.1, not 0.10000000149...)
    return value
