"""`Services`: every collaborator a route needs, built once per process (`api.app.services_of`).

Building does no I/O: boto3 and httpx clients are created on first use, so a cold start that serves
`/health` never pays for them. Tests pass their own store, exchanger or clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from cursor_gateway.services.analytics import AnalyticsService, build_analytics_service
from cursor_gateway.services.canary import CanaryService
from cursor_gateway.services.catalog import ModelCatalog, build_catalog
from cursor_gateway.services.chat import ChatService, build_chat_service
from cursor_gateway.services.config import ConfigService
from cursor_gateway.services.images import ImageService, build_image_service
from cursor_gateway.services.keys import KeyService
from cursor_gateway.services.proxies import ProxyService
from cursor_gateway.services.token_accounts import TokenAccountService
from cursor_gateway.services.token_pool import Exchanger, Refresher, TokenPool
from cursor_gateway.services.tokens import TokenAdminService
from cursor_gateway.settings import Settings
from cursor_gateway.storage.canary import CanaryStore, DynamoCanaryStore
from cursor_gateway.storage.config import ConfigStore, DynamoConfigStore
from cursor_gateway.storage.keys import DynamoKeyStore, KeyStore
from cursor_gateway.storage.proxies import DynamoProxyStore, ProxyStore
from cursor_gateway.storage.tokens import DynamoTokenStore, TokenStore

# Uptime counts from when this process loaded the app, not from its first request (services are lazy).
_PROCESS_STARTED = time.time()


@dataclass
class Services:
    settings: Settings
    token_store: TokenStore
    token_pool: TokenPool
    tokens: TokenAdminService
    # /tokens/refresh, /tokens/profile/update, /tokens/config-version/update (they ask Cursor).
    token_accounts: TokenAccountService
    config: ConfigService
    # Proxy names -> transport arguments (`proxies.resolve`) and the /proxies/* admin routes.
    proxies: ProxyService
    # Gateway keys: /build-key, /keys, /keys/revoke, /config-version and the chat path's key check.
    keys: KeyService
    chat: ChatService
    catalog: ModelCatalog
    canary: CanaryService
    images: ImageService
    analytics: AnalyticsService
    started_at: float = _PROCESS_STARTED


def build_services(
    settings: Settings,
    *,
    token_store: TokenStore | None = None,
    config_store: ConfigStore | None = None,
    proxy_store: ProxyStore | None = None,
    key_store: KeyStore | None = None,
    canary_store: CanaryStore | None = None,
    exchanger: Exchanger | None = None,
    refresher: Refresher | None = None,
    analytics: AnalyticsService | None = None,
    clock: Callable[[], float] = time.time,
) -> Services:
    """Every collaborator, wired; none of them does I/O until first used."""
    store = token_store if token_store is not None else DynamoTokenStore(settings.tokens_table, clock=clock)
    if exchanger is None:
        from cursor_gateway.upstream.key_exchange import KeyExchanger

        exchanger = KeyExchanger(settings)
    if refresher is None:
        from cursor_gateway.upstream.session_refresh import SessionRefresher

        refresher = SessionRefresher(settings)
    pool = TokenPool(store, settings, exchanger, clock=clock, refresher=refresher)
    config = ConfigService(
        config_store if config_store is not None else DynamoConfigStore(settings.config_table), settings
    )
    canary_store = canary_store if canary_store is not None else DynamoCanaryStore(settings.canary_table)
    proxies = ProxyService(
        proxy_store if proxy_store is not None else DynamoProxyStore(settings.config_table), settings
    )
    chat = build_chat_service(settings, pool, config, proxies.resolve)
    keys = KeyService(
        key_store if key_store is not None else DynamoKeyStore(settings.keys_table),
        settings,
        tokens=TokenAdminService(store, clock=clock, on_change=pool.invalidate, proxies=proxies),
        token_store=store,
        proxies=proxies,
        clock=clock,
    )
    return Services(
        settings=settings,
        token_store=store,
        token_pool=pool,
        tokens=TokenAdminService(store, clock=clock, on_change=pool.invalidate, proxies=proxies),
        token_accounts=TokenAccountService(store, pool, settings, clock=clock, proxies=proxies),
        config=config,
        proxies=proxies,
        keys=keys,
        chat=chat,
        catalog=build_catalog(settings, pool, config, proxies.resolve),
        canary=CanaryService(settings, pool, chat, canary_store, clock=clock),
        images=build_image_service(settings),
        analytics=analytics if analytics is not None else build_analytics_service(settings, clock=clock),
        started_at=_PROCESS_STARTED if clock is time.time else clock(),
    )
