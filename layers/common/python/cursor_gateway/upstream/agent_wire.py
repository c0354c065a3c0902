"""The `agent.v1` stream's wire level (pure): content types, the proto and JSON codecs in both
directions, and blob ids (a blob is named by its sha256, in the run request and in KV answers).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from google.protobuf import json_format

from cursor_gateway.codec._gen.agent.v1 import agent_pb2 as pb

CONTENT_TYPES = {"proto": "application/connect+proto", "json": "application/connect+json"}
BLOB_ID_BYTES = 32  # a sha256


def blob_id(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def encode(message: pb.AgentClientMessage, codec: str) -> bytes:
    if codec == "json":
        return json_format.MessageToJson(message, indent=None).encode()
    return message.SerializeToString()


def decode_server(payload: bytes, codec: str) -> pb.AgentServerMessage:
    if codec == "json":
        obj = json.loads(payload)
        _lift_nested_usage(obj)
        return json_format.ParseDict(obj, pb.AgentServerMessage(), ignore_unknown_fields=True)
    return pb.AgentServerMessage.FromString(payload)


def decode_client(payload: bytes, codec: str) -> pb.AgentClientMessage:
    if codec == "json":
        return json_format.Parse(payload, pb.AgentClientMessage(), ignore_unknown_fields=True)
    return pb.AgentClientMessage.FromString(payload)


def encode_server(message: pb.AgentServerMessage, codec: str) -> bytes:
    if codec == "json":
        return json_format.MessageToJson(message, indent=None).encode()
    return message.SerializeToString()


def _lift_nested_usage(obj: Any) -> None:
    """On the JSON codec `turnEnded` usage sometimes arrives nested under `usage`."""
    try:
        ended = obj["interactionUpdate"]["turnEnded"]
    except (KeyError, TypeError):
        return
    nested = ended.pop("usage", None) if isinstance(ended, dict) else None
    if isinstance(nested, dict):
        for key, value in nested.items():
            ended.setdefault(key, value)
