"""Where compiling the kernels goes: numba's per-pass times for every compiled signature.

    uv run python benchmarks/compile_profile.py            # the 25 costliest signatures

Compiles every kernel a run calls (``sim.model.compile_kernels``) on an empty cache in
a temporary ``NUMBA_CACHE_DIR``, then reads numba's pipeline times. A caller's typing
includes compiling the kernels it calls, so the typing column is inclusive; the
lowering column (LLVM optimisation and machine code of the function with its callees)
is the function's own. A function listed more than once was compiled for several
argument types: each copy costs the whole compile again (docs/compiled_pipeline.md).
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time


def profile(top: int) -> None:
    """Compile on an empty cache and print the costliest compiled signatures."""
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="coopsim-compile-")
    from numba.core.registry import CPUDispatcher

    from sim.model import compile_kernels

    started = time.perf_counter()
    compile_kernels()
    print(f"compile_kernels on an empty cache: {time.perf_counter() - started:.1f} s")
    rows = []
    for obj in gc.get_objects():
        if not isinstance(obj, CPUDispatcher):
            continue
        if not (obj.py_func.__module__ or "").startswith("sim."):
            continue
        for signature in obj.signatures:
            passes = obj.get_metadata(signature).get("pipeline_times", {}).get("nopython", {})
            seconds = {
                name.split("_", 1)[1]: t.init + t.run + t.finalize for name, t in passes.items()
            }
            name = f"{obj.py_func.__module__}.{obj.py_func.__name__}"
            rows.append(
                (
                    seconds.get("native_lowering", 0.0),
                    seconds.get("nopython_type_inference", 0.0),
                    name,
                )
            )
    print(f"{len(rows)} compiled signatures; lowering in all: {sum(r[0] for r in rows):.1f} s")
    print(f"{'lowering s':>10} {'typing s':>9}  kernel (typing includes its callees)")
    for lowering, typing, name in sorted(rows, reverse=True)[:top]:
        print(f"{lowering:10.2f} {typing:9.2f}  {name}")


def main() -> None:
    """Command line: how many signatures to list."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=25, help="signatures to list")
    profile(parser.parse_args().top)


if __name__ == "__main__":
    main()
