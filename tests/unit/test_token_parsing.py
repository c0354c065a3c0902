from __future__ import annotations

import hashlib
import uuid

import pytest
from cursor_gateway.domain.tokens import (
    ImportProblem,
    ParsedToken,
    TokenRecord,
    decode_jwt_claims,
    default_alias,
    derive_checksum,
    derive_client_key,
    derive_session_id,
    mask_secret,
    parse_checksum,
    parse_token_input,
    unique_alias,
)
from fakes.jwts import NOW, USER_ID, api_key, b64url, make_jwt


def parsed(raw: str) -> ParsedToken:
    result = parse_token_input(raw, NOW)
    assert isinstance(result, ParsedToken), result
    return result


def problem(raw: str) -> ImportProblem:
    result = parse_token_input(raw, NOW)
    assert isinstance(result, ImportProblem), result
    return result


# --- accepted forms ----------------------------------------------------------------------------------


def test_raw_jwt_reads_sub_exp_and_type() -> None:
    token = make_jwt(exp=NOW + 3600)
    result = parsed(token)
    assert result.kind == "session"
    assert result.token == token
    assert result.user_id == USER_ID
    assert result.provider == "auth0"
    assert result.token_type == "session"
    assert result.expires_at == NOW + 3600


@pytest.mark.parametrize(
    "wrap",
    [
        lambda t: f"{USER_ID}::{t}",
        lambda t: f"{USER_ID}%3A%3A{t}",
        lambda t: f"{USER_ID}%3a%3a{t}",
        lambda t: f"WorkosCursorSessionToken={USER_ID}%3A%3A{t}",
        lambda t: f"  WorkosCursorSessionToken={USER_ID}%3A%3A{t}\n",
        lambda t: f"other=1; WorkosCursorSessionToken={USER_ID}%3A%3A{t}; theme=dark",
        lambda t: f'"{t}"',
    ],
    ids=[
        "double-colon",
        "cookie-encoded",
        "cookie-lowercase-escape",
        "cookie-with-name",
        "whitespace",
        "whole-cookie-header",
        "quoted",
    ],
)
def test_every_session_form_yields_the_bare_jwt(wrap) -> None:  # type: ignore[no-untyped-def]
    token = make_jwt()
    result = parsed(wrap(token))
    assert result.token == token
    assert result.user_id == USER_ID


def test_crsr_key_is_an_api_key_without_expiry() -> None:
    key = api_key()
    result = parsed(key)
    assert (result.kind, result.token, result.expires_at, result.user_id) == ("api_key", key, 0.0, "")


def test_unknown_header_and_extra_claims_are_tolerated() -> None:
    header = {"alg": "RS256", "kid": "k1", "typ": "JWT"}
    token = make_jwt(header=header, new_claim={"x": 1}, email="ann@example.com")
    result = parsed(token)
    assert result.email == "ann@example.com"


def test_web_token_is_accepted_and_keeps_its_type() -> None:
    assert parsed(make_jwt(token_type="web")).token_type == "web"


def test_string_exp_is_read_as_seconds() -> None:
    token = make_jwt(exp=str(int(NOW + 60)))
    assert parsed(token).expires_at == NOW + 60


# --- problems ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, fragment",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("hello", "three"),
        ("a.b", "three"),
        ("!!!.e30.sig", "header"),
        (b64url(b"{}") + ".not json!." + "sig", "payload"),
        (b64url(b"{}") + "." + b64url(b"[1]") + ".sig", "JSON object"),
        (b64url(b"{}") + "." + b64url(b'{"exp": 1}') + ".", "signature"),
        ("crsr_short", "crsr_"),
        ("crsr_" + "x" * 20 + "!", "crsr_"),
    ],
)
def test_unreadable_input_is_malformed(raw: str, fragment: str) -> None:
    result = problem(raw)
    assert result.outcome == "malformed"
    assert fragment in result.detail


def test_missing_or_bad_sub_is_malformed() -> None:
    assert "sub" in problem(make_jwt(sub=None)).detail
    assert problem(make_jwt(sub="no-provider-separator")).outcome == "malformed"


