"""Where compiling the kernels goes: each kernel's own compile time, and LLVM's share.

    uv run python benchmarks/compile_profile.py            # the 25 costliest kernels

Compiles every kernel a run calls (``sim.compiling.compile_kernels``, serially) on an empty cache in
a temporary ``NUMBA_CACHE_DIR``, timing each compile of a kernel. A kernel's callees
are compiled inside its own compile (while numba types the call), so the table gives
both times: **own** (the kernel's compile less its callees': its typing and lowering,
numpy's and numba's implementations it is the first to need, and LLVM re-optimising
its callees' code linked into it) and **with callees**. The first kernel compiled also
pays numba's start-up. **LLVM** is numba's "native lowering" pass of the kernel's last
compile (optimising and emitting machine code for the kernel with its callees). A
kernel compiled for several argument types pays each (``x2``: docs/compiled_pipeline.md).
"""

from __future__ import annotations

import argparse
import collections
import gc
import os
import tempfile
import time


class CompileTimer:
    """Times every compile of the package's kernels, own and with callees."""

    def __init__(self):
        self.own: collections.Counter = collections.Counter()
        self.total: collections.Counter = collections.Counter()
        self.count: collections.Counter = collections.Counter()
        self._stack: list[float] = []  # the callees' time inside each open compile

    def wrap(self, compile_method):
        """A ``Dispatcher.compile`` that records, for the package's kernels, its time."""

        def timed(dispatcher, signature):
            name = f"{dispatcher.py_func.__module__}.{dispatcher.py_func.__name__}"
            if not name.startswith("sim."):
                return compile_method(dispatcher, signature)
            started = time.perf_counter()
            self._stack.append(0.0)
            try:
                return compile_method(dispatcher, signature)
            finally:
                elapsed = time.perf_counter() - started
                callees = self._stack.pop()
                if elapsed > 1e-3:  # not a lookup of a signature already compiled
                    self.own[name] += elapsed - callees
                    self.total[name] += elapsed
                    self.count[name] += 1
                if self._stack:
                    self._stack[-1] += elapsed

        return timed


def _llvm_seconds(dispatchers) -> dict[str, float]:
    """numba's native-lowering time of each kernel's compiled signatures, summed."""
    seconds: collections.Counter = collections.Counter()
    for obj in dispatchers:
        name = f"{obj.py_func.__module__}.{obj.py_func.__name__}"
        for signature in obj.signatures:
            passes = obj.get_metadata(signature).get("pipeline_times", {}).get("nopython", {})
            for pass_name, t in passes.items():
                if pass_name.endswith("native_lowering"):
                    seconds[name] += t.init + t.run + t.finalize
    return seconds


def profile(top: int) -> None:
    """Compile on an empty cache and print the costliest kernels."""
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="coopsim-compile-")
    from numba.core import dispatcher
    from numba.core.registry import CPUDispatcher

    timer = CompileTimer()
    dispatcher.Dispatcher.compile = timer.wrap(dispatcher.Dispatcher.compile)
    started = time.perf_counter()
    from sim.compiling import compile_kernels

    imported = time.perf_counter()
    compile_kernels(parallel=False)
    finished = time.perf_counter()
    kernels = [
        obj
        for obj in gc.get_objects()
        if isinstance(obj, CPUDispatcher) and (obj.py_func.__module__ or "").startswith("sim.")
    ]
    llvm = _llvm_seconds(kernels)
    print(
        f"compile_kernels on an empty cache: {finished - imported:.1f} s "
        f"(importing the model first: {imported - started:.1f} s)"
    )
    print(
        f"{sum(timer.count.values())} kernel compiles; own times add up to "
        f"{sum(timer.own.values()):.1f} s, LLVM's to {sum(llvm.values()):.1f} s"
    )
    print(f"{'own s':>6} {'with callees s':>14} {'LLVM s':>7}  kernel")
    for name, own in timer.own.most_common(top):
        copies = f" x{timer.count[name]}" if timer.count[name] > 1 else ""
        print(f"{own:6.2f} {timer.total[name]:14.2f} {llvm[name]:7.2f}  {name}{copies}")


def main() -> None:
    """Command line: how many kernels to list."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=25, help="kernels to list")
    profile(parser.parse_args().top)


if __name__ == "__main__":
    main()
