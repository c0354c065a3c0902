"""No import circles in the package, and no private name (`_x`) imported from another module.

Parsed from the source (not imported): every `import` and `from ... import` counts, relative ones,
those under `if TYPE_CHECKING:` and those inside functions too. A deferred import only hides a circle
from the interpreter; the two modules still cannot be understood (or split) one without the other.
The generated protobuf code (`codec/_gen`) is left out: nothing there imports back, and its names are
protoc's, not ours."""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "layers/common/python/cursor_gateway"
ROOT = PACKAGE.name
GENERATED = f"{ROOT}.codec._gen"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: path for name, path in modules.items() if not is_generated(name)}


def is_generated(name: str) -> bool:
    return name == GENERATED or name.startswith(GENERATED + ".")


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def base_of(node: ast.ImportFrom, importer: str, path: Path) -> str:
    """The absolute module a `from X import ...` reads from, relative levels resolved."""
    if node.level == 0:
        return node.module or ""
    package = importer.split(".") if path.name == "__init__.py" else importer.split(".")[:-1]
    anchor = package[: len(package) - (node.level - 1)]
    return ".".join([*anchor, node.module] if node.module else anchor)


def imports_of(importer: str, path: Path, known: set[str]) -> Iterator[tuple[str, str | None, int]]:
    """(imported package module, name taken from it or None, line) for every import in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == ROOT:
                    yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = base_of(node, importer, path)
            if base.split(".")[0] != ROOT:
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in known or is_generated(submodule):
                    yield submodule, None, node.lineno  # `from pkg import module`
                else:
                    yield base, alias.name, node.lineno


@cache  # parsed once for the tests below
def import_graph() -> tuple[dict[str, set[str]], list[str]]:
    """The edges between package modules, and every private name that crosses a file."""
    modules = package_modules()
    known = set(modules)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    private: list[str] = []
    for importer, path in modules.items():
        for target, name, line in imports_of(importer, path, known):
            if is_generated(target):
                continue
            assert target in known, f"{path.relative_to(PACKAGE)}:{line} imports unknown {target}"
            if target != importer:
                graph[importer].add(target)
            if name is not None and is_private(name) and target != importer:
                private.append(f"{path.relative_to(PACKAGE)}:{line} imports {name} from {target}")
    return graph, private


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; only the components with more than one module (the circles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            target = next(edges, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def describe(component: list[str], graph: dict[str, set[str]]) -> str:
    members = set(component)
    edges = [f"    {a} -> {b}" for a in component for b in sorted(graph[a] & members)]
    return f"circle of {len(component)} modules:\n" + "\n".join(edges)


def test_every_kind_of_import_is_seen(tmp_path: Path) -> None:
    source = tmp_path / "example.py"  # read as if it were cursor_gateway/api/example.py
    source.write_text(
        textwrap.dedent(
            """
            from typing import TYPE_CHECKING
            import cursor_gateway.domain.keys
            from cursor_gateway.api import deps
            from . import errors as e
            from ..domain.health import effective_score, _private
            from cursor_gateway.codec._gen.aiserver.v1 import tab_pb2
            if TYPE_CHECKING:
                from cursor_gateway.services.container import Services
            def later():
                from cursor_gateway.api.app import create_app
            """
        )
    )
    modules = set(package_modules())
    found = {(target, name) for target, name, _ in imports_of(f"{ROOT}.api.example", source, modules)}
    assert found == {
        (f"{ROOT}.domain.keys", None),
        (f"{ROOT}.api.deps", None),
        (f"{ROOT}.api.errors", None),
        (f"{ROOT}.domain.health", "effective_score"),
        (f"{ROOT}.domain.health", "_private"),
        (f"{ROOT}.codec._gen.aiserver.v1.tab_pb2", None),
        (f"{ROOT}.services.container", "Services"),
        (f"{ROOT}.api.app", "create_app"),
    }
    assert len(modules) > 100


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "e"}, "e": {"d"}, "f": set()}
    assert strongly_connected(graph) == [["a", "b", "c"], ["d", "e"]]


def test_no_import_circles() -> None:
    graph, _ = import_graph()
    circles = strongly_connected(graph)
    if circles:
        pytest.fail("import circles:\n" + "\n".join(describe(c, graph) for c in circles), pytrace=False)


def test_no_private_names_cross_files() -> None:
    _, private = import_graph()
    if private:
        pytest.fail("private names imported from another module:\n" + "\n".join(private), pytrace=False)
