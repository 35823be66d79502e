"""Where a simulated day goes: CPU time in the day's two kernel calls and around them.

Usage (from the repository root):

    uv run python benchmarks/stages.py                      # world_scale, 2 years, seed 1
    uv run python benchmarks/stages.py baseline --years 5

A day is two kernel calls (docs/compiled_pipeline.md): case generation
(:func:`sim.kernel_casegen.generate_cases`) and everything after it, the daily series
last (:func:`sim.kernel_day.run_day`). This wraps the two kernels and the model's
methods that call them with CPU-time counters (the model is unchanged) and prints
milliseconds per simulated day and each part's share: each kernel's own time, the
Python of the method around it (making room, filing what the call left, the teams'
Mesa agents), and the rest of the run (stepping Mesa's time, e-evidence, reforms and
meetings). See docs/performance.md.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import sim.casegen
import sim.stages
from sim.model import CooperationModel
from sim.scenario import load_scenario

#: The kernels, by the module that calls them, and the model's methods around them.
KERNELS = {"case generation": (sim.casegen, "generate_cases"), "the day": (sim.stages, "run_day")}
METHODS = {"case generation": "_generate_cases", "the day": "_run_day"}


def _timed(totals: Counter, label: str, function):
    def wrapper(*args, **kwargs):
        start = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            totals[label] += time.process_time() - start

    return wrapper


def measure(scenario: str, years: float, seed: int) -> dict:
    """Run once with the counters; CPU seconds of each part, the run's, days and requests.

    A short run first loads the kernels from numba's cache, so that the measured run
    counts what a run in a sweep worker costs.
    """
    config = load_scenario(scenario).with_overrides({"run.years": years})
    CooperationModel(config.with_overrides({"run.years": 0.05}), rng=seed).run()
    model = CooperationModel(config, rng=seed)
    kernels: Counter = Counter()
    methods: Counter = Counter()
    saved = [(module, name, getattr(module, name)) for module, name in KERNELS.values()]
    try:
        for label, (module, name) in KERNELS.items():
            setattr(module, name, _timed(kernels, label, getattr(module, name)))
        for label, name in METHODS.items():
            setattr(model, name, _timed(methods, label, getattr(model, name)))
        start = time.process_time()
        model.run()
        total = time.process_time() - start
    finally:
        for module, name, function in saved:  # the modules are shared: put them back
            setattr(module, name, function)
    parts = {}
    for label in KERNELS:
        parts[f"{label}: the kernel"] = kernels[label]
        parts[f"{label}: Python around it"] = methods[label] - kernels[label]
    parts["the rest (stepping, e-evidence, events)"] = total - sum(methods.values())
    return {"total": total, "days": model.day, "requests": model.ledger.size, "parts": parts}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="world_scale")
    parser.add_argument("--years", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    result = measure(args.scenario, args.years, args.seed)
    total, days, requests = result["total"], result["days"], result["requests"]
    print(f"{args.scenario}, {args.years:g} years, seed {args.seed}: {requests:,} requests")
    per_day, rate = 1e3 * total / days, requests / total
    print(f"{total:.2f} s CPU, {per_day:.3f} ms a day, {rate:,.0f} requests/s")
    for label, seconds in sorted(result["parts"].items(), key=lambda item: -item[1]):
        print(f"  {label:40s} {1e3 * seconds / days:7.3f} ms a day  {seconds / total:6.1%}")


if __name__ == "__main__":
    main()
