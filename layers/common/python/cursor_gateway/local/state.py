"""Local state that survives restarts: what each write changed, saved to DATA_DIR before it is answered.

moto keeps everything in memory. `wrap` sees every request to the embedded moto; after a successful
DynamoDB write (PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems) it reads back the
items that request named and stores just those rows (or deletes them) in `state_store`, in one SQLite
transaction, before the response goes back. An S3 PUT, POST or DELETE does the same for the objects it
names. So a write's cost does not depend on how much is stored, a write the client saw succeed is on
disk (a `kill -9` loses nothing acknowledged), and a transaction is saved whole or not at all. DynamoDB
writes are serialized (`moto_server`), so the rows are saved in the order moto applied the writes.
Requests that do not say which items they touch (PartiQL, browser-form S3 uploads) re-check their whole
tables or bucket instead: correct, only slower.

At start `restore` imports a DATA_DIR in the old JSON snapshot format once (`snapshot_format`), drops
items whose TTL has passed, and loads the rest into moto. While running, `start_ttl_sweep` deletes
expired items (DynamoDB's TTL does this within days; locally it takes one sweep interval).

Only resources declared in the template are saved and restored; other files in DATA_DIR are left alone.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cursor_gateway.local.moto_server import dynamodb_write
from cursor_gateway.local.moto_tables import MotoTables, moto_object, table_name
from cursor_gateway.local.snapshot_format import import_snapshots
from cursor_gateway.local.state_store import (
    SavedObject,
    StateError,
    StateStore,
    item_key_id,
    ttl_seconds,
)
from cursor_gateway.local.template import LOCAL_ACCOUNT_ID

__all__ = ["LocalState", "StateError"]

log = logging.getLogger("cursor_gateway.local.state")

_S3_WRITE_METHODS = {"PUT", "POST", "DELETE"}
# DynamoDB leaves items whose TTL is more than five years in the past alone; so does the local sweep.
TTL_HORIZON_SECONDS = 5 * 365 * 86400
SWEEP_BATCH = 500

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# Keys named by one DynamoDB write, per table; None means "the request does not say" (PartiQL).
KeysByTable = dict[str, list[dict[str, Any]]]


class LocalState:
    def __init__(
        self,
        root: Path,
        *,
        tables: list[str],
        buckets: list[str],
        dynamodb: Any = None,
        s3: Any = None,
        ttl_attributes: dict[str, str] | None = None,
        region: str = "us-east-1",
        account: str = LOCAL_ACCOUNT_ID,
        clock: Callable[[], float] = time.time,
        fsync: bool = False,
    ) -> None:
        # The clients may be attached after `wrap`: they need the server's endpoint, the server needs `wrap`.
        self.root = root
        self.tables = tables
        self.buckets = buckets
        self.dynamodb = dynamodb
        self.s3 = s3
        self.ttl_attributes = {t: a for t, a in (ttl_attributes or {}).items() if a}
        self.clock = clock
        self.fsync = fsync
        self.saving = False  # off while restoring: loading saved rows must not write them again
        self.imported: dict[str, int] | None = None
        self._region, self._account = region, account
        self._moto: MotoTables | None = None
        self._store: StateStore | None = None
        self._opening = threading.Lock()
        self._sweep_stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    @property
    def store(self) -> StateStore:
        with self._opening:  # the first writes may come from several request threads at once
            if self._store is None:
                self._store = StateStore(self.root, fsync=self.fsync)
            return self._store

    @property
    def moto(self) -> MotoTables:
        if self._moto is None:
            self._moto = MotoTables(self._account, self._region)
        return self._moto

    def stop_ttl_sweep(self) -> None:
        self._sweep_stop.set()
        if self._sweeper is not None:
            self._sweeper.join(timeout=10)
            self._sweeper = None

    def close(self) -> None:
        self.stop_ttl_sweep()
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- restore --

    def restore(self) -> dict[str, int]:
        """Load the saved state into moto (tables and buckets must exist); items/objects per resource."""
        store = self.store
        self.imported = import_snapshots(
            store,
            tables=self.tables,
            buckets=self.buckets,
            key_attributes=self.moto.key_attributes,
            ttl_attributes=self.ttl_attributes,
        )
        now = self.clock()
        store.purge_expired(now, now - TTL_HORIZON_SECONDS)  # expired items are not loaded
        store.remove_unreferenced_bodies()
        counts: dict[str, int] = {}
        for table in self.tables:
            loaded = self.moto.load(table, store.items(table))
            if loaded:
                counts[table] = loaded
        for bucket in self.buckets:
            restored = 0
            for saved in store.objects(bucket):
                extra = {"ContentType": saved.content_type} if saved.content_type else {}
                self.s3.put_object(Bucket=bucket, Key=saved.key, Body=saved.body, **extra)
                restored += 1
            if restored:
                counts[bucket] = restored
        return counts

    # -- save --

    def save_items(self, changed: KeysByTable | None) -> None:
        """Store the current version (or the absence) of every named item, in one transaction."""
        if changed is None:
            self._resync_tables()
            return
        with self.store.transaction() as db:
            for table, keys in changed.items():
                attributes = self.moto.key_attributes(table)
                for key in keys:
                    key = {name: key[name] for name in attributes}
                    self._save_item(db, table, item_key_id(key, attributes), self.moto.get(table, key))

    def _save_item(self, db: Any, table: str, pk: str, item: dict[str, Any] | None) -> None:
        if item is None:
            self.store.delete_item(db, table, pk)
        else:
            self.store.put_item(db, table, pk, item, ttl_seconds(item, self.ttl_attributes.get(table, "")))

    def _resync_tables(self) -> None:
        with self.store.transaction() as db:
            for table in self.tables:
                attributes = self.moto.key_attributes(table)
                stale = self.store.item_keys(table)
                for item in self.moto.items(table):
                    pk = item_key_id(item, attributes)
                    stale.discard(pk)
                    self._save_item(db, table, pk, item)
                for pk in stale:
                    self.store.delete_item(db, table, pk)

    def save_objects(self, bucket: str, keys: list[str] | None) -> None:
        """Store the current version (or the absence) of the named objects; None: the whole bucket."""
        store = self.store
        with store.lock:  # the read-back and the commit as one step, so a slower writer never wins
            if keys is None:
                keys = self._bucket_changes(bucket)
            fetched = [(key, self._fetch(bucket, key)) for key in keys]
            replaced = store.object_files(bucket, keys)
            with store.transaction() as db:
                for key, saved in fetched:
                    if saved is None:
                        store.delete_object(db, bucket, key)
                    else:
                        store.put_object(db, saved)
            store.prune_bodies(replaced)

    def _bucket_changes(self, bucket: str) -> list[str]:
        saved = self.store.object_etags(bucket)
        changed: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for summary in page.get("Contents", []):
                if saved.pop(summary["Key"], None) != summary["ETag"]:
                    changed.append(summary["Key"])
        return changed + list(saved)  # what is left in `saved` is gone from moto

    def _fetch(self, bucket: str, key: str) -> SavedObject | None:
        try:
            found = moto_object(self._account, bucket, key)
        except Exception:  # not moto's usual shapes (a bucket gone, a newer moto): ask over HTTP
            log.debug(
                "in-process read of s3://%s/%s failed; reading it over HTTP", bucket, key, exc_info=True
            )
        else:
            return None if found is None else SavedObject(bucket, key, found[0], found[1], found[2])
        try:
            answer = self.s3.get_object(Bucket=bucket, Key=key)
        except self.s3.exceptions.NoSuchKey:
            return None
        except self.s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "MethodNotAllowed"):
                return None  # MethodNotAllowed: the current version is a delete marker
            raise
        body = answer["Body"].read()
        return SavedObject(bucket, key, answer["ETag"], answer.get("ContentType", ""), body)

    # -- TTL --

    def sweep_expired(self, limit: int = SWEEP_BATCH) -> int:
        """Delete up to `limit` items whose TTL has passed, through moto (so the deletes are saved too)."""
        now = int(self.clock())
        deleted = 0
        for table, pk, _expires in self.store.expired(now, now - TTL_HORIZON_SECONDS, limit):
            attribute = self.ttl_attributes.get(table)
            if attribute is None or table not in self.tables:
                continue
            key = dict(zip(self.moto.key_attributes(table), json.loads(pk), strict=True))
            try:
                self.dynamodb.delete_item(
                    TableName=table,
                    Key=key,
                    # An item given a later expiry since the candidates were read is kept.
                    ConditionExpression="#ttl <= :now",
                    ExpressionAttributeNames={"#ttl": attribute},
                    ExpressionAttributeValues={":now": {"N": str(now)}},
                )
                deleted += 1
            except self.dynamodb.exceptions.ConditionalCheckFailedException:
                self.save_items({table: [key]})  # the saved row was stale: take moto's version
        return deleted

    def start_ttl_sweep(self, interval: float) -> None:
        def run() -> None:
            while not self._sweep_stop.wait(interval):
                try:
                    while self.sweep_expired() >= SWEEP_BATCH and not self._sweep_stop.is_set():
                        pass
                except Exception:
                    log.exception("TTL sweep of the local state failed; retrying in %ss", interval)

        self._sweeper = threading.Thread(target=run, name="local-ttl-sweep", daemon=True)
        self._sweeper.start()

    # -- the WSGI hook --

    def wrap(self, app: WSGIApp) -> WSGIApp:
        """Wrap moto's WSGI app so every successful write is saved before its response is sent."""

        def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            save = self._saver_for(environ) if self.saving else None
            if save is None:
                return app(environ, start_response)
            status: list[str] = []

            def capture(status_line: str, headers: list[Any], exc_info: Any = None) -> Any:
                status.append(status_line)
                return start_response(status_line, headers, exc_info)

            result = app(environ, capture)
            try:
                body = list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            if status and status[0][:1] == "2":
                try:
                    save()
                except Exception:
                    log.exception(
                        "could not save local state to %s; the last write is not on disk", self.root
                    )
            return body

        return wrapped

    def _saver_for(self, environ: dict[str, Any]) -> Callable[[], None] | None:
        operation = dynamodb_write(environ)
        if operation:
            body = _json_body(environ)
            changed = keys_written(operation, body)
            if changed is not None:
                changed = {t: keys for t, keys in changed.items() if t in self.tables}
                if not changed:
                    return None
            return lambda: self.save_items(changed)
        if environ.get("REQUEST_METHOD") in _S3_WRITE_METHODS and _is_s3(environ):
            return self._object_saver(environ)
        return None

    def _object_saver(self, environ: dict[str, Any]) -> Callable[[], None] | None:
        method = environ["REQUEST_METHOD"]
        # WSGI gives the decoded path as latin-1 code points; the key's bytes are UTF-8.
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        host = environ.get("HTTP_HOST", "").rsplit(":", 1)[0]
        virtual = next((b for b in self.buckets if host.startswith(b + ".")), None)
        bucket, key = (virtual, path[1:]) if virtual else path[1:].partition("/")[::2]
        if bucket not in self.buckets:
            return None
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if key:
            if method == "PUT" and "partNumber" in query:
                return None  # a multipart part: no object changes until the upload completes
            return lambda: self.save_objects(bucket, [key])
        if method == "POST" and "delete" in query:
            keys = _deleted_keys(_raw_body(environ))
            return lambda: self.save_objects(bucket, keys)
        if method == "POST":
            return lambda: self.save_objects(bucket, None)  # a browser-form upload names its key inside
        return None  # bucket configuration: not part of the saved state


