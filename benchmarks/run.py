"""coopsim benchmarks: speed and memory (measurements, not timed tests).

Usage (from the repository root):

    uv run python benchmarks/run.py                 # everything (about 5 minutes on 2 cores)
    uv run python benchmarks/run.py --only world    # one section: targets, world, scaling,
                                                    # load, sweep, batch_run, batch_run_agencies
    uv run python benchmarks/run.py --only targets,world,scaling   # the issue's targets table
    uv run python benchmarks/run.py --quick         # shorter runs, for a smoke test
    uv run python benchmarks/run.py --only batch_run_agencies   # per-agency backlog sweep

batch_run_agencies: 200 baseline runs of 1 simulated year whose outcomes include
every queueing agency's daily backlog (126 agencies x 365 days a run). coopsim's
experiment layer (ProcessExecutor(2), ``series = ["agencies"]``, streamed to
Parquet) against ``mesa.batch_run(number_processes=2, data_collection_period=1)``
on benchmarks/mesa_wrapper.py's ``AgencyBacklogModel`` (CooperationModel with a
DataCollector of agent-type reporters collected every step). Same seeds; the final
outcomes and every run's backlog (day x agency) are checked equal.

Each measurement runs in a fresh subprocess, so peak memory is that of the
measurement alone; the results are printed and written as JSON to
benchmarks/output/results.json. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "output"
sys.path.insert(0, str(HERE))  # benchmarks/targets.py, run as a script from the root

import speed_probe  # noqa: E402  (after the path line above)
import targets  # noqa: E402


# ---------------------------------------------------------------- memory of a process tree
def _tree_rss(root: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * page
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_child(args: list[str]) -> dict:
    """Run `run.py --child ...` and sample the peak RSS of its process tree."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def sample():
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = proc.communicate()
    stop.set()
    thread.join()
    if proc.returncode:
        raise RuntimeError(f"{cmd} failed with {proc.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_tree_rss_mb"] = round(peak / 2**20, 1)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return result


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its finished child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _cpu_summary(before: tuple[float, float], runs: int) -> dict:
    """CPU time since ``before``: the parent's, the workers' (once they have exited), per run.

    Wall time is what a user waits for; CPU time says whether a difference
    between two measurements is work done (CPU) or time spent waiting. On a
    shared machine both drift with the machine's speed, so comparisons are
    interleaved (``--repeats``).
    """
    own, children = (after - start for after, start in zip(_cpu_s(), before, strict=True))
    return {
        "parent_cpu_s": round(own, 2),
        "workers_cpu_s": round(children, 2),
        "cpu_s_per_run": round((own + children) / max(runs, 1), 4),
    }


# ---------------------------------------------------------------- children
def child_model(scenario: str, overrides: dict, seed: int) -> dict:
    """One run in a fresh process: build, run, outcomes; time, requests, memory.

    The build is the process's first call of the kernels, so it loads them from numba's
    cache (``load compiled kernels`` in the targets) as a single run from the command
    line does.
    """
    from sim.scenario import load_scenario

    config = load_scenario(scenario).with_overrides(overrides)
    return _measured_run(config, scenario, overrides, seed)


def child_worker_model(scenario: str, overrides: dict, seed: int) -> dict:
    """One run with the kernels loaded, as in a sweep worker: after a short first run.

    The first run (:data:`WORKER_FIRST_RUN_YEARS` of the same scenario, another seed)
    loads the kernels and is timed apart (``first_run_s``); a worker pays that once for
    all its runs (benchmarks/stages.py and benchmarks/paired.py measure the same way).
    Being short, it leaves little freed memory for the measured run to reuse, where a
    worker's earlier full runs leave hundreds of megabytes; and the memory figures
    (``maxrss_*``, the peak of the process tree) include it.
    """
    from sim.model import CooperationModel
    from sim.scenario import load_scenario

    config = load_scenario(scenario).with_overrides(overrides)
    t0 = time.perf_counter()
    first = CooperationModel(config.with_overrides({"run.years": WORKER_FIRST_RUN_YEARS}), rng=0)
    first.run().outcomes()
    first_run_s = time.perf_counter() - t0
    del first
    return {
        **_measured_run(config, scenario, overrides, seed),
        "first_run_s": round(first_run_s, 3),
    }


