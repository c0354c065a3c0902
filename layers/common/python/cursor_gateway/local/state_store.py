"""The local stack's saved state: one SQLite database in DATA_DIR, one row per item and per S3 object.

A write stores only the rows it changed, in one SQLite transaction, so its cost does not grow with the
data and a DynamoDB transaction is saved whole or not at all. WAL mode: a commit has been written to the
WAL file when it returns, so a write acknowledged after it survives `kill -9` of the process; with
`fsync=True` (LOCAL_STATE_FSYNC) it is also fsync'd (synchronous=FULL), which survives a power cut too
and costs one fsync per write (synchronous=NORMAL can lose the last writes to a power cut, never
half a transaction, and never corrupts the file).

S3 bodies larger than INLINE_BODY_LIMIT are files named by their SHA-256 under `s3-bodies/`, written
and fsync'd before the row that names them is committed (a crash in between leaves an unreferenced
file, removed at the next start).

Files are 0600 and directories 0700: the tokens table holds live credentials. SQLite gives its -wal
and -shm files the database file's mode, so creating that file 0600 covers all three.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATABASE = "state.sqlite3"
BODIES = "s3-bodies"
INLINE_BODY_LIMIT = 256 * 1024
SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS items (
    tbl TEXT NOT NULL,
    pk TEXT NOT NULL,          -- the item's key attributes, as a JSON list in key-schema order
    item TEXT NOT NULL,        -- the whole item in DynamoDB JSON
    expires INTEGER,           -- the table's TTL attribute (epoch seconds) when it is a number
    PRIMARY KEY (tbl, pk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_by_expiry ON items (expires) WHERE expires IS NOT NULL;
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    etag TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    body BLOB,                 -- small bodies inline
    file TEXT,                 -- large bodies: s3-bodies/<sha256 of the body>
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
"""


class StateError(RuntimeError):
    pass


@dataclass(frozen=True)
class SavedObject:
    bucket: str
    key: str
    etag: str
    content_type: str
    body: bytes


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


def item_key_id(item: dict[str, Any], key_attributes: list[str]) -> str:
    return json.dumps([item[name] for name in key_attributes], sort_keys=True, separators=(",", ":"))


def ttl_seconds(item: dict[str, Any], attribute: str) -> int | None:
    """The item's expiry as DynamoDB's TTL reads it: a Number of epoch seconds, anything else is none."""
    value = item.get(attribute) if attribute else None
    if not isinstance(value, dict) or "N" not in value:
        return None
    try:
        return int(float(value["N"]))
    except (TypeError, ValueError, OverflowError):
        return None


