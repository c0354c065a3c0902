"""The Tab routes' bodies: caller JSON -> the RPC's protobuf bytes, Cursor's reply bytes -> caller JSON, and
Cursor's refusals in the reference's error shapes (codec.tab_json and codec.tab_errors hold the rules).
Pure: no I/O."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf.message import DecodeError, Message

from cursor_gateway.codec._gen.aiserver.v1 import tab_pb2 as pb
from cursor_gateway.codec.tab_errors import TabError, synthetic, tab_error
from cursor_gateway.codec.tab_json import descriptor_of, json_schema, message_from_json, message_to_json
from cursor_gateway.errors import InvalidRequest, PayloadTooLarge, UpstreamError

MAX_MESSAGE = 4 * 1024 * 1024  # the reference's cap on an encoded request (413 resource_exhausted above)

# rpc -> (request message, response message)
MESSAGES: dict[str, tuple[type[Message], type[Message]]] = {
    "config": (pb.CppConfigRequest, pb.CppConfigResponse),
    "models": (pb.AvailableCppModelsRequest, pb.AvailableCppModelsResponse),
    "upload": (pb.FSUploadFileRequest, pb.FSUploadFileResponse),
    "sync": (pb.FSSyncFileRequest, pb.FSSyncFileResponse),
    "stream": (pb.StreamCppRequest, pb.StreamCppResponse),
}


def request_bytes(rpc: str, raw: bytes) -> bytes:
    """The request body (JSON text; empty means `{}`) as the RPC's serialized message."""
    message_type = MESSAGES[rpc][0]
    if rpc == "models" or not raw.strip():
        message = message_type()  # AvailableModels takes no fields: the reference ignores the body
    else:
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError):
            raise InvalidRequest("Request body is not valid JSON") from None
        message = message_from_json(message_type, obj)
    if rpc == "stream" and not message.HasField("current_file"):
        raise InvalidRequest("Missing required parameter: 'current_file'", param="current_file")
    payload = message.SerializeToString()
    if len(payload) > MAX_MESSAGE:
        raise PayloadTooLarge("Message exceeds 4 MiB size limit", code="resource_exhausted")
    return payload


def request_body_openapi(rpc: str) -> dict[str, Any]:
    """The route's `openapi_extra`: its body is parsed here, not by api.body, so it says what it takes."""
    schema = json_schema(descriptor_of(MESSAGES[rpc][0]))
    if rpc == "models":  # the body is ignored, whatever it is (the reference's behaviour)
        schema = {"description": "ignored: AvailableModels takes no fields"}
    if rpc == "stream":
        schema["required"] = ["current_file"]
    body = {"required": rpc == "stream", "content": {"application/json": {"schema": schema}}}
    return {"requestBody": body}


def answer_json(rpc: str, body: bytes) -> bytes:
    """Cursor's reply message as the caller's JSON (the reference's output rules)."""
    try:
        answer = MESSAGES[rpc][1].FromString(body)
    except DecodeError:
        raise UpstreamError(
            f"Cursor's {rpc} answer did not decode", code="upstream_protobuf_decode_failed"
        ) from None
    return json.dumps(message_to_json(answer), ensure_ascii=False, separators=(",", ":")).encode()


def refusal(connect: dict[str, Any]) -> TabError:
    """A Connect error object -> status, type and details by table 5.4."""
    return tab_error(connect)


def broken_stream_event(exc: UpstreamError) -> dict[str, Any]:
    """The `error` event for a stream that broke after its first byte (transport, undecodable frames)."""
    return synthetic(exc.status, exc.code, "Upstream error", exc.message).sse_event()
