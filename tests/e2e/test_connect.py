"""`cursor-gateway connect`: the model mapping comes from a running gateway's /v1/models (real socket,
fake Cursor behind it); files are merged into a temporary home, other settings kept, backed up once, and a
second run changes nothing."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cursor_gateway import cli
from cursor_gateway.emulator.behaviour import Behaviour
from cursor_gateway.services.connect_cli import Model, default_model, pick
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    with running_fake(Behaviour()) as fake:
        settings = gateway_settings(fake)
        with running_gateway(settings, make_services(settings, [session_record("alpha")])) as url:
            yield url


def connect(tool: str, url: str, home: Path, *extra: str) -> int:
    return cli.main(["connect", tool, "--url", url, "--key", ADMIN, "--home", str(home), *extra])


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".bak-*"))


def test_dry_run_prints_masked_settings_and_writes_nothing(
    gateway: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert connect("claude-code", gateway, tmp_path) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and str(tmp_path / ".claude" / "settings.json") in out
    assert ADMIN not in out and "ANTHROPIC_BASE_URL" in out
    assert not (tmp_path / ".claude").exists()


def test_claude_code_settings_are_merged_and_idempotent(gateway: str, tmp_path: Path) -> None:
    path = tmp_path / ".claude" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"theme": "dark", "env": {"MY_VAR": "1", "ANTHROPIC_MODEL": "old"}}))
    assert connect("claude-code", gateway, tmp_path, "--write") == 0
    settings = json.loads(path.read_text())
    env = settings["env"]
    assert settings["theme"] == "dark" and env["MY_VAR"] == "1"
    assert env["ANTHROPIC_BASE_URL"] == gateway and env["ANTHROPIC_AUTH_TOKEN"] == ADMIN
    assert "sonnet" in env["ANTHROPIC_MODEL"] and "thinking" not in env["ANTHROPIC_MODEL"]
    # The fake's list has no opus: that role falls back to the main model.
    assert env["ANTHROPIC_DEFAULT_OPUS_MODEL"] == env["ANTHROPIC_MODEL"]
    assert path.stat().st_mode & 0o077 == 0  # the key is in it: owner only
    assert (
        len(backups(path)) == 1
        and json.loads(backups(path)[0].read_text())["env"]["ANTHROPIC_MODEL"] == "old"
    )
    first = path.read_text()
    assert connect("claude-code", gateway, tmp_path, "--write") == 0
    assert path.read_text() == first and len(backups(path)) == 1


def test_codex_config_keeps_the_users_toml(
    gateway: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / ".codex" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(
        '# my settings\nmodel = "o3"\napproval_policy = "never"\n\n[profiles.fast]\nmodel = "x"\n'
    )
    assert connect("codex", gateway, tmp_path, "--write", "--model", "gpt-5.3-codex") == 0
    text = path.read_text()
    config = tomllib.loads(text)
    assert config["model"] == "gpt-5.3-codex" and config["model_provider"] == "cursor-gateway"
    provider = config["model_providers"]["cursor-gateway"]
    assert provider == {
        "name": "Cursor gateway",
        "base_url": gateway + "/v1",
        "env_key": "CURSOR_GATEWAY_API_KEY",
        "wire_api": "responses",
    }
    assert config["approval_policy"] == "never" and config["profiles"]["fast"]["model"] == "x"
    assert "# my settings" in text and ADMIN not in text
    assert "export CURSOR_GATEWAY_API_KEY=" in capsys.readouterr().out
    assert connect("codex", gateway, tmp_path, "--write", "--model", "gpt-5.3-codex") == 0
    assert path.read_text() == text and len(backups(path)) == 1


def test_opencode_gets_one_provider_with_every_model(gateway: str, tmp_path: Path) -> None:
    assert connect("opencode", gateway, tmp_path, "--write") == 0
    path = tmp_path / ".config" / "opencode" / "opencode.json"
    config = json.loads(path.read_text())
    provider = config["provider"]["cursor-gateway"]
    assert provider["options"] == {"baseURL": gateway + "/v1", "apiKey": ADMIN}
    assert "claude-4.6-sonnet" in provider["models"]
    assert (
        config["model"].startswith("cursor-gateway/")
        and config["model"].split("/", 1)[1] in provider["models"]
    )
    assert backups(path) == []  # nothing to back up on a first write
    first = path.read_text()
    assert connect("opencode", gateway, tmp_path, "--write") == 0
    assert path.read_text() == first


def test_model_roles_prefer_plain_variants() -> None:
    models = [
        Model(i, i)
        for i in (
            "default",
            "claude-4.6-sonnet-thinking",
            "claude-4.6-sonnet",
            "claude-4.6-opus-high-thinking",
        )
    ]
    assert pick(models, "sonnet") == "claude-4.6-sonnet"
    assert pick(models, "opus") == "claude-4.6-opus-high-thinking"
    assert pick(models, "haiku", "flash") is None
    assert default_model(models) == "claude-4.6-sonnet"
    assert default_model([Model("gpt-5.2", "GPT")], "codex") == "gpt-5.2"  # nothing matches: the first one


def test_a_refused_key_is_a_clear_error(gateway: str, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as refused:
        cli.main(["connect", "codex", "--url", gateway, "--key", "wrong", "--home", str(tmp_path)])
    assert "refused the key" in str(refused.value)
