"""`Services`: every collaborator a route needs, built once per process (`api.app.services_of`).

Building does no I/O: boto3 and httpx clients are created on first use, so a cold start that serves
`/health` never pays for them. Tests pass their own store, exchanger or clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cursor_gateway.services.token_pool import Exchanger, TokenPool
from cursor_gateway.services.tokens import TokenAdminService
from cursor_gateway.settings import Settings
from cursor_gateway.storage.tokens import DynamoTokenStore, TokenStore

# Uptime counts from when this process loaded the app, not from its first request (services are lazy).
_PROCESS_STARTED = time.time()


@dataclass
class Services:
    settings: Settings
    token_store: TokenStore
    token_pool: TokenPool
    tokens: TokenAdminService
    started_at: float = _PROCESS_STARTED
    chat: Any = None
    catalog: Any = None


def build_services(
    settings: Settings,
    *,
    token_store: TokenStore | None = None,
    exchanger: Exchanger | None = None,
    clock: Callable[[], float] = time.time,
) -> Services:
    store = token_store if token_store is not None else DynamoTokenStore(settings.tokens_table, clock=clock)
    if exchanger is None:
        from cursor_gateway.upstream.key_exchange import KeyExchanger

        exchanger = KeyExchanger(settings)
    pool = TokenPool(store, settings, exchanger, clock=clock)
    services = Services(
        settings=settings,
        token_store=store,
        token_pool=pool,
        tokens=TokenAdminService(store, clock=clock),
        started_at=_PROCESS_STARTED if clock is time.time else clock(),
    )
    # The chat path is being written in parallel; these ImportError guards go away with it.
    try:
        from cursor_gateway.services.chat import build_chat_service
    except ImportError:
        pass
    else:
        services.chat = build_chat_service(settings, pool)
    try:
        from cursor_gateway.services.catalog import build_catalog
    except ImportError:
        pass
    else:
        services.catalog = build_catalog(settings, pool)
    return services
