"""Use cases that combine stores, the upstream and adapters: chat, catalog, the token pool."""