#: Years of a worker's first run before the measured one (:func:`child_worker_model`).
WORKER_FIRST_RUN_YEARS = 0.05


def _measured_run(config, scenario: str, overrides: dict, seed: int) -> dict:
    """Build, run and the outcomes of ``config`` with ``seed``: times, requests, memory."""
    from sim.model import CooperationModel

    rss_before = _maxrss_mb()
    t0 = time.perf_counter()
    model = CooperationModel(config, rng=seed)
    t1 = time.perf_counter()
    model.run()
    t2 = time.perf_counter()
    outcomes = model.outcomes()
    t3 = time.perf_counter()
    led = model.ledger
    requests = len(led)
    allocated = led.allocated_bytes()
    return {
        "scenario": scenario,
        "overrides": overrides,
        "seed": seed,
        "states": model.world.n_states,
        "days": model.day,
        "requests": requests,
        "build_s": round(t1 - t0, 3),
        "run_s": round(t2 - t1, 3),
        "outcomes_s": round(t3 - t2, 3),
        "end_to_end_s": round(t3 - t0, 3),
        "requests_per_s_end_to_end": round(requests / (t3 - t0)),
        "requests_per_s_run": round(requests / (t2 - t1)),
        "us_per_request_run": round(1e6 * (t2 - t1) / requests, 3),
        "ledger_bytes_per_request": round(led.nbytes() / requests, 1),
        "ledger_allocated_bytes_per_request": round(allocated / requests, 1),
        "maxrss_before_run_mb": round(rss_before, 1),
        "maxrss_after_run_mb": round(_maxrss_mb(), 1),
        "completion_rate": outcomes["completion_rate"],
    }


def _timed_sweep(spec: dict, workers: int, out: Path) -> tuple[object, dict]:
    """Run an experiment (a dict) into ``out``; return its results and the timing summary."""
    from sim.experiment import ProcessExecutor, SerialExecutor, experiment_from_dict, run_experiment

    experiment = experiment_from_dict(spec, source="benchmarks/run.py")
    executor = SerialExecutor() if workers == 1 else ProcessExecutor(workers)
    cpu = _cpu_s()
    t0 = time.perf_counter()
    results = run_experiment(experiment, out, executor=executor, progress=False)
    elapsed = time.perf_counter() - t0
    executor.close()  # workers exit, so their CPU time is counted
    frame = results.outcomes.sort_values("seed")
    check = frame[["seed", "requests_total", "completion_rate", "mean_trust"]]
    return results, {
        "runs": len(frame),
        "workers": workers,
        "elapsed_s": round(elapsed, 3),
        "runs_per_s": round(len(frame) / elapsed, 3),
        **_cpu_summary(cpu, len(frame)),
        "outcomes": check.to_dict(orient="list"),
    }


def child_sweep(replications: int, years: float, workers: int) -> dict:
    """200 baseline runs through the experiment layer (sim.experiment)."""
    spec = {"name": "bench_sweep", "replications": replications, "overrides": {"run.years": years}}
    with tempfile.TemporaryDirectory() as out:
        return _timed_sweep(spec, workers, Path(out) / "sweep")[1]


def _horizon_days(years: float) -> int:
    """Days of a baseline run with a ``years`` window: its warm-up and the window."""
    from sim.scenario import load_scenario, warmup_days

    return warmup_days(load_scenario("baseline")) + max(1, int(round(years * 365)))


