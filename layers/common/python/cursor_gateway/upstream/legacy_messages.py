"""Building and reading `aiserver.v1.ChatService/StreamUnifiedChatWithTools` messages (pure).

The request follows the reference's rules (fact sheet §4.2-§4.7, §5.1): the system text goes into
`explicit_context`, every turn is a `ConversationMessage` with a fresh bubble id and a matching header,
images travel as raw bytes, and the many flags the reference sends explicitly as false/0 are put on the
wire with explicit presence.

Deliberate differences from the reference: no default instructions are invented when the caller sent no
system text (explicit_context is then omitted, as the reference does for blank text), `@http…` tokens in
user text are not turned into `external_links`, `WebReferences:` blocks in assistant text are not parsed
back into citations, and images on a model without image support are left to the API layer to refuse.

Reading: a data frame is `StreamUnifiedChatResponseWithTools`, field 2. The only real capture we have
is the older bare `StreamChatResponse` of `AiService/StreamChat` (shared/testdata, §8); a decoder that
only knows the wrapper reads nothing from it (the bare `text = 1` lands on the wrapper's tool-call arm and
fails to parse as a tool call, or worse, parses as an empty one). So `PayloadReader` falls back to the
bare message when the wrapper does not parse, and, in a stream already seen to be bare (or when the
"tool call" is empty), when it lands on the tool-call arm. `stream_start` frames carry only padding and
never fall back; real tool calls in a wrapped stream are ignored (this profile runs no tools).
"""

from __future__ import annotations

import random
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from google.protobuf.message import Message as ProtoMessage

from cursor_gateway.codec._gen.aiserver.v1 import legacy_chat_pb2 as pb
from cursor_gateway.domain.chat import ChatEvent, ChatRequest, ImagePart, Message, TextDelta, ThinkingDelta

RPC_PATH = "/aiserver.v1.ChatService/StreamUnifiedChatWithTools"
CONTENT_TYPE = "application/connect+proto"

HUMAN = pb.ConversationMessage.MESSAGE_TYPE_HUMAN
AI = pb.ConversationMessage.MESSAGE_TYPE_AI
CHAT_MODE = pb.StreamUnifiedChatRequest.UNIFIED_MODE_CHAT
THINKING_HIGH = pb.StreamUnifiedChatRequest.THINKING_LEVEL_HIGH
THINKING_NONE = pb.StreamUnifiedChatRequest.THINKING_LEVEL_UNSPECIFIED


def new_uuid() -> str:
    return str(uuid.uuid4())


def image_counter_start(rng: random.Random | None = None) -> int:
    """Image (and link) ids are one counter per request, starting at a random value in [256, 384)."""
    return (rng or random.SystemRandom()).randrange(256, 384)


def build_request(
    request: ChatRequest,
    *,
    conversation_id: str | None = None,
    new_id: Callable[[], str] = new_uuid,
    first_image_id: int | None = None,
) -> pb.StreamUnifiedChatRequestWithTools:
    """The whole request. `conversation_id` defaults to a fresh UUID per request (the reference's rule);
    `new_id` and `first_image_id` exist so tests can fix the ids."""
    counter = first_image_id if first_image_id is not None else image_counter_start()
    model = request.model
    conversation: list[pb.ConversationMessage] = []
    for message in _turns(request):
        images: list[pb.ImageProto] = []
        if message.role == "user" and model.supports_images:
            for image in message.images:
                images.append(_image(image, str(counter)))
                counter += 1
        conversation.append(_message(message, new_id, images))
    if not conversation:
        # No turns at all: one empty human message (the reference marks it not a capability iteration).
        conversation.append(_message(Message("user", ""), new_id, []))
        conversation[0].is_capability_iteration = False

    inner = pb.StreamUnifiedChatRequest(
        conversation=conversation,
        model_details=pb.ModelDetails(
            model_name=model.cursor_id, azure_state=pb.AzureState(), max_mode=model.max_mode
        ),
        should_cache=False,
        current_file=_dummy_current_file(),
        use_reference_composer_diff_prompt=False,
        use_new_compression_scheme=False,
        conversation_id=conversation_id or new_uuid(),
        environment_info=pb.EnvironmentInfo(),
        full_conversation_headers_only=[_header(m) for m in conversation],
        is_resume=False,
        allow_model_fallbacks=False,
        number_of_times_shown_fallback_model_warning=0,
        unified_mode=CHAT_MODE,
        should_disable_tools=True,
        thinking_level=THINKING_HIGH if model.supports_thinking else THINKING_NONE,
        uses_rules=False,
        mode_uses_auto_apply=False,
        unified_mode_name="Ask",
    )
    system = request.system_text
    if system.strip():
        inner.explicit_context.context = system
    return pb.StreamUnifiedChatRequestWithTools(stream_unified_chat_request=inner)


def _turns(request: ChatRequest) -> list[Message]:
    """User/assistant turns in order (same-role neighbours are not merged); the conversation must start
    and end with a human turn, so an empty one is added where an assistant turn would be first or last."""
    turns = list(request.turns)
    if turns and turns[0].role == "assistant":
        turns.insert(0, Message("user", ""))
    if turns and turns[-1].role == "assistant":
        turns.append(Message("user", ""))
    return turns


