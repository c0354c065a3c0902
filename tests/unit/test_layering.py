"""Imports go one way: api -> services -> {adapters, upstream, storage} -> {domain, codec, errors}.

Parsed from the source (not imported), so a violation fails here before it tangles the design."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "layers/common/python/cursor_gateway"
BASE = {"errors", "settings", "__init__"}

# layer -> layers it may import (besides itself and BASE)
ALLOWED: dict[str, set[str]] = {
    "codec": set(),
    "domain": {"codec"},
    "adapters": {"domain", "codec"},
    "upstream": {"domain", "codec"},
    "storage": {"domain"},
    "services": {"adapters", "upstream", "storage", "domain", "codec"},
    "api": {"services", "adapters", "domain"},
    "emulator": {"codec", "domain", "upstream"},
    "local": {"api", "services", "storage", "domain"},
}
TOP_LEVEL_MODULES = {"cli"}


def layer_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported_layers(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "cursor_gateway" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_imports_go_one_way() -> None:
    violations = []
    files = [p for p in PACKAGE.rglob("*.py") if "_gen" not in p.parts]
    assert len(files) > 20
    for path in files:
        layer = layer_of(path)
        if layer in BASE | TOP_LEVEL_MODULES:
            continue
        assert layer in ALLOWED, f"unknown layer {layer} ({path})"
        for target in imported_layers(path) - {layer} - BASE:
            if target not in ALLOWED[layer]:
                violations.append(f"{path.relative_to(PACKAGE)} imports {target}")
    assert violations == []


def test_only_storage_uses_boto3_and_only_upstream_talks_http() -> None:
    for path in PACKAGE.rglob("*.py"):
        if "_gen" in path.parts:
            continue
        text = path.read_text()
        layer = layer_of(path)
        if "import boto3" in text or "from boto3" in text:
            assert layer in ("storage", "local"), f"{path} uses boto3"
        if "import httpx" in text or "import pyqwest" in text:
            assert layer == "upstream", f"{path} makes HTTP calls"
