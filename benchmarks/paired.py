"""Old code against new in pairs of runs seconds apart: ratios that the VM's phases cancel.

Usage (from the repository root; each checkout with its own environment, made with
``uv sync --locked --compile-bytecode`` in a ``git worktree``):

    uv run python benchmarks/paired.py /tmp/old . --pairs 16
    uv run python benchmarks/paired.py /tmp/old . --scenario baseline --years 5

This VM's speed drifts by 10-40% within minutes (docs/performance.md, "Machine"), more
than most changes a session measures, and interleaved cold processes (``run.py
--repeats``) still see a phase change between two of them. Here every checkout gets a
worker process that loads its kernels once, then runs the scenario on command: the
checkouts run in turn, the order alternating pair by pair, so the runs of a pair are
seconds apart and share the VM's phase. What is reported is each checkout's median
times and, for each after the first, the median of its per-pair ratios to the first
(below 1: faster), their quartiles, and in how many pairs it was faster.

A worker runs in its checkout's directory with its own interpreter, so each side
imports its own ``sim``; the first run of each loads the kernels and is not counted.
The runs are warm (kernels loaded, the process's memory reused): this measures what a
sweep worker pays a run, not a cold process's start, which ``run.py`` measures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: The parts of a run each worker times, in seconds.
PARTS = ("build", "run", "outcomes", "total")


def worker(scenario: str, years: float, seed: int) -> None:
    """Answer each line on standard input with one run's times, as a JSON line."""
    sys.path.insert(0, os.getcwd())  # this checkout's sim, not the caller's
    from sim.model import CooperationModel
    from sim.scenario import load_scenario

    config = load_scenario(scenario).with_overrides({"run.years": years})
    CooperationModel(config.with_overrides({"run.years": 0.05}), rng=seed).run()  # load
    print("ready", flush=True)
    for _ in sys.stdin:
        t0 = time.perf_counter()
        model = CooperationModel(config, rng=seed)
        t1 = time.perf_counter()
        model.run()
        t2 = time.perf_counter()
        model.outcomes()
        t3 = time.perf_counter()
        times = {"build": t1 - t0, "run": t2 - t1, "outcomes": t3 - t2, "total": t3 - t0}
        print(json.dumps({**times, "requests": model.ledger.size}), flush=True)


def start_worker(checkout: Path, scenario: str, years: float, seed: int) -> subprocess.Popen:
    python = checkout / ".venv" / "bin" / "python"
    if not python.exists():
        raise SystemExit(
            f"paired.py: {checkout} has no environment ({python} is missing): run"
            " `uv sync --locked --compile-bytecode` there first"
        )
    command = [str(python), str(Path(__file__).resolve()), "--worker"]
    command += ["--scenario", scenario, "--years", str(years), "--seed", str(seed)]
    process = subprocess.Popen(
        command, cwd=checkout, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    if process.stdout.readline().strip() != "ready":
        raise SystemExit(f"paired.py: the worker in {checkout} did not start")
    return process


def summarise(times: dict[str, list[dict]]) -> dict:
    """Medians per checkout; per-pair ratios of every checkout to the first."""
    names = list(times)
    first = times[names[0]]
    out: dict = {"medians": {}, "ratios": {}}
    for name in names:
        out["medians"][name] = {p: statistics.median(r[p] for r in times[name]) for p in PARTS}
    for name in names[1:]:
        out["ratios"][name] = {}
        for part in ("run", "total"):
            ratios = [b[part] / a[part] for a, b in zip(first, times[name], strict=True)]
            q1, median, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
            out["ratios"][name][part] = {
                "median": median,
                "q1": q1,
                "q3": q3,
                "faster_in": sum(r < 1.0 for r in ratios),
                "pairs": len(ratios),
            }
    return out


def _answer(name: str, process) -> dict:
    """A worker's next run, or an error that names its checkout."""
    line = process.stdout.readline()
    if not line:
        raise SystemExit(f"paired.py: the worker in {name} stopped (see its messages above)")
    return json.loads(line)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="*", type=Path, help="the first is the reference")
    parser.add_argument("--scenario", default="world_scale")
    parser.add_argument("--years", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--out", type=Path, help="also write the times and summary as JSON")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.scenario, args.years, args.seed)
        return
    if len(args.checkouts) < 2:
        parser.error("give at least two checkouts: the reference first")
    if args.pairs < 2:
        parser.error(f"--pairs must be at least 2 (got {args.pairs})")
    names = [str(c) for c in args.checkouts]
    workers = [start_worker(c, args.scenario, args.years, args.seed) for c in args.checkouts]
    times: dict[str, list[dict]] = {name: [] for name in names}
    try:
        for k in range(args.pairs):
            turn = list(zip(names, workers, strict=True))
            for name, process in turn if k % 2 == 0 else turn[::-1]:
                process.stdin.write("go\n")
                process.stdin.flush()
                times[name].append(_answer(name, process))
            print(f"pair {k + 1}/{args.pairs}", file=sys.stderr, end="\r")
    finally:
        for process in workers:
            process.stdin.close()
            process.wait()
    summary = summarise(times)
    print(f"{args.scenario}, {args.years:g} years, seed {args.seed}, {args.pairs} pairs")
    requests = {name: {r["requests"] for r in runs} for name, runs in times.items()}
    if len(set().union(*requests.values())) > 1:
        print(f"  note: the checkouts' runs recorded different requests: {requests}")
    for name, medians in summary["medians"].items():
        parts = ", ".join(f"{p} {medians[p]:.3f} s" for p in PARTS)
        print(f"  {name}: median {parts}")
    for name, by_part in summary["ratios"].items():
        for part, r in by_part.items():
            print(
                f"  {name} / {names[0]}, {part}: {r['median']:.3f} (quartiles {r['q1']:.3f}"
                f"-{r['q3']:.3f}), faster in {r['faster_in']} of {r['pairs']}"
            )
    if args.out:
        args.out.write_text(json.dumps({"times": times, "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
