"""Admin input as `TokenRecord`s: one pasted token (`POST /tokens/add`), a whole pool to restore
(`POST /tokens/set`), and what a restore keeps of the record it overwrites. Pure: no store, no clock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from cursor_gateway.domain.tokens import (
    ImportProblem,
    ParsedToken,
    TokenRecord,
    TokenStatus,
    derive_checksum,
    derive_client_key,
    derive_session_id,
    is_hex64,
    is_uuid,
    is_valid_alias,
    is_valid_timezone,
    parse_checksum,
    parse_token_input,
)
from cursor_gateway.errors import InvalidRequest

# `set` reports at most this many invalid entries in its 400 message.
_SET_PROBLEMS_SHOWN = 10


def record_from_input(
    parsed: ParsedToken, item: Mapping[str, Any], status: TokenStatus, now: float
) -> TokenRecord:
    """The stored bundle: given values are validated (a typo must not silently become a random value,
    unlike the reference), missing ones are derived from the token (see domain.tokens)."""
    checksum = derive_checksum(parsed.token)
    if item.get("checksum"):
        given = parse_checksum(item["checksum"])
        if given is None:
            raise ValueError(
                "checksum must be {first, second} (64 hex each), '<hex>/<hex>' or the 137-char header value"
            )
        checksum = given
    client_key = str(item.get("client_key") or "") or derive_client_key(parsed.token)
    if not is_hex64(client_key):
        raise ValueError("client_key must be 64 hex characters")
    session_id = str(item.get("session_id") or "") or derive_session_id(parsed.token)
    config_version = str(item.get("config_version") or "")
    for name, value in (("session_id", session_id), ("config_version", config_version)):
        if value and not is_uuid(value):
            raise ValueError(f"{name} must be a UUID")
    timezone = str(item.get("timezone") or "")
    if timezone and not is_valid_timezone(timezone):
        raise ValueError(f"timezone '{timezone}' is not an IANA time zone name (e.g. Europe/Paris)")
    return TokenRecord(
        alias="",
        kind=parsed.kind,
        primary_token=parsed.token,
        status=status,
        refresh_token=str(item.get("refresh_token") or "").strip(),
        client_key=client_key.lower(),
        session_id=session_id,
        checksum_first=checksum[0],
        checksum_second=checksum[1],
        config_version=config_version,
        timezone=timezone,
        proxy=str(item.get("proxy") or ""),
        gcpp_host=str(item.get("gcpp_host") or ""),
        user_id=parsed.user_id,
        token_type=parsed.token_type,
        expires_at=parsed.expires_at,
        created_at=now,
    )


def validate_pool(entries: Sequence[tuple[str, Mapping[str, Any]]], now: float) -> list[TokenRecord]:
    """`set`'s `[(alias, info), ...]` as records in request order, or one `InvalidRequest` naming the
    invalid entries (the caller then writes nothing)."""
    problems: list[str] = []
    records: list[TokenRecord] = []
    aliases: set[str] = set()
    credentials: dict[str, str] = {}
    for index, (alias, info) in enumerate(entries):
        where = f"entry {index} ('{alias}')"
        if not is_valid_alias(alias):
            problems.append(
                f"{where}: alias must be 1-64 of [A-Za-z0-9_.@+-], starting with a letter or digit"
            )
            continue
        if alias in aliases:
            problems.append(f"{where}: alias appears twice")
            continue
        aliases.add(alias)
        bundle = info.get("bundle") or {}
        refresh_token = str(bundle.get("secondary_token") or "")
        parsed = parse_token_input(str(bundle.get("primary_token") or ""), now)
        if isinstance(parsed, ImportProblem) and parsed.outcome == "expired" and refresh_token:
            parsed = parse_token_input(str(bundle["primary_token"]), 0.0)  # expired but renewable: keep
        if isinstance(parsed, ImportProblem):
            problems.append(f"{where}: {parsed.outcome}: {parsed.detail}")
            continue
        if parsed.token in credentials:
            problems.append(f"{where}: the same credential as '{credentials[parsed.token]}'")
            continue
        credentials[parsed.token] = alias
        item = {**bundle, "refresh_token": refresh_token}
        status: TokenStatus = "disabled" if info.get("status") == "disabled" else "enabled"
        try:
            record = record_from_input(parsed, item, status, now)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        # created_at orders the pool: keep the order of the request.
        records.append(replace(record, alias=alias, created_at=now + index * 1e-3))
    if problems:
        shown = "; ".join(problems[:_SET_PROBLEMS_SHOWN])
        more = (
            f" (and {len(problems) - _SET_PROBLEMS_SHOWN} more)"
            if len(problems) > _SET_PROBLEMS_SHOWN
            else ""
        )
        raise InvalidRequest(f"Nothing was changed: {len(problems)} invalid entries: {shown}{more}")
    return records


def added_detail(parsed: ParsedToken) -> str:
    """The `detail` of an `added` result: what kind of credential was stored."""
    if parsed.kind == "api_key":
        return "crsr_ user API key; it is exchanged for a 1-hour JWT on first use"
    detail = f"{parsed.token_type} token of {parsed.user_id}, expires at {int(parsed.expires_at)}"
    if parsed.token_type == "web":
        detail += " (short-lived browser token; prefer the IDE session token)"
    return detail


def carry_over(record: TokenRecord, current: TokenRecord) -> TokenRecord:
    """`set` over an existing alias: the new bundle; what the gateway learnt about the *same* credential
    (health, exchanged JWT, profile, usable models) stays, as does the stored version for the CAS."""
    if current.primary_token != record.primary_token:
        return replace(record, version=current.version)
    bundle = {
        name: getattr(record, name)
        for name in (
            "status",
            "refresh_token",
            "client_key",
            "session_id",
            "checksum_first",
            "checksum_second",
            "config_version",
            "timezone",
            "proxy",
            "gcpp_host",
            "created_at",
        )
    }
    return replace(current, **bundle)
