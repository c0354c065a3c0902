"""Local state that survives restarts: a write-through snapshot of the moto tables and buckets.

moto keeps everything in memory. After every successful mutating request (DynamoDB writes, S3
PUT/POST/DELETE), and before the response goes back to the caller, the affected tables (or the buckets)
are read back through the normal API and written to DATA_DIR atomically (temp file, fsync, rename). So
once a client sees a write succeed, it is on disk: a `kill -9` loses nothing acknowledged. At start the
snapshots are loaded into the fresh moto before anything else can write.

Why not moto's recorder: it replays every request ever made (an ever-growing log, with time- and
random-dependent effects replayed later); a snapshot is the state itself, readable and bounded.

Layout (files are 0600, directories 0700: the tokens table holds live credentials):

    DATA_DIR/dynamodb/<table>.json          {"format": 1, "table", "items": [<DynamoDB JSON item>, ...]}
    DATA_DIR/s3/<bucket>/manifest.json      {"format": 1, "objects": {key: {"file", "etag", "content_type"}}}
    DATA_DIR/s3/<bucket>/objects/<sha256(key)>

Only current object versions are kept. Only resources declared in the template are saved and restored;
other files in DATA_DIR are left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from cursor_gateway.local.moto_server import dynamodb_write

log = logging.getLogger("cursor_gateway.local.state")

FORMAT = 1
_S3_WRITE_METHODS = {"PUT", "POST", "DELETE"}

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class StateError(RuntimeError):
    pass


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        # Refuse to start empty: the next write would overwrite the only copy of the state.
        raise StateError(
            f"cannot read saved state {path}: {exc}. Fix or move the file away, then restart."
        ) from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise StateError(f"{path} is not a format-{FORMAT} snapshot. Move it away, then restart.")
    return document


def _table_name(value: str) -> str:
    # Newer API versions accept a table ARN wherever a name goes.
    return value.rsplit("table/", 1)[-1] if value.startswith("arn:") else value


def tables_written(operation: str, body: dict[str, Any]) -> set[str] | None:
    """The tables a DynamoDB write touches, or None when the request does not say (PartiQL)."""
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return {_table_name(str(body.get("TableName", "")))}
    if operation == "BatchWriteItem":
        return {_table_name(name) for name in body.get("RequestItems") or {}}
    if operation == "TransactWriteItems":
        items = body.get("TransactItems") or []
        actions = [a for item in items for a in item.values() if isinstance(a, dict)]
        return {_table_name(str(action.get("TableName", ""))) for action in actions}
    return None


class LocalState:
    def __init__(
        self, root: Path, *, tables: list[str], buckets: list[str], dynamodb: Any = None, s3: Any = None
    ) -> None:
        # The clients may be attached after `wrap`: they need the server's endpoint, the server needs `wrap`.
        self.root = root
        self.tables = tables
        self.buckets = buckets
        self.dynamodb = dynamodb
        self.s3 = s3
        self.saving = False  # off while restoring, so a half-restored state never overwrites a snapshot
        self._lock = threading.Lock()

    def table_file(self, table: str) -> Path:
        return self.root / "dynamodb" / f"{table}.json"

    def bucket_dir(self, bucket: str) -> Path:
        return self.root / "s3" / bucket

    # -- restore --

    def restore(self) -> dict[str, int]:
        """Load every snapshot into moto; returns items/objects restored per table/bucket."""
        counts: dict[str, int] = {}
        for table in self.tables:
            path = self.table_file(table)
            if path.exists():
                counts[table] = self._restore_table(table, _read_json(path).get("items") or [])
        for bucket in self.buckets:
            manifest = self.bucket_dir(bucket) / "manifest.json"
            if manifest.exists():
                counts[bucket] = self._restore_bucket(bucket, _read_json(manifest).get("objects") or {})
        return counts

    def _restore_table(self, table: str, items: list[dict[str, Any]]) -> int:
        for start in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            pending: dict[str, Any] = {table: batch}
            while pending:
                pending = self.dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        return len(items)

    def _restore_bucket(self, bucket: str, objects: dict[str, dict[str, str]]) -> int:
        restored = 0
        for key, meta in objects.items():
            path = self.bucket_dir(bucket) / "objects" / meta["file"]
            if not path.exists():
                log.warning("saved object %s/%s is missing its data file; skipped", bucket, key)
                continue
            extra = {"ContentType": meta["content_type"]} if meta.get("content_type") else {}
            self.s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), **extra)
            restored += 1
        return restored

    # -- save --

    def save_tables(self, names: set[str] | None = None) -> None:
        for table in self.tables:
            if names is None or table in names:
                atomic_write(
                    self.table_file(table),
                    json.dumps({"format": FORMAT, "table": table, "items": list(self._scan(table))}).encode(),
                )

    def _scan(self, table: str) -> Iterator[dict[str, Any]]:
        for page in self.dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            yield from page.get("Items", [])

    def save_buckets(self) -> None:
        for bucket in self.buckets:
            self._save_bucket(bucket)

    def _save_bucket(self, bucket: str) -> None:
        directory = self.bucket_dir(bucket)
        manifest_path = directory / "manifest.json"
        old = _read_json(manifest_path).get("objects", {}) if manifest_path.exists() else {}
        objects: dict[str, dict[str, str]] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for summary in page.get("Contents", []):
                key, etag = summary["Key"], summary["ETag"]
                file = hashlib.sha256(key.encode()).hexdigest()  # keys may hold '/', '..' or any byte
                previous = old.get(key)
                if previous and previous["etag"] == etag and (directory / "objects" / file).exists():
                    objects[key] = previous
                    continue
                answer = self.s3.get_object(Bucket=bucket, Key=key)
                atomic_write(directory / "objects" / file, answer["Body"].read())
                objects[key] = {"file": file, "etag": etag, "content_type": answer.get("ContentType", "")}
        atomic_write(manifest_path, json.dumps({"format": FORMAT, "objects": objects}).encode())
        live = {meta["file"] for meta in objects.values()}
        for path in (directory / "objects").glob("*") if (directory / "objects").exists() else ():
            if path.name not in live:
                path.unlink(missing_ok=True)

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
                with self._lock:
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
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(raw)  # moto reads the body again
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            names = tables_written(operation, body if isinstance(body, dict) else {})
            return lambda: self.save_tables(names)
        if environ.get("REQUEST_METHOD") in _S3_WRITE_METHODS and _is_s3(environ):
            return self.save_buckets
        return None


def _is_s3(environ: dict[str, Any]) -> bool:
    # The SigV4 credential scope names the service: in the Authorization header, or in the query string
    # of a presigned URL.
    scope = "/s3/aws4_request"
    return scope in environ.get("HTTP_AUTHORIZATION", "") or scope in environ.get("QUERY_STRING", "").replace(
        "%2F", "/"
    )
