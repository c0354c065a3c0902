"""A fast filler for bench_logs.py part B: N logged requests over the last 7 days, written straight into a
DATA_DIR's saved state (state.sqlite3) before `cursor-gateway serve` starts on it, which then loads them
into its moto at start as it loads any saved state. The rows are what the recorder writes: one final log
item per request (storage.request_logs item layout, day partitions, GSI keys) and the counter items its
completions would have added up to (domain.usage_stats.counter_updates, summed per item). 100,000
requests take 1-2 minutes on a busy 2-core machine (`--filled DIR` keeps them for later runs).
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from cursor_gateway.domain.request_logs import day_of, new_log_id
from cursor_gateway.domain.usage_stats import Completed, counter_updates
from cursor_gateway.local.state_store import StateStore, item_key_id, ttl_seconds
from cursor_gateway.settings import Settings
from cursor_gateway.storage.request_logs import DynamoRequestLogStore, base_partition, shard_of, sort_key

MODELS = ["gpt-5.2", "claude-4.6-sonnet", "claude-4.6-sonnet-thinking", "gpt-5-mini", "o3"]
ACCOUNTS = [f"acct{i}" for i in range(8)]
KEYS = [("admin", "admin")] + [(f"cgk-{i:016x}", f"team-{i}") for i in range(6)]
KEY_ATTRIBUTES = ["pk", "sk"]


def _doc(rng: random.Random, ts: int, log_id: str) -> tuple[dict[str, Any], Completed]:
    model, account, (key_id, key_name) = rng.choice(MODELS), rng.choice(ACCOUNTS), rng.choice(KEYS)
    ok = rng.random() > 0.05
    usage = {
        "input": rng.randrange(50, 5000),
        "output": rng.randrange(1, 800),
        "cache_read": 0,
        "cache_write": 0,
    }
    usage["total"] = usage["input"] + usage["output"]
    doc = {
        "id": log_id,
        "ts_ms": ts,
        "endpoint": rng.choice(["chat.completions", "messages"]),
        "model": model,
        "upstream_model": model,
        "stream": True,
        "status": "success" if ok else "failure",
        "http_status": 200 if ok else 429,
        "error": None if ok else {"error": "rate_limit_exceeded", "details": "slow down"},
        "timing": {"total": 1.2, "first": 0.3, "chunks": 20},
        "attempts": 1,
        "protocol": "agent",
        "account": {
            "alias": account,
            "key": "eyJhbG...abcd",
            "user_id": "",
            "email": f"{account}@example.com",
            "stripe": None,
        },
        "api_key": {"id": key_id, "name": key_name},
        "client": {"ip": "10.0.0.1", "user_agent": "bench"},
        "usage": {**usage, "source": "upstream"} if ok else None,
        "client_identity": "cli/bench",
        "has_prompt": True,
        "has_think": False,
        "has_delays": True,
    }
    done = Completed(
        ts, ok, key_id, key_name, account, f"{account}@example.com", model, model,
        usage["input"] if ok else 0, usage["output"] if ok else 0, 0, 0, 1200, 300,
    )  # fmt: skip
    return doc, done


def fill(data_dir: Path, rows: int, *, seed: int = 7) -> float:
    """Write `rows` logged requests (and their counters) into DATA_DIR's state; seconds taken."""
    settings = Settings()
    shaper = DynamoRequestLogStore(settings.request_logs_table, settings.usage_stats_table, "unused")
    rng = random.Random(seed)
    now_ms = int(time.time() * 1000)
    counters: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    labels: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    started = time.perf_counter()
    store = StateStore(data_dir)
    try:
        with store.transaction() as db:
            for _ in range(rows):
                ts = now_ms - rng.randrange(7 * 86_400_000)
                log_id = new_log_id(ts, rng.randbytes(10))
                doc, done = _doc(rng, ts, log_id)
                pk = base_partition(day_of(ts), shard_of(log_id, settings.log_shards))
                item = shaper.item(pk, sort_key(ts, log_id), doc, ts // 1000 + 30 * 86400)
                store.put_item(
                    db, settings.request_logs_table, item_key_id(item, KEY_ATTRIBUTES), item,
                    ttl_seconds(item, "expires_at"),
                )  # fmt: skip
                for update in counter_updates(done):
                    for name, value in update.add.items():
                        counters[(update.pk, update.sk)][name] += value
                    labels[(update.pk, update.sk)].update(update.set)
            for (pk, sk), values in counters.items():
                counter = {
                    "pk": {"S": pk},
                    "sk": {"S": sk},
                    "expires_at": {"N": str(now_ms // 1000 + 90 * 86400)},
                }
                counter.update({k: {"N": str(v)} for k, v in values.items()})
                counter.update({k: {"S": v} for k, v in labels[(pk, sk)].items()})
                store.put_item(
                    db, settings.usage_stats_table, item_key_id(counter, KEY_ATTRIBUTES), counter,
                    ttl_seconds(counter, "expires_at"),
                )  # fmt: skip
    finally:
        store.close()
    return time.perf_counter() - started