def child_batch_run(replications: int, years: float, workers: int, every_step: bool) -> dict:
    """The same runs driven by mesa.batch_run through benchmarks/mesa_wrapper.py."""
    import mesa
    from mesa_wrapper import BatchRunCoopModel

    from sim.experiment import replication_seeds

    seeds = replication_seeds(1, replications)  # the experiment's seeds (base_seed 1)
    # The wrapped model runs the baseline's warm-up before the window: batch_run must
    # step through both, or it stops before any run has its outcomes.
    horizon = _horizon_days(years)
    cpu = _cpu_s()
    t0 = time.perf_counter()
    rows = mesa.batch_run(
        BatchRunCoopModel,
        parameters={"scenario": "baseline", "years": years, "every_step": every_step},
        number_processes=workers,
        rng=seeds,
        data_collection_period=-1,
        max_steps=horizon + 1,
        display_progress=False,
    )
    elapsed = time.perf_counter() - t0
    cpu_used = _cpu_summary(cpu, replications)  # before the checks below
    final = sorted(
        (r for r in rows if r["outcomes"].get("requests_total") is not None),
        key=lambda r: r["seed"],
    )
    return {
        "runs": len(final),
        "workers": workers,
        "every_step": every_step,
        "elapsed_s": round(elapsed, 3),
        "runs_per_s": round(len(final) / elapsed, 3),
        **cpu_used,
        "outcomes": {
            "seed": [r["seed"] for r in final],
            "requests_total": [r["outcomes"]["requests_total"] for r in final],
            "completion_rate": [r["outcomes"]["completion_rate"] for r in final],
            "mean_trust": [r["outcomes"]["mean_trust"] for r in final],
        },
    }


def _backlog_digest(backlog) -> str:
    """SHA-256 of a run's backlog values in (day, agency) order, as int32."""
    import hashlib

    import numpy as np

    return hashlib.sha256(np.asarray(backlog, dtype=np.int32).tobytes()).hexdigest()[:16]


def child_sweep_agencies(replications: int, years: float, workers: int, out: str) -> dict:
    """The baseline sweep keeping every queueing agency's daily backlog (to ``out``)."""
    spec = {
        "name": "bench_agencies",
        "replications": replications,
        "series": ["agencies"],
        "overrides": {"run.years": years},
    }
    _, summary = _timed_sweep(spec, workers, Path(out))
    size = (Path(out) / "agency_series.parquet").stat().st_size
    return {**summary, "agency_series_mb_on_disk": round(size / 2**20, 1)}


def child_agency_digest(out: str) -> dict:
    """Per-seed digests of a stored agency series (run after the timed sweep, apart)."""
    import numpy as np
    import pyarrow.parquet as pq

    from sim.store import load_results

    results = load_results(out)
    seed_of = dict(zip(results.outcomes["run_id"], results.outcomes["seed"], strict=True))
    pieces: dict[str, list] = {}
    parquet = pq.ParquetFile(Path(out) / "agency_series.parquet")
    for group in range(parquet.num_row_groups):  # a run may span two row groups
        df = parquet.read_row_group(group, columns=["run_id", "day", "agency", "backlog"])
        for run_id, part in df.to_pandas().groupby("run_id", observed=True):
            values = part[["day", "agency", "backlog"]].to_numpy(np.int64)
            pieces.setdefault(str(run_id), []).append(values)
    digests, totals, rows = {}, {}, 0
    for run_id, parts in pieces.items():
        values = np.concatenate(parts)
        values = values[np.lexsort((values[:, 1], values[:, 0]))]  # by day, then agency
        seed = int(seed_of[run_id])
        digests[seed] = _backlog_digest(values[:, 2])
        totals[seed] = int(values[:, 2].sum())
        rows += len(values)
    return {"rows": rows, "digests": digests, "backlog_totals": totals}


