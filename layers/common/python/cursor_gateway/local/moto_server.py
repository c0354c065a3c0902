"""An in-process moto server whose WSGI app we can wrap.

It is `moto.server.ThreadedMotoServer` with two differences, both needed for the local stack to behave
like AWS, and neither possible through ThreadedMotoServer, which builds its WSGI app internally:

- DynamoDB writes are serialized. In AWS a conditional write is atomic; moto evaluates the condition
  and applies the write in two steps without a lock, so two threads can both pass a version check
  (measured with ThreadedMotoServer: 8 threads x 5 compare-and-set increments kept 38-39 of 40).
  Item reads are made atomic too, with a second, inner lock around moto itself (taken by reads and
  writes): moto applies an UpdateItem's SET actions one at a time, so a GetItem in between could see the
  new version with the old other attributes, a torn read AWS never gives (a compare-and-set on it then
  loses an update: seen as 23 of 24 increments, about 1 run in 6). Inner, because the `wrap` hook reads
  tables (through this server) while the outer write lock is held.
- a `wrap` hook sees every request (`local.state` saves state after writes).

It also makes TransactWriteItems cost what its items cost, not what the table holds
(`moto_tables.install_item_rollback`; moto copies whole tables to be able to roll back), and simple
counter updates and partition queries cost what they touch (`moto_fast_paths`), and keeps connections
alive (`moto_keepalive`).

Server mode, not `mock_aws`, because in-process moto is not thread-safe under concurrent writes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from cursor_gateway.local.moto_fast_paths import install_fast_paths
from cursor_gateway.local.moto_keepalive import KeepAliveHandler, cache_moto_modules
from cursor_gateway.local.moto_tables import install_item_rollback

DYNAMODB_WRITES = frozenset(
    {
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "ExecuteStatement",
        "BatchExecuteStatement",
        "ExecuteTransaction",
    }
)


DYNAMODB_READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})


def _dynamodb_operation(environ: dict[str, Any]) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    return target.partition(".")[2] if target.startswith("DynamoDB_") else ""


def dynamodb_write(environ: dict[str, Any]) -> str:
    """The DynamoDB operation name if this request is a DynamoDB write, else ""."""
    operation = _dynamodb_operation(environ)
    return operation if operation in DYNAMODB_WRITES else ""


def serialize_dynamodb_writes(app: Any) -> Any:
    return _serialized(app, lambda environ: bool(dynamodb_write(environ)))


def atomic_dynamodb_items(app: Any) -> Any:
    """Reads and writes one at a time inside moto (no torn reads)."""
    return _serialized(
        app, lambda environ: bool(dynamodb_write(environ)) or _dynamodb_operation(environ) in DYNAMODB_READS
    )


def _serialized(app: Any, locked: Callable[[dict[str, Any]], bool]) -> Any:
    lock = threading.Lock()

    def serialized(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not locked(environ):
            answer: Iterable[bytes] = app(environ, start_response)
            return answer
        with lock:
            # Drain the body inside the lock: moto may do its work lazily while the body is iterated.
            result = app(environ, start_response)
            try:
                return list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

    return serialized


class EmbeddedMoto:
    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, wrap: Callable[[Any], Any] | None = None
    ) -> None:
        self.host = host
        self.port = port
        self._wrap = wrap
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("moto is not running")
        return f"http://{self.host}:{self._server.server_port}"

    def start(self) -> str:
        # werkzeug logs one line per request; that is moto noise in the gateway's console.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        install_item_rollback()
        install_fast_paths()
        cache_moto_modules()
        app: Any = atomic_dynamodb_items(DomainDispatcherApplication(create_backend_app))
        if self._wrap is not None:
            app = self._wrap(app)
        app = serialize_dynamodb_writes(app)  # outermost: a write and the state saved after it are one step
        # Port 0 picks a free port; binding happens here, so the port is known and held before start.
        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=KeepAliveHandler)
        server = self._server
        # A short poll interval makes stop() quick (shutdown waits for the serving loop to notice).
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05), name="moto", daemon=True
        )
        self._thread.start()
        return self.endpoint

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None
