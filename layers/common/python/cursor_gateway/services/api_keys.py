"""The gateway's own API keys: the admin bearer (AUTH_TOKEN) and the optional shared one (SHARED_TOKEN).

Locally they are settings. In AWS the template names SSM parameters instead (AUTH_TOKEN_PARAM,
SHARED_TOKEN_PARAM; `{{resolve:ssm-secure}}` cannot be used in Lambda environment variables), read on
first use and cached for SECRETS_CACHE_SECONDS (`storage.secrets.SecretReader`), so a cold start that
serves no authenticated request never calls SSM, and a rotated key applies within the cache time.
A value set directly wins over a parameter name.

Failing closed: an admin key that cannot be read is a 503 (`StorageUnavailable`), never "no key". The
shared key is optional, so a parameter that does not exist (or cannot be read) means no shared key;
that answer is cached like a value, so a missing parameter does not cost an SSM call per request.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from cursor_gateway.settings import Settings
from cursor_gateway.storage.secrets import SecretReader
from cursor_gateway.storage.tokens import StorageUnavailable

log = logging.getLogger("cursor_gateway.api_keys")


class ApiKeys:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
        ssm: Any = None,
        secretsmanager: Any = None,
    ) -> None:
        self._ttl = settings.secrets_cache_seconds
        self._clock = clock

        def reader(value: str, param: str) -> SecretReader:
            return SecretReader(
                value,
                "" if value else param,
                ttl=self._ttl,
                clock=clock,
                ssm=ssm,
                secretsmanager=secretsmanager,
            )

        self._admin = reader(settings.auth_token, settings.auth_token_param)
        self._shared = reader(settings.shared_token, settings.shared_token_param)
        self._shared_absent_until = 0.0
        self._lock = threading.Lock()

    def admin(self) -> str:
        """The admin key, "" if none is configured; `StorageUnavailable` if it cannot be read."""
        return self._admin()

    async def admin_async(self) -> str:
        """`admin()` for async callers: a key kept in AWS is read in a worker thread (the read may be a
        network call); a key set directly is returned at once, with no thread hop."""
        if not self._admin.param:
            return self._admin.value
        return await asyncio.to_thread(self.admin)

    async def shared_async(self) -> str:
        if not self._shared.param:
            return self._shared.value
        return await asyncio.to_thread(self.shared)

    def shared(self) -> str:
        """The shared key, "" if none is configured or its parameter cannot be read."""
        with self._lock:
            if self._clock() < self._shared_absent_until:
                return ""
        try:
            return self._shared()
        except StorageUnavailable as exc:
            log.warning("no shared token: %s", exc.message)
            with self._lock:
                self._shared_absent_until = self._clock() + self._ttl
            return ""
