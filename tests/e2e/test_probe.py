"""`cursor-gateway probe` against the fake Cursor: a turn and a tool round trip per profile with one
pooled token, the account's usable models diffed with our catalog, and what was unknown."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from typing import Any

import pytest
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.emulator.server import CATALOG, FakeCursor
from cursor_gateway.services import probe_cli
from harness import gateway_settings, make_services, running_fake, session_record


def echo_call(advertised: list[str]) -> dict[str, Any] | None:
    return {"name": "probe_echo", "arguments": {"text": "ping"}} if "probe_echo" in advertised else None


@pytest.fixture
def fake() -> Iterator[FakeCursor]:
    with running_fake(Behaviour(tool_call=echo_call, send_unknown=True)) as server:
        yield server


def test_probe_reports_each_profile_models_and_drift(
    fake: FakeCursor, capsys: pytest.CaptureFixture[str]
) -> None:
    record = session_record("ops")
    fake.usable_by_token[record.primary_token] = [name for name, *_ in CATALOG] + ["claude-opus-9-preview"]
    settings = gateway_settings(fake)
    services = make_services(settings, [record])
    code = probe_cli.run_from_args(argparse.Namespace(alias="ops", profile=None), services=services)
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    assert set(report["profiles"]) == {"agent", "inference", "legacy"}
    for name in ("agent", "inference"):
        steps = report["profiles"][name]
        assert steps["turn"]["ok"] and steps["tool_round_trip"]["ok"], steps
        assert steps["tool_round_trip"]["answer"].startswith("The tool probe_echo returned: pong")
    assert report["profiles"]["legacy"]["tool_round_trip"]["ok"] is None  # skipped, not failed
    assert report["models"]["new_upstream"] == ["claude-opus-9-preview"]
    assert "claude-sonnet-5" in report["models"]["not_usable"]  # on our list, not on this account's
    assert report["unknown"]["AgentServerMessage#99"] >= 1  # the fake's drift is shown
    assert isinstance(
        report["seconds"], float
    )  # reported; the 28 s budget is enforced per step, not asserted


def test_probe_says_which_step_failed_and_an_unknown_alias_is_exit_2(
    fake: FakeCursor, capsys: pytest.CaptureFixture[str]
) -> None:
    record = session_record("ops")
    fake.by_token[record.primary_token] = Behaviour.failing("update_required")
    services = make_services(gateway_settings(fake), [record])
    assert probe_cli.run_from_args(argparse.Namespace(alias="ops", profile=["agent"]), services=services) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["profiles"]["agent"]["turn"]["outcome"] == "upstream_version_gate"
    assert probe_cli.run_from_args(argparse.Namespace(alias="nobody", profile=None), services=services) == 2


def test_a_stalled_step_is_cut_at_its_deadline_and_reported(
    fake: FakeCursor, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cursor_gateway.services import probe

    monkeypatch.setattr(probe, "STEP_SECONDS", 0.5)  # the budget, shortened so the test does not wait 8 s
    record = session_record("ops")
    fake.by_token[record.primary_token] = Behaviour(mode="stall")
    services = make_services(gateway_settings(fake), [record])
    assert probe_cli.run_from_args(argparse.Namespace(alias="ops", profile=["agent"]), services=services) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["profiles"]["agent"]["turn"]["outcome"] == "timeout"
    assert report["profiles"]["agent"]["tool_round_trip"]["outcome"] == "timeout"
    assert report["models"]["ok"] is True  # the other steps still ran
