"""Admin use cases for the account pool (`/tokens/*`, admin-api.md "Tokens"): everything that edits the
stored pool without asking Cursor (refresh, profile and config version are in `services.token_accounts`).

`add` and the per-alias edits report an outcome per item instead of failing the batch: one bad line in a
pasted list must not hide which others were stored. `set` is the exception: it replaces the whole pool,
so it validates every entry first and changes nothing unless all are valid. Edits set only the fields
they change (`TokenStore.update_fields`), so they never undo a concurrent health update; read-modify-
write edits (rename, enable) are compare-and-set and retried. Secrets never leave this module unmasked
unless the caller asked for `reveal` (an audited admin action).

Turning admin input into records is `services.token_import`; the `info` object `get` shows per token is
`services.token_info`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from cursor_gateway.domain.config import PROFILES
from cursor_gateway.domain.keys import normalize_gcpp_host
from cursor_gateway.domain.proxies import NON, SYS
from cursor_gateway.domain.tokens import (
    ImportProblem,
    TokenHealth,
    TokenRecord,
    TokenStatus,
    default_alias,
    is_valid_alias,
    is_valid_timezone,
    mask_secret,
    parse_token_input,
    unique_alias,
)
from cursor_gateway.errors import InvalidRequest, NotFound
from cursor_gateway.services.proxies import ProxyService
from cursor_gateway.services.token_import import added_detail, carry_over, record_from_input, validate_pool
from cursor_gateway.services.token_info import token_info
from cursor_gateway.storage.tokens import DuplicateAlias, TokenStore, VersionConflict

log = logging.getLogger("cursor_gateway.services.tokens")
audit = logging.getLogger("cursor_gateway.audit")

# How many `-n` suffixes to try when another writer takes a derived alias between our list and put.
_ALIAS_RACE_ATTEMPTS = 5
# Read-modify-write edits retry this often when another writer got in between.
_CAS_ATTEMPTS = 10
_MAX_PROXY_NAME = 128


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One item's outcome in a batch answer (`results`)."""

    alias: str | None
    outcome: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"alias": self.alias, "outcome": self.outcome, "detail": self.detail}


AddResult = ItemResult
# Outcomes that count as done in "<verb>: n, failed: m".
DONE = frozenset({"added", "updated", "unchanged", "renamed", "refreshed", "deleted"})


def batch_answer(verb: str, results: Sequence[ItemResult]) -> dict[str, Any]:
    """The "same shape" answer of the per-alias routes: counts in `message`, one result per item."""
    done = sum(r.outcome in DONE for r in results)
    return {
        "status": "success",
        "message": f"{verb}: {done}, failed: {len(results) - done}",
        "results": [r.as_dict() for r in results],
    }


def unique(aliases: Iterable[str]) -> list[str]:
    """Input order, each alias once (a repeated alias is one item, not a second failure)."""
    return list(dict.fromkeys(aliases))