def child_batch_run_agencies(replications: int, years: float, workers: int) -> dict:
    """The same runs by mesa.batch_run, collecting every queueing agency's backlog each step."""
    import mesa
    from mesa_wrapper import AgencyBacklogModel

    from sim.experiment import replication_seeds

    seeds = replication_seeds(1, replications)  # the experiment's seeds (base_seed 1)
    # The wrapped model runs the baseline's warm-up before the window: batch_run must
    # step through both, or it stops before any run has its outcomes.
    horizon = _horizon_days(years)
    cpu = _cpu_s()
    t0 = time.perf_counter()
    rows = mesa.batch_run(
        AgencyBacklogModel,
        parameters={"scenario": "baseline", "years": years},
        number_processes=workers,
        rng=seeds,
        data_collection_period=1,
        max_steps=horizon + 1,
        display_progress=False,
    )
    elapsed = time.perf_counter() - t0
    cpu_used = _cpu_summary(cpu, replications)  # before the checks below
    # Check (after timing): each run's rows are contiguous; Step t is day t - 1 and
    # Mesa's AgentID follows the agency index, so (Step, AgentID) order is (day, agency).
    final, digests, totals, agency_rows = {}, {}, {}, 0
    start = 0
    while start < len(rows):
        run = rows[start]["RunId"]
        end = start
        while end < len(rows) and rows[end]["RunId"] == run:
            end += 1
        block = [r for r in rows[start:end] if "backlog" in r]
        block.sort(key=lambda r: (r["Step"], r["AgentID"]))
        seed = int(rows[start]["rng"])
        digests[seed] = _backlog_digest([r["backlog"] for r in block])
        totals[seed] = sum(r["backlog"] for r in block)
        final[seed] = rows[end - 1]["outcomes"]
        agency_rows += len(block)
        start = end
    ordered = sorted(final)
    return {
        "runs": len(final),
        "workers": workers,
        "elapsed_s": round(elapsed, 3),
        "runs_per_s": round(len(final) / elapsed, 3),
        **cpu_used,
        "rows_returned": len(rows),
        "agency_rows": agency_rows,
        "outcomes": {
            "seed": ordered,
            "requests_total": [final[s]["requests_total"] for s in ordered],
            "completion_rate": [final[s]["completion_rate"] for s in ordered],
            "mean_trust": [final[s]["mean_trust"] for s in ordered],
        },
        "digests": digests,
        "backlog_totals": totals,
    }


# ---------------------------------------------------------------- sections
def section_world(quick: bool, repeats: int = 1) -> dict:
    """The world-scale run in a fresh process; with repeats, the run of median time.

    Each repeat also runs it in a sweep worker (:func:`child_worker_model`, right after
    the fresh process's, so both share the machine's phase), kept as ``in_worker``.
    """
    overrides = json.dumps({"run.years": 1.0} if quick else {})
    runs, in_worker = [], []
    for _ in range(repeats):
        runs.append(run_child(["model", "world_scale", overrides, "1"]))
        in_worker.append(run_child(["worker_model", "world_scale", overrides, "1"]))
    median_run = _median_run(runs)
    median_run["in_worker"] = _median_run(in_worker)
    return median_run


