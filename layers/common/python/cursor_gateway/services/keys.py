"""Gateway keys as a use case: build (`/build-key`), list, revoke, and check a key on the chat path.

- `build` binds the key to a token: the request's `token` is added to the pool through the token admin
  service when new (same parsing and per-token diagnostics as `/tokens/add`), or found when already
  there; or an existing token is named by `alias`; or neither (the key uses the whole pool).
- `authenticate` (chat path): a checked key is cached per process for KEYS_CACHE_SECONDS, so most
  requests cost no store read; a revocation applies at once on the instance that made it and within that
  time elsewhere. `last_used_at` is written at most once per KEY_LAST_USED_SECONDS per key (a conditional
  write, so several instances do not all write it), never on every request.
- `dynamic` reads the reference's `sk-` keys (domain.dynamic_keys) when `enable_dynamic_key` is on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anyio

from cursor_gateway.domain.dynamic_keys import DynamicKey, DynamicKeyError, decode_key
from cursor_gateway.domain.keys import GatewayKey, key_settings, new_key, parse_key, secret_matches
from cursor_gateway.domain.proxies import is_proxy_value
from cursor_gateway.domain.tokens import (
    ImportProblem,
    derive_checksum,
    derive_client_key,
    derive_session_id,
    is_hex64,
    is_uuid,
    is_valid_timezone,
    parse_checksum,
    parse_token_input,
)
from cursor_gateway.errors import AuthenticationFailed, InvalidRequest
from cursor_gateway.settings import Settings
from cursor_gateway.storage.keys import KeyStore
from cursor_gateway.storage.tokens import TokenStore
from cursor_gateway.upstream import account_info
from cursor_gateway.upstream.identity import MachineIds

log = logging.getLogger("cursor_gateway.services.keys")
audit = logging.getLogger("cursor_gateway.audit")

# Body fields of /build-key that describe the token (passed to /tokens/add when the token is new).
_TOKEN_FIELDS = ("checksum", "client_key", "session_id", "config_version", "timezone", "gcpp_host")


class KeyService:
    def __init__(
        self,
        store: KeyStore,
        settings: Settings,
        *,
        tokens: Any,
        token_store: TokenStore,
        proxies: Any,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.settings = settings
        self.tokens = tokens
        self.token_store = token_store
        self.proxies = proxies
        self.clock = clock
        self.monotonic = monotonic
        self._lock = threading.Lock()
        # id -> (monotonic time read, the key or None when it does not exist)
        self._cache: dict[str, tuple[float, GatewayKey | None]] = {}
        self._touched: dict[str, float] = {}

    # -- POST /build-key --

    def build(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        settings = key_settings(payload)
        proxy = settings.get("proxy_name")
        if proxy and proxy not in self.proxies.current().proxies and not is_proxy_value(proxy):
            raise InvalidRequest(f"Proxy '{proxy}' does not exist (see /proxies/get)", param="proxy_name")
        name = payload.get("name") or ""
        if not isinstance(name, str) or len(name) > 100:
            raise InvalidRequest("name must be a string of at most 100 characters", param="name")
        alias = self._bound_token(payload, settings)
        key, key_id, secret_hash = new_key()
        record = GatewayKey(
            id=key_id,
            secret_hash=secret_hash,
            token_alias=alias,
            settings=settings,
            name=name,
            created_at=self.clock(),
        )
        self.store.put_new(record)
        audit.info("gateway key %s built (token %s)", key_id, alias or "pool")
        return {"status": "success", "keys": [key], "id": key_id, "token_alias": alias or None}

    def _bound_token(self, payload: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
        token = payload.get("token")
        alias = payload.get("alias")
        if token and alias:
            raise InvalidRequest("Send either token (a credential) or alias (a token of the pool), not both")
        if alias:
            if not isinstance(alias, str) or self.token_store.get(alias) is None:
                raise InvalidRequest(f"No token with alias '{alias}' in the pool", param="alias")
            return alias
        if not token:
            return ""
        item: dict[str, Any] = {"token": token}
        item.update({k: payload[k] for k in _TOKEN_FIELDS if payload.get(k)})
        if settings.get("proxy_name"):
            item["proxy"] = settings["proxy_name"]
        result = self.tokens.add({"tokens": [item]})["results"][0]
        if result["outcome"] in ("added", "duplicate") and result.get("alias"):
            return str(result["alias"])
        raise InvalidRequest(f"token: {result['outcome']}: {result['detail']}", param="token")

    # -- GET /keys, POST /keys/revoke --

    def list(self) -> dict[str, Any]:
        keys = self.store.list()
        return {"status": "success", "keys": [k.public_json() for k in keys], "keys_count": len(keys)}

    def revoke(self, ids: Sequence[str]) -> dict[str, Any]:
        now = self.clock()
        revoked: list[str] = []
        failed: list[str] = []
        for key_id in dict.fromkeys(ids):
            (revoked if self.store.revoke(key_id, now) else failed).append(key_id)
            with self._lock:
                self._cache.pop(key_id, None)
        if revoked:
            audit.info("gateway keys revoked: %s", ", ".join(revoked))
        return {
            "status": "success",
            "revoked": revoked,
            "failed_ids": failed,
            "message": f"{len(revoked)} revoked, {len(failed)} not found",
        }

    # -- POST /config-version --

    async def config_version(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Ask Cursor (GetServerConfig) for a config version with this token and machine ids; nothing is
        stored (`/tokens/config-version/update` stores one for a token of the pool)."""
        parsed = parse_token_input(str(payload.get("token") or ""), self.clock())
        if isinstance(parsed, ImportProblem):
            raise InvalidRequest(f"token: {parsed.outcome}: {parsed.detail}", param="token")
        if parsed.kind != "session":
            raise InvalidRequest(
                "token must be a session JWT (a crsr_ key has no config version)", param="token"
            )
        checksum = derive_checksum(parsed.token)
        if payload.get("checksum"):
            given = parse_checksum(payload["checksum"])
            if given is None:
                raise InvalidRequest("checksum must be {first, second} (64 hex each)", param="checksum")
            checksum = given
        client_key = str(payload.get("client_key") or "") or derive_client_key(parsed.token)
        session_id = str(payload.get("session_id") or "") or derive_session_id(parsed.token)
        timezone = str(payload.get("timezone") or "")
        if not is_hex64(client_key):
            raise InvalidRequest("client_key must be 64 hex characters", param="client_key")
        if not is_uuid(session_id):
            raise InvalidRequest("session_id must be a UUID", param="session_id")
        if timezone and not is_valid_timezone(timezone):
            raise InvalidRequest("timezone must be an IANA zone name", param="timezone")
        machine = MachineIds(
            machine_id=checksum[0],
            mac_machine_id=checksum[1],
            client_key=client_key.lower(),
            session_id=session_id,
        )
        version = await account_info.fetch_config_version(
            self.settings, parsed.token, machine, timezone=timezone, now=self.clock()
        )
        return {"config_version": version}

    # -- the chat path --

    async def authenticate(self, key: str) -> GatewayKey:
        """The stored key for a `cgk_` credential, or AuthenticationFailed (unknown, wrong secret,
        revoked). Store calls run in a worker thread; a cached key costs none."""
        parsed = parse_key(key)
        if parsed is None:
            raise AuthenticationFailed("Invalid API key")
        key_id, secret = parsed
        now = self.monotonic()
        with self._lock:
            cached = self._cache.get(key_id)
        if cached is None or now - cached[0] >= self.settings.keys_cache_seconds:
            stored = await anyio.to_thread.run_sync(self.store.get, key_id)
            with self._lock:
                self._cache[key_id] = (now, stored)
        else:
            stored = cached[1]
        if stored is None or not secret_matches(secret, stored.secret_hash):
            raise AuthenticationFailed("Invalid API key")
        if stored.revoked:
            raise AuthenticationFailed("This API key was revoked")
        await self._note_use(stored)
        return stored

    async def _note_use(self, key: GatewayKey) -> None:
        interval = self.settings.key_last_used_seconds
        wall = self.clock()
        with self._lock:
            last = max(key.last_used_at, self._touched.get(key.id, 0.0))
            if wall - last < interval:
                return
            self._touched[key.id] = wall  # claim it first: concurrent requests here do not all write
        try:
            await anyio.to_thread.run_sync(self.store.touch, key.id, wall, interval)
        except Exception as exc:  # bookkeeping must never refuse a valid key
            log.warning("could not record the use of key %s: %s", key.id, exc)

    def dynamic(self, key: str) -> DynamicKey:
        try:
            return decode_key(key, self.settings.key_prefix, self.clock())
        except DynamicKeyError as exc:
            raise AuthenticationFailed(f"Invalid dynamic key: {exc}") from None


def build_key_service(
    settings: Settings, *, tokens: Any, token_store: TokenStore, proxies: Any
) -> KeyService:
    from cursor_gateway.storage.keys import DynamoKeyStore

    return KeyService(
        DynamoKeyStore(settings.keys_table), settings, tokens=tokens, token_store=token_store, proxies=proxies
    )