def test_missing_exp_is_malformed() -> None:
    assert "exp" in problem(make_jwt(exp=None)).detail


def test_cookie_user_must_match_the_jwt() -> None:
    result = problem(f"user_SOMEONEELSE%3A%3A{make_jwt()}")
    assert result.outcome == "malformed"
    assert "does not match" in result.detail


def test_exchanged_api_key_token_is_refused_with_advice() -> None:
    result = problem(make_jwt(token_type="api_key_token"))
    assert result.outcome == "malformed"
    assert "crsr_" in result.detail


def test_expired() -> None:
    assert problem(make_jwt(exp=NOW)).outcome == "expired"
    assert problem(make_jwt(exp=NOW - 1)).outcome == "expired"
    assert isinstance(parse_token_input(make_jwt(exp=NOW + 1), NOW), ParsedToken)


def test_unsupported_provider() -> None:
    result = problem(make_jwt(provider="okta"))
    assert result.outcome == "unsupported_provider"
    assert "okta" in result.detail
    for provider in ("auth0", "google-oauth2", "github"):
        assert parsed(make_jwt(provider=provider)).provider == provider


def test_providers_are_configurable() -> None:
    result = parse_token_input(make_jwt(provider="okta"), NOW, providers=frozenset({"okta"}))
    assert isinstance(result, ParsedToken)


def test_jwt_without_type_is_old_format() -> None:
    assert problem(make_jwt(token_type=None)).outcome == "old_format"


# --- derived values ---------------------------------------------------------------------------------


def test_derived_identity_is_deterministic_and_per_token() -> None:
    a, b = make_jwt(), make_jwt(user_id="user_OTHER")
    assert derive_client_key(a) == hashlib.sha256(a.encode()).hexdigest()
    assert derive_session_id(a) == str(uuid.uuid5(uuid.NAMESPACE_DNS, a))
    first, second = derive_checksum(a)
    assert derive_checksum(a) == (first, second)
    assert len(first) == len(second) == 64 and first != second
    assert derive_checksum(b) != (first, second)
    # Salted: not the same value as the client key (a plain hash of the token).
    assert derive_client_key(a) not in (first, second)


def test_parse_checksum_forms() -> None:
    h1, h2 = "a" * 64, "B" * 64
    assert parse_checksum({"first": h1, "second": h2}) == (h1, h2.lower())
    assert parse_checksum(f"{h1}/{h2}") == (h1, h2.lower())
    assert parse_checksum(f"zO9_-xYz{h1}/{h2}") == (h1, h2.lower())
    assert parse_checksum("nonsense") is None
    assert parse_checksum({"first": h1}) is None
    assert parse_checksum(f"{h1}/{'g' * 64}") is None


def test_default_alias() -> None:
    assert default_alias(parsed(make_jwt())) == USER_ID
    assert default_alias(parsed(make_jwt(email="Ann.Lee+x@example.com"))) == "Ann.Lee+x"
    key = api_key()
    alias = default_alias(parsed(key))
    assert alias == "crsr-" + hashlib.sha256(key.encode()).hexdigest()[:8]
    assert key[5:13] not in alias  # no key material in the alias


def test_unique_alias() -> None:
    assert unique_alias("a", set()) == "a"
    assert unique_alias("a", {"a"}) == "a-2"
    assert unique_alias("a", {"a", "a-2", "a-3"}) == "a-4"


def test_decode_jwt_claims_returns_payload() -> None:
    assert decode_jwt_claims(make_jwt(foo="bar"))["foo"] == "bar"


def test_secrets_are_kept_out_of_repr_and_masked() -> None:
    token = make_jwt()
    assert token not in repr(parsed(token))
    assert token not in repr(TokenRecord(alias="a", kind="session", primary_token=token, refresh_token=token))
    masked = mask_secret(token)
    assert masked.startswith(token[:6]) and masked.endswith(token[-4:]) and len(masked) < 20
