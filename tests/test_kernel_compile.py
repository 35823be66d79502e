"""Each kernel compiles once: nothing passed between kernels makes numba compile a copy.

numba types a constant passed from one kernel to another as a literal (``close(S,
ids, REFUSED, ...)`` reaches ``close`` as ``Literal[int](2)``) and compiles a separate
copy of the callee, and of all it calls, for each constant; compiling took twice as
long while ``close``, ``schedule`` and ``trust_apply`` were compiled four or five times
each (docs/compiled_pipeline.md, "Compile and load"). Checking this by compiling takes
half a minute, so it is checked in the source: between kernels, constants cross as
``np.int64(...)`` or ``np.bool_(...)``.
"""

from __future__ import annotations

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parent.parent / "sim"


def _kernels(trees: dict[Path, ast.Module]) -> set[str]:
    return {
        node.name
        for tree in trees.values()
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any("njit" in ast.unparse(d) for d in node.decorator_list)
    }


def _is_constant(arg: ast.expr, parameters: set[str]) -> bool:
    """A literal, a module constant (an upper-case name not a parameter) or a choice of them."""
    if isinstance(arg, ast.Constant):
        return True
    if isinstance(arg, ast.UnaryOp):
        return _is_constant(arg.operand, parameters)
    if isinstance(arg, ast.IfExp):
        return _is_constant(arg.body, parameters) or _is_constant(arg.orelse, parameters)
    return isinstance(arg, ast.Name) and arg.id.isupper() and arg.id not in parameters


def literal_calls(sources: list[Path]) -> list[str]:
    """Calls from one kernel to another with a constant argument, as ``file:line call``."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sources}
    kernels = _kernels(trees)
    found = []
    for path, tree in trees.items():
        for function in tree.body:
            if not (isinstance(function, ast.FunctionDef) and function.name in kernels):
                continue
            parameters = {a.arg for a in function.args.args}
            for call in ast.walk(function):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
                    continue
                if call.func.id in kernels and any(
                    _is_constant(arg, parameters) for arg in call.args
                ):
                    found.append(f"{path.name}:{call.lineno} {ast.unparse(call)}")
    return found


def test_no_kernel_passes_a_constant_to_another():
    assert literal_calls(sorted(SIM.glob("kernel_*.py"))) == []


def test_the_check_finds_a_constant_passed_between_kernels(tmp_path):
    source = tmp_path / "kernel_example.py"
    source.write_text(
        "from numba import njit\nimport numpy as np\nREFUSED = 2\n\n"
        "@njit(cache=True)\ndef close(S, ids, outcome):\n    return ids\n\n"
        "@njit(cache=True)\ndef review(S, ids, outcome):\n"
        "    close(S, ids, REFUSED)\n"
        "    close(S, ids, 1)\n"
        "    close(S, ids, -1 if outcome else 2)\n"
        "    close(S, ids, np.int64(REFUSED))\n"
        "    close(S, ids, outcome)\n"
    )
    assert [hit.split(" ", 1)[0] for hit in literal_calls([source])] == [
        "kernel_example.py:11",
        "kernel_example.py:12",
        "kernel_example.py:13",
    ]


def _levels_seen_while_compiling(monkeypatch) -> tuple[list[int], int]:
    """numba's optimisation level during a kernel's compile, and after it."""
    from numba.core import config
    from numba.core.compiler import Compiler

    from sim.kernel_cache import njit

    seen: list[int] = []
    original = Compiler._compile_core

    def recording(self):
        seen.append(int(config.OPT))
        return original(self)

    monkeypatch.setattr(Compiler, "_compile_core", recording)

    @njit
    def add_one(x):
        return x + 1

    assert add_one(41) == 42
    return seen, int(config.OPT)


def test_kernels_compile_at_their_own_level_and_leave_numba_s_alone(monkeypatch):
    from numba.core import config

    from sim.kernel_cache import KERNEL_OPT_LEVEL

    monkeypatch.delenv("NUMBA_OPT", raising=False)
    before = int(config.OPT)
    seen, after = _levels_seen_while_compiling(monkeypatch)
    assert seen == [KERNEL_OPT_LEVEL]
    assert after == before  # other numba code in the process keeps its level


def test_numba_opt_in_the_environment_wins(monkeypatch):
    from numba.core import config

    monkeypatch.setenv("NUMBA_OPT", "3")
    seen, after = _levels_seen_while_compiling(monkeypatch)
    assert seen == [int(config.OPT)] and after == int(config.OPT)
