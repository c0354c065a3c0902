"""`cursor-gateway analytics pull|status|csv` as an operator runs them: against the environment's AWS (the
moto server here), and with `--local` against the `make run` stack's own DATA_DIR state (subprocesses,
so the embedded moto and its environment changes stay out of this process)."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from analytics_env import KEY, ROOT, Aws, before
from cursor_gateway import cli
from cursor_gateway.storage import aws as aws_clients
from fakes.admin_api import FakeAdminApi, generate


@pytest.fixture
def live_fake() -> Any:
    """Rows of the last three days in real time (the command line runs on the real clock)."""
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=3)
    commits, changes = generate(start=start, days=4, commits_per_day=4, changes_per_day=3)
    now = time.time()
    with FakeAdminApi(key=KEY, commits=before(commits, now), changes=before(changes, now)) as fake:
        yield fake


def environment(aws: Aws | None, fake: FakeAdminApi, endpoint: str = "") -> dict[str, str]:
    values = {
        "CURSOR_ADMIN_API_URL": fake.url,
        "CURSOR_ADMIN_API_KEY": KEY,
        "ANALYTICS_BACKFILL_START": "5d",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "LOG_LEVEL": "WARNING",
    }
    if endpoint:
        values["AWS_ENDPOINT_URL"] = endpoint
    if aws is not None:
        values.update(
            ANALYTICS_COMMITS_TABLE=aws.names["AnalyticsCommitsTable"],
            ANALYTICS_CHANGES_TABLE=aws.names["AnalyticsChangesTable"],
            ANALYTICS_STATE_TABLE=aws.names["AnalyticsStateTable"],
            ANALYTICS_BUCKET=aws.names["AnalyticsBucket"],
        )
    return values


def test_pull_status_and_csv_against_the_environments_aws(
    aws: Aws,
    moto_endpoint: str,
    live_fake: FakeAdminApi,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    tmp_path: Path,
) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment(aws, live_fake, moto_endpoint).items():
        monkeypatch.setenv(name, value)
    aws_clients.reset_clients()
    try:
        assert cli.main(["analytics", "pull"]) == 0
        run = json.loads(capsys.readouterr().out)
        assert run["state"] == "succeeded" and run["trigger"] == "cli"
        assert run["streams"]["commits"]["inserted"] == len(live_fake.data["commits"])
        assert run["streams"]["changes"]["inserted"] == len(live_fake.data["changes"])

        assert cli.main(["analytics", "pull", "--since", "2d", "--dataset", "commits"]) == 0
        again = json.loads(capsys.readouterr().out)
        assert list(again["streams"]) == ["commits"] and again["streams"]["commits"]["inserted"] == 0

        assert cli.main(["analytics", "status"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["streams"]["commits"]["rows"] == len(live_fake.data["commits"])

        today = datetime.now(UTC).date()
        out = tmp_path / "commits.csv"
        start, end = (today - timedelta(days=3)).isoformat(), (today + timedelta(days=1)).isoformat()
        assert cli.main(["analytics", "csv", "commits", "--start", start, "--end", end, "-o", str(out)]) == 0
        text = out.read_bytes().decode()
        assert (
            text.startswith("commit_hash,user_id,")
            and text.count("\r\n") >= len(live_fake.data["commits"]) + 1
        )
        assert live_fake.calls_to("/analytics/ai-code/commits.csv")[0].params == {
            "startDate": start,
            "endDate": end,
        }
    finally:
        aws_clients.reset_clients()


def test_a_failed_pull_exits_1_and_says_why(
    aws: Aws, moto_endpoint: str, live_fake: FakeAdminApi, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    for name, value in environment(aws, live_fake, moto_endpoint).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CURSOR_ADMIN_API_KEY", "key_revoked")
    aws_clients.reset_clients()
    try:
        assert cli.main(["analytics", "pull", "--dataset", "changes"]) == 1
        run = json.loads(capsys.readouterr().out)
        assert "HTTP 401" in run["streams"]["changes"]["error"]
        assert cli.main(["analytics", "pull", "--since", "someday"]) == 1
        assert "since" in capsys.readouterr().err
    finally:
        aws_clients.reset_clients()


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([str(ROOT / "layers/common/python"), os.environ.get("PYTHONPATH", "")])
    full = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    full.update(env, PYTHONPATH=path)
    return subprocess.run(
        [sys.executable, "-m", "cursor_gateway.cli", "analytics", *args],
        env=full,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_local_pull_keeps_its_state_in_data_dir(live_fake: FakeAdminApi, tmp_path: Path) -> None:
    env = environment(None, live_fake)
    env["DATA_DIR"] = str(tmp_path / "data")
    # the template is found in the working directory, like `make run`
    (tmp_path / "template.yaml").write_text((ROOT / "template.yaml").read_text())
    first = run_cli(["pull", "--local"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["state"] == "succeeded"
    with contextlib.closing(sqlite3.connect(tmp_path / "data/state.sqlite3")) as db:
        saved = db.execute("SELECT count(*) FROM items WHERE tbl = 'cursor-gateway-analytics-commits'")
        assert saved.fetchone()[0] == len(live_fake.data["commits"])

    status = run_cli(["status", "--local"], env, tmp_path)  # a new process: the state came from DATA_DIR
    assert status.returncode == 0, status.stderr
    streams = json.loads(status.stdout)["streams"]
    assert streams["commits"]["rows"] == len(live_fake.data["commits"])
    assert streams["changes"]["last_run"]["state"] == "succeeded"
