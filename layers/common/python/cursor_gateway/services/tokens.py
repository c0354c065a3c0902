"""Admin use cases for the account pool (`/tokens/*`, admin-api.md "Tokens").

`add` reports an outcome per input token instead of failing the batch: one bad line in a pasted list
must not hide which others were stored. Secrets never leave this module unmasked unless the caller
asked for `reveal` (an audited admin action).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from cursor_gateway.domain.tokens import (
    ImportProblem,
    ParsedToken,
    TokenRecord,
    TokenStatus,
    default_alias,
    derive_checksum,
    derive_client_key,
    derive_session_id,
    is_hex64,
    is_uuid,
    is_valid_alias,
    mask_secret,
    parse_checksum,
    parse_token_input,
    unique_alias,
)
from cursor_gateway.storage.tokens import DuplicateAlias, TokenStore

log = logging.getLogger("cursor_gateway.services.tokens")
audit = logging.getLogger("cursor_gateway.audit")

# How many `-n` suffixes to try when another writer takes a derived alias between our list and put.
_ALIAS_RACE_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class AddResult:
    alias: str | None
    outcome: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"alias": self.alias, "outcome": self.outcome, "detail": self.detail}


class TokenAdminService:
    def __init__(self, store: TokenStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    # -- POST /tokens/add --

    def add(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """`{"tokens": [{"token", "alias"?, ...}], "status"?}` -> summary and one result per input."""
        status: TokenStatus = "disabled" if payload.get("status") == "disabled" else "enabled"
        existing = self.store.list()
        taken = {r.alias for r in existing}
        known = {r.primary_token: r.alias for r in existing}
        results = [self._add_one(item, status, taken, known) for item in payload.get("tokens") or []]

        outcomes = [r.outcome for r in results]
        added, duplicate = outcomes.count("added"), outcomes.count("duplicate")
        rejected = len(outcomes) - added - duplicate
        return {
            "status": "success",
            "tokens_count": len(existing) + added,
            "message": f"{added} added, {duplicate} duplicate, {rejected} rejected",
            "results": [r.as_dict() for r in results],
        }

    def _add_one(
        self, item: Mapping[str, Any], status: TokenStatus, taken: set[str], known: dict[str, str]
    ) -> AddResult:
        requested = item.get("alias") or None
        if requested is not None and not is_valid_alias(requested):
            return AddResult(
                requested,
                "malformed",
                "alias must be 1-64 of [A-Za-z0-9_.@+-], starting with a letter or digit",
            )
        now = self.clock()
        parsed = parse_token_input(str(item.get("token") or ""), now)
        if isinstance(parsed, ImportProblem):
            return AddResult(requested, parsed.outcome, parsed.detail)
        if parsed.token in known:
            return AddResult(known[parsed.token], "duplicate", "this token is already in the pool")
        if requested is not None and requested in taken:
            return AddResult(requested, "duplicate", f"alias '{requested}' is already taken")
        try:
            record = self._record(parsed, item, status, now)
        except ValueError as exc:
            return AddResult(requested, "malformed", str(exc))

        base = requested or default_alias(parsed)
        for _ in range(_ALIAS_RACE_ATTEMPTS):
            alias = base if requested else unique_alias(base, taken)
            try:
                self.store.put_new(replace(record, alias=alias))
            except DuplicateAlias:
                taken.add(alias)
                if requested:
                    return AddResult(requested, "duplicate", f"alias '{requested}' is already taken")
                continue
            taken.add(alias)
            known[parsed.token] = alias
            log.info("added token %s (%s, %s)", alias, parsed.kind, mask_secret(parsed.token))
            return AddResult(alias, "added", _added_detail(parsed))
        return AddResult(None, "duplicate", f"could not find a free alias based on '{base}'")

    @staticmethod
    def _record(parsed: ParsedToken, item: Mapping[str, Any], status: TokenStatus, now: float) -> TokenRecord:
        """The stored bundle: given values are validated (a typo must not silently become a random value,
        unlike the reference), missing ones are derived from the token (see domain.tokens)."""
        checksum = derive_checksum(parsed.token)
        if item.get("checksum"):
            given = parse_checksum(item["checksum"])
            if given is None:
                raise ValueError(
                    "checksum must be {first, second} (64 hex each), '<hex>/<hex>' or the "
                    "137-char header value"
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
            timezone=str(item.get("timezone") or ""),
            proxy=str(item.get("proxy") or ""),
            gcpp_host=str(item.get("gcpp_host") or ""),
            user_id=parsed.user_id,
            token_type=parsed.token_type,
            expires_at=parsed.expires_at,
            created_at=now,
        )

    # -- POST /tokens/get --

    def get(self, reveal: bool = False) -> dict[str, Any]:
        if reveal:
            audit.warning("tokens revealed: POST /tokens/get with reveal=true")
        records = self.store.list()
        return {
            "status": "success",
            "tokens": [[i, r.alias, token_info(r, reveal=reveal)] for i, r in enumerate(records)],
            "tokens_count": len(records),
        }


def _added_detail(parsed: ParsedToken) -> str:
    if parsed.kind == "api_key":
        return "crsr_ user API key; it is exchanged for a 1-hour JWT on first use"
    detail = f"{parsed.token_type} token of {parsed.user_id}, expires at {int(parsed.expires_at)}"
    if parsed.token_type == "web":
        detail += " (short-lived browser token; prefer the IDE session token)"
    return detail


def token_info(record: TokenRecord, *, reveal: bool = False) -> dict[str, Any]:
    """The admin `info` object: bundle (secrets masked unless revealed), status, health, kind."""
    secret = (lambda v: v) if reveal else mask_secret
    bundle: dict[str, Any] = {"primary_token": secret(record.primary_token)}
    if record.refresh_token:
        bundle["secondary_token"] = secret(record.refresh_token)
    if record.checksum_first and record.checksum_second:
        bundle["checksum"] = {"first": record.checksum_first, "second": record.checksum_second}
    optional = {
        "client_key": record.client_key,
        "config_version": record.config_version,
        "session_id": record.session_id,
        "proxy": record.proxy,
        "timezone": record.timezone,
        "gcpp_host": record.gcpp_host,
    }
    bundle.update({k: v for k, v in optional.items() if v})
    health = record.health
    return {
        "bundle": bundle,
        "status": record.status,
        "health": {
            "state": health.state,
            "reason": health.reason,
            "cooldown_until": health.cooldown_until or None,
            "score": health.score,
        },
        "kind": record.kind,
        "expires_at": int(record.expires_at) if record.expires_at else None,
    }
