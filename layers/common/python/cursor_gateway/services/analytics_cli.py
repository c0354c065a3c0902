"""`cursor-gateway analytics ...`: the analytics pull and its companions from the command line.

    cursor-gateway analytics pull [--since DATE] [--dataset commits|changes]... [--local]
    cursor-gateway analytics status [--local]
    cursor-gateway analytics csv commits|changes --start DATE --end DATE [--user U] [--output FILE]

`pull` runs the same service as the schedule and `POST /analytics/pull`, in this process, until done
(a backfill at 5 requests a minute per endpoint takes a while; it can be stopped and run again, it
resumes). The AWS it uses is the environment's (AWS_ENDPOINT_URL, credentials), or with `--local` the
`make run` stack's own state in DATA_DIR (an embedded moto, as `serve` starts; not while `serve` runs:
then use `POST /analytics/pull`). `csv` streams Cursor's own CSV export to a file or stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from cursor_gateway.domain.analytics import dataset
from cursor_gateway.domain.analytics_time import Window, parse_when, utc
from cursor_gateway.errors import GatewayError
from cursor_gateway.settings import Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    analytics = sub.add_parser("analytics", help="pull Cursor's Admin API analytics (AI code tracking)")
    commands = analytics.add_subparsers(dest="analytics_command", required=True)

    pull = commands.add_parser("pull", help="pull new rows now (the scheduled job, run in this process)")
    pull.add_argument("--since", default=None, help="start date (YYYY-MM-DD or 30d); default: checkpoint")
    pull.add_argument(
        "--dataset", action="append", choices=["commits", "changes"], help="repeatable; default: both"
    )
    pull.add_argument("--local", action="store_true", help="use the `make run` stack's state (DATA_DIR)")

    status = commands.add_parser("status", help="checkpoint, last run and last error per dataset")
    status.add_argument("--local", action="store_true", help="use the `make run` stack's state (DATA_DIR)")

    csv = commands.add_parser("csv", help="stream Cursor's CSV export of a date range (at most 30 days)")
    csv.add_argument("dataset", choices=["commits", "changes"])
    csv.add_argument("--start", required=True, help="start date (YYYY-MM-DD or 7d)")
    csv.add_argument("--end", required=True, help="end date, exclusive (YYYY-MM-DD or 0d)")
    csv.add_argument("--user", default=None, help="email, user_ id or numeric id")
    csv.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")


LocalAws = Callable[[Settings], AbstractContextManager[object]]


def run_from_args(
    args: argparse.Namespace, *, local_aws: LocalAws | None = None, settings: Settings | None = None
) -> int:
    """`local_aws` is the local stack's context manager (`local.stack.local_aws`), passed in by the
    command line so that services never import the local stack."""
    settings = settings or Settings.from_env()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("botocore").setLevel(logging.WARNING)
    try:
        if args.analytics_command == "csv":
            return _csv(settings, args)
        use_local = getattr(args, "local", False) and local_aws is not None
        with local_aws(settings) if use_local and local_aws else contextlib.nullcontext():
            from cursor_gateway.services.analytics import build_analytics_service

            service = build_analytics_service(settings)
            if args.analytics_command == "status":
                print(json.dumps(service.status(), indent=2, sort_keys=True))
                return 0
            run = service.pull(since=args.since, datasets=args.dataset, trigger="cli")
            print(json.dumps(run, indent=2, sort_keys=True))
            return 0 if run["state"] in ("succeeded", "partial") else 1
    except GatewayError as exc:
        print(f"cursor-gateway analytics: {exc.message}", file=sys.stderr)
        return 1
    except RuntimeError as exc:  # the local stack could not start (DATA_DIR in use, template)
        print(f"cursor-gateway analytics: {exc}", file=sys.stderr)
        return 1


def _csv(settings: Settings, args: argparse.Namespace) -> int:
    import time

    from cursor_gateway.storage.secrets import SecretReader
    from cursor_gateway.upstream.admin_api import AdminApiClient

    now = utc(time.time())
    try:
        window = Window(parse_when(args.start, now).date(), parse_when(args.end, now).date())
    except ValueError as exc:
        print(f"cursor-gateway analytics: {exc}", file=sys.stderr)
        return 2
    key = SecretReader(settings.cursor_admin_api_key, settings.cursor_admin_api_key_param)
    # One request: no shared limiter needed (Cursor's 429 is retried honouring Retry-After).
    client = AdminApiClient(settings.cursor_admin_api_url, key)
    try:
        with client.open_csv(dataset(args.dataset), window, user=args.user) as chunks:
            if args.output == "-":
                for chunk in chunks:
                    sys.stdout.buffer.write(chunk)
                sys.stdout.buffer.flush()
            else:
                with Path(args.output).open("wb") as out:
                    for chunk in chunks:
                        out.write(chunk)
    finally:
        client.close()
    return 0