class StateStore:
    def __init__(self, root: Path, *, fsync: bool = False) -> None:
        self.root = root
        self.path = root / DATABASE
        self.bodies = root / BODIES
        self.lock = threading.RLock()
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
            self.db.executescript(_SCHEMA)
            version = self.meta("schema")
            if version is None:
                self.set_meta("schema", SCHEMA_VERSION)
            elif version != SCHEMA_VERSION:
                raise StateError(f"{self.path} has schema {version}; this version reads {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            # Refuse to start empty: the next write would start a new history next to the only copy.
            raise StateError(
                f"cannot read saved state {self.path}: {exc}. Fix or move the file away, then restart."
            ) from exc

    def close(self) -> None:
        with self.lock:
            self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def meta(self, name: str) -> str | None:
        with self.lock:
            row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str, db: sqlite3.Connection | None = None) -> None:
        with self.lock:
            (db or self.db).execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))

    # -- items --

    @staticmethod
    def put_item(
        db: sqlite3.Connection, table: str, pk: str, item: dict[str, Any], expires: int | None
    ) -> None:
        db.execute(
            "INSERT OR REPLACE INTO items (tbl, pk, item, expires) VALUES (?, ?, ?, ?)",
            (table, pk, json.dumps(item, separators=(",", ":")), expires),
        )

    @staticmethod
    def delete_item(db: sqlite3.Connection, table: str, pk: str) -> None:
        db.execute("DELETE FROM items WHERE tbl = ? AND pk = ?", (table, pk))

    def items(self, table: str) -> Iterator[dict[str, Any]]:
        with self.lock:
            rows = self.db.execute("SELECT item FROM items WHERE tbl = ?", (table,)).fetchall()
        for (text,) in rows:
            yield json.loads(text)

    def item_keys(self, table: str) -> set[str]:
        with self.lock:
            return {row[0] for row in self.db.execute("SELECT pk FROM items WHERE tbl = ?", (table,))}

    def expired(self, now: float, oldest: float, limit: int) -> list[tuple[str, str, int]]:
        """(table, pk, expires) of items whose TTL lies in [oldest, now]."""
        with self.lock:
            rows = self.db.execute(
                "SELECT tbl, pk, expires FROM items WHERE expires BETWEEN ? AND ? LIMIT ?",
                (int(oldest), int(now), limit),
            ).fetchall()
        return [(str(t), str(p), int(e)) for t, p, e in rows]

    def purge_expired(self, now: float, oldest: float) -> int:
        with self.transaction() as db:
            cursor = db.execute("DELETE FROM items WHERE expires BETWEEN ? AND ?", (int(oldest), int(now)))
        return cursor.rowcount

    def count_items(self, table: str) -> int:
        with self.lock:
            return int(self.db.execute("SELECT count(*) FROM items WHERE tbl = ?", (table,)).fetchone()[0])

    # -- objects --

    def put_object(self, db: sqlite3.Connection, saved: SavedObject) -> None:
        """Call inside `transaction`; a large body's file is on disk before the row is committed."""
        body: bytes | None = saved.body
        file = None
        if len(saved.body) > INLINE_BODY_LIMIT:
            file = hashlib.sha256(saved.body).hexdigest()
            path = self.bodies / file
            if not path.exists():
                self.bodies.mkdir(mode=0o700, exist_ok=True)
                atomic_write(path, saved.body)
            body = None
        db.execute(
            "INSERT OR REPLACE INTO objects (bucket, key, etag, content_type, size, body, file)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (saved.bucket, saved.key, saved.etag, saved.content_type, len(saved.body), body, file),
        )

    @staticmethod
    def delete_object(db: sqlite3.Connection, bucket: str, key: str) -> None:
        db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))

    def object_etags(self, bucket: str) -> dict[str, str]:
        with self.lock:
            rows = self.db.execute("SELECT key, etag FROM objects WHERE bucket = ?", (bucket,)).fetchall()
        return {str(k): str(e) for k, e in rows}

    def objects(self, bucket: str) -> Iterator[SavedObject]:
        with self.lock:
            rows = self.db.execute(
                "SELECT key, etag, content_type, body, file FROM objects WHERE bucket = ?", (bucket,)
            ).fetchall()
        for key, etag, content_type, body, file in rows:
            if file is not None:
                try:
                    body = (self.bodies / file).read_bytes()
                except OSError as exc:
                    raise StateError(f"saved object {bucket}/{key} lost its body file {file}: {exc}") from exc
            yield SavedObject(bucket, key, etag, content_type, bytes(body))

    def object_files(self, bucket: str, keys: list[str]) -> set[str]:
        with self.lock:
            return {
                str(row[0])
                for key in keys
                for row in self.db.execute(
                    "SELECT file FROM objects WHERE bucket = ? AND key = ? AND file IS NOT NULL",
                    (bucket, key),
                )
            }

    def prune_bodies(self, files: set[str]) -> None:
        """After a commit: drop the body files of replaced or deleted objects that no row names now."""
        with self.lock:
            for file in files:
                if (
                    self.db.execute("SELECT 1 FROM objects WHERE file = ? LIMIT 1", (file,)).fetchone()
                    is None
                ):
                    (self.bodies / file).unlink(missing_ok=True)

    def remove_unreferenced_bodies(self) -> int:
        """Body files no row names: replaced or deleted objects, or a write that crashed before commit."""
        if not self.bodies.is_dir():
            return 0
        with self.lock:
            live = {row[0] for row in self.db.execute("SELECT file FROM objects WHERE file IS NOT NULL")}
            removed = 0
            for path in self.bodies.iterdir():
                if path.name not in live:
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed
