"""The modules of tap_events import one another in one direction only: no import cycle, read from
the source (so a cycle that happens to work in today's import order is caught too, and any module
can be imported first), and nothing below the tap imports `tap.py`, not even for types."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "tap_events"


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, *, with_types: bool) -> set[str]:
    """The tap_events modules `path` imports at module level (and under TYPE_CHECKING if asked)."""
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If):
                if with_types or not _is_type_checking(node):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tap_events"):
                if node.module == "tap_events":
                    found.update(alias.name for alias in node.names)
                else:
                    found.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                found.update(alias.name.split(".")[1] for alias in node.names if alias.name.startswith("tap_events."))

    visit(ast.parse(path.read_text()).body)
    return found


def _graph(*, with_types: bool) -> dict[str, set[str]]:
    return {path.stem: _imports(path, with_types=with_types) for path in PACKAGE.glob("*.py")}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == 1:
                return [*path[path.index(imported) :], imported]
            if imported not in state and (found := visit(imported)):
                return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_the_modules_import_one_another_without_a_cycle():
    assert _cycle(_graph(with_types=False)) is None
    assert _cycle(_graph(with_types=True)) is None


def test_nothing_below_the_tap_imports_it():
    importers = {module for module, imported in _graph(with_types=True).items() if "tap" in imported}
    assert importers <= {"__main__"}
