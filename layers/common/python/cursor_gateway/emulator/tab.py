"""The fake Cursor's Tab (Copilot++) RPCs: CppConfig, CppService/AvailableModels, FSUploadFile, FSSyncFile
and StreamCpp, over the same HTTP/2 server as chat, so `cursor-gateway emulate` demos Tab offline.

What it checks, like the real backend would: a bearer, the content type (`application/proto` unary,
`application/connect+proto` stream), gzip bodies, and the file-sync session. File state is kept per
(x-fs-client-key, FilesyncCookie, path) on one "node": every upload or sync answer sets an ALB
stickiness cookie (`AWSALBAPP-0`), and a sync or a filesync-mode completion that comes back without it
lands on a node that never saw the file (NON_EXISTANT), as on Cursor behind its load balancer. A sync
whose result does not hash to `sha256_hash` is a HASH_MISMATCH (the editor then uploads again).

The completion depends on the file and the cursor: the cursor's line is replaced by the line completed
by a few rules (`def name` -> `def name():` + body, an open `(` closed ...); a later line holding
`TODO` becomes a second edit of the same suggestion (begin_edit ... done_edit) with a cursor prediction.
Failure scripts come from the bearer's `Behaviour` (error, http_error, error_after_text,
reset_after_text). Every call is recorded in `TabState.calls` for assertions.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Protocol

from google.protobuf.message import DecodeError, Message

from cursor_gateway.codec._gen.aiserver.v1 import tab_pb2 as pb
from cursor_gateway.codec.envelope import EnvelopeDecoder, ProtocolViolation, encode_envelope
from cursor_gateway.emulator.behaviour import Behaviour, connect_error
from cursor_gateway.emulator.h2server import H2Stream
from cursor_gateway.emulator.wire import end_stream, send_json

PATHS = {
    "/aiserver.v1.AiService/CppConfig": "config",
    "/aiserver.v1.CppService/AvailableModels": "models",
    "/aiserver.v1.FileSyncService/FSUploadFile": "upload",
    "/aiserver.v1.FileSyncService/FSSyncFile": "sync",
    "/aiserver.v1.AiService/StreamCpp": "stream",
}
MODELS = ("fast", "fusion-01")
STICKY = "AWSALBAPP-0"


@dataclass(slots=True)
class TabCall:
    rpc: str
    headers: dict[str, str]
    request: Message | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    frame_flags: int = -1  # StreamCpp: the flags of the request's frame (1 = gzip)
    outcome: str = ""


@dataclass(slots=True)
class _File:
    version: int
    contents: str


@dataclass(slots=True)
class TabState:
    calls: list[TabCall] = field(default_factory=list)
    files: dict[tuple[str, str, str], _File] = field(default_factory=dict)
    # The ALB stickiness cookie value of this fake "node"; a request without it is served elsewhere.
    node: str = field(default_factory=lambda: secrets.token_hex(8))

    def of(self, rpc: str) -> list[TabCall]:
        return [c for c in self.calls if c.rpc == rpc]


class TabBackend(Protocol):
    """What the Tab routes need of the fake (server.FakeCursor)."""

    tab: TabState

    def behaviour_for(self, bearer: str) -> Behaviour: ...


async def serve_tab(fake: TabBackend, stream: H2Stream) -> None:
    rpc = PATHS[stream.path.split("?", 1)[0]]
    state: TabState = fake.tab
    call = TabCall(rpc, dict(stream.headers), cookies=_cookies(stream.headers.get("cookie", "")))
    state.calls.append(call)
    body = await stream.read_all()
    bearer = call.headers.get("authorization", "").removeprefix("Bearer ")
    if not bearer:
        await send_json(stream, 401, {"code": "unauthenticated", "message": "missing bearer"})
        return
    behaviour = fake.behaviour_for(bearer)
    if rpc == "stream":
        await _stream_cpp(state, call, stream, body, behaviour)
        return
    if call.headers.get("content-type") != "application/proto":
        await send_json(stream, 415, {"code": "invalid_argument", "message": "unsupported content type"})
        return
    if behaviour.mode in ("error", "http_error", "error_after_text"):
        await send_json(stream, behaviour.http_status, behaviour.error)
        return
    if call.headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    handler = {"config": _config, "models": _models, "upload": _upload, "sync": _sync}[rpc]
    await handler(state, call, stream, body)


# -- unary ----------------------------------------------------------------------------------------------


async def _config(state: TabState, call: TabCall, stream: H2Stream, body: bytes) -> None:
    call.request = pb.CppConfigRequest.FromString(body)
    host = call.headers.get("x-co") or call.headers.get(":authority", "")
    answer = pb.CppConfigResponse(
        above_radius=1,
        below_radius=2,
        is_on=True,
        is_ghost_text=True,
        heuristics=[pb.CppConfigResponse.HEURISTIC_LOTS_OF_ADDED_TEXT],
        global_debounce_duration_millis=75,
        client_debounce_duration_millis=50,
        check_filesync_hash_percent=0.1,
        geo_cpp_backend_url=f"https://{host}" if host else "",
        merge_behavior=pb.CppConfigResponse.MergeBehavior(type="merge", radius=3),
    )
    await _proto(stream, 200, answer)


async def _models(state: TabState, call: TabCall, stream: H2Stream, body: bytes) -> None:
    call.request = pb.AvailableCppModelsRequest.FromString(body)
    if body:
        call.outcome = "non-empty request body"
    await _proto(stream, 200, pb.AvailableCppModelsResponse(models=list(MODELS), default_model=MODELS[0]))


async def _upload(state: TabState, call: TabCall, stream: H2Stream, body: bytes) -> None:
    request = pb.FSUploadFileRequest.FromString(body)
    call.request = request
    answer = pb.FSUploadFileResponse()
    if request.HasField("sha256_hash") and request.sha256_hash != _sha256(request.contents):
        answer.error = pb.FS_UPLOAD_ERROR_TYPE_HASH_MISMATCH
    else:
        key = _file_key(call, request.relative_workspace_path)
        state.files[key] = _File(request.model_version, request.contents)
    call.outcome = pb.FSUploadErrorType.Name(answer.error)
    await _proto(stream, 200, answer, _sticky_cookies(state))


async def _sync(state: TabState, call: TabCall, stream: H2Stream, body: bytes) -> None:
    request = pb.FSSyncFileRequest.FromString(body)
    call.request = request
    answer = pb.FSSyncFileResponse()
    known = state.files.get(_file_key(call, request.relative_workspace_path))
    if known is None or call.cookies.get(STICKY) != state.node:
        answer.error = pb.FS_SYNC_ERROR_TYPE_NON_EXISTANT
    else:
        contents, version = known.contents, known.version
        for update in request.filesync_updates:
            for change in update.updates:
                contents = (
                    contents[: change.start_position]
                    + change.replaced_string
                    + contents[change.end_position :]
                )
            version = update.model_version
        if _sha256(contents) != request.sha256_hash:
            answer.error = pb.FS_SYNC_ERROR_TYPE_HASH_MISMATCH
        else:
            known.contents, known.version = contents, max(version, request.model_version)
    call.outcome = pb.FSSyncErrorType.Name(answer.error)
    await _proto(stream, 200, answer, _sticky_cookies(state))


# -- StreamCpp ------------------------------------------------------------------------------------------


async def _stream_cpp(
    state: TabState, call: TabCall, stream: H2Stream, body: bytes, behaviour: Behaviour
) -> None:
    if call.headers.get("content-type") != "application/connect+proto":
        await send_json(stream, 415, {"code": "invalid_argument", "message": "unsupported content type"})
        return
    if behaviour.mode == "http_error":
        await send_json(stream, behaviour.http_status, behaviour.error)
        return
    try:
        frames = EnvelopeDecoder().feed(body)
        call.frame_flags = frames[0].flags
        request = pb.StreamCppRequest.FromString(frames[0].payload)
    except (ProtocolViolation, IndexError, DecodeError) as exc:
        await send_json(stream, 400, {"code": "invalid_argument", "message": f"bad request frame: {exc}"})
        return
    call.request = request
    await stream.respond(200, [("content-type", "application/connect+proto")])
    if behaviour.mode == "error":
        await asyncio.sleep(behaviour.first_delay)
        await end_stream(stream, {"error": behaviour.error})
        return
    current = request.current_file
    contents = current.contents
    if current.rely_on_filesync:
        known = state.files.get(_file_key(call, current.relative_workspace_path))
        if known is None or call.cookies.get(STICKY) != state.node:
            await end_stream(
                stream, {"error": connect_error("not_found", 33, "File not synced", "Upload it first.")}
            )
            return
        contents = known.contents
    started = time.monotonic()
    await asyncio.sleep(behaviour.first_delay)
    messages = completion(
        contents,
        current.cursor_position.line,
        current.cursor_position.column,
        current.relative_workspace_path,
    )
    pieces = max(1, min(behaviour.chunks, 3))
    for index, message in enumerate(_chunked(messages, pieces)):
        await stream.write(encode_envelope(message.SerializeToString()))
        if index == 2 and behaviour.mode == "error_after_text":
            await end_stream(stream, {"error": behaviour.error})
            return
        if index == 2 and behaviour.mode == "reset_after_text":
            stream.reset()
            return
        if behaviour.delay:
            await asyncio.sleep(behaviour.delay)
    await stream.write(encode_envelope(pb.StreamCppResponse(done_stream=True).SerializeToString()))
    if request.give_debug_output:
        elapsed = f"{(time.monotonic() - started) * 1000:.1f}ms"
        debug = pb.StreamCppResponse(
            debug_model_input=contents[:200], debug_stream_time=elapsed, debug_ttft_time="0ms"
        )
        await stream.write(encode_envelope(debug.SerializeToString()))
    call.outcome = "completed"
    await end_stream(stream, {})


def completion(contents: str, line: int, column: int, path: str = "") -> list[pb.StreamCppResponse]:
    """The suggestion for a file and a 0-based cursor: one edit of the cursor's line, and a second edit
    (with a cursor prediction) for the first later line that holds TODO."""
    lines = contents.split("\n")
    line = min(max(line, 0), max(len(lines) - 1, 0))
    current = lines[line] if lines else ""
    prefix = current[: max(0, column)]
    binding = hashlib.sha256(f"{line}:{prefix}".encode()).hexdigest()[:12]
    out = [pb.StreamCppResponse(model_info=pb.StreamCppResponse.ModelInfo(is_multidiff_model=True))]
    out.append(
        pb.StreamCppResponse(
            range_to_replace=pb.LineRange(start_line_number=line + 1, end_line_number_inclusive=line + 1),
            binding_id=binding,
            should_remove_leading_eol=False,
        )
    )
    out.append(pb.StreamCppResponse(text=_complete_line(prefix) + "\n"))
    out.append(pb.StreamCppResponse(done_edit=True))
    todo = next((i for i in range(line + 1, len(lines)) if "TODO" in lines[i]), None)
    if todo is not None:
        indent = lines[todo][: len(lines[todo]) - len(lines[todo].lstrip())]
        out.append(pb.StreamCppResponse(begin_edit=True))
        out.append(
            pb.StreamCppResponse(
                range_to_replace=pb.LineRange(start_line_number=todo + 1, end_line_number_inclusive=todo + 1),
                binding_id=binding,
            )
        )
        out.append(pb.StreamCppResponse(text=f"{indent}raise NotImplementedError\n"))
        out.append(
            pb.StreamCppResponse(
                cursor_prediction_target=pb.StreamCppResponse.CursorPredictionTarget(
                    relative_path="",
                    line_number_one_indexed=todo + 2,
                    expected_content="",
                    should_retrigger_cpp=True,
                ),
                binding_id=binding,
            )
        )
        out.append(pb.StreamCppResponse(done_edit=True))
    return out


def _complete_line(prefix: str) -> str:
    stripped = prefix.strip()
    indent = prefix[: len(prefix) - len(prefix.lstrip())]
    if stripped.startswith("def ") and "(" not in stripped:
        return f"{prefix}():\n{indent}    return None"
    if prefix.count("(") > prefix.count(")"):
        return prefix + ")" * (prefix.count("(") - prefix.count(")"))
    if stripped.startswith("print") and "(" not in stripped:
        return f'{prefix}("hello, world")'
    if not stripped:
        return f"{indent}pass"
    return f"{prefix}  # done"


def _chunked(messages: list[pb.StreamCppResponse], pieces: int) -> list[pb.StreamCppResponse]:
    """Text split into `pieces` frames, as the model streams it."""
    out: list[pb.StreamCppResponse] = []
    for message in messages:
        if not message.text or pieces == 1:
            out.append(message)
            continue
        text = message.text
        size = -(-len(text) // pieces)
        out.extend(pb.StreamCppResponse(text=text[i : i + size]) for i in range(0, len(text), size))
    return out


# -- helpers --------------------------------------------------------------------------------------------


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _cookies(header: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def _file_key(call: TabCall, path: str) -> tuple[str, str, str]:
    return (call.headers.get("x-fs-client-key", ""), call.cookies.get("FilesyncCookie", ""), path)


def _sticky_cookies(state: TabState) -> list[tuple[str, str]]:
    # Two Set-Cookie headers, as the ALB sends them (one per stickiness cookie).
    return [
        ("set-cookie", f"{STICKY}={state.node}; Path=/; Max-Age=604800"),
        ("set-cookie", f"AWSALBAPPCORS-0={state.node}; Path=/; Max-Age=604800; SameSite=None; Secure"),
    ]


async def _proto(
    stream: H2Stream, status: int, message: Message, headers: list[tuple[str, str]] | None = None
) -> None:
    await stream.respond(status, [("content-type", "application/proto"), *(headers or [])])
    await stream.write(message.SerializeToString(), end=True)
