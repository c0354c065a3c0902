"""`cursor-gateway serve`: the whole gateway on one machine (what `make run` starts).

1. a moto server on 127.0.0.1 (port from --moto-port / MOTO_PORT, else a free one) in a child process
   (`local.moto_process`: off the gateway's GIL; it stops when the gateway does), with
   `AWS_ENDPOINT_URL`, dummy credentials and a region set in this process so boto3 can only reach it;
2. every DynamoDB table and S3 bucket declared in template.yaml, created there, then filled from the
   state saved in DATA_DIR (`local.state`: DATA_DIR/state.sqlite3, which every later write keeps
   current, one row per item; a DATA_DIR in the old JSON snapshot format is imported once), and a
   background sweep deleting items whose TTL has passed;
3. uvicorn serving `create_app()` with every router, on settings.host/port.

A lock file in DATA_DIR keeps two servers from writing the same state. The banner is printed once the
gateway is accepting connections.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import IO, Any

from cursor_gateway import __version__
from cursor_gateway.local.moto_stack import AwsOptions, LocalAws, StackError, aws_in_process, region
from cursor_gateway.settings import Settings

log = logging.getLogger("cursor_gateway.local")

__all__ = ["StackError", "local_aws", "run_stack", "serve_from_args"]


def serve_from_args(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
    except ValueError as exc:
        print(f"cursor-gateway: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("botocore").setLevel(logging.WARNING)  # "found credentials in environment" etc.
    template = Path(args.template or "template.yaml")
    moto_port = args.moto_port if args.moto_port is not None else int(os.environ.get("MOTO_PORT") or 0)
    return run_stack(settings, template=template, moto_port=moto_port)


def run_stack(
    settings: Settings,
    *,
    template: Path,
    moto_port: int = 0,
    on_ready: Callable[[str, Any], Awaitable[None]] | None = None,
) -> int:
    """The stack until Ctrl-C; the exit code. `on_ready(url, app)` (e.g. the demo's) runs on the
    server's loop once it accepts connections, instead of the banner."""
    try:
        from cursor_gateway.local.moto_process import aws_in_child

        with _exclusive(Path(settings.data_dir).resolve()) as (data_dir, lock_fd):
            options = _aws_options(settings)
            with aws_in_child(
                moto_port, data_dir, template, options, lock_fd=lock_fd, log_level=settings.log_level
            ) as aws:
                _serve(settings, data_dir, aws, on_ready)
    except StackError as exc:
        print(f"cursor-gateway: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # uvicorn re-raises the Ctrl-C it handled after its graceful shutdown; the moto process and the
        # lock were released by the context managers on the way here, so this is a normal stop.
        pass
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if args.host is not None:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    return Settings.from_env().with_overrides(**overrides)


def _aws_options(settings: Settings) -> AwsOptions:
    return AwsOptions(
        tokens_table=settings.tokens_table,
        fsync=settings.local_state_fsync,
        ttl_sweep_seconds=settings.local_ttl_sweep_seconds,
    )


@contextlib.contextmanager
def _exclusive(data_dir: Path) -> Iterator[tuple[Path, int]]:
    """DATA_DIR, locked; and the lock's file descriptor (a child process holding it keeps it locked)."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle: IO[str] = (data_dir / ".lock").open("a")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StackError(
                f"another cursor-gateway serve is using {data_dir}; stop it or set DATA_DIR"
            ) from None
        yield data_dir, handle.fileno()
    finally:
        handle.close()  # releases the lock (the kernel also releases it if we are killed)


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio turns on TCP_NODELAY only for sockets that say they are TCP,
    # and accepted sockets inherit the listener's proto. socket.create_server() leaves it 0, which cost
    # every keep-alive request a ~40 ms Nagle/delayed-ACK stall.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
        return sock
    except OSError as exc:
        sock.close()
        raise StackError(
            f"cannot listen on {host}:{port}: {exc.strerror} (set PORT to another port)"
        ) from exc


def _serve(
    settings: Settings,
    data_dir: Path,
    aws: LocalAws,
    on_ready: Callable[[str, Any], Awaitable[None]] | None = None,
) -> None:
    import uvicorn

    from cursor_gateway.api.app import create_app

    sock = _listen(settings.host, settings.port)
    port = sock.getsockname()[1]
    shown_host = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"http://{shown_host}:{port}"
    restored = ", ".join(f"{name}: {n}" for name, n in aws.restored.items()) or "nothing yet"
    banner = "\n".join(
        [
            "",
            f"cursor-gateway {__version__} listening on {url}",
            f"  OpenAI base URL   {url}/v1",
            f"  health            {url}/health",
            f"  admin console     {url}/  (in a browser; paste the admin key)",
            "  admin auth        "
            + (
                "Authorization: Bearer $AUTH_TOKEN"
                if settings.auth_token
                else "AUTH_TOKEN is not set: admin routes answer 401"
            ),
            f"  state             {data_dir} (saved after every write; restored: {restored})",
            f"  local AWS (moto)  {aws.endpoint}",
            f"                    tables: {', '.join(aws.tables)}; buckets: {', '.join(aws.buckets)}",
            "  stop              Ctrl-C",
            "",
        ]
    )

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.should_exit:
                return
            if on_ready is not None:
                await on_ready(url, app)
            else:
                print(banner, flush=True)

    app = create_app(settings=settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=port,
        log_level=settings.log_level.lower(),
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    from cursor_gateway.local.scheduler import start_analytics_schedule

    schedule = start_analytics_schedule(settings)  # None unless an Admin API key is configured
    try:
        _Server(config).run(sockets=[sock])
    finally:
        sock.close()
        if schedule is not None:
            schedule.stop()
        _flush_request_logs(app)


def _flush_request_logs(app: Any) -> None:
    """The request-log writes still queued when the server stops (a Ctrl-C during a chat) go to moto
    now, while it still runs: the moto process is stopped after this, when `aws_in_child` ends."""
    services = getattr(app.state, "services_instance", None)  # None: no request came in at all
    if services is not None and "request_log" in vars(services):  # built by the first chat-like request
        services.request_log.flush()


def export_state_from_args(args: argparse.Namespace) -> int:
    """`cursor-gateway export-state --to DIR`: the saved state in the JSON snapshot format that versions
    before state.sqlite3 read (point such a version's DATA_DIR at DIR). Not while `serve` runs."""
    from cursor_gateway.local.snapshot_format import export_snapshots
    from cursor_gateway.local.state_store import DATABASE, StateError, StateStore
    from cursor_gateway.local.template import TemplateError, load_template, local_resources

    data_dir = Path(args.data_dir or Settings.from_env().data_dir).resolve()
    target = Path(args.to).resolve()
    try:
        if target == data_dir:
            raise StackError(
                "--to must be a new directory: DATA_DIR's JSON files are the pre-migration backup"
            )
        if not (data_dir / DATABASE).exists():
            raise StackError(f"no saved state in {data_dir} (no {DATABASE})")
        tables, buckets = local_resources(
            load_template(Path(args.template or "template.yaml")), region=region()
        )
        with _exclusive(data_dir):
            store = StateStore(data_dir)
            try:
                counts = export_snapshots(
                    store, target, tables=[t.name for t in tables], buckets=[b.name for b in buckets]
                )
            finally:
                store.close()
    except (StackError, StateError, TemplateError) as exc:
        print(f"cursor-gateway: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {target}: " + ", ".join(f"{name}: {n}" for name, n in counts.items()))
    return 0


@contextlib.contextmanager
def local_aws(settings: Settings, template: str | Path | None = None) -> Iterator[str]:
    """The `make run` stack's AWS without the web server, for one-off commands (`analytics pull
    --local`): the DATA_DIR lock, an embedded moto with the template's tables and buckets and the saved
    state, boto3 pointed at it. Yields the moto endpoint; writes are saved to DATA_DIR as usual."""
    with (
        _exclusive(Path(settings.data_dir).resolve()) as (data_dir, _lock),
        aws_in_process(0, data_dir, Path(template or "template.yaml"), _aws_options(settings)) as aws,
    ):
        yield aws.endpoint
