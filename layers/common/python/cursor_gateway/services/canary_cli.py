"""`cursor-gateway canary`: run the drift canary once against the configured stack and print the
results as JSON. Exit status 0 when every probed profile answered, 1 otherwise (for cron and CI)."""

from __future__ import annotations

import argparse
import asyncio
import json

from cursor_gateway.services.container import build_services
from cursor_gateway.services.usage_schedule import refresh_usage_if_due
from cursor_gateway.settings import get_settings


def run_from_args(args: argparse.Namespace) -> int:
    services = build_services(get_settings())
    results = asyncio.run(services.canary.run(args.profile, force=args.force))
    print(json.dumps(results, indent=2, sort_keys=True))
    return 0 if all(r.get("ok") for r in results) else 1


def run_scheduled(event: object) -> dict[str, object]:
    """The scheduled Lambda's entry: one run over the enabled profiles (rate-limited as always)."""
    services = build_services(get_settings())
    results = asyncio.run(services.canary.run())
    usage = asyncio.run(refresh_usage_if_due(services))  # off unless USAGE_REFRESH_INTERVAL is set
    return {"ok": all(r.get("ok") for r in results), "results": results, "usage_refresh": usage}
