"""Schema-driven fuzzing of every operation in `/openapi.json` against the real app on a socket, with the
fake Cursor behind it (tests/fuzz/test_schema_fuzz.py runs it bounded in `make test`; `make fuzz` runs it
deeper and prints the figures).

The operations come from the served schema, so a route added by anyone is fuzzed without a list to keep.
Schemathesis generates valid (positive) and invalid (negative) cases per operation; on top of that, a
half of the JSON bodies get one leaf, or every string, replaced by a hostile value (lone surrogates, NUL, 70 KB strings,
a 400-deep nesting, numbers at the 64-bit and float edges). Every response is checked:
- no 500, and a 502/503/504 only where the operation documents it (the upstream or the pool);
- status code, content type and body conform to the schema (errors in the surface's envelope);
- invalid input is refused with a 4xx;
and after the run: no traceback and no secret (admin or shared token, a pool token) in any log line, and
no secret in any response except the two that exist to return one (`/tokens/get` with `reveal`,
`/build-key`). Failures are collected, never shrunk, so a run's time stays bounded.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.errors
import requests
import schemathesis
from cursor_gateway.api.errors import envelope_kind
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

NASTY_STRINGS = (
    "\ud800",
    "a\udfffb",
    "\udc00\ud800",
    "\x00",
    "nul\x00inside",
    "x" * 70_000,
    "\u202e\ufeff\u200b",
    "\U0001f600" * 500,
    "",
    " ",
    "../../../etc/passwd",
    "%s%n{0}",
    "'\"\\",
)
NASTY_NUMBERS = (0, -1, 2**31, 2**53 + 1, 2**63, -(2**63) - 1, 2**64, 10**30, 1.7e308, -1.7e308, 5e-324, -0.0)
UPSTREAM_STATUSES = {502, 503, 504}
ROOT = Path(__file__).resolve().parents[1]


def deep(depth: int) -> Any:
    value: Any = "bottom"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


NASTY_VALUES = (*NASTY_STRINGS, *NASTY_NUMBERS, deep(400), [], {}, None, True)


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    if path:
        yield path


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    value[path[0]] = _replace(value[path[0]], path[1:], new)
    return value


@st.composite
def hostile(draw: st.DrawFn, case: Any) -> tuple[Any, Any]:
    """The case, and (one time in two) a hostile variant of its JSON body: one leaf replaced by a
    hostile value, or every string in it replaced by one hostile string. Sent as is, outside
    schemathesis (which cannot validate a body holding a lone surrogate)."""
    body = getattr(case, "body", None)
    how = draw(st.integers(0, 5))
    if not isinstance(body, dict | list) or how > 2:
        return case, None
    leaves = list(_leaves(body))
    if how == 2:
        text = draw(st.sampled_from(NASTY_STRINGS))
        mutated = copy.deepcopy(body)
        for path in leaves:
            if isinstance(_get(mutated, path), str):
                mutated = _replace(mutated, path, text)
        return case, mutated
    new = draw(st.sampled_from(NASTY_VALUES))
    if leaves:
        return case, _replace(copy.deepcopy(body), draw(st.sampled_from(leaves)), new)
    return case, ({**body, "fuzz": new} if isinstance(body, dict) else [new])


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


ENVELOPE_KEYS = {"openai": "error", "anthropic": "type", "admin": "status"}


def in_envelope(path: str, response: requests.Response) -> bool:
    """An error body in the surface's envelope (api.errors): OpenAI, Anthropic or admin."""
    try:
        body = response.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    if path.startswith("/v1/messages"):
        return body.get("type") == "error" and isinstance(body.get("error"), dict)
    if envelope_kind(path) == "openai":  # /v1/* and /cursor/* (the Cursor IDE's chat entry)
        return isinstance(body.get("error"), dict) and isinstance(body["error"].get("message"), str)
    return body.get("status") == "error" and isinstance(body.get("message"), str)


