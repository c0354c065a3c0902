"""`cursor-gateway probe --alias NAME [--profile P ...]`: run `services.probe` once against the configured
stack (its token table and CURSOR_API_URL) and print the report as JSON. Exit status 0 when every step
answered and the model list could be read, 1 otherwise, 2 when the alias does not exist."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from cursor_gateway.errors import NotFound
from cursor_gateway.services.probe import run_probe


def add_parser(sub: Any) -> None:
    probe = sub.add_parser(
        "probe",
        help="after a Cursor release: one short turn and one tool round trip per profile with one token, "
        "the account's usable models against our catalog, and anything unknown Cursor sent",
    )
    probe.add_argument("--alias", required=True, help="the pooled token to probe with")
    probe.add_argument(
        "--profile", action="append", help="profile to probe (repeatable; default: agent, inference, legacy)"
    )


def run_from_args(args: argparse.Namespace, services: Any = None) -> int:
    if services is None:
        from cursor_gateway.services.container import build_services
        from cursor_gateway.settings import get_settings

        services = build_services(get_settings())
    try:
        report = asyncio.run(run_probe(services, args.alias, args.profile))
    except NotFound as exc:
        print(exc.message, file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0 if report.get("ok") else 1
