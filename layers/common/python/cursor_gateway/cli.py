"""`cursor-gateway` command line: the local stack, the offline Cursor emulator, and tools."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cursor-gateway", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve", help="run the gateway locally with an embedded moto AWS (the `make run` stack)"
    )
    serve.add_argument("--host", default=None, help="bind address (env HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="gateway port (env PORT, default 3000)")
    serve.add_argument(
        "--moto-port", type=int, default=None, help="embedded moto port (env MOTO_PORT, default: free)"
    )
    serve.add_argument("--data-dir", default=None, help="state directory (env DATA_DIR, default ./data)")
    serve.add_argument(
        "--template", default=None, help="SAM template to create tables from (default ./template.yaml)"
    )

    emulate = sub.add_parser(
        "emulate", help="run the fake Cursor upstream (HTTP/2 cleartext) for offline demos"
    )
    emulate.add_argument("--host", default="127.0.0.1")
    emulate.add_argument("--port", type=int, default=3100)
    emulate.add_argument("--delay", type=float, default=0.02, help="seconds between streamed deltas")
    emulate.add_argument("--fault-rate", type=float, default=0.0, help="share of turns that play a fault")
    emulate.add_argument("--fault-seed", type=int, default=0, help="seed of the fault choice")

    from cursor_gateway.local import demo

    demo.add_parser(sub)

    canary = sub.add_parser("canary", help="probe each enabled protocol profile with a tiny real chat")
    canary.add_argument(
        "--profile", action="append", help="profile to probe (repeatable; default CANARY_PROFILES)"
    )
    canary.add_argument(
        "--force", action="store_true", help="probe even if it ran within CANARY_MIN_INTERVAL"
    )

    export = sub.add_parser(
        "export-state",
        help="write the `make run` state (DATA_DIR/state.sqlite3) in the older JSON snapshot format",
    )
    export.add_argument("--to", required=True, help="a new directory to write the snapshots to")
    export.add_argument("--data-dir", default=None, help="state directory (env DATA_DIR, default ./data)")
    export.add_argument("--template", default=None, help="SAM template naming the tables (./template.yaml)")

    from cursor_gateway.services import analytics_cli, probe_cli

    analytics_cli.add_parser(sub)
    probe_cli.add_parser(sub)

    from cursor_gateway.services import connect_cli

    connect_cli.add_parser(sub)

    args = parser.parse_args(argv)
    if args.command == "serve":
        from cursor_gateway.local.stack import serve_from_args

        return serve_from_args(args)
    if args.command == "demo":
        from cursor_gateway.emulator.demo import running_demo_emulator

        return demo.demo_from_args(args, upstream=running_demo_emulator)
    if args.command == "canary":
        from cursor_gateway.services.canary_cli import run_from_args as run_canary

        return run_canary(args)
    if args.command == "probe":
        return probe_cli.run_from_args(args)
    if args.command == "analytics":
        from cursor_gateway.local.stack import local_aws

        return analytics_cli.run_from_args(args, local_aws=local_aws)
    if args.command == "export-state":
        from cursor_gateway.local.stack import export_state_from_args

        return export_state_from_args(args)
    if args.command == "connect":
        return connect_cli.run_from_args(args)
    if args.command == "emulate":
        from cursor_gateway.emulator.server import run_from_args

        return run_from_args(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
