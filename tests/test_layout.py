"""The package's layout: data flows one way, so no module imports another that imports it back;
and modules stay small (at most MAX_LINES lines) unless a reason is stated here."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parent.parent / "sim"

MAX_LINES = 400
# Modules allowed over MAX_LINES, each with the reason it is not split (yet).
LONG_MODULES = {
    "outcome_registry.py": "data: one entry per outcome (about 90), a table with no logic",
    "scenario.py": (
        "assembles the Scenario class from its sections and the lever registry; about 170 "
        "lines are the import and __all__ lists that keep `from sim.scenario import X` working "
        "for every section and helper"
    ),
    "survival.py": (
        "Kaplan-Meier and Aalen-Johansen share their input checks; 55 lines are the module "
        "docstring (the estimators, ties, why Aalen-Johansen is computed here, not by lifelines)"
    ),
}


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


def test_modules_stay_small_unless_a_reason_is_stated():
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.glob("*.py")}
    too_long = {n: k for n, k in sizes.items() if k > MAX_LINES and n not in LONG_MODULES}
    assert not too_long, (
        f"modules over {MAX_LINES} lines: {too_long}; split them along a seam (by subject, "
        "re-exporting the names from the original module), or list them in LONG_MODULES "
        "(tests/test_layout.py) with the reason"
    )
    stale = sorted(n for n in LONG_MODULES if sizes.get(n, 0) <= MAX_LINES)
    assert not stale, f"no longer over {MAX_LINES} lines (or gone): take {stale} off LONG_MODULES"
    assert all(reason.strip() for reason in LONG_MODULES.values())


def test_the_models_year_is_defined_once():
    # Four definitions of DAYS_PER_YEAR once drifted apart in type (365 and 365.0);
    # the kernels read it too, so it lives where their cache digest sees it.
    defined = [
        path.name
        for path in sorted(PACKAGE.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assign | ast.AnnAssign)
        and any(
            isinstance(t, ast.Name) and t.id == "DAYS_PER_YEAR"
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        )
    ]
    assert defined == ["units.py"]