def _message(
    message: Message, new_id: Callable[[], str], images: list[pb.ImageProto]
) -> pb.ConversationMessage:
    out = pb.ConversationMessage(
        text=message.text,
        type=AI if message.role == "assistant" else HUMAN,
        images=images,
        bubble_id=new_id(),
        unified_mode=CHAT_MODE,
    )
    if message.role == "assistant":
        out.server_bubble_id = new_id()
    return out


def _header(message: pb.ConversationMessage) -> pb.ConversationMessageHeader:
    header = pb.ConversationMessageHeader(bubble_id=message.bubble_id, type=message.type)
    if message.HasField("server_bubble_id"):
        header.server_bubble_id = message.server_bubble_id
    return header


def _dummy_current_file() -> pb.CurrentFileInfo:
    current = pb.CurrentFileInfo(contents_start_at_line=1, total_number_of_lines=1)
    current.cursor_position.SetInParent()
    current.selection.start_position.SetInParent()
    current.selection.end_position.SetInParent()
    return current


def _image(image: ImagePart, image_id: str) -> pb.ImageProto:
    proto = pb.ImageProto(data=image.data, uuid=image_id)
    size = image_dimensions(image.data)
    if size is not None:
        proto.dimension.width, proto.dimension.height = size
    return proto


def image_dimensions(data: bytes) -> tuple[int, int] | None:
    """Width and height from the header of a PNG, GIF, JPEG or WebP image; None if not recognised."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data[:2] == b"\xff\xd8":
        return _jpeg_dimensions(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_dimensions(data)
    return None


_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_dimensions(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _JPEG_SOF and pos + 9 <= len(data):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        pos += 2 + length
    return None


def _webp_dimensions(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return int(width & 0x3FFF), int(height & 0x3FFF)
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def encode_request(message: pb.StreamUnifiedChatRequestWithTools) -> bytes:
    return message.SerializeToString()


# -- reading --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Piece:
    """What one data frame said. `form` is "unified", "bare" (legacy StreamChatResponse) or "ignored"."""

    form: str
    text: str = ""
    thinking: str = ""
    filled_prompt: str | None = None
    # The message the frame was read as (wrapper or bare), for drift reporting; None for empty frames.
    message: ProtoMessage | None = None

    def events(self) -> list[ChatEvent]:
        # Thinking first: a frame carrying both keeps both (the reference drops the thinking).
        events: list[ChatEvent] = []
        if self.thinking:
            events.append(ThinkingDelta(self.thinking))
        if self.text:
            events.append(TextDelta(self.text))
        return events


class PayloadReader:
    """Reads one stream's data frames; see the module docstring for the fallback rules.

    A stream is all wrapped or all bare, so the reader remembers which form it has seen: a frame that
    parses as the wrapper's tool-call arm is a real tool call in a wrapped stream (ignored: this profile
    runs no tools) and text in a bare one. Before either form has been seen, a tool call with none of its
    known fields set is taken for bare text ("hi" is `0a 02 68 69`, a structurally valid empty call)."""

    def __init__(self) -> None:
        self.form = ""  # "", "unified" or "bare"

    def read(self, payload: bytes) -> Piece:
        """One data frame's payload (already inflated). Raises `DecodeError` only if neither the wrapper
        nor the bare legacy message can read it."""
        if not payload:
            return Piece("ignored")
        try:
            wrapper = pb.StreamUnifiedChatResponseWithTools.FromString(payload)
        except DecodeError:
            return self._bare(payload)
        arm = wrapper.WhichOneof("response")
        if arm == "stream_unified_chat_response":
            self.form = "unified"
            inner = wrapper.stream_unified_chat_response
            return Piece(
                "unified",
                text=inner.text,
                thinking=inner.thinking.text if inner.HasField("thinking") else "",
                filled_prompt=inner.filled_prompt if inner.HasField("filled_prompt") else None,
                message=wrapper,
            )
        if arm == "stream_start":
            self.form = "unified"
            return Piece("ignored", message=wrapper)
        if arm == "client_side_tool_v2_call":
            looks_empty = not wrapper.client_side_tool_v2_call.ListFields()
            if self.form == "bare" or (not self.form and looks_empty):
                return self._bare(payload)
        # A tool call, or no known arm: field 1 (bare text) would have made it a tool call, so the bare
        # reading of it has nothing either.
        return Piece("ignored", message=wrapper)

    def _bare(self, payload: bytes) -> Piece:
        bare = pb.StreamChatResponse.FromString(payload)  # raises DecodeError when it is not protobuf at all
        if not bare.text and not bare.HasField("filled_prompt"):
            return Piece("ignored", message=bare)
        self.form = "bare"
        filled_prompt = bare.filled_prompt if bare.HasField("filled_prompt") else None
        return Piece("bare", text=bare.text, filled_prompt=filled_prompt, message=bare)


def decode_payload(payload: bytes) -> Piece:
    """A single payload read on its own (no stream context)."""
    return PayloadReader().read(payload)
