"""Every operation of `/openapi.json`, fuzzed against the `make run` stack (`cursor-gateway serve` in its
own process: uvicorn, every router, DynamoDB and S3 on the embedded moto) with the fake Cursor and the
fake Admin API behind it (tests/fuzz_kit.py says what is generated and checked). Bounded here: a fixed
seed and FUZZ_EXAMPLES examples per operation and mode (default 3); `make fuzz` runs a bigger budget."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import httpx
import pytest
from analytics_env import DATA_START, KEY, FakeClock
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.tokens import fake_jwt
from fakes.admin_api import FakeAdminApi, generate
from fuzz_kit import GatewayProcess, run_fuzz
from harness import running_fake

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
SEED = int(os.environ.get("FUZZ_SEED", "16"))
ADMIN = "fuzz-admin-token"
SHARED = "fuzz-shared-token"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GatewayProcess, list[str]]]:
    commits, changes = generate(start=DATA_START, days=3, commits_per_day=2, changes_per_day=2)
    clock = FakeClock(time.time())
    with (
        running_fake(Behaviour(chunks=3)) as fake,
        FakeAdminApi(key=KEY, commits=commits, changes=changes, rpm=100, period=60.0, clock=clock) as api,
    ):
        env = {
            "AUTH_TOKEN": ADMIN,
            "SHARED_TOKEN": SHARED,
            "CURSOR_API_URL": fake.url,
            "CURSOR_ADMIN_API_URL": api.url,
            "CURSOR_ADMIN_API_KEY": KEY,
            "CURSOR_FIRST_EVENT_TIMEOUT": "5",
            "LOG_LEVEL": "INFO",
        }
        with GatewayProcess(tmp_path_factory.mktemp("fuzz") / "data", env) as gateway:
            tokens = [fake_jwt(user_id=f"user_01FUZZ{i:021d}") for i in range(2)]
            added = httpx.post(
                gateway.url + "/tokens/add",
                json={"tokens": [{"token": t, "alias": f"fuzz{i}"} for i, t in enumerate(tokens)]},
                headers={"authorization": f"Bearer {ADMIN}"},
                timeout=30,
            )
            assert added.status_code == 200, added.text
            yield gateway, [ADMIN, SHARED, KEY, *tokens]


def test_every_operation_survives_the_fuzz(stack: tuple[GatewayProcess, list[str]]) -> None:
    gateway, secrets = stack
    report = run_fuzz(
        gateway.url,
        headers={"authorization": f"Bearer {ADMIN}"},
        secrets=secrets,
        examples=EXAMPLES,
        seed=SEED,
    )
    log = gateway.log_text()
    tracebacks = log.count("Traceback")
    print(report.summary() + f"; log lines {log.count(chr(10))}, tracebacks {tracebacks}")
    for line in report.server_errors + report.failures + report.leaks:
        print(line[:1000])
    assert report.operations >= 40 and report.cases >= report.operations * 2
    assert report.server_errors == []
    assert report.failures == []
    assert report.leaks == []
    assert tracebacks == 0, log[log.index("Traceback") - 500 :][:4000]
    assert [s[:12] for s in secrets if s in log] == []  # no secret in any log line
