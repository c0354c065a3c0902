"""The reference's dynamic `sk-` keys against the fact sheet's vectors (cursor-protocol.md §6.2, §6.4)."""

from __future__ import annotations

import base64
import json

import pytest
from cursor_gateway.domain.dynamic_keys import (
    JWT_HEADER,
    DynamicKeyError,
    KeyConfig,
    b64x_decode,
    b64x_encode,
    decode_key,
    encode_key,
    sub_id_to_user_id,
    user_id_to_sub_id,
)

USER_ID = "user_01JZ8Q9X7V3M5N2P4R6T8W0Y1A"
ULID_INT = 2117513111315609633128936829987354666
SUB_ID = "2a78c091369858510b1dfbf474d19701"
NOW = 1_752_000_000.0


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def vector_jwt() -> str:
    payload = {
        "sub": f"auth0|{USER_ID}",
        "time": "1750000000",
        "randomness": "0a1b2c3d-4e5f-6071",
        "exp": 1755184000,
        "iss": "https://authentication.cursor.sh",
        "scope": "openid profile email offline_access",
        "aud": "https://cursor.com",
        "type": "session",
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    return f"{JWT_HEADER}.{b64url(body)}.{b64url(bytes(range(32)))}"


def vector_key() -> str:
    return encode_key(
        vector_jwt(),
        checksum=("11" * 32, "22" * 32),
        client_key="33" * 32,
        session_id="00000000-0000-4000-8000-000000000002",
        timezone="Asia/Shanghai",
    )


@pytest.mark.parametrize(
    ("raw", "text"), [(b"f", "Mp"), (b"fo", "Ms6"), (b"foo", "Ms9X"), (b"foobar", "Ms9XlsCy")]
)
def test_b64x_vectors(raw: bytes, text: str) -> None:
    assert b64x_encode(raw) == text
    assert b64x_decode(text) == raw


def test_b64x_refuses_bad_input() -> None:
    for text in ("Mp9X1", "Zg=", "a+b/"):
        with pytest.raises(DynamicKeyError):
            b64x_decode(text)


def test_user_ids() -> None:
    sub_id = user_id_to_sub_id(USER_ID)
    assert int.from_bytes(sub_id, "little") == ULID_INT
    assert sub_id.hex() == SUB_ID
    assert sub_id_to_user_id(sub_id) == USER_ID
    legacy = "0123456789abcdef01234567"
    assert sub_id_to_user_id(user_id_to_sub_id(legacy)) == legacy


def test_the_fact_sheet_key_vector() -> None:
    key = vector_key()
    assert key.startswith("sk-aWtAaSfeAkC1OcpxbQ-uofaIGUQljhvO8_Izz")
    assert len(key) == 298
    raw = b64x_decode(key[3:])
    assert len(raw) == 221
    assert raw.hex().startswith("0ada010a530a05617574683012102a78c091")
    token = KeyConfig.FromString(raw).token_info.token
    assert token.sub_id.hex() == SUB_ID and token.randomness.hex() == "0a1b2c3d4e5f6071"


def test_decoding_gives_the_original_jwt_and_bundle() -> None:
    decoded = decode_key(vector_key(), "sk-", NOW)
    record = decoded.record
    assert record.primary_token == vector_jwt()  # byte-for-byte: same header and claim order
    assert record.kind == "session" and record.token_type == "session"
    assert record.checksum_first == "11" * 32 and record.checksum_second == "22" * 32
    assert record.client_key == "33" * 32
    assert record.session_id == "00000000-0000-4000-8000-000000000002"
    assert record.config_version == "" and record.proxy == "" and record.gcpp_host == ""
    assert record.timezone == "Asia/Shanghai"
    assert record.user_id == USER_ID and record.expires_at == 1755184000
    assert record.alias.startswith("sk-") and decoded.overrides == {}
    assert vector_jwt() not in repr(decoded)


def test_key_overrides_and_optional_fields() -> None:
    key = encode_key(
        vector_jwt(),
        prefix="key-",
        checksum=("aa" * 32, "bb" * 32),
        client_key="cc" * 32,
        session_id="00000000-0000-4000-8000-000000000003",
        config_version="00000000-0000-4000-8000-000000000004",
        proxy_name="corp",
        gcpp_host=1,
        overrides={
            "disable_vision": True,
            "enable_slow_pool": False,
            "include_web_references": True,
            "usage_check_models": KeyConfig.UsageCheckModel(
                type=KeyConfig.UsageCheckModel.TYPE_CUSTOM, model_ids=["gpt-5", "o3"]
            ),
        },
    )
    decoded = decode_key(key, "key-", NOW)
    assert decoded.record.config_version == "00000000-0000-4000-8000-000000000004"
    assert decoded.record.proxy == "corp" and decoded.record.gcpp_host == "EU"
    assert decoded.overrides == {
        "vision_ability": "none",
        "enable_slow_pool": False,
        "include_web_references": True,
        "usage_check_models": {"type": "list", "content": "gpt-5,o3"},
    }


def test_unusable_keys() -> None:
    key = vector_key()
    with pytest.raises(DynamicKeyError, match="expired"):
        decode_key(key, "sk-", 1755184000.0)
    with pytest.raises(DynamicKeyError):
        decode_key("sk-" + key[3:-5], "sk-", NOW)  # truncated
    with pytest.raises(DynamicKeyError):
        decode_key("sk-!!!!", "sk-", NOW)
    with pytest.raises(DynamicKeyError):
        decode_key("pk-" + key[3:], "sk-", NOW)
    empty = "sk-" + b64x_encode(KeyConfig().SerializeToString())
    with pytest.raises(DynamicKeyError, match="no token"):
        decode_key(empty, "sk-", NOW)
    other = KeyConfig.FromString(b64x_decode(key[3:]))
    other.token_info.token.provider = "okta"
    with pytest.raises(DynamicKeyError, match="provider"):
        decode_key("sk-" + b64x_encode(other.SerializeToString()), "sk-", NOW)
