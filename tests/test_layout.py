"""The package's layout: data flows one way, so no module imports another that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parent.parent / "sim"


def _imports(path: Path) -> set[str]:
    """The ``sim`` modules a file imports at run time (deferred imports count too)."""
    found: set[str] = set()

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # annotations only: no import when the code runs
            if isinstance(child, ast.ImportFrom) and child.module:
                if child.module == "sim":
                    found.update(f"sim.{alias.name}" for alias in child.names)
                elif child.module.startswith("sim."):
                    found.add(child.module)
            elif isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name.startswith("sim."))
            walk(child)

    walk(ast.parse(path.read_text()))
    return {name for name in found if (PACKAGE / f"{name.split('.')[1]}.py").is_file()}


def test_no_import_cycle_among_the_package_modules():
    graph = nx.DiGraph()
    for path in PACKAGE.glob("*.py"):
        module = f"sim.{path.stem}"
        graph.add_node(module)
        graph.add_edges_from((module, other) for other in _imports(path) if other != module)
    assert graph.number_of_edges() > 40  # the walk sees the imports
    assert list(nx.simple_cycles(graph)) == []


def test_the_error_module_is_at_the_bottom():
    assert _imports(PACKAGE / "errors.py") == set()
