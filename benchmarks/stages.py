"""Where a simulated day goes: CPU time per stage of the daily pipeline.

Usage (from the repository root):

    uv run python benchmarks/stages.py                      # world_scale, 2 years, seed 1
    uv run python benchmarks/stages.py baseline --years 5

Wraps each stage of ``CooperationModel.step`` with a CPU-time counter (the model
is unchanged) and prints milliseconds per simulated day and the share of each
stage. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from sim.model import CooperationModel
from sim.scenario import load_scenario

STAGES = {
    "case generation": (None, "_generate_cases"),
    "the day's call (requests to deadlines)": (None, "_run_day"),
    "daily series": (None, "_record"),
}


def _timed(totals: Counter, label: str, method):
    def wrapper(*args, **kwargs):
        start = time.process_time()
        try:
            return method(*args, **kwargs)
        finally:
            totals[label] += time.process_time() - start

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="world_scale")
    parser.add_argument("--years", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    scenario = load_scenario(args.scenario).with_overrides({"run.years": args.years})
    model = CooperationModel(scenario, rng=args.seed)
    totals: Counter = Counter()
    for label, (part, name) in STAGES.items():
        owner = getattr(model, part) if part else model
        setattr(owner, name, _timed(totals, label, getattr(owner, name)))
    start = time.process_time()
    model.run()
    total = time.process_time() - start
    days, requests = model.day, model.ledger.size
    print(f"{args.scenario}, {args.years:g} years, seed {args.seed}: {requests:,} requests")
    per_day, rate = 1e3 * total / days, requests / total
    print(f"{total:.2f} s CPU, {per_day:.2f} ms a day, {rate:,.0f} requests/s")
    for label, seconds in totals.most_common():
        share = seconds / total
        print(f"  {label:22s} {1e3 * seconds / days:7.3f} ms a day  {share:6.1%}")


if __name__ == "__main__":
    main()
