"""The JSON snapshot format the local stack used before `state.sqlite3`, read once and written on demand.

Layout (every file rewritten whole after each write, which made a write's cost grow with the data):

    DATA_DIR/dynamodb/<table>.json          {"format": 1, "table", "items": [<DynamoDB JSON item>, ...]}
    DATA_DIR/s3/<bucket>/manifest.json      {"format": 1, "objects": {key: {"file", "etag", "content_type"}}}
    DATA_DIR/s3/<bucket>/objects/<sha256(key)>

`import_snapshots` copies such a directory into the store on the first start of this version, in one
SQLite transaction that also records that it ran, so it happens once and never half. The JSON files are
left as they are (a backup). `export_snapshots` writes the store back in this format, for going back to
an older version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cursor_gateway.local.state_store import (
    SavedObject,
    StateError,
    StateStore,
    atomic_write,
    item_key_id,
    ttl_seconds,
)

log = logging.getLogger("cursor_gateway.local.state")

FORMAT = 1
IMPORTED = "snapshots_imported"


def table_file(root: Path, table: str) -> Path:
    return root / "dynamodb" / f"{table}.json"


def bucket_dir(root: Path, bucket: str) -> Path:
    return root / "s3" / bucket


def read_snapshot(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise StateError(
            f"cannot read saved state {path}: {exc}. Fix or move the file away, then restart."
        ) from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise StateError(f"{path} is not a format-{FORMAT} snapshot. Move it away, then restart.")
    return document


def import_snapshots(
    store: StateStore,
    *,
    tables: list[str],
    buckets: list[str],
    key_attributes: Callable[[str], list[str]],
    ttl_attributes: dict[str, str],
) -> dict[str, int] | None:
    """Items/objects imported per table/bucket, or None when this store already did its import."""
    if store.meta(IMPORTED) is not None:
        return None
    counts: dict[str, int] = {}
    with store.transaction() as db:
        for table in tables:
            path = table_file(store.root, table)
            if not path.exists():
                continue
            keys, ttl = key_attributes(table), ttl_attributes.get(table, "")
            items = read_snapshot(path).get("items") or []
            for item in items:
                store.put_item(db, table, item_key_id(item, keys), item, ttl_seconds(item, ttl))
            counts[table] = len(items)
        for bucket in buckets:
            manifest = bucket_dir(store.root, bucket) / "manifest.json"
            if not manifest.exists():
                continue
            imported = 0
            for key, meta in (read_snapshot(manifest).get("objects") or {}).items():
                data = bucket_dir(store.root, bucket) / "objects" / meta["file"]
                if not data.exists():
                    log.warning("saved object %s/%s is missing its data file; skipped", bucket, key)
                    continue
                saved = SavedObject(
                    bucket, key, meta["etag"], meta.get("content_type") or "", data.read_bytes()
                )
                store.put_object(db, saved)
                imported += 1
            counts[bucket] = imported
        record = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "counts": counts}
        store.set_meta(IMPORTED, json.dumps(record), db)
    if counts:
        log.warning(
            "imported the JSON snapshots in %s into %s (%s); the JSON files are kept unchanged as a backup",
            store.root,
            store.path.name,
            ", ".join(f"{name}: {n}" for name, n in counts.items()),
        )
    return counts


def export_snapshots(
    store: StateStore, target: Path, *, tables: list[str], buckets: list[str]
) -> dict[str, int]:
    """Write the store in the JSON snapshot format under `target` (which must not be the live DATA_DIR
    of a running stack)."""
    counts: dict[str, int] = {}
    for table in tables:
        items = list(store.items(table))
        atomic_write(
            table_file(target, table), json.dumps({"format": FORMAT, "table": table, "items": items}).encode()
        )
        counts[table] = len(items)
    for bucket in buckets:
        directory = bucket_dir(target, bucket)
        objects: dict[str, dict[str, str]] = {}
        for saved in store.objects(bucket):
            file = hashlib.sha256(saved.key.encode()).hexdigest()  # keys may hold '/', '..' or any byte
            atomic_write(directory / "objects" / file, saved.body)
            objects[saved.key] = {"file": file, "etag": saved.etag, "content_type": saved.content_type}
        atomic_write(directory / "manifest.json", json.dumps({"format": FORMAT, "objects": objects}).encode())
        counts[bucket] = len(objects)
    return counts
