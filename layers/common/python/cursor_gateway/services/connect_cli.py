"""`cursor-gateway connect claude-code|codex|opencode`: the settings that point a coding tool at this
gateway (base URL, key, and models taken from the gateway's own `/v1/models`), printed by default and,
with `--write`, merged into the tool's config file after a timestamped backup.

Merging keeps everything else in the file: Claude Code's `settings.json` gets its `env` keys, opencode's
`opencode.json` gets one provider and the default model, Codex's `config.toml` gets `model`,
`model_provider` and one `[model_providers.cursor-gateway]` table, edited as text so that the user's
comments and layout survive (the standard library reads TOML but cannot write it). A run that would
change nothing writes nothing, so running it twice is harmless. Dry runs never show the whole key.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cursor_gateway.upstream.gateway_models import GatewayUnreachable, gateway_model_list

PROVIDER = "cursor-gateway"
KEY_ENV = "CURSOR_GATEWAY_API_KEY"
TOOLS = ("claude-code", "codex", "opencode")


@dataclass(frozen=True, slots=True)
class Model:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Plan:
    """What `connect` would do: the file, its new text, and what to show (the key masked)."""

    path: Path
    text: str
    preview: str
    notes: tuple[str, ...] = ()


def mask(key: str) -> str:
    return key[:4] + "…" + key[-4:] if len(key) > 12 else "…"


def fetch_models(url: str, key: str) -> list[Model]:
    try:
        return [Model(i, name) for i, name in gateway_model_list(url, key)]
    except GatewayUnreachable as exc:
        raise SystemExit(f"connect: {exc}") from exc


def pick(models: Sequence[Model], *words: str) -> str | None:
    """The first model whose id has one of `words` (in that order of preference), plain variants before
    thinking and max ones (the tools choose those per request themselves)."""
    for word in words:
        found = [m.id for m in models if word in m.id.lower()]
        found.sort(key=lambda i: ("thinking" in i, i.endswith("-max")))
        if found:
            return found[0]
    return None


def default_model(models: Sequence[Model], *words: str) -> str:
    chosen = pick(models, *words, "sonnet", "claude")
    if chosen is None:
        chosen = models[0].id if models else "default"
    return chosen


# --- Claude Code: ~/.claude/settings.json ---------------------------------------------------------------


def claude_code(home: Path, url: str, key: str, models: Sequence[Model], model: str | None) -> Plan:
    sonnet = model or default_model(models)
    env = {
        "ANTHROPIC_BASE_URL": url,
        "ANTHROPIC_AUTH_TOKEN": key,
        "ANTHROPIC_MODEL": sonnet,
        "ANTHROPIC_DEFAULT_OPUS_MODEL": pick(models, "opus") or sonnet,
        "ANTHROPIC_DEFAULT_SONNET_MODEL": sonnet,
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": pick(models, "haiku", "flash") or sonnet,
    }
    path = home / ".claude" / "settings.json"
    current = _read_json(path)
    merged = {**current, "env": {**(current.get("env") or {}), **env}}
    shown = {"env": {**env, "ANTHROPIC_AUTH_TOKEN": mask(key)}}
    return Plan(path, json.dumps(merged, indent=2) + "\n", json.dumps(shown, indent=2))


# --- opencode: ~/.config/opencode/opencode.json ----------------------------------------------------------


def opencode(home: Path, url: str, key: str, models: Sequence[Model], model: str | None) -> Plan:
    provider = {
        "npm": "@ai-sdk/openai-compatible",
        "name": "Cursor gateway",
        "options": {"baseURL": f"{url}/v1", "apiKey": key},
        "models": {m.id: {"name": m.name} for m in models},
    }
    chosen = f"{PROVIDER}/{model or default_model(models)}"
    path = home / ".config" / "opencode" / "opencode.json"
    current = _read_json(path)
    merged = {"$schema": "https://opencode.ai/config.json", **current}
    merged["provider"] = {**(current.get("provider") or {}), PROVIDER: provider}
    merged["model"] = chosen
    shown_provider = {**provider, "options": {"baseURL": f"{url}/v1", "apiKey": mask(key)}}
    shown = {"provider": {PROVIDER: shown_provider}, "model": chosen}
    return Plan(path, json.dumps(merged, indent=2) + "\n", json.dumps(shown, indent=2))


# --- Codex: ~/.codex/config.toml ---------------------------------------------------------------------------

_HEADER = re.compile(r"^\s*\[")
_OUR_TABLE = re.compile(r'^\s*\[\s*model_providers\s*\.\s*("cursor-gateway"|cursor-gateway)\s*\]\s*(#.*)?$')
_OUR_KEYS = re.compile(r"^\s*(model|model_provider)\s*=")


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def merge_codex_toml(existing: str, model: str, base_url: str) -> str:
    """`existing` with our two top-level keys and our provider table set (replaced if present), everything
    else (other keys, tables, comments) kept as written."""
    lines = existing.splitlines()
    first_table = next((i for i, line in enumerate(lines) if _HEADER.match(line)), len(lines))
    head = [line for line in lines[:first_table] if not _OUR_KEYS.match(line)]
    rest: list[str] = []
    skipping = False
    for line in lines[first_table:]:
        if _HEADER.match(line):
            skipping = bool(_OUR_TABLE.match(line))
        if not skipping:
            rest.append(line)
    ours_top = [f"model = {json.dumps(model)}", f"model_provider = {json.dumps(PROVIDER)}"]
    ours_table = [
        f"[model_providers.{PROVIDER}]",
        'name = "Cursor gateway"',
        f"base_url = {json.dumps(base_url)}",
        f"env_key = {json.dumps(KEY_ENV)}",
        'wire_api = "responses"',
    ]
    blocks = [ours_top, _trim(head), _trim(rest), ours_table]
    return "\n\n".join("\n".join(block) for block in blocks if block) + "\n"


def codex(home: Path, url: str, key: str, models: Sequence[Model], model: str | None) -> Plan:
    # Not a GPT-5/codex name by default: for those Codex also sends its freeform `custom` apply_patch tool,
    # which the gateway refuses (only function tools reach Cursor).
    chosen = model or default_model(models)
    path = home / ".codex" / "config.toml"
    existing = path.read_text() if path.exists() else ""
    text = merge_codex_toml(existing, chosen, f"{url}/v1")
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SystemExit(
            f"connect: {path} would not be valid TOML after the merge ({exc}); fix it first"
        ) from exc
    preview = merge_codex_toml("", chosen, f"{url}/v1").rstrip()
    note = f"Codex reads the key from ${KEY_ENV}: export {KEY_ENV}={mask(key)} (your full key)"
    return Plan(path, text, preview, (note,))


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        value = json.loads(path.read_text() or "{}")
    except ValueError as exc:
        raise SystemExit(f"connect: {path} is not plain JSON ({exc}); merge by hand or fix it first") from exc
    if not isinstance(value, dict):
        raise SystemExit(f"connect: {path} does not hold a JSON object")
    return value


PLANNERS: dict[str, Callable[[Path, str, str, Sequence[Model], str | None], Plan]] = {
    "claude-code": claude_code,
    "codex": codex,
    "opencode": opencode,
}


def apply(plan: Plan, *, clock: Callable[[], float] = time.time) -> str:
    """Write the plan (backing up a file that changes); what happened, in one line."""
    if plan.path.exists() and plan.path.read_text() == plan.text:
        return f"{plan.path} is already up to date"
    plan.path.parent.mkdir(parents=True, exist_ok=True)
    done = f"wrote {plan.path}"
    if plan.path.exists():
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(clock()))
        backup = plan.path.with_name(f"{plan.path.name}.bak-{stamp}")
        shutil.copy2(plan.path, backup)
        done += f" (backup: {backup})"
    # The file holds the key (except Codex's): readable by its owner only.
    fd = os.open(plan.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(plan.text)
    os.chmod(plan.path, 0o600)
    return done


def add_parser(sub: Any) -> None:
    connect = sub.add_parser(
        "connect", help="print (or --write) the settings that point Claude Code, Codex or opencode here"
    )
    connect.add_argument("tool", choices=TOOLS)
    connect.add_argument(
        "--url", default=None, help="gateway base URL (env CURSOR_GATEWAY_URL, default http://127.0.0.1:3000)"
    )
    connect.add_argument("--key", default=None, help=f"gateway key (env {KEY_ENV}, else AUTH_TOKEN)")
    connect.add_argument("--model", default=None, help="main model (default: chosen from /v1/models)")
    connect.add_argument("--home", default=None, help="home directory holding the config (default: yours)")
    connect.add_argument("--write", action="store_true", help="merge into the config file (after a backup)")


def run_from_args(args: argparse.Namespace) -> int:
    url = (args.url or os.environ.get("CURSOR_GATEWAY_URL") or "http://127.0.0.1:3000").rstrip("/")
    url = url.removesuffix("/v1")
    key = args.key or os.environ.get(KEY_ENV) or os.environ.get("AUTH_TOKEN") or ""
    if not key:
        print(f"connect: no key: pass --key or set {KEY_ENV}", file=sys.stderr)
        return 2
    home = Path(args.home).expanduser() if args.home else Path.home()
    models = fetch_models(url, key)
    plan = PLANNERS[args.tool](home, url, key, models, args.model)
    if not args.write:
        print(f"# {args.tool}: settings to merge into {plan.path} (dry run; add --write to apply)")
        print(plan.preview)
    else:
        print(apply(plan))
    for note in plan.notes:
        print(f"# {note}")
    return 0