class TokenAdminService:
    def __init__(
        self,
        store: TokenStore,
        clock: Callable[[], float] = time.time,
        *,
        on_change: Callable[[], None] | None = None,
        proxies: ProxyService | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        # Called after every write (the pool drops its cached listing, so this process sees the change).
        self._on_change = on_change or (lambda: None)
        # The proxy table that token proxy names are checked against (None: any name is accepted).
        self._proxies = proxies

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
        if added:
            self._on_change()
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
            record = record_from_input(parsed, item, status, now)
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
            return AddResult(alias, "added", added_detail(parsed))
        return AddResult(None, "duplicate", f"could not find a free alias based on '{base}'")

    # -- POST /tokens/get --

    def get(self, reveal: bool = False) -> dict[str, Any]:
        if reveal:
            audit.warning("tokens revealed: POST /tokens/get with reveal=true")
        records = self.store.list()
        now = self.clock()
        return {
            "status": "success",
            "tokens": [[i, r.alias, token_info(r, reveal=reveal, now=now)] for i, r in enumerate(records)],
            "tokens_count": len(records),
        }

    def _proxy_names(self) -> Collection[str] | None:
        """Names a token may carry: the proxy table's, plus `non` and `sys`, which always mean something.
        Read fresh (the table may just have been changed through another function's instance)."""
        if self._proxies is None:
            return None
        self._proxies.invalidate()
        return {NON, SYS, *self._proxies.current().proxies}

    # -- POST /tokens/set --

    def set_pool(self, entries: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
        """Replace the pool by `[(alias, info), ...]` (info as `/tokens/get` shows it, tokens revealed).
        Every entry is validated before anything is written; one invalid entry is a 400 and no change. An
        alias that keeps its credential keeps its health, exchanged JWT and profile. New entries are
        written before stale ones are deleted, so an interrupted replace leaves a superset, never a loss.
        Proxy names are not checked here (a restore may come before its proxies; an unknown name means
        the general proxy), only by `set_proxy`, where a typo is the likely cause."""
        now = self.clock()
        records = validate_pool(entries, now)
        current = {r.alias: r for r in self.store.list()}
        added = updated = 0
        for record in records:
            if self._upsert(record, current.get(record.alias)):
                added += 1
            else:
                updated += 1
        wanted = {r.alias for r in records}
        removed = sum(self.store.delete(alias) for alias in current if alias not in wanted)
        self._on_change()
        log.info(
            "pool replaced: %d tokens (%d added, %d updated, %d removed)",
            len(records),
            added,
            updated,
            removed,
        )
        return {
            "status": "success",
            "tokens_count": len(records),
            "message": f"pool replaced: {len(records)} tokens "
            f"({added} added, {updated} updated, {removed} removed)",
        }

    def _upsert(self, record: TokenRecord, seen: TokenRecord | None) -> bool:
        """Write one entry of `set`; True when it is a new alias."""
        current = seen
        for _ in range(_CAS_ATTEMPTS):
            if current is None:
                try:
                    self.store.put_new(record)
                    return True
                except DuplicateAlias:
                    current = self.store.get(record.alias)
                    continue
            try:
                self.store.replace(carry_over(record, current))
                return False
            except VersionConflict:
                current = self.store.get(record.alias)
            except NotFound:
                current = None
        raise VersionConflict(f"Token '{record.alias}' kept changing while the pool was replaced; retry")

    # -- POST /tokens/del --

    def delete(self, aliases: Sequence[str], *, include_failed: bool = False) -> dict[str, Any]:
        wanted = unique(aliases)
        failed = [alias for alias in wanted if not self.store.delete(alias)]
        deleted = len(wanted) - len(failed)
        if deleted:
            self._on_change()
            log.info("deleted %d tokens", deleted)
        answer: dict[str, Any] = {
            "status": "success",
            "message": f"deleted: {deleted}, failed: {len(failed)}",
        }
        if include_failed:
            answer["failed_tokens"] = failed
        return answer

    # -- POST /tokens/alias/set --

    def rename(self, mapping: Mapping[str, str]) -> dict[str, Any]:
        """`{old: new}`: the record moves whole (health, profile, created_at); one result per pair."""
        targets: set[str] = set()
        results = []
        for old, new in mapping.items():
            results.append(self._rename_one(old, new, targets))
        if any(r.outcome == "renamed" for r in results):
            self._on_change()
        return batch_answer("alias set", results)

    def _rename_one(self, old: str, new: str, targets: set[str]) -> ItemResult:
        if not is_valid_alias(new):
            return ItemResult(old, "invalid", f"'{new}' is not a valid alias (1-64 of [A-Za-z0-9_.@+-])")
        if new in targets:
            return ItemResult(old, "duplicate", f"'{new}' is the new alias of another token in this request")
        if old == new:
            return ItemResult(old, "unchanged", "the alias is already that")
        for _ in range(_CAS_ATTEMPTS):
            record = self.store.get(old)
            if record is None:
                return ItemResult(old, "not_found", f"no token has the alias '{old}'")
            try:
                self.store.rename(record, new)
            except DuplicateAlias:
                return ItemResult(old, "duplicate", f"alias '{new}' is already taken")
            except VersionConflict:
                continue  # written meanwhile: read it again and move the newer record
            except NotFound:
                return ItemResult(old, "not_found", f"no token has the alias '{old}'")
            targets.add(new)
            log.info("token %s renamed to %s", old, new)
            return ItemResult(new, "renamed", f"'{old}' is now '{new}'")
        return ItemResult(old, "failed", "the token kept changing while it was renamed; retry")

    # -- POST /tokens/status/set, /tokens/proxy/set, /tokens/timezone/set --

    def set_status(self, aliases: Sequence[str], status: TokenStatus) -> dict[str, Any]:
        """Enabling a token also lifts a health `disabled` (the admin's word after fixing the account beats
        the automatic verdict); cooldowns are left to run out."""

        def change(record: TokenRecord) -> tuple[dict[str, Any], str]:
            changes: dict[str, Any] = {"status": status}
            detail: str = status
            if status == "enabled" and record.health.state == "disabled":
                changes["health"] = TokenHealth()
                detail += f"; health reset (was disabled: {record.health.reason or 'no reason'})"
            return changes, detail

        return batch_answer("status set", self._edit_each(aliases, change))

    def set_proxy(self, aliases: Sequence[str], proxy: str | None) -> dict[str, Any]:
        name = (proxy or "").strip()
        if len(name) > _MAX_PROXY_NAME or any(ord(c) < 32 for c in name):
            raise InvalidRequest("proxy must be a proxy name (at most 128 printable characters) or null")
        known = self._proxy_names()
        if name and known is not None and name not in known:
            raise InvalidRequest(
                f"Unknown proxy '{name}': use a name of POST /proxies/get, 'non' or 'sys' "
                "(add a proxy with POST /proxies/add first)",
                param="proxy",
            )
        detail = f"proxy {name}" if name else "proxy cleared (general proxy)"
        return batch_answer("proxy set", self._edit_each(aliases, lambda _r: ({"proxy": name}, detail)))

    def set_timezone(self, aliases: Sequence[str], timezone: str | None) -> dict[str, Any]:
        name = (timezone or "").strip()
        if name and not is_valid_timezone(name):
            raise InvalidRequest(
                f"'{name}' is not an IANA time zone name (e.g. Europe/Paris, Asia/Tokyo, UTC)",
                param="timezone",
            )
        detail = f"timezone {name}" if name else "timezone cleared (CURSOR_TIMEZONE)"
        return batch_answer("timezone set", self._edit_each(aliases, lambda _r: ({"timezone": name}, detail)))

    def set_gcpp_host(self, aliases: Sequence[str], gcpp_host: str | None) -> dict[str, Any]:
        """The Tab region of each token (Asia, EU, US or a host name); null/"" falls back to
        GENERAL_GCPP_HOST."""
        value = normalize_gcpp_host(gcpp_host) if gcpp_host and gcpp_host.strip() else ""
        detail = f"gcpp_host {value}" if value else "gcpp_host cleared (GENERAL_GCPP_HOST)"
        return batch_answer(
            "gcpp_host set", self._edit_each(aliases, lambda _r: ({"gcpp_host": value}, detail))
        )

    def set_protocol(self, aliases: Sequence[str], protocol: str | None) -> dict[str, Any]:
        """The token's own protocol profile (agent, inference, legacy); null follows the runtime config."""
        name = (protocol or "").strip()
        if name and name not in PROFILES:
            raise InvalidRequest(f"protocol must be one of {', '.join(PROFILES)} or null", param="protocol")
        detail = f"protocol {name}" if name else "protocol cleared (runtime config)"
        change = lambda _r: ({"cursor_protocol": name}, detail)  # noqa: E731
        return batch_answer("protocol set", self._edit_each(aliases, change))

    def _edit_each(
        self, aliases: Sequence[str], change: Callable[[TokenRecord], tuple[dict[str, Any], str]]
    ) -> list[ItemResult]:
        results = [self._edit(alias, change) for alias in unique(aliases)]
        if any(r.outcome == "updated" for r in results):
            self._on_change()
        return results

    def _edit(self, alias: str, change: Callable[[TokenRecord], tuple[dict[str, Any], str]]) -> ItemResult:
        """Compare-and-set the fields `change` computes from the current record (retried on conflict)."""
        for _ in range(_CAS_ATTEMPTS):
            record = self.store.get(alias)
            if record is None:
                return ItemResult(alias, "not_found", f"no token has the alias '{alias}'")
            changes, detail = change(record)
            if all(getattr(record, name) == value for name, value in changes.items()):
                return ItemResult(alias, "unchanged", detail)
            try:
                self.store.update_fields(alias, changes, expected_version=record.version)
            except VersionConflict:
                continue
            except NotFound:
                return ItemResult(alias, "not_found", f"no token has the alias '{alias}'")
            return ItemResult(alias, "updated", detail)
        return ItemResult(alias, "failed", "the token kept changing; retry")