def _median_run(runs: list[dict]) -> dict:
    """The run of median end-to-end time; with several, every run's time and speed too."""
    runs = sorted(runs, key=lambda r: r["end_to_end_s"])
    median_run = dict(runs[(len(runs) - 1) // 2])
    if len(runs) > 1:
        median_run["repeats"] = len(runs)
        median_run["end_to_end_s_each"] = [r["end_to_end_s"] for r in runs]
        median_run["requests_per_s_end_to_end_each"] = [
            r["requests_per_s_end_to_end"] for r in runs
        ]
    return median_run


def section_scaling(quick: bool, repeats: int = 1) -> dict:
    years = 0.5 if quick else 2.0
    rows = []
    for n in (50, 100, 200, 400):
        overrides = {"world.n_states": n, "run.years": years}
        rows.append(run_child(["model", "world_scale", json.dumps(overrides), "1"]))
    base = rows[0]["us_per_request_run"]
    for row in rows:
        row["relative_to_50"] = round(row["us_per_request_run"] / base, 3)
    return {"years": years, "rows": rows}


# The settings world_scale.toml multiplies by 7 over baseline (its comment says why).
# Agencies are staffed for the requests they expect, so their capacities follow the
# arrivals by themselves; only the smallest capacity (an absolute rate) is scaled.
LOAD_KEYS = (
    "cases.arrivals_per_state_per_year",
    "agencies.capacity_floor",
)


def load_overrides(factor: float, years: float) -> dict:
    """world_scale overrides with arrivals and the capacity floor at ``factor`` x baseline."""
    from sim.scenario import load_scenario

    base = load_scenario("baseline")
    overrides = {}
    for key in LOAD_KEYS:
        section, name = key.split(".")
        overrides[key] = factor * getattr(getattr(base, section), name)
    overrides["run.years"] = years
    return overrides


def fit_day_cost(requests_per_day: list[float], ms_per_day: list[float]) -> dict:
    """Least-squares line ms a day = fixed + marginal x requests a day.

    Returns:
        ``fixed_ms_per_day`` (what a day costs with no requests: numpy calls whose
        cost does not depend on how many requests they carry),
        ``marginal_us_per_request`` (what each further request adds) and
        ``asymptotic_requests_per_s`` (1 / marginal: the most requests a second
        that the per-request work alone allows, however large the days).
    """
    import numpy as np

    if len(requests_per_day) < 2:
        raise ValueError("the day-cost fit needs at least two loads")
    marginal_ms, fixed = np.polyfit(requests_per_day, ms_per_day, 1)
    marginal_us = round(float(1e3 * marginal_ms), 3)
    return {
        "fixed_ms_per_day": round(float(fixed), 3),
        "marginal_us_per_request": marginal_us,
        # No measurable cost per request (a flat or falling line): no such limit.
        "asymptotic_requests_per_s": round(1e6 / marginal_us) if marginal_us > 0 else None,
    }


def section_load(quick: bool, repeats: int = 1) -> dict:
    """Time per day against requests per day: the fixed cost of a day and the cost of a request.

    world_scale (195 states) for one year with arrivals and every capacity scaled
    together by 7 (the scenario itself), 14, 28 and 56 over baseline, so the queues
    stay in the same regime while the daily volume grows.
    """
    years, factors = (0.25, (7, 28)) if quick else (1.0, (7, 14, 28, 56))
    rows = []
    for factor in factors:
        row = run_child(["model", "world_scale", json.dumps(load_overrides(factor, years)), "1"])
        row["load_factor"] = factor
        row["requests_per_day"] = round(row["requests"] / row["days"], 1)
        row["ms_per_day"] = round(1e3 * row["run_s"] / row["days"], 3)
        rows.append(row)
    fit = fit_day_cost([r["requests_per_day"] for r in rows], [r["ms_per_day"] for r in rows])
    return {"years": years, "rows": rows, **fit}


def median_of(measurements: list[dict]) -> dict:
    """One measurement from interleaved repeats: medians of time, memory and CPU, all kept.

    The first repeat's other fields (runs, outcomes...) stand for all, and
    ``same_outcomes_every_repeat`` says whether every repeat gave its outcomes.
    """
    import statistics

    out = dict(measurements[0])
    out["same_outcomes_every_repeat"] = all(
        m.get("outcomes") == out.get("outcomes") for m in measurements
    )
    for key in ("elapsed_s", "peak_tree_rss_mb", "cpu_s_per_run", "parent_cpu_s", "workers_cpu_s"):
        values = [m[key] for m in measurements if key in m]
        if values:
            out[key] = statistics.median(values)
            out[f"{key}_each"] = values
    out["runs_per_s"] = round(out["runs"] / out["elapsed_s"], 3)
    out["repeats"] = len(measurements)
    return out


def interleaved(commands: dict[str, list[str]], repeats: int) -> dict[str, dict]:
    """Run each command ``repeats`` times, interleaved and in a rotating order.

    Wall time on a shared machine drifts; alternating the variants (A B C, B C A,
    C A B, ...) spreads the drift over all of them instead of favouring one.
    """
    names = list(commands)
    runs: dict[str, list[dict]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            runs[name].append(run_child(commands[name]))
    return {name: median_of(values) for name, values in runs.items()}


def _same_outcomes(measurements: dict[str, dict]) -> bool:
    """Every variant, in every repeat, gave the same outcomes."""
    outcomes = [m["outcomes"] for m in measurements.values()]
    every_repeat = all(m.get("same_outcomes_every_repeat", True) for m in measurements.values())
    return every_repeat and all(o == outcomes[0] for o in outcomes)


def section_sweep(quick: bool, repeats: int = 1) -> dict:
    reps, years = (20, 0.5) if quick else (200, 1.0)
    m = interleaved(
        {
            "workers_1": ["sweep", str(reps), str(years), "1"],
            "workers_2": ["sweep", str(reps), str(years), "2"],
        },
        repeats,
    )
    return {
        "replications": reps,
        "years": years,
        "repeats": repeats,
        **m,
        "same_outcomes": _same_outcomes(m),
        "parallel_efficiency": round(
            m["workers_1"]["elapsed_s"] / (2 * m["workers_2"]["elapsed_s"]), 3
        ),
    }


def section_batch_run(quick: bool, repeats: int = 1) -> dict:
    reps, years = (20, 0.5) if quick else (200, 1.0)
    m = interleaved(
        {
            "coopsim_2_workers": ["sweep", str(reps), str(years), "2"],
            "batch_run_2_processes_final_only": ["batch_run", str(reps), str(years), "2", "0"],
            "batch_run_2_processes_every_step": ["batch_run", str(reps), str(years), "2", "1"],
        },
        repeats,
    )
    ours = m["coopsim_2_workers"]
    result = {"replications": reps, "years": years, "repeats": repeats, **m}
    result["same_outcomes"] = _same_outcomes(m)
    for variant in ("final_only", "every_step"):
        mesa = m[f"batch_run_2_processes_{variant}"]
        result[f"throughput_ratio_vs_{variant}"] = round(ours["runs_per_s"] / mesa["runs_per_s"], 3)
        result[f"memory_ratio_vs_{variant}"] = round(
            ours["peak_tree_rss_mb"] / mesa["peak_tree_rss_mb"], 3
        )
        result[f"cpu_ratio_vs_{variant}"] = round(ours["cpu_s_per_run"] / mesa["cpu_s_per_run"], 3)
    return result


def section_batch_run_agencies(quick: bool, repeats: int = 1) -> dict:
    reps, years = (20, 0.5) if quick else (200, 1.0)
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "sweep")
        ours = run_child(["sweep_agencies", str(reps), str(years), "2", out])
        stored = run_child(["agency_digest", out])
    mesa_run = run_child(["batch_run_agencies", str(reps), str(years), "2"])
    same_outcomes = ours["outcomes"] == mesa_run["outcomes"]
    # JSON turned the seeds into text keys on both sides.
    same_backlog = [s for s, d in stored["digests"].items() if mesa_run["digests"].get(s) == d]
    first = str(ours["outcomes"]["seed"][0])
    return {
        "replications": reps,
        "years": years,
        "coopsim_2_workers": {k: v for k, v in ours.items() if k != "outcomes"},
        "batch_run_2_processes_every_step": {
            k: v for k, v in mesa_run.items() if k not in ("outcomes", "digests", "backlog_totals")
        },
        "agency_series_rows": stored["rows"],
        "batch_run_agency_rows": mesa_run["agency_rows"],
        "same_final_outcomes": same_outcomes,
        "runs_with_identical_agency_backlog": len(same_backlog),
        "runs_compared": len(stored["digests"]),
        "example_run": {
            "seed": int(first),
            "backlog_total_coopsim": stored["backlog_totals"][first],
            "backlog_total_batch_run": mesa_run["backlog_totals"][first],
            "digest_coopsim": stored["digests"][first],
            "digest_batch_run": mesa_run["digests"][first],
        },
        "throughput_ratio": round(ours["runs_per_s"] / mesa_run["runs_per_s"], 3),
        "memory_ratio": round(ours["peak_tree_rss_mb"] / mesa_run["peak_tree_rss_mb"], 3),
    }


def section_targets(quick: bool, repeats: int = 1) -> dict:
    """The issue's targets for a sweep worker: the baseline's run time, a Sobol study's."""
    return targets.section_targets(run_child, quick, repeats)


SECTIONS = {
    "targets": section_targets,
    "world": section_world,
    "scaling": section_scaling,
    "load": section_load,
    "sweep": section_sweep,
    "batch_run": section_batch_run,
    "batch_run_agencies": section_batch_run_agencies,
}


def machine() -> dict:
    import mesa
    import numpy

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "mesa": mesa.__version__,
        "load_average_at_start": os.getloadavg(),
        # The machine's phase at the start (benchmarks/speed_probe.py); main adds the end's.
        "speed_probe_at_start": probe_speed(),
    }


def probe_speed() -> dict:
    """:func:`speed_probe.probe` in a fresh process (its first touch of memory is fresh)."""
    result = run_child(["probe"])
    return {k: result[k] for k in speed_probe.FIGURES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--quick", action="store_true", help="short runs (smoke test)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="world, sweep, batch_run and targets: repeats of each measurement (interleaved), "
        "medians",
    )
    parser.add_argument("--out", default=str(OUTPUT / "results.json"))
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats: {args.repeats} is not allowed; give 1 or more")
    unknown = sorted(set(args.only.split(",")) - set(SECTIONS))
    if unknown and not args.child:
        parser.error(
            f"--only: unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}"
        )
    if args.child:
        kind, *rest = args.child
        if kind.startswith("targets_"):
            result = targets.run_child_kind(kind, rest)
        elif kind == "probe":
            result = speed_probe.probe()
        elif kind == "model":
            result = child_model(rest[0], json.loads(rest[1]), int(rest[2]))
        elif kind == "worker_model":
            result = child_worker_model(rest[0], json.loads(rest[1]), int(rest[2]))
        elif kind == "sweep":
            result = child_sweep(int(rest[0]), float(rest[1]), int(rest[2]))
        elif kind == "sweep_agencies":
            result = child_sweep_agencies(int(rest[0]), float(rest[1]), int(rest[2]), rest[3])
        elif kind == "agency_digest":
            result = child_agency_digest(rest[0])
        elif kind == "batch_run_agencies":
            result = child_batch_run_agencies(int(rest[0]), float(rest[1]), int(rest[2]))
        else:
            result = child_batch_run(int(rest[0]), float(rest[1]), int(rest[2]), rest[3] == "1")
        print(json.dumps(result))
        return 0
    repeated = {"world", "sweep", "batch_run", "targets"}
    if args.repeats > 1 and not repeated & set(args.only.split(",")):
        print(
            "note: --repeats applies to the world, sweep, batch_run and targets sections",
            file=sys.stderr,
        )
    report = {"machine": machine(), "quick": args.quick}
    for name in args.only.split(","):
        t0 = time.perf_counter()
        report[name] = SECTIONS[name](args.quick, args.repeats)
        print(f"== {name} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        print(json.dumps(report[name], indent=1)[:3000], file=sys.stderr)
    report["machine"]["speed_probe_at_end"] = probe_speed()
    report["summary"] = targets.summary(report)
    print(targets.format_summary(report["summary"]), file=sys.stderr)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(json.dumps(report, indent=1))
    partial.replace(out)  # never a half-written results file under the final name
    print(f"written {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
