"""x-cursor-checksum against the fact sheet's test vectors, and the identity header sets."""

from __future__ import annotations

import pytest
from cursor_gateway.upstream.checksum import checksum_header, decode_timestamp_part, timestamp_part
from cursor_gateway.upstream.identity import ClientIdentity, MachineIds, stream_headers

# cursor-protocol.md §2.1: unix seconds -> the 8-character obfuscated time part (URL-safe alphabet).
VECTORS = [(1700000000, "Vfb45Bi9"), (1750000000, "Fufp9km-"), (1767225600, "Umxud4TC")]
FIRST, SECOND = "11" * 32, "22" * 32


@pytest.mark.parametrize(("seconds", "expected"), VECTORS)
def test_time_part_matches_the_fact_sheet(seconds: int, expected: str) -> None:
    assert timestamp_part(seconds) == expected
    assert decode_timestamp_part(expected) == seconds // 1000


def test_standard_alphabet_is_selectable() -> None:
    assert timestamp_part(1750000000, alphabet="standard") == "Fufp9km+"
    assert decode_timestamp_part("Fufp9km+") == 1750000


def test_header_layout_with_and_without_mac_machine_id() -> None:
    full = checksum_header(FIRST, SECOND, now=1700000000)
    assert full == "Vfb45Bi9" + FIRST + "/" + SECOND and len(full) == 137
    assert checksum_header(FIRST, now=1700000000) == "Vfb45Bi9" + FIRST


def test_tampered_time_part_is_rejected() -> None:
    assert decode_timestamp_part("Vfb45Bi8") is None
    assert decode_timestamp_part("short") is None


def test_ide_headers_carry_checksum_and_device_identity_cli_headers_do_not() -> None:
    machine = MachineIds(machine_id=FIRST, mac_machine_id=SECOND, client_key="ab" * 32, session_id="s-1")
    ide = ClientIdentity("ide", "3.21.12", client_commit="c" * 40, checksum_alphabet="standard")
    headers = dict(
        stream_headers(
            ide,
            bearer="jwt",
            content_type="application/connect+proto",
            conversation_id="conv",
            machine=machine,
            now=1750000000,
        )
    )
    assert headers["x-cursor-checksum"] == "Fufp9km+" + FIRST + "/" + SECOND
    assert headers["x-client-key"] == "ab" * 32 and headers["x-session-id"] == "s-1"
    assert headers["x-cursor-client-commit"] == "c" * 40 and headers["x-cursor-client-type"] == "ide"
    cli = dict(
        stream_headers(
            ClientIdentity("cli", "cli-2026.09.18-9a7762b"),
            bearer="jwt",
            content_type="application/connect+proto",
            conversation_id="conv",
            machine=machine,
        )
    )
    assert not {"x-cursor-checksum", "x-client-key", "x-session-id"} & set(cli)
    assert cli["x-cursor-client-version"] == "cli-2026.09.18-9a7762b"
