"""The local stack's AWS (`moto_stack.aws_in_process`) in a child process of `serve`.

moto's request threads, its parsers and the SQLite saves of `local.state` cost CPU on every logged chat
request; in the gateway's process they also hold its GIL while the chat path waits. Here they run in a
child process:

- the child prints one JSON line on its stdout when moto answers and the saved state is restored
  (`{"endpoint": ..., "tables": [...], "buckets": [...], "restored": {...}}`, or `{"error": ...}`);
- it runs until its stdin closes, so it never outlives the gateway, even one killed with SIGKILL (the
  kernel closes the pipe); then it stops the TTL sweep and moto and closes the saved state;
- it ignores SIGINT: a Ctrl-C to the process group is the gateway's to handle, which flushes its queued
  request-log writes to moto and only then closes the child's stdin;
- it inherits the DATA_DIR lock's file descriptor (the gateway takes the lock), so the lock is held
  until both processes are gone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from cursor_gateway.local.moto_stack import (
    AwsOptions,
    LocalAws,
    StackError,
    aws_in_process,
    point_boto3_at,
    region,
)

STOP_SECONDS = 30.0


def _ignore_sigint() -> None:  # in the child between fork and exec: Python keeps an ignored SIGINT
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def aws_in_child(
    port: int, data_dir: Path, template_path: Path, options: AwsOptions, *, lock_fd: int, log_level: str
) -> Iterator[LocalAws]:
    """`aws_in_process` in a child process; this process's boto3 is pointed at it."""
    package_root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")])}
    config = {
        "port": port,
        "data_dir": str(data_dir),
        "template": str(template_path.resolve()),
        "log_level": log_level,
        "options": asdict(options),
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "cursor_gateway.local.moto_process", json.dumps(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        pass_fds=(lock_fd,),
        preexec_fn=_ignore_sigint,
    )
    assert child.stdin is not None and child.stdout is not None
    ready = False
    try:
        line = child.stdout.readline()
        try:
            answer = json.loads(line or b"{}")
        except ValueError:
            answer = {}
        if not isinstance(answer, dict) or "endpoint" not in answer:
            error = answer.get("error") if isinstance(answer, dict) else None
            child.wait(STOP_SECONDS)
            raise StackError(error or f"the local AWS process exited early (status {child.returncode})")
        ready = True
        point_boto3_at(answer["endpoint"], region())
        yield LocalAws(answer["endpoint"], answer["tables"], answer["buckets"], answer["restored"])
    finally:
        with contextlib.suppress(OSError):
            child.stdin.close()  # the child's signal to stop
        if not ready and child.poll() is None:
            child.terminate()  # interrupted while restoring: nothing acknowledged is lost
        try:
            child.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        child.stdout.close()


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    config = json.loads(argv[0])
    logging.basicConfig(
        level=str(config["log_level"]).upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("botocore").setLevel(logging.WARNING)
    report = sys.stdout
    sys.stdout = sys.stderr  # the stdout pipe carries the readiness line only
    ready, closed = threading.Event(), threading.Event()

    def watch_stdin() -> None:
        sys.stdin.buffer.read()  # returns at EOF: the gateway closed the pipe or is gone
        closed.set()
        if not ready.is_set():
            os._exit(1)  # nobody is waiting for this moto any more

    threading.Thread(target=watch_stdin, name="parent-watch", daemon=True).start()
    try:
        with aws_in_process(
            int(config["port"]),
            Path(config["data_dir"]),
            Path(config["template"]),
            AwsOptions(**config["options"]),
        ) as aws:
            print(json.dumps(asdict(aws)), file=report, flush=True)
            ready.set()
            closed.wait()
    except StackError as exc:
        print(json.dumps({"error": str(exc)}), file=report, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
