"""The fact sheet's worked example of a `StreamUnifiedChatWithTools` request (cursor-protocol.md §4.7),
written out from the sheet's listing (not produced by our generated code), for the unit and contract tests.

Model `claude-4-sonnet` (not thinking, not max), system prompt "You are helpful.", one user message "hi".
"""

from __future__ import annotations

BUBBLE = "00000000-0000-4000-8000-000000000001"
CONVERSATION = "00000000-0000-4000-8000-0000000000aa"
MODEL = "claude-4-sonnet"
SYSTEM = "You are helpful."
USER = "hi"


def _s(text: str) -> str:
    return text.encode().hex()


# One line of the sheet's listing per line here.
WORKED_EXAMPLE_HEX = "".join(
    [
        "00" + "000000e8",  # envelope: uncompressed, 232 bytes
        "0ae501",  # StreamUnifiedChatRequestWithTools.1, 229 bytes
        "0a2f" + "0a02" + _s(USER) + "1001" + "6a24" + _s(BUBBLE) + "f80201",  # conversation
        "1a12" + "0a10" + _s(SYSTEM),  # explicit_context
        "2a15" + "0a0f" + _s(MODEL) + "2200" + "4000",  # model_details
        "6800",  # should_cache false
        "7a0c" + "1a00" + "3204" + "0a00" + "1200" + "4001" + "4801",  # current_file
        "880100" + "980100",  # 17, 19 false
        "ba0124" + _s(CONVERSATION),  # conversation_id
        "d20100",  # environment_info {}
        "f20128" + "0a24" + _s(BUBBLE) + "1801",  # header
        "a00200" + "a80200" + "b00200",  # 36, 37, 38
        "f00201" + "800301" + "880300",  # 46, 48, 49
        "980300" + "a80300" + "b20303" + _s("Ask"),  # 51, 53, 54
    ]
)
WORKED_EXAMPLE = bytes.fromhex(WORKED_EXAMPLE_HEX)
