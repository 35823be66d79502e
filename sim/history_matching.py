"""History matching of the calibrated parameters against the stylized facts.

Instead of one "best" parameter vector, history matching (Craig et al. 1997;
Vernon, Goldstein & Bower 2010; Andrianakis et al. 2015) rules out the parts of
parameter space where the model cannot reproduce the facts, given every source of
uncertainty, and keeps the rest. For fact ``k`` with public figure ``z_k`` the
implausibility of a parameter vector ``x`` is

    I_k(x) = |E[f_k(x)] - z_k| / sqrt(V_emulator + V_observation + V_discrepancy + V_stochastic)

where ``E[f_k(x)]`` and ``V_emulator`` come from a Gaussian-process emulator of the
model's mean output (scikit-learn), ``V_observation`` is read from the fact's
acceptable range, ``V_discrepancy`` is the stated model discrepancy and
``V_stochastic`` is the model's run-to-run variance (the world is one realisation).
A vector is *non-implausible* when the largest ``I_k`` is at most 3 (Pukelsheim's
three-sigma rule holds for any unimodal distribution).

The procedure (:func:`history_match`):

1. wave 1: a seeded Latin hypercube over the priors (``sim/data/calibration/priors.toml``,
   uniform, on log scale for durations), each point run with ``reps`` seeds;
2. one emulator per calibrated fact; the non-implausible part of prior space is found
   by emulating a large seeded Latin-hypercube sample of candidates;
3. wave 2: the simulator is run at a random sample of the non-implausible
   candidates (so that the accepted set samples that space evenly); the emulators
   are refitted on every run, and the non-implausible space shrinks to the candidates
   that pass both waves;
4. the **accepted set**: wave-2 points whose *simulated* facts (mean over their seeds)
   pass the cut, with the Monte Carlo variance of that mean in place of the
   emulator's.

The rules for the variances are constants of this module and are written, with
everything else needed to redo the matching, to ``history_matching.toml``.

This module runs the simulator and the waves; the emulators and the implausibility
of a wave, and the :class:`HistoryMatching` result, are in :mod:`sim.history_emulation`
(re-exported here).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration_measure import _measure_run
from sim.emulator import (  # noqa: F401  (Emulator re-exported)
    Emulator,
    latin_hypercube,
    random_subset,
    run_seeds,
)
from sim.history_emulation import (
    HistoryMatching,
    _fit_emulators,
    _max_implausibility,
    emulated_implausibility,
    point_means,
    simulated_implausibility,
    stochastic_variance,
)
from sim.implausibility import (  # noqa: F401  (fact_implausibility re-exported)
    CUTOFF,
    Observation,
    Prior,
    fact_implausibility,
    load_priors,
    observations,
)
from sim.scenario import load_scenario

__all__ = [
    "CALIBRATION_YEARS",
    "CANDIDATES",
    "REPS",
    "SEED",
    "WAVE_POINTS",
    "CoopsimSimulator",
    "HistoryMatching",
    "Job",
    "Simulator",
    "emulated_implausibility",
    "history_match",
    "point_means",
    "simulated_implausibility",
    "stochastic_variance",
]

# Calibration runs: the baseline with its warm-up (2 years) and a 3-year window (the
# duration facts follow each request for a year, so the cohort is the window's first
# two years).
CALIBRATION_YEARS = 3.0
CANDIDATES = 100_000  # emulated candidates per wave
WAVE_POINTS = (35, 25)  # parameter points in waves 1 and 2 (x reps runs each)
REPS = 2
SEED = 20240611


# ======================================================================== simulators
@dataclass(frozen=True)
class Job:
    """One simulator run: wave, point, seed and the parameter values."""

    wave: int
    point: int
    seed: int
    params: tuple[tuple[str, float], ...]


Simulator = Callable[[list[Job]], Iterable[tuple[Job, dict[str, float]]]]


class CoopsimSimulator:
    """Runs the baseline at each job's parameters and measures the facts.

    The measurement is :func:`sim.calibration.measure` (as in ``measure_replications``);
    one process pool serves a whole wave, so that 2 workers stay busy with 1-2 seeds
    a point. With a ``cache`` file every finished run is written at once, and a
    rerun of the same matching reuses them (the same jobs on the same scenario).

    Args:
        years: The measurement window (``run.years``); the warm-up stays the baseline's.
        workers: Processes.
        cache: CSV file keeping finished runs (resume), or None.
        scenario: The scenario run.
        overrides: More parameter values for every run (e.g. a small world in tests).
    """

    def __init__(
        self,
        years: float = CALIBRATION_YEARS,
        workers: int = 1,
        cache: Path | None = None,
        scenario: str = "baseline",
        overrides: dict[str, Any] | None = None,
    ):
        self.base = load_scenario(scenario, {**(overrides or {}), "run.years": years})
        self.workers = workers
        self.cache = Path(cache) if cache else None
        digest = json.dumps(self.base.model_dump(mode="json"), sort_keys=True)
        self.scenario_hash = hashlib.sha256(digest.encode()).hexdigest()[:16]
        self.rows: list[dict[str, Any]] = []
        if self.cache and self.cache.is_file():
            old = pd.read_csv(self.cache)
            if "scenario_hash" in old and len(old):
                self.rows = old[old["scenario_hash"] == self.scenario_hash].to_dict("records")

    def _cached(self, job: Job) -> dict[str, float] | None:
        for row in self.rows:
            if (
                row["wave"] == job.wave
                and row["point"] == job.point
                and row["seed"] == job.seed
                and all(math.isclose(row[k], v, rel_tol=1e-12) for k, v in job.params)
            ):
                return row["facts"] if "facts" in row else _facts_of(row)
        return None

    def _store(self, job: Job, facts: dict[str, float]) -> None:
        if self.cache is None:
            return
        from sim.store import atomic_write_text

        self.rows.append(
            {
                "scenario_hash": self.scenario_hash,
                "wave": job.wave,
                "point": job.point,
                "seed": job.seed,
                **dict(job.params),
                **{f"fact:{k}": v for k, v in facts.items()},
            }
        )
        self.cache.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.cache, pd.DataFrame(self.rows).to_csv(index=False))

    def __call__(self, jobs: list[Job]) -> Iterator[tuple[Job, dict[str, float]]]:
        """Yield ``(job, measured facts)`` as runs finish (cached ones first)."""
        pending = []
        for job in jobs:
            cached = self._cached(job)
            if cached is None:
                pending.append(job)
            else:
                yield job, cached
        if not pending:
            return
        args = [(self.base.with_overrides(dict(j.params)), j.seed) for j in pending]
        if self.workers <= 1:
            for job, arg in zip(pending, args, strict=True):
                facts = _measure_run(arg)
                self._store(job, facts)
                yield job, facts
            return
        from sim.processes import die_with_parent

        with ProcessPoolExecutor(
            max_workers=self.workers, initializer=die_with_parent, initargs=(os.getpid(),)
        ) as pool:
            futures = {pool.submit(_measure_run, a): j for j, a in zip(pending, args, strict=True)}
            for future in as_completed(futures):
                job = futures[future]
                facts = future.result()
                self._store(job, facts)
                yield job, facts


def _facts_of(row: dict[str, Any]) -> dict[str, float]:
    return {k.removeprefix("fact:"): float(v) for k, v in row.items() if k.startswith("fact:")}


# ======================================================================== the matching
def _run_wave(
    simulate: Simulator,
    wave: int,
    unit: np.ndarray,
    priors: list[Prior],
    reps: int,
    seed: int,
    progress: bool,
) -> pd.DataFrame:
    values = np.column_stack([p.from_unit(unit[:, j]) for j, p in enumerate(priors)])
    seeds = run_seeds(seed, wave, len(unit) * reps)
    jobs = [
        Job(
            wave,
            i,
            seeds[i * reps + r],
            tuple((p.name, float(np.round(values[i, j], 10))) for j, p in enumerate(priors)),
        )
        for i in range(len(unit))
        for r in range(reps)
    ]
    rows = []
    results = simulate(jobs)
    if progress:
        from tqdm import tqdm

        results = tqdm(results, total=len(jobs), desc=f"wave {wave}", unit="run")
    for job, facts in results:
        rows.append({"wave": job.wave, "point": job.point, "seed": job.seed, **dict(job.params)})
        rows[-1].update(facts)
    return pd.DataFrame(rows).sort_values(["point", "seed"]).reset_index(drop=True)


def history_match(
    simulate: Simulator,
    priors: list[Prior] | None = None,
    obs: list[Observation] | None = None,
    wave_points: tuple[int, int] = WAVE_POINTS,
    reps: int = REPS,
    seed: int = SEED,
    candidates: int = CANDIDATES,
    cutoff: float = CUTOFF,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> HistoryMatching:
    """Two waves of history matching (see the module docstring).

    Args:
        simulate: Runs jobs and yields ``(job, facts)``; facts hold each observation's
            quantity (:class:`CoopsimSimulator` for the model).
        priors: The priors (default: ``sim/data/calibration/priors.toml``).
        obs: The observations (default: the calibrated facts).
        wave_points: Parameter points in waves 1 and 2 (each run with ``reps`` seeds).
        reps: Seeds per point.
        seed: Seed of the designs, the run seeds and the emulators' optimiser.
        candidates: Emulated candidate points per wave.
        cutoff: Implausibility cutoff on the largest implausibility over facts.
        progress: Show a progress bar per wave.
        log: Called with a line of text at each step.

    Returns:
        The :class:`HistoryMatching` (its ``accepted`` frame may be empty: then no
        parameter vector tried reproduces every fact within the stated uncertainty).
    """
    priors = priors or load_priors()
    obs = obs or observations()
    say = log or (lambda _text: None)
    quantities = [o.quantity for o in obs]
    d = len(priors)
    waves: list[dict[str, Any]] = []
    pool = latin_hypercube(candidates, d, seed + 7)

    # Wave 1: the whole prior space.
    unit1 = latin_hypercube(wave_points[0], d, seed)
    runs1 = _run_wave(simulate, 1, unit1, priors, reps, seed, progress)
    points1 = point_means(runs1, priors, quantities)
    em1, var1, info1 = _fit_emulators(points1, priors, obs, seed, reps, runs1)
    imax1 = _max_implausibility(emulated_implausibility(em1, obs, var1, pool))
    keep1 = imax1 <= cutoff
    sim1 = _max_implausibility(simulated_implausibility(points1, obs, var1)) <= cutoff
    waves.append(
        _wave_record(1, points1, runs1, reps, seed, keep1, sim1, info1, candidates, "prior")
    )
    say(
        f"wave 1: {len(runs1)} runs; non-implausible: {keep1.mean():.2%} of prior space "
        f"(emulated, {candidates:,} candidates)"
    )
    runs, points = runs1, points1
    accepted = points1.iloc[0:0].copy()
    fitted = [(em1, var1)]
    if keep1.any():
        # Wave 2: a random sample of the non-implausible candidates.
        candidates1 = pool[keep1]
        unit2 = candidates1[random_subset(len(candidates1), wave_points[1], seed + 2)]
        runs2 = _run_wave(simulate, 2, unit2, priors, reps, seed, progress)
        points2 = point_means(runs2, priors, quantities)
        runs = pd.concat([runs1, runs2], ignore_index=True)
        points = pd.concat([points1, points2], ignore_index=True)
        # Emulators refitted on every run; the stochastic variance of wave 2 (its points
        # lie where it matters).
        em2, _, info2 = _fit_emulators(points, priors, obs, seed + 100, reps, runs)
        var2 = {}
        for q in quantities:
            local = stochastic_variance(runs2, q)
            var2[q] = local if math.isfinite(local) else info2[q]["var_stochastic"]
        for q in quantities:
            info2[q]["var_stochastic"] = var2[q]
        imax2 = _max_implausibility(emulated_implausibility(em2, obs, var2, pool))
        keep2 = keep1 & (imax2 <= cutoff)
        values2 = simulated_implausibility(points2, obs, var2)
        imax_sim = _max_implausibility(values2)
        passed = imax_sim <= cutoff
        waves.append(
            _wave_record(2, points2, runs2, reps, seed, keep2, passed, info2, candidates, "wave 1")
        )
        say(
            f"wave 2: {len(runs2)} runs; non-implausible: {keep2.mean():.2%} of prior space; "
            f"{int(passed.sum())} of {len(points2)} points pass with the simulator"
        )
        accepted = points2.assign(
            max_implausibility=imax_sim,
            **{f"I:{o.quantity}": values2[:, k] for k, o in enumerate(obs)},
        )[passed].reset_index(drop=True)
        fitted.append((em2, var2))
        facts_info = {q: {"wave1": info1[q], "wave2": info2[q]} for q in quantities}
    else:
        say("wave 1 leaves no non-implausible candidate: wave 2 not run, nothing accepted")
        facts_info = {q: {"wave1": info1[q]} for q in quantities}
    settings = {
        "reps": reps,
        "seed": seed,
        "candidates": candidates,
        "cutoff": cutoff,
        "wave_points": list(wave_points),
    }
    result = HistoryMatching(
        priors, obs, runs, points, accepted, waves, settings, facts_info, None, fitted
    )
    if all(p.default is not None and p.low <= p.default <= p.high for p in priors):
        defaults = np.array([[p.default for p in priors]])
        result.default_implausibility = float(result.max_implausibility(defaults)[0])
    return result


def _wave_record(
    wave, points, runs, reps, seed, keep, passed, info, candidates, space
) -> dict[str, Any]:
    return {
        "wave": wave,
        "design": "Latin hypercube over the priors"
        if wave == 1
        else "random sample of the wave-1 non-implausible candidates",
        "points": int(len(points)),
        "seeds_per_point": reps,
        "runs": int(len(runs)),
        "design_seed": seed if wave == 1 else seed + 2,
        "run_seed_stream": [seed, wave],
        "candidates": candidates,
        "candidates_from": space,
        "non_implausible_fraction": float(np.mean(keep)),
        "points_passing_with_simulator": int(np.sum(passed)),
        "emulators": info,
    }