def keys_written(operation: str, body: dict[str, Any]) -> KeysByTable | None:
    """The items a DynamoDB write names (their keys, or whole items for puts), per table; None when
    the request does not say (PartiQL)."""
    changed: KeysByTable = {}

    def add(table: Any, attrs: Any) -> None:
        if isinstance(attrs, dict):
            changed.setdefault(table_name(str(table or "")), []).append(attrs)

    if operation == "PutItem":
        add(body.get("TableName"), body.get("Item"))
    elif operation in ("UpdateItem", "DeleteItem"):
        add(body.get("TableName"), body.get("Key"))
    elif operation == "BatchWriteItem":
        for table, requests in (body.get("RequestItems") or {}).items():
            for request in requests or []:
                put, delete = request.get("PutRequest") or {}, request.get("DeleteRequest") or {}
                add(table, put.get("Item") or delete.get("Key"))
    elif operation == "TransactWriteItems":
        for entry in body.get("TransactItems") or []:
            for kind, action in entry.items():
                if kind != "ConditionCheck" and isinstance(action, dict):
                    add(action.get("TableName"), action.get("Item") or action.get("Key"))
    elif operation == "ExecuteStatement" and str(body.get("Statement", "")).lstrip()[:6].upper() == "SELECT":
        return {}  # PartiQL reads come through here too
    else:
        return None
    return changed


def _raw_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(raw)  # moto reads the body again
    return raw


def _json_body(environ: dict[str, Any]) -> dict[str, Any]:
    try:
        body = json.loads(_raw_body(environ) or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _deleted_keys(raw: bytes) -> list[str] | None:
    """The keys of a DeleteObjects request; None (check the whole bucket) when it cannot be read."""
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError:
        return None
    return [element.text or "" for element in root.iter() if element.tag.rsplit("}", 1)[-1] == "Key"]


def _is_s3(environ: dict[str, Any]) -> bool:
    # The SigV4 credential scope names the service: in the Authorization header, or in the query string
    # of a presigned URL.
    scope = "/s3/aws4_request"
    return scope in environ.get("HTTP_AUTHORIZATION", "") or scope in environ.get("QUERY_STRING", "").replace(
        "%2F", "/"
    )
