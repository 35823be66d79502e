"""The targets of the compiled-pipeline issue, measured the way a sweep worker sees them.

Three measurements run in a child process each (``benchmarks/run.py --only targets``):

- **baseline**: the shipped 40-state baseline (2-year warm-up, 5-year window), run
  several times in one process after a first run, as a sweep worker runs its
  chunk: seconds a run (median), requests a run. Target: at most 0.2 s.
- **sobol**: the first runs of ``experiments/sobol_baseline.toml`` at N = 512, run
  one after another in one process; the median seconds a run times the plan's
  size over two workers projects the study's wall time. Target: under 30 minutes
  on 2 cores.
- **kernels**: the numba kernels compiled on an empty cache, then loaded from it,
  each in a fresh process. Targets: at most 20 s to compile, 1 s to load.

:func:`summary` then puts every target of the issue beside what the results file
holds (these two, and world_scale's requests a second, its bytes a request and the
flatness of time a request over 50-400 states from the ``world`` and ``scaling``
sections). A target whose section was not run is reported as not measured.
"""

from __future__ import annotations

import statistics
import time

BASELINE_TARGET_S = 0.2
SOBOL_TARGET_MIN = 30.0
WORLD_TARGET_RPS = 500_000
BYTES_TARGET = 200
FLAT_TARGET = 1.5  # time a request at 400 states over that at 50: at most this
COMPILE_TARGET_S = 20.0
LOAD_TARGET_S = 1.0
WORKERS = 2
SOBOL_N = 512


def child_baseline(runs: int, years: float | None) -> dict:
    """Run the baseline ``runs + 1`` times in this process; the first pays the imports."""
    from sim.model import CooperationModel
    from sim.scenario import load_scenario

    overrides = {} if years is None else {"run.years": years}
    scenario = load_scenario("baseline", overrides)
    times, requests = [], []
    for seed in range(runs + 1):
        t0 = time.perf_counter()
        model = CooperationModel(scenario, rng=seed).run()
        model.outcomes()
        times.append(time.perf_counter() - t0)
        requests.append(len(model.ledger))
    return {
        "runs": runs,
        "years": scenario.run.years,
        "warmup_years": scenario.run.warmup_years,
        "first_run_s": round(times[0], 3),
        "s_per_run_each": [round(t, 3) for t in times[1:]],
        "s_per_run": round(statistics.median(times[1:]), 3),
        "requests_per_run": round(statistics.median(requests[1:])),
    }


def child_sobol(runs: int) -> dict:
    """Time the first ``runs`` runs of the Sobol study at N = 512; project the whole plan."""
    from sim.experiment import load_experiment

    experiment = load_experiment("sobol_baseline", {"sample_size": SOBOL_N})
    specs = experiment.run_specs()
    times = []
    experiment.target(specs[0])  # imports and first-run costs, as a worker pays once
    for spec in specs[1 : runs + 1]:
        t0 = time.perf_counter()
        experiment.target(spec)
        times.append(time.perf_counter() - t0)
    per_run = statistics.median(times)
    return {
        "sample_size": SOBOL_N,
        "planned_runs": len(specs),
        "timed_runs": len(times),
        "s_per_run": round(per_run, 3),
        "projected_minutes_on_2_workers": round(len(specs) * per_run / WORKERS / 60, 1),
    }


# In a fresh process: import, compile (or load) the kernels with the short run of
# sim.compiling.compile_kernels, then the same run again (nothing left to compile or load).
_KERNEL_PROBE = """
import json, time
t0 = time.perf_counter()
from sim.compiling import compile_kernels
t1 = time.perf_counter()
compile_kernels()
t2 = time.perf_counter()
compile_kernels()
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_s": t2 - t1, "again_s": t3 - t2}))
"""