class GatewayProcess:
    """`cursor-gateway serve` (what `make run` starts) on free ports, its output kept in a file; the whole
    process group is stopped on exit."""

    def __init__(self, data_dir: Path, env: dict[str, str], root: Path = ROOT) -> None:
        self.data_dir = data_dir
        self.root = root
        self.log_path = data_dir.parent / "gateway.log"
        path = os.pathsep.join([str(root / "layers/common/python"), os.environ.get("PYTHONPATH", "")])
        self.env = {**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1", **env}
        self.env.pop("MOTO_PORT", None)
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> GatewayProcess:
        command = [sys.executable, "-m", "cursor_gateway.cli", "serve", "--host", "127.0.0.1", "--port", "0"]
        command += [
            "--moto-port",
            "0",
            "--data-dir",
            str(self.data_dir),
            "--template",
            str(self.root / "template.yaml"),
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.root,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and self.process.poll() is None:
            found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", self.log_text())
            if found:
                self.url = found.group(1)
                with contextlib.suppress(requests.RequestException):
                    if requests.get(self.url + "/health", timeout=2).status_code == 200:
                        return self
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("gateway did not start:\n" + self.log_text()[-3000:])

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(20)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Report:
    cases: int = 0
    hostile: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    server_errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    seconds: float = 0.0
    operations: int = 0
    slowest: list[tuple[float, str]] = field(default_factory=list)

    def summary(self) -> str:
        counts: collections.Counter[str] = collections.Counter()
        for s, n in self.statuses.items():
            counts[f"{s // 100}xx"] += n
        return (
            f"fuzz: {self.cases} cases ({self.hostile} with a hostile value) over {self.operations} operations in {self.seconds:.1f} s; "
            f"status classes {dict(counts)}; 500s {len(self.server_errors)}; "
            f"check failures {len(self.failures)}; secret leaks {len(self.leaks)}; slowest "
            + ", ".join(f"{name} {seconds:.1f} s" for seconds, name in sorted(self.slowest, reverse=True)[:4])
        )


def _checks(mode: GenerationMode) -> list[Any]:
    checks = [status_code_conformance, content_type_conformance, response_schema_conformance]
    return [*checks, negative_data_rejection] if mode is GenerationMode.NEGATIVE else checks


def _may_answer_upstream_error(operation: Any, status: int) -> bool:
    return str(status) in (operation.definition.raw.get("responses") or {})


def run_fuzz(
    base_url: str,
    *,
    headers: dict[str, str],
    secrets: list[str],
    examples: int,
    seed: int = 16,
    first: tuple[str, ...] = ("/v1/",),
    schema: dict[str, Any] | None = None,
) -> Report:
    """Fuzz every operation of the served schema; `first` path prefixes go first (before admin writes
    reshape the pool). Never raises for what it finds: read the report."""
    loaded = (
        schemathesis.openapi.from_dict(schema)
        if schema is not None  # e.g. to fuzz an older build that does not serve it
        else schemathesis.openapi.from_url(base_url + "/openapi.json")
    )
    operations = [result.ok() for result in loaded.get_all_operations()]
    operations.sort(key=lambda op: (not op.path.startswith(first), op.path, op.method))
    report = Report(operations=len(operations))
    session = requests.Session()
    started = time.monotonic()
    for operation in operations:
        began = time.monotonic()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(operation, mode, base_url, headers, secrets, examples, seed, session, report)
        report.slowest.append((time.monotonic() - began, f"{operation.method.upper()} {operation.path}"))
    report.seconds = time.monotonic() - started
    session.close()
    return report


def _fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    base_url: str,
    headers: dict[str, str],
    secrets: list[str],
    examples: int,
    seed: int,
    session: requests.Session,
    report: Report,
) -> None:
    label = f"{operation.method.upper()} {operation.path} [{mode.value}]"
    strategy = operation.as_strategy(generation_mode=mode).flatmap(hostile)

    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )
    @given(drawn=strategy)
    def one(drawn: tuple[Any, Any]) -> None:
        case, hostile_body = drawn
        report.cases += 1
        try:
            if hostile_body is None:
                response = case.call(base_url=base_url, headers=headers, session=session, timeout=60)
            else:
                report.hostile += 1
                response = session.request(
                    operation.method.upper(),
                    base_url + case.formatted_path,
                    params=case.query or None,
                    headers={**headers, "content-type": "application/json"},
                    data=json.dumps(hostile_body).encode(),
                    timeout=60,
                )
        except requests.RequestException as exc:
            report.failures.append(f"{label}: transport error {exc!r}")
            return
        status = response.status_code
        report.statuses[status] += 1
        sent = hostile_body if hostile_body is not None else case.body
        if status >= 500 and not (
            status in UPSTREAM_STATUSES and _may_answer_upstream_error(operation, status)
        ):
            report.server_errors.append(f"{label}: {status} {response.text[:300]} for {str(sent)[:300]}")
            return
        if hostile_body is not None:
            if status >= 400 and not in_envelope(operation.path, response):
                report.failures.append(f"{label}: {status} not in the envelope: {response.text[:300]}")
        else:
            try:
                case.validate_response(response, checks=_checks(mode), headers=headers)
            except (FailureGroup, AssertionError) as exc:  # the checks that failed
                report.failures.append(f"{label}: {status} {str(exc)[:600]} for {str(sent)[:200]}")
        if not _may_reveal(operation, sent):
            report.leaks.extend(f"{label}: response holds a secret" for s in secrets if s in response.text)

    # No invalid input exists for some (a GET without parameters): nothing to send then.
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        one()


def _may_reveal(operation: Any, body: Any) -> bool:
    """The two answers that exist to hand a secret to the admin."""
    if operation.path == "/build-key":
        return True
    return operation.path == "/tokens/get" and isinstance(body, dict) and body.get("reveal") is True
