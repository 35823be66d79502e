"""Kernels compile without numba's entry for Python, except those Python calls in a run.

A kernel only other kernels call is a :class:`sim.kernel_cache.KernelDispatcher`:
compiled without the entry, which saves about a sixth of the compile on an empty
cache. Python calling such a kernel reaches a second compile of it with the entry
(``from_python``); a run must never need one, so every kernel the package's Python
calls is declared ``njit(entry=True)``.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numba import types

from sim.kernel_cache import KernelDispatcher, active_cache_dir, njit

SIM = Path(__file__).resolve().parent.parent / "sim"


def _is_kernel(node: ast.FunctionDef) -> bool:
    return any("njit" in ast.unparse(d) for d in node.decorator_list)


def _kernels() -> dict[tuple[str, str], bool]:
    """(module, kernel) -> whether it is declared an entry, for every kernel of the package.

    A kernel is a function decorated with ``njit``, or a name assigned
    ``njit(...)(function)``.
    """
    found = {}
    for path in SIM.glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and _is_kernel(node):
                entry = any("entry=True" in ast.unparse(d) for d in node.decorator_list)
                found[(path.stem, node.name)] = entry
            elif (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Call)
                and ast.unparse(node.value.func.func) == "njit"
            ):
                entry = "entry=True" in ast.unparse(node.value.func)
                for target in node.targets:
                    found[(path.stem, ast.unparse(target))] = entry
    return found


def _python_calls_of_kernels(kernels) -> set[tuple[str, str, str]]:
    """(caller's module, kernel's module, kernel) for each call of a kernel from Python code.

    Python code is every function of ``sim/`` that is not a kernel itself (methods
    included). A call is found by the name a kernel was imported under or has in its
    own module (``draft(...)``), or through its module (``kernel_cases.rule(...)``,
    the module imported as ``from sim import kernel_cases`` or ``import sim.kernel_cases
    as name``).
    """
    calls = set()
    for path in SIM.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = {kernel: (module, kernel) for module, kernel in kernels if module == path.stem}
        modules = {}  # the names kernel modules are imported under
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "sim":
                for alias in node.names:
                    modules[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sim."):
                module = node.module.removeprefix("sim.")
                for alias in node.names:
                    if (module, alias.name) in kernels:
                        names[alias.asname or alias.name] = (module, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("sim.") and alias.asname:
                        modules[alias.asname] = alias.name.removeprefix("sim.")
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or _is_kernel(node):
                continue
            for call in ast.walk(node):
                if not isinstance(call, ast.Call):
                    continue
                func = call.func
                if isinstance(func, ast.Name) and func.id in names:
                    calls.add((path.stem, *names[func.id]))
                elif (
                    isinstance(func, ast.Attribute)
                    and isinstance(func.value, ast.Name)
                    and (modules.get(func.value.id), func.attr) in kernels
                ):
                    calls.add((path.stem, modules[func.value.id], func.attr))
    return calls


def test_every_kernel_the_package_s_python_calls_is_declared_an_entry():
    kernels = _kernels()
    calls = _python_calls_of_kernels(kernels)
    # The check sees the calls it must: the day's kernel, and a calendar's filing.
    assert ("stages", "kernel_day", "run_day") in calls
    assert ("kernel_calendar", "kernel_calendar", "file_all") in calls
    assert ("frictions", "kernel_cases", "consent_probability") in calls  # through the module
    assert ("kernel_eevidence", "_choose_route") in kernels  # a kernel made by assignment
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


TOY = """
from sim.kernel_cache import njit

def add_one(x):
    return x + 1

for_kernels = njit(cache=True)(add_one)
for_python = njit(cache=True, entry=True)(add_one)

@njit(cache=True, entry=True)
def caller(x):
    return for_kernels(x)
"""


def test_one_function_compiled_both_ways_keeps_two_cache_entries(tmp_path):
    """The compile without Python's entry is never loaded for a call from Python."""
    (tmp_path / "toy.py").write_text(TOY)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(tmp_path))
    for call in ("caller(3)", "for_python(3)"):  # a second process loads the first's cache
        done = subprocess.run(
            [sys.executable, "-c", f"import toy; print(toy.{call})"],
            env=env,
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr[-2000:]  # -11: a jump to no code
        assert done.stdout.strip() == "4"


def test_compiling_ahead_returns_nothing_to_call():
    @njit
    def inner(x):
        return x * 3

    assert inner.compile((types.int64,)) is None  # numba's would crash when called
    assert inner(2) == 6


def test_kernels_refuse_what_they_cannot_honour():
    def star(x, *rest):
        return x + len(rest)

    with pytest.raises(TypeError, match="star takes \\*args: declare it njit\\(entry=True\\)"):
        njit(star)
    assert njit(entry=True)(star)(1, 2, 3) == 3
    with pytest.raises(TypeError, match="signatures and other options"):
        njit("int64(int64)")
    with pytest.raises(TypeError, match="locals"):
        njit(locals={})


COUNT_REFRESHES = """
import json, sys
from numba.core import base

refreshes = []
refresh = base.BaseContext.refresh
base.BaseContext.refresh = lambda self: (refreshes.append(1), refresh(self))[1]
"""


def _in_fresh_process(code: str, env: dict, cwd) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", COUNT_REFRESHES + code],
        env=env,
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_loading_cached_kernels_readies_numba_s_runtime_only(tmp_path):
    """A compile refreshes numba's registries; a load from the cache does not need them."""
    (tmp_path / "toy.py").write_text(TOY)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(tmp_path))
    call = "import toy; print(json.dumps([toy.caller(3), toy.for_python(4), len(refreshes)]))"
    compiled = _in_fresh_process(call, env, tmp_path)
    loaded = _in_fresh_process(call, env, tmp_path)
    assert compiled[:2] == loaded[:2] == [4, 5]
    assert compiled[2] > 0  # numba's compiler refreshes before it compiles
    assert loaded[2] == 0


