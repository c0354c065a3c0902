"""What the fake's RunInference (inference.py) checks of an IDE-shaped client: the headers that identify
the IDE (client type, version, a checksum whose time part decodes to now, the client key) and the
`invoke_model` message list (real system role, latest user text, images as base64)."""

from __future__ import annotations

import base64
import binascii
import re
import time

from cursor_gateway.codec._gen.aiserver.v1 import inference_pb2 as pb
from cursor_gateway.upstream.checksum import decode_timestamp_part

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_IDE_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")


def ide_header_problems(headers: dict[str, str], *, now: float | None = None) -> list[str]:
    """What an IDE-shaped RunInference request gets wrong (empty when it looks like the IDE's)."""
    problems: list[str] = []
    if headers.get("x-cursor-client-type") != "ide":
        problems.append(f"x-cursor-client-type is {headers.get('x-cursor-client-type')!r}, not 'ide'")
    version = headers.get("x-cursor-client-version", "")
    if not _IDE_VERSION.match(version):
        problems.append(f"x-cursor-client-version {version!r} is not an IDE version")
    if headers.get("connect-protocol-version") != "1":
        problems.append("connect-protocol-version is not 1")
    if not _HEX64.match(headers.get("x-client-key", "")):
        problems.append("x-client-key is missing or not 64 hex")
    checksum = headers.get("x-cursor-checksum", "")
    if not checksum:
        problems.append("x-cursor-checksum is missing")
        return problems
    kiloseconds = decode_timestamp_part(checksum[:8])
    current = int((time.time() if now is None else now) // 1000)
    if kiloseconds is None:
        problems.append("x-cursor-checksum time part does not decode")
    elif abs(kiloseconds - current) > 1:
        problems.append(f"x-cursor-checksum time part is {kiloseconds}, expected about {current}")
    machine, _, mac = checksum[8:].partition("/")
    if not _HEX64.match(machine) or (mac and not _HEX64.match(mac)):
        problems.append("x-cursor-checksum machine ids are not 64 hex (optionally '/' 64 hex)")
    return problems


def message_text(message: pb.InferenceCoreMessage) -> str:
    if message.text:
        return message.text
    return "".join(p.text.text for p in message.parts if p.WhichOneof("part") == "text")


def invoke_problems(run: pb.RunInferenceRunRequest, invoke: pb.RunInferenceInvokeModel) -> list[str]:
    request = invoke.request
    problems: list[str] = []
    if not invoke.invocation_id:
        problems.append("invoke_model has no invocation id")
    elif request.invocation_id and request.invocation_id != invoke.invocation_id:
        problems.append("request.invocation_id differs from invoke_model.invocation_id")
    if not (request.model_id or request.requested_model.model_id):
        problems.append("no model id")
    if request.conversation_id != run.conversation_id:
        problems.append("request.conversation_id differs from the run's")
    messages = list(request.messages)
    if not messages:
        return [*problems, "messages is empty"]
    seen_other = False
    for index, message in enumerate(messages):
        if message.role not in (
            pb.INFERENCE_MESSAGE_ROLE_SYSTEM,
            pb.INFERENCE_MESSAGE_ROLE_USER,
            pb.INFERENCE_MESSAGE_ROLE_ASSISTANT,
            pb.INFERENCE_MESSAGE_ROLE_TOOL,
        ):
            problems.append(f"message {index} has no valid role")
        if message.role == pb.INFERENCE_MESSAGE_ROLE_SYSTEM:
            if seen_other:
                problems.append(f"system message {index} comes after the conversation started")
        else:
            seen_other = True
        if message.role == pb.INFERENCE_MESSAGE_ROLE_USER and message_text(message).lstrip().startswith(
            "<system>"
        ):
            problems.append(f"message {index}: system text sent as a user message, not the SYSTEM role")
        for part in message.parts:
            if part.WhichOneof("part") == "image":
                try:
                    base64.b64decode(part.image.data, validate=True)
                except (binascii.Error, ValueError):
                    problems.append(f"message {index}: image data is not base64 text")
                if not part.image.mime_type.startswith("image/"):
                    problems.append(f"message {index}: image mime type {part.image.mime_type!r}")
    latest = messages[-1]
    if latest.role == pb.INFERENCE_MESSAGE_ROLE_TOOL:
        pass  # tool results to continue from (emulator/tools.py checks their pairing)
    elif latest.role != pb.INFERENCE_MESSAGE_ROLE_USER:
        problems.append("the last message is not the user's or tool results")
    elif not message_text(latest) and not any(p.WhichOneof("part") == "image" for p in latest.parts):
        problems.append("the latest user message is empty")
    return problems
