"""Kernels compile without numba's entry for Python, except those Python calls in a run.

A kernel only other kernels call is a :class:`sim.kernel_cache.KernelDispatcher`:
compiled without the entry, which saves about a sixth of the compile on an empty
cache. Python calling such a kernel reaches a second compile of it with the entry
(``from_python``); a run must never need one, so every kernel the package's Python
calls is declared ``njit(entry=True)``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from sim.kernel_cache import KernelDispatcher, active_cache_dir, njit

SIM = Path(__file__).resolve().parent.parent / "sim"


def _is_kernel(node: ast.FunctionDef) -> bool:
    return any("njit" in ast.unparse(d) for d in node.decorator_list)


def _kernels() -> dict[tuple[str, str], bool]:
    """(module, kernel) -> whether it is declared an entry, for every kernel of the package."""
    found = {}
    for path in SIM.glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and _is_kernel(node):
                entry = any("entry=True" in ast.unparse(d) for d in node.decorator_list)
                found[(path.stem, node.name)] = entry
    return found


def _python_calls_of_kernels(kernels) -> set[tuple[str, str, str]]:
    """(caller's module, kernel's module, kernel) for each call of a kernel from Python code.

    Python code is every function of ``sim/`` that is not a kernel itself (methods
    included); a kernel is known by the name it was imported under, or its own name
    in its module.
    """
    calls = set()
    for path in SIM.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = {kernel: (module, kernel) for module, kernel in kernels if module == path.stem}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sim."):
                module = node.module.removeprefix("sim.")
                for alias in node.names:
                    if (module, alias.name) in kernels:
                        names[alias.asname or alias.name] = (module, alias.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and not _is_kernel(node):
                for call in ast.walk(node):
                    if (
                        isinstance(call, ast.Call)
                        and isinstance(call.func, ast.Name)
                        and call.func.id in names
                    ):
                        calls.add((path.stem, *names[call.func.id]))
    return calls


def test_every_kernel_the_package_s_python_calls_is_declared_an_entry():
    kernels = _kernels()
    calls = _python_calls_of_kernels(kernels)
    # The check sees the calls it must: the day's kernel, and a calendar's filing.
    assert ("stages", "kernel_day", "run_day") in calls
    assert ("kernel_calendar", "kernel_calendar", "file_all") in calls
    missing = sorted(call for call in calls if not kernels[call[1:]])
    assert not missing, f"called from Python but not njit(entry=True): {missing}"


def test_no_shipped_scenario_calls_a_kernel_from_python_outside_its_entries():
    from sim.model import CooperationModel
    from sim.scenario import load_scenario
    from sim.scenario_files import shipped_scenarios

    before = KernelDispatcher.python_calls.copy()
    for name in shipped_scenarios():
        config = load_scenario(name).with_overrides({"run.years": 0.5, "run.warmup_years": 0.25})
        CooperationModel(config, rng=1).run().outcomes()
    assert KernelDispatcher.python_calls == before


def test_python_reaches_a_kernel_without_an_entry_through_a_second_compile():
    @njit
    def inner(x):
        return x + 1

    @njit(entry=True)
    def outer(x):
        return inner(x) * 2

    assert isinstance(inner, KernelDispatcher) and not isinstance(outer, KernelDispatcher)
    assert outer(3) == 8  # compiles inner for kernels' calls only
    (for_kernels,) = inner.overloads.values()
    wrapper = for_kernels.fndesc.llvm_cpython_wrapper_name
    assert wrapper not in for_kernels.library.get_llvm_str()

    key = f"{__name__}.{inner.py_func.__qualname__}"
    calls = KernelDispatcher.python_calls[key]
    assert inner(3) == 4 and inner(41) == 42
    assert KernelDispatcher.python_calls[key] == calls + 2
    (for_python,) = inner.from_python.overloads.values()
    assert for_python.fndesc.llvm_cpython_wrapper_name in for_python.library.get_llvm_str()
    assert list(inner.overloads.values()) == [for_kernels]  # the kernels' compile is kept


def test_a_package_kernel_called_from_python_is_cached_under_its_own_name():
    from sim.kernel_pick import count_true

    assert isinstance(count_true, KernelDispatcher)
    assert count_true(np.array([True, False, True])) == 2
    files = {p.name.split("-")[0] for p in active_cache_dir().glob("kernel_pick.count_true*")}
    assert "kernel_pick.count_true_from_python" in files