def child_kernels() -> dict:
    """Compile time on an empty numba cache, then load time from it, each in a fresh process.

    ``NUMBA_CACHE_DIR`` points both processes at a new empty directory, so the first
    compiles every kernel a run calls and the second loads them. The kernels' cost is
    the first run's time less the same run's time once they are in memory.
    """
    import json
    import os
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        probes = []
        for _ in range(2):
            out = subprocess.run(
                [sys.executable, "-c", _KERNEL_PROBE],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            probes.append(json.loads(out.strip().splitlines()[-1]))
    cold, warm = probes
    return {
        "compile_s": round(cold["first_s"] - cold["again_s"], 2),
        "load_s": round(warm["first_s"] - warm["again_s"], 2),
        "import_s": round(warm["import_s"], 2),
        "probes": probes,
    }


def section_targets(run_child, quick: bool, repeats: int = 1) -> dict:
    """The measurements, each in a fresh child process (see the module docstring).

    With ``repeats`` above 1 the baseline's and the kernels' measurements are repeated,
    interleaved (baseline, kernels, baseline, ...), and the repeat of median time
    stands for them, every repeat's time kept (``s_per_run_repeats``,
    ``compile_s_repeats``, ``load_s_repeats``): the VM's speed drifts by a fifth within
    an hour, more than the differences these targets are about.
    """
    baseline_args = ["targets_baseline", "2" if quick else "5", "1.0" if quick else "-"]
    baselines, kernels = [], []
    for _ in range(repeats):
        baselines.append(run_child(baseline_args))
        kernels.append(run_child(["targets_kernels"]))
    return {
        "baseline": _median_repeat(baselines, "s_per_run"),
        "sobol": run_child(["targets_sobol", "4" if quick else "12"]),
        "kernels": _median_repeat(kernels, "compile_s", also=("load_s",)),
    }


def _median_repeat(measurements: list[dict], key: str, also: tuple[str, ...] = ()) -> dict:
    """The measurement of median ``key`` (the lower middle one for an even count), with
    every repeat's ``key`` and ``also`` values kept as ``<name>_repeats``."""
    ordered = sorted(measurements, key=lambda m: m[key])
    out = dict(ordered[(len(ordered) - 1) // 2])
    if len(measurements) > 1:
        out["repeats"] = len(measurements)
        for name in (key, *also):
            out[f"{name}_repeats"] = [m[name] for m in measurements]
    return out


def run_child_kind(kind: str, rest: list[str]) -> dict:
    """Dispatch a ``--child`` measurement of this module."""
    if kind == "targets_baseline":
        return child_baseline(int(rest[0]), None if rest[1] == "-" else float(rest[1]))
    if kind == "targets_kernels":
        return child_kernels()
    return child_sobol(int(rest[0]))


def summary(report: dict) -> list[dict]:
    """Every target of the issue with what ``report`` measured (None: not measured)."""
    rows = []

    def row(target: str, goal: str, measured, met: bool | None, note: str = "") -> None:
        rows.append(
            {"target": target, "goal": goal, "measured": measured, "met": met, "note": note}
        )

    world = report.get("world") or {}
    rps = world.get("requests_per_s_end_to_end")
    # Judged in a fresh process (its build loads the kernels); a worker's run is context.
    worker = (world.get("in_worker") or {}).get("requests_per_s_end_to_end")
    row(
        "world_scale requests/s, end to end",
        f">= {WORLD_TARGET_RPS:,}",
        rps,
        None if rps is None else rps >= WORLD_TARGET_RPS,
        "" if worker is None else f"in a sweep worker: {worker:,}",
    )
    per = world.get("ledger_bytes_per_request")
    row(
        "ledger bytes per request",
        f"<= {BYTES_TARGET}",
        per,
        None if per is None else per <= BYTES_TARGET,
    )
    scaling = report.get("scaling")
    ratio = scaling["rows"][-1]["relative_to_50"] if scaling else None
    row(
        "time a request, 400 over 50 states",
        f"<= {FLAT_TARGET}",
        ratio,
        None if ratio is None else ratio <= FLAT_TARGET,
    )
    targets = report.get("targets") or {}
    base = targets.get("baseline")
    full = base is not None and base["years"] == 5.0
    row(
        "40-state 5-year baseline, s a run in a worker",
        f"<= {BASELINE_TARGET_S}",
        None if base is None else base["s_per_run"],
        None if base is None else (base["s_per_run"] <= BASELINE_TARGET_S if full else None),
        "" if full or base is None else f"quick: {base['years']}-year window, not comparable",
    )
    sobol = targets.get("sobol")
    minutes = None if sobol is None else sobol["projected_minutes_on_2_workers"]
    row(
        f"sobol_baseline at N = {SOBOL_N} on 2 cores, minutes",
        f"< {SOBOL_TARGET_MIN:g}",
        minutes,
        None if minutes is None else minutes < SOBOL_TARGET_MIN,
        "" if sobol is None else f"{sobol['planned_runs']:,} runs x {sobol['s_per_run']} s / 2",
    )
    kernels = targets.get("kernels")
    compile_s = None if kernels is None else kernels["compile_s"]
    load_s = None if kernels is None else kernels["load_s"]
    row(
        "compile once per machine, s",
        f"<= {COMPILE_TARGET_S:g}",
        compile_s,
        None if compile_s is None else compile_s <= COMPILE_TARGET_S,
    )
    row(
        "load compiled kernels, s",
        f"<= {LOAD_TARGET_S:g}",
        load_s,
        None if load_s is None else load_s <= LOAD_TARGET_S,
        "" if kernels is None else f"numba and the model import in {kernels['import_s']} s",
    )
    return rows


def format_summary(rows: list[dict]) -> str:
    """The summary as a Markdown table."""
    lines = ["| target | goal | measured | met |", "|---|---|---|---|"]
    for r in rows:
        measured = "not measured" if r["measured"] is None else f"{r['measured']:,}"
        met = {True: "yes", False: "**no**", None: "-"}[r["met"]]
        note = f" ({r['note']})" if r["note"] else ""
        lines.append(f"| {r['target']} | {r['goal']} | {measured}{note} | {met} |")
    return "\n".join(lines)
