"""`Services`: every collaborator a route needs, built once per process (`api.deps.services_of`).

Each collaborator is built, and its modules imported, the first time something asks for it: a
function that serves /health never imports the chat path, the analytics puller or the key service,
which keeps cold starts short. Building does no I/O either (boto3 and httpx clients come on first
call). Tests pass their own stores, exchanger, refresher, analytics service or clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from cursor_gateway.settings import Settings

if TYPE_CHECKING:
    from cursor_gateway.services.analytics import AnalyticsService
    from cursor_gateway.services.canary import CanaryService
    from cursor_gateway.services.catalog import ModelCatalog
    from cursor_gateway.services.chat import ChatService
    from cursor_gateway.services.config import ConfigService
    from cursor_gateway.services.images import ImageService
    from cursor_gateway.services.keys import KeyService
    from cursor_gateway.services.log_reader import LogReader
    from cursor_gateway.services.proxies import ProxyService
    from cursor_gateway.services.request_log import RequestRecorder
    from cursor_gateway.services.responses import ResponseService
    from cursor_gateway.services.tab import TabService
    from cursor_gateway.services.token_accounts import TokenAccountService
    from cursor_gateway.services.token_pool import Exchanger, Refresher, TokenPool
    from cursor_gateway.services.tokens import TokenAdminService
    from cursor_gateway.services.usage_stats import UsageStatsService
    from cursor_gateway.services.version_discovery import VersionDiscovery
    from cursor_gateway.storage.canary import CanaryStore
    from cursor_gateway.storage.config import ConfigStore
    from cursor_gateway.storage.keys import KeyStore
    from cursor_gateway.storage.proxies import ProxyStore
    from cursor_gateway.storage.request_logs import RequestLogStore
    from cursor_gateway.storage.responses import ResponseStore
    from cursor_gateway.storage.tokens import TokenStore

# Uptime counts from when this process loaded the app, not from its first request (services are lazy).
_PROCESS_STARTED = time.time()


class Services:
    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time, **given: Any) -> None:
        self.settings = settings
        self.clock = clock
        self._given = given
        self.started_at = _PROCESS_STARTED if clock is time.time else clock()

    def _supplied(self, name: str) -> Any:
        return self._given.get(name)

    # -- stores -------------------------------------------------------------------------------------------

    @cached_property
    def token_store(self) -> TokenStore:
        from cursor_gateway.storage.tokens_dynamo import DynamoTokenStore

        store: TokenStore = self._supplied("token_store") or DynamoTokenStore(
            self.settings.tokens_table, clock=self.clock
        )
        return store

    # -- the account pool ---------------------------------------------------------------------------------

    @cached_property
    def token_pool(self) -> TokenPool:
        from cursor_gateway.services.token_pool import TokenPool

        exchanger: Exchanger | None = self._supplied("exchanger")
        if exchanger is None:
            from cursor_gateway.upstream.key_exchange import KeyExchanger

            exchanger = KeyExchanger(self.settings)
        refresher: Refresher | None = self._supplied("refresher")
        if refresher is None:
            from cursor_gateway.upstream.session_refresh import SessionRefresher

            refresher = SessionRefresher(self.settings)
        return TokenPool(self.token_store, self.settings, exchanger, clock=self.clock, refresher=refresher)

    @cached_property
    def tokens(self) -> TokenAdminService:
        """The /tokens/* admin use cases."""
        from cursor_gateway.services.tokens import TokenAdminService

        return TokenAdminService(
            self.token_store, clock=self.clock, on_change=self.token_pool.invalidate, proxies=self.proxies
        )

    @cached_property
    def token_accounts(self) -> TokenAccountService:
        """/tokens/refresh, /tokens/profile/update, /tokens/config-version/update (they ask Cursor)."""
        from cursor_gateway.services.token_accounts import TokenAccountService

        return TokenAccountService(
            self.token_store, self.token_pool, self.settings, clock=self.clock, proxies=self.proxies
        )

    # -- runtime config, proxies, keys --------------------------------------------------------------------

    @cached_property
    def config(self) -> ConfigService:
        from cursor_gateway.services.config import ConfigService
        from cursor_gateway.storage.config import DynamoConfigStore

        store: ConfigStore = self._supplied("config_store") or DynamoConfigStore(self.settings.config_table)
        service = ConfigService(store, self.settings)
        service.discovery = self.version_discovery
        return service

    @cached_property
    def version_discovery(self) -> VersionDiscovery:
        """The CLI build id from Cursor's installer (off when a version is pinned); shared via the canary
        table. Tests pass `version_fetch` (a local server) instead of the network."""
        from cursor_gateway.services.version_discovery import VersionDiscovery
        from cursor_gateway.storage.canary import DynamoCanaryStore

        store: CanaryStore = self._supplied("canary_store") or DynamoCanaryStore(self.settings.canary_table)
        fetch = self._supplied("version_fetch")
        return VersionDiscovery(self.settings, store, fetch=fetch, clock=self.clock)

    @cached_property
    def proxies(self) -> ProxyService:
        """Proxy names -> transport arguments (`proxies.resolve`) and the /proxies/* admin routes."""
        from cursor_gateway.services.proxies import ProxyService
        from cursor_gateway.storage.proxies import DynamoProxyStore

        store: ProxyStore = self._supplied("proxy_store") or DynamoProxyStore(self.settings.config_table)
        return ProxyService(store, self.settings)

    @cached_property
    def keys(self) -> KeyService:
        """Gateway keys: /build-key, /keys, /keys/revoke, /config-version and the chat path's key check."""
        from cursor_gateway.services.keys import KeyService
        from cursor_gateway.services.tokens import TokenAdminService
        from cursor_gateway.storage.keys import DynamoKeyStore

        store: KeyStore = self._supplied("key_store") or DynamoKeyStore(self.settings.keys_table)
        tokens = TokenAdminService(
            self.token_store, clock=self.clock, on_change=self.token_pool.invalidate, proxies=self.proxies
        )
        return KeyService(
            store,
            self.settings,
            tokens=tokens,
            token_store=self.token_store,
            proxies=self.proxies,
            clock=self.clock,
        )

    # -- chat -----------------------------------------------------------------------------------------------

    @cached_property
    def chat(self) -> ChatService:
        from cursor_gateway.services.chat import build_chat_service

        return build_chat_service(self.settings, self.token_pool, self.config, self.proxies.resolve)

    @cached_property
    def tab(self) -> TabService:
        """Copilot++ (/cpp/*, /file/*): the pool's tokens on Cursor's Tab RPCs (no chat profiles built)."""
        from cursor_gateway.services.tab import build_tab_service

        return build_tab_service(self.settings, self.token_pool, self.config, self.proxies.resolve)

    @cached_property
    def catalog(self) -> ModelCatalog:
        from cursor_gateway.services.catalog import build_catalog

        return build_catalog(self.settings, self.token_pool, self.config, self.proxies.resolve)

    @cached_property
    def images(self) -> ImageService:
        from cursor_gateway.services.images import build_image_service

        return build_image_service(self.settings)

    @cached_property
    def canary(self) -> CanaryService:
        from cursor_gateway.services.canary import CanaryService
        from cursor_gateway.storage.canary import DynamoCanaryStore

        store: CanaryStore = self._supplied("canary_store") or DynamoCanaryStore(self.settings.canary_table)
        return CanaryService(self.settings, self.token_pool, self.chat, store, clock=self.clock)

    @cached_property
    def responses(self) -> ResponseService:
        """Stored /v1/responses answers (previous_response_id, GET/DELETE /v1/responses/{id})."""
        from cursor_gateway.services.responses import ResponseService
        from cursor_gateway.storage.responses import DynamoResponseStore

        store: ResponseStore = self._supplied("response_store") or DynamoResponseStore(
            self.settings.responses_table
        )
        return ResponseService(store, self.settings, clock=self.clock)

    @cached_property
    def analytics(self) -> AnalyticsService:
        supplied: AnalyticsService | None = self._supplied("analytics")
        if supplied is not None:
            return supplied
        from cursor_gateway.services.analytics import build_analytics_service

        return build_analytics_service(self.settings, clock=self.clock)

    # -- request logs and usage statistics (issue 11) -----------------------------------------------------

    @cached_property
    def request_log_store(self) -> RequestLogStore:
        from cursor_gateway.storage.request_logs import DynamoRequestLogStore

        store: RequestLogStore = self._supplied("request_log_store") or DynamoRequestLogStore(
            self.settings.request_logs_table,
            self.settings.usage_stats_table,
            self.settings.log_bodies_bucket,
            shards=self.settings.log_shards,
        )
        return store

    @cached_property
    def request_log(self) -> RequestRecorder:
        """The recorder every chat-like route reports to (services/request_log.py)."""
        from cursor_gateway.services.request_log import RequestRecorder

        return RequestRecorder(self.request_log_store, self.settings, clock=self.clock)

    @cached_property
    def log_reader(self) -> LogReader:
        from cursor_gateway.services.log_reader import LogReader

        return LogReader(self.request_log_store, self.settings, clock=self.clock)

    @cached_property
    def usage_stats(self) -> UsageStatsService:
        from cursor_gateway.services.usage_stats import UsageStatsService

        return UsageStatsService(self.request_log_store, self.settings, clock=self.clock)


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
    response_store: ResponseStore | None = None,
    clock: Callable[[], float] = time.time,
    version_fetch: Callable[[str, float], Any] | None = None,
    request_log_store: RequestLogStore | None = None,
) -> Services:
    """Every collaborator, wired lazily; none of them is built (or does I/O) until first used."""
    given = {
        "token_store": token_store,
        "config_store": config_store,
        "proxy_store": proxy_store,
        "key_store": key_store,
        "canary_store": canary_store,
        "exchanger": exchanger,
        "refresher": refresher,
        "analytics": analytics,
        "version_fetch": version_fetch,
        "request_log_store": request_log_store,
        "response_store": response_store,
    }
    return Services(settings, clock=clock, **{k: v for k, v in given.items() if v is not None})
