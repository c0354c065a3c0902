"""The emulator's modules import one way (the RPC modules never import server.py back, counting
TYPE_CHECKING and function-level imports), import no private name across files, and stay small.

Parsed from the source (not imported), like test_layering.py."""

from __future__ import annotations

import ast
from pathlib import Path

EMULATOR = Path(__file__).resolve().parents[2] / "layers/common/python/cursor_gateway/emulator"
PACKAGE = "cursor_gateway.emulator"
MAX_LINES = 400


def _modules() -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text(), filename=str(path)) for path in EMULATOR.glob("*.py")}


def _imports(tree: ast.Module, known: set[str]) -> list[tuple[str, list[str]]]:
    """(emulator module, names imported from it) for every import statement anywhere in the file."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    found.append((alias.name.split(".")[2], []))
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [alias.name for alias in node.names]
            if node.module == PACKAGE:  # `from cursor_gateway.emulator import compat`
                found.extend((name, []) for name in names if name in known)
            elif node.module.startswith(PACKAGE + "."):
                found.append((node.module.split(".")[2], names))
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: {target for target, _ in _imports(tree, set(modules))} - {name}
        for name, tree in modules.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a path of module names, or [] when the graph has none."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_emulator_imports_have_no_cycle() -> None:
    graph = _graph()
    assert {"server", "agent", "inference", "records", "wire"} <= set(graph)
    assert _cycle(graph) == []


def test_only_the_entry_points_import_server() -> None:
    importers = sorted(name for name, targets in _graph().items() if "server" in targets)
    assert importers == ["demo"]


def test_no_private_name_crosses_files() -> None:
    modules = _modules()
    crossing = [
        f"{name} imports {target}.{imported}"
        for name, tree in modules.items()
        for target, names in _imports(tree, set(modules))
        for imported in names
        if imported.startswith("_")
    ]
    assert crossing == []


def test_modules_stay_small() -> None:
    sizes = {path.name: len(path.read_text().splitlines()) for path in EMULATOR.glob("*.py")}
    assert {name: lines for name, lines in sizes.items() if lines > MAX_LINES} == {}