def test_a_run_in_a_fresh_process_loads_the_package_s_kernels_without_a_refresh(tmp_path):
    from sim.kernel_cache import MachineCodeCache
    from sim.kernel_day import run_day
    from sim.model import run

    assert type(run_day._cache) is MachineCodeCache  # an entry: numba's dispatcher
    here = run("baseline", seed=5, years=0.3)  # the cache holds what the run calls after this
    code = (
        "from sim.model import run\n"
        "r = run('baseline', seed=5, years=0.3)\n"
        "print(json.dumps([r.outcomes['completion_rate'], len(r.model.ledger), len(refreshes)]))"
    )
    root = Path(__file__).resolve().parent.parent
    completion, requests, refreshes = _in_fresh_process(code, dict(os.environ), root)
    assert refreshes == 0
    assert (completion, requests) == (here.outcomes["completion_rate"], len(here.model.ledger))


def test_numba_s_load_is_still_the_one_machine_code_cache_rewrites():
    """MachineCodeCache copies numba's load but for the refresh: numba's must still read so."""
    import inspect as inspecting

    from numba.core import caching

    source = inspecting.getsource(caching.FunctionCache.load_overload)
    body = [line.strip() for line in source.splitlines() if line.strip()]
    code = [line for line in body if not line.startswith(("#", '"""', "Load", "using"))]
    assert code[1:] == [
        "target_context.refresh()",
        "with self._guard_against_spurious_io_errors():",
        "return self._load_overload(sig, target_context)",
    ], code


LINKS_A_LOADED_KERNEL = """
import toy
from sim.kernel_cache import LoadedLibrary, njit

assert toy.caller(3) == 4  # loaded from the cache, with for_kernels in its code
(loaded,) = toy.caller.overloads.values()
lazy = type(loaded.library) is LoadedLibrary and loaded.library._shared_module is None

@njit(entry=True)
def new_caller(x):  # compiled now: links the loaded kernel's bitcode into its own
    return toy.caller(x) * 10

print(json.dumps([lazy, new_caller(5), len(refreshes) > 0]))
"""


def test_a_loaded_kernel_s_bitcode_is_parsed_when_a_compile_links_it(tmp_path):
    (tmp_path / "toy.py").write_text(TOY)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(tmp_path))
    _in_fresh_process("import toy; print(json.dumps(toy.caller(1)))", env, tmp_path)
    lazy, linked, compiled = _in_fresh_process(LINKS_A_LOADED_KERNEL, env, tmp_path)
    assert lazy  # nothing parsed at the load
    assert linked == 60 and compiled


def test_the_symbols_read_from_machine_code_are_those_numba_reads_from_bitcode():
    """Every cached kernel of the package: the ELF table against numba's own listing."""
    import pickle
    import types as pytypes

    from llvmlite import binding as llvm
    from numba.core.codegen import JitEngine

    from sim.kernel_cache import active_cache_dir, defined_symbols
    from sim.model import run

    run("baseline", seed=1, years=0.05)  # the run's kernels compiled or loaded: cached
    checked = 0
    for path in sorted(active_cache_dir().glob("*.nbc")):
        payload = pickle.loads(path.read_bytes())  # numba's own cache file, as it loads it
        _, kind, (object_code, bitcode) = payload[0]
        assert kind == "object"
        module = llvm.parse_bitcode(bitcode)
        engine = pytypes.SimpleNamespace(_defined_symbols=set())
        JitEngine._load_defined_symbols(engine, module)  # numba's listing
        private = {
            value.name
            for values in (module.functions, module.global_variables)
            for value in values
            if value.linkage == llvm.Linkage.private
        }
        assert defined_symbols(object_code) == engine._defined_symbols - private, path.name
        checked += 1
    assert checked >= 8


def test_machine_code_the_reader_cannot_read_loads_as_numba_loads_it():
    from sim.kernel_cache import defined_symbols
    from sim.kernel_day import run_day

    (signature,) = run_day.signatures
    cache = run_day._cache
    payload = cache._cache_file.load(cache._index_key(signature, run_day.targetctx.codegen()))
    object_code = payload[0][2][0]
    assert defined_symbols(object_code)
    assert defined_symbols(b"\xcf\xfa\xed\xfe" + object_code[4:]) is None  # not ELF
    assert defined_symbols(object_code[: len(object_code) // 3]) is None  # cut short
    no_sections = bytearray(object_code)
    no_sections[0x3C:0x3E] = b"\x00\x00"  # section count 0: extended numbering
    assert defined_symbols(bytes(no_sections)) is None


def test_numba_s_library_load_is_still_the_one_loaded_library_rewrites():
    import inspect as inspecting

    from numba.core.codegen import CPUCodeLibrary, JitEngine

    source = inspecting.getsource(CPUCodeLibrary._unserialize)
    branch = source[source.index("elif kind == 'object':") : source.index("else:")]
    steps = [line.strip() for line in branch.splitlines()[1:] if line.strip()]
    steps = [line for line in steps if not line.startswith("#")]
    assert steps == [
        "object_code, shared_bitcode = data",
        "self.enable_object_caching()",
        "self._set_compiled_object(object_code)",
        "self._shared_module = ll.parse_bitcode(shared_bitcode)",
        "self._finalize_final_module()",
        "self._codegen._engine._load_defined_symbols(self._shared_module)",
        "return self",
    ], steps
    listing = inspecting.getsource(JitEngine._load_defined_symbols)
    assert "if not gv.is_declaration" in listing and "mod.global_variables" in listing
