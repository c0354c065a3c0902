"""Process-cached boto3 clients, built on first use so importing a handler does no I/O.

boto3 reads `AWS_ENDPOINT_URL` (and the per-service `AWS_ENDPOINT_URL_<SERVICE>`) itself, which is how
the local stack points everything at its embedded moto. The cache key includes the endpoint and the
region so a test (or the local stack) that changes them gets a new client instead of a stale one.
"""

from __future__ import annotations

import os
import threading
from typing import Any

DEFAULT_REGION = "us-east-1"
# DynamoDB refuses a string partition key that is empty or over 2048 bytes of UTF-8 (ValidationException).
MAX_KEY_BYTES = 2048


def key_can_exist(value: str) -> bool:
    """Whether an item could be stored under this key: a lookup by any other key (an empty alias, an id
    of 70 KB, sent by a client) is "not found", never a storage error answered 503."""
    return 0 < len(value.encode("utf-8", "surrogatepass")) <= MAX_KEY_BYTES


_lock = threading.Lock()
_clients: dict[tuple[str, str, str], Any] = {}


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def client(service: str) -> Any:
    """A low-level boto3 client for `service`, shared by the whole process (clients are thread-safe;
    sessions are not, so each client gets its own session, created under a lock)."""
    key = (service, region(), os.environ.get("AWS_ENDPOINT_URL", ""))
    cached = _clients.get(key)
    if cached is not None:
        return cached
    with _lock:
        cached = _clients.get(key)
        if cached is None:
            import boto3  # deferred: a cold start that never touches AWS does not pay for it
            from botocore.config import Config

            config = Config(
                retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=10
            )
            cached = boto3.session.Session().client(service, region_name=key[1], config=config)
            _clients[key] = cached
        return cached


def reset_clients() -> None:
    """Forget cached clients (tests that switch endpoints or credentials)."""
    with _lock:
        _clients.clear()
