"""Name the kernels in `perf`'s samples: a map of numba's JIT code, then runs to sample.

The kernels are machine code numba's JIT engine wrote into memory, so `perf report`
shows their samples as bare addresses. perf reads names for such code from
``/tmp/perf-<pid>.map`` (one line per function: start, size, name, in hex). This
script loads the kernels by running a short model, writes that map from the JIT
engine's symbols, then runs the scenario again and again for `perf record -p` to
sample:

    uv run python benchmarks/perf_map.py world_scale --runs 4 &
    sleep 5; perf record -F 999 -p $! -o perf.data -- sleep 10
    perf report -i perf.data --no-children --sort symbol

The names are numba's mangled ones (``_ZN3sim13kernel_stages11advance_due...``);
``--demangle`` in the map's lines is left to perf. It reads a private attribute of
numba's JIT engine (``_defined_symbols``, numba 0.61-0.68): a developer's tool, not
part of the package. docs/performance.md's latest section says what it found, and how
gdb named the callers of numba's reference counting, which perf cannot (no frame
pointers in JIT code).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Size given to the last function of the map, whose end is unknown.
LAST_SIZE = 4096


def jit_symbols() -> list[tuple[int, str]]:
    """``(address, name)`` of every function numba's JIT engine has defined, by address."""
    from numba.core.registry import cpu_target

    engine = cpu_target.target_context.codegen()._engine
    found = set()
    for name in list(engine._defined_symbols):
        try:
            address = engine.get_function_address(name)
        except Exception:  # a symbol that is data, not a function
            continue
        if address:
            found.add((address, name))
    return sorted(found)


def write_perf_map(path: Path) -> int:
    """Write ``path`` in perf's map format; return how many functions it names.

    A function's size is the distance to the next one (the engine does not say).
    """
    symbols = jit_symbols()
    lines = []
    for k, (address, name) in enumerate(symbols):
        following = symbols[k + 1][0] if k + 1 < len(symbols) else address + LAST_SIZE
        size = min(max(following - address, 1), 1 << 20)
        lines.append(f"{address:x} {size:x} {name}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return len(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", nargs="?", default="baseline")
    parser.add_argument("--runs", type=int, default=8, help="runs to sample after the map")
    parser.add_argument("--map", help="where to write the map (default /tmp/perf-<pid>.map)")
    args = parser.parse_args(argv)

    from sim.model import CooperationModel
    from sim.scenario import load_scenario

    config = load_scenario(args.scenario)
    short = config.with_overrides({"run.years": 0.2, "run.warmup_years": 0.0})
    CooperationModel(short, rng=0).run()  # every kernel loaded before the map
    path = Path(args.map or f"/tmp/perf-{os.getpid()}.map")
    print(f"{write_perf_map(path)} kernels named in {path}; pid {os.getpid()}", flush=True)
    for seed in range(1, args.runs + 1):
        CooperationModel(config, rng=seed).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
