"""Choosing the warm-up: MSER-5 on replication averages of the daily series.

A run starts empty: no queues, no requests under way, no answers yet. Outcomes
measured from day 0 mix that start-up with the steady state the scenarios are
about, so every run has a warm-up (``run.warmup_years``) left out of its
outcomes. This module chooses it by an accepted method:

1. run the scenario with no warm-up for several seeds (:func:`warmup_report`);
2. average each daily series over the replications (Welch's ensemble mean,
   :func:`ensemble_mean`), so the cut is the scenario's, not one seed's;
3. apply MSER-5 (:func:`mser`) to each averaged series: the truncation that
   minimises the marginal standard error of the mean of what is left;
4. take the latest cut over the series, rounded up to a whole month.

The statistics (MSER-5, the ensemble mean) are in :mod:`sim.mser`, re-exported
here; this module runs the scenario and makes the report.

The method's references (White 1997; White, Cobb and Spratt 2000; Welch 1983) are in
:mod:`sim.mser`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

from sim.mser import BATCH_SIZE, MserResult, batch_means, ensemble_mean, mser

# Re-exported: the warm-up's statistics are imported from here too.
from sim.mser import IGNORE_END_BATCHES as IGNORE_END_BATCHES
from sim.mser import mser_statistic as mser_statistic
from sim.requests import Kind, Outcome
from sim.scenario import DAYS_PER_YEAR, Scenario, ScenarioBase, ScenarioError, load_scenario

MONTH_DAYS = 30  # the chosen warm-up is rounded up to whole months of this length
BACKLOG_SERIES = {
    "backlog_central_authority": "Central-authority backlog (requests waiting)",
    "backlog_court": "Court backlog (requests waiting)",
    "backlog_law_enforcement": "Law-enforcement backlog (requests waiting)",
}
RESPONSE_KINDS = {
    "response_days_mla_evidence": (Kind.MLA_EVIDENCE, "MLA evidence: mean days to answer"),
    "response_days_extradition": (Kind.EXTRADITION, "Extradition: mean days to answer"),
}
# A response series is analysed only if at least this share of its batches hold an
# executed request: a sparser one says nothing about a steady state.
MIN_FILLED_SHARE = 0.5


def round_up_days(days: int, unit: int = MONTH_DAYS) -> int:
    """``days`` rounded up to a whole number of ``unit`` days (0 stays 0)."""
    return int(math.ceil(days / unit)) * unit


def days_to_years(days: int) -> float:
    """Days as years, rounded up to 0.01 so ``run.warmup_years`` covers every day."""
    return math.ceil(days / DAYS_PER_YEAR * 100 - 1e-9) / 100


# ------------------------------------------------------------------ runs
def run_series(model) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """The series the warm-up is chosen on, from one finished run.

    Args:
        model: A CooperationModel that has run.

    Returns:
        Series name -> (daily values, daily weights or None). Backlogs are the
        requests waiting at the end of each day, over all states. A response series
        is the mean issue-to-answer days of the requests executed each day, by the
        day they were answered (so no request is cut off by the run's end); its
        weights are the number executed (0 and NaN on days without any).
    """
    days = model.day
    out: dict[str, tuple[np.ndarray, np.ndarray | None]] = {
        name: (np.asarray(model.series[name][:days], dtype=float), None) for name in BACKLOG_SERIES
    }
    led = model.ledger
    closed = led.col("t_closed")
    executed = (led.col("outcome") == Outcome.EXECUTED) & (closed >= 0) & (closed < days)
    duration = (closed - led.col("t_issued")).astype(float)
    kind = led.col("kind")
    for name, (code, _) in RESPONSE_KINDS.items():
        done = executed & (kind == code)
        count = np.bincount(closed[done], minlength=days)[:days].astype(float)
        total = np.bincount(closed[done], weights=duration[done], minlength=days)[:days]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name] = (np.where(count > 0, total / count, math.nan), count)
    return out


def _run_one(job: tuple[Scenario, int]) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    from sim.model import CooperationModel

    scenario, seed = job
    return run_series(CooperationModel(scenario, rng=seed).run())


def _progress(iterable, total: int, show: bool, label: str):
    if not show:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=label, unit="run")


def replicate_series(
    scenario: Scenario, seeds: list[int], workers: int = 1, progress: bool = False
) -> list[dict[str, tuple[np.ndarray, np.ndarray | None]]]:
    """:func:`run_series` of one scenario for each seed, in order (in processes if workers > 1)."""
    jobs = [(scenario, seed) for seed in seeds]
    if workers > 1 and len(jobs) > 1:
        from sim.processes import die_with_parent

        # Spawned, not forked (this process may run threads, e.g. a progress bar), and
        # ending with this process however it ends, as a sweep's workers do.
        with ProcessPoolExecutor(
            max_workers=min(workers, len(jobs)),
            mp_context=get_context("spawn"),
            initializer=die_with_parent,
            initargs=(os.getpid(),),
        ) as pool:
            return list(_progress(pool.map(_run_one, jobs), len(jobs), progress, scenario.name))
    return list(_progress(map(_run_one, jobs), len(jobs), progress, scenario.name))


# ------------------------------------------------------------------ the report
TABLE_COLUMNS = (
    "series",
    "label",
    "analysed",
    "cut_day",
    "steady_state",
    "mser_minimum",
    "batches",
)


@dataclass
class WarmupReport:
    """The warm-up chosen for a scenario, and the evidence.

    Attributes:
        scenario: The scenario's name.
        years: Years simulated per replication (with no warm-up).
        seeds: The replications' seeds.
        table: One row per series: ``series``, ``label``, ``analysed`` (False for a
            response series with too few answers), ``cut_day``, ``steady_state``
            (MSER's minimum in the first half), ``mser_minimum`` (NA when not
            analysed), ``batches`` (5-day batches with data).
        warmup_days: The chosen warm-up: the latest cut over the series that reached
            a steady state, rounded up to a whole month; None if none did.
        reason: Why, in a sentence.
        notes: Series left out, and series without a steady state.
        daily: One row per day: each series' replication average, then each
            replication's values (``<series>@<seed>``), and for responses the
            number of requests answered (``<series>.executed``).
        batched: Long table of 5-day batch means for the figure: ``series``,
            ``replication`` (``mean`` or ``seed <n>``), ``day`` (the batch's first
            day), ``value``.
    """

    scenario: str
    years: float
    seeds: list[int]
    table: pd.DataFrame
    warmup_days: int | None
    reason: str
    notes: list[str] = field(default_factory=list)
    daily: pd.DataFrame = field(default_factory=pd.DataFrame)
    batched: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def warmup_years(self) -> float | None:
        """The chosen warm-up in years (rounded up to 0.01), or None."""
        return None if self.warmup_days is None else days_to_years(self.warmup_days)

    @property
    def steady(self) -> bool:
        """Whether every series analysed reached a steady state."""
        analysed = self.table[self.table["analysed"]]
        return bool(analysed["steady_state"].all()) and self.warmup_days is not None

    def toml_line(self) -> str | None:
        """The line to put under ``[run]`` in the scenario file (None when none was found)."""
        if self.warmup_years is None:
            return None
        return f"warmup_years = {self.warmup_years:g}"


def _labels() -> dict[str, str]:
    return {**BACKLOG_SERIES, **{k: label for k, (_, label) in RESPONSE_KINDS.items()}}


def choose_warmup(results: dict[str, MserResult]) -> tuple[int | None, str, list[str]]:
    """The warm-up from the cuts of several series: the latest steady cut, a whole month.

    Args:
        results: Series name -> its MSER result.

    Returns:
        (warm-up days or None, the reason, notes on series without a steady state).
    """
    unsettled = [name for name, r in results.items() if not r.steady]
    notes = [
        f"no steady state detected on {name}: MSER-5 minimum at day {results[name].cut_day}, "
        f"in the second half of the {results[name].n_days} days; run longer (--years) or the "
        "series keeps trending"
        for name in unsettled
    ]
    settled = {name: r for name, r in results.items() if r.steady}
    if not settled:
        return None, "no series reached a steady state: no warm-up can be chosen", notes
    latest = max(settled, key=lambda name: settled[name].cut_day)
    cut = settled[latest].cut_day
    days = round_up_days(cut)
    reason = (
        f"MSER-5 minimum at day {cut} on {latest}, the latest of the {len(settled)} series "
        f"with a steady state; rounded up to whole months: {days} days"
    )
    if unsettled:
        reason += f" ({len(unsettled)} series without a steady state left out)"
    return days, reason, notes


def warmup_report(
    scenario: Scenario | str | Path,
    years: float = 10.0,
    seeds: Iterable[int] = range(1, 6),
    workers: int = 1,
    progress: bool = False,
    overrides: dict | None = None,
) -> WarmupReport:
    """Choose a scenario's warm-up by MSER-5 on replication averages.

    Runs the scenario with ``run.warmup_years = 0`` for ``years`` years per seed,
    averages each series over the replications (:func:`ensemble_mean`) and applies
    :func:`mser` to every average: the three queue backlogs (all states) and the
    mean days to answer MLA evidence and extradition requests, by the day answered
    (each analysed if at least half of its 5-day batches hold an answer). Reforms
    take effect as the scenario says, counted from day 0.

    Args:
        scenario: A Scenario, a scenario file or a shipped name.
        years: Years per replication; long enough that the transient is well within
            the first half.
        seeds: One replication per seed.
        workers: Processes (1 = in this process).
        progress: Show a progress bar.
        overrides: Further dotted-key parameter values (e.g. ``{"world.n_states": 6}``).

    Returns:
        A :class:`WarmupReport`.

    Raises:
        ScenarioError: For a bad scenario or override, or a run too short for MSER-5.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ScenarioError("warm-up: at least one seed is needed")
    changes = {**(overrides or {}), "run.warmup_years": 0.0, "run.years": years}
    if isinstance(scenario, ScenarioBase):
        scenario = scenario.with_overrides(changes)
    else:
        scenario = load_scenario(scenario, changes)
    runs = replicate_series(scenario, seeds, workers, progress)
    labels = _labels()
    rows, results, notes = [], {}, []
    daily = {"day": np.arange(runs[0]["backlog_court"][0].size)}
    batched = []
    for name, label in labels.items():
        values = np.vstack([run[name][0] for run in runs])
        weights = None if runs[0][name][1] is None else np.vstack([run[name][1] for run in runs])
        mean = ensemble_mean(values, weights)
        pooled = None if weights is None else weights.sum(axis=0)
        daily[name] = mean
        if pooled is not None:
            daily[f"{name}.executed"] = pooled
        for seed, row in zip(seeds, values, strict=True):
            daily[f"{name}@{seed}"] = row
        batched += _batch_rows(name, mean, pooled, values, weights, seeds)
        z = batch_means(mean, BATCH_SIZE, pooled)
        filled = np.isfinite(z).mean() if z.size else 0.0
        row = {
            "series": name,
            "label": label,
            "analysed": False,
            "batches": int(np.isfinite(z).sum()),
        }
        if pooled is not None and filled < MIN_FILLED_SHARE:
            notes.append(
                f"{name} not analysed: only {filled:.0%} of its {BATCH_SIZE}-day batches hold "
                "an executed request"
            )
            rows.append(row)
            continue
        try:
            result = mser(mean, BATCH_SIZE, pooled)
        except ValueError as exc:
            raise ScenarioError(f"warm-up: {name}: {exc}; simulate more --years") from None
        results[name] = result
        row.update(
            analysed=True,
            cut_day=result.cut_day,
            steady_state=result.steady,
            mser_minimum=result.minimum,
        )
        rows.append(row)
    warmup_days, reason, unsettled = choose_warmup(results)
    return WarmupReport(
        scenario=scenario.name,
        years=float(years),
        seeds=seeds,
        table=_table(rows),
        warmup_days=warmup_days,
        reason=reason,
        notes=notes + unsettled,
        daily=pd.DataFrame(daily),
        batched=pd.DataFrame(batched, columns=["series", "replication", "day", "value"]),
    )


def _table(rows: list[dict]) -> pd.DataFrame:
    """The per-series table; a series not analysed has no cut (NA), not a made-up one."""
    table = pd.DataFrame(rows, columns=[*TABLE_COLUMNS])
    return table.astype(
        {"analysed": bool, "cut_day": "Int64", "steady_state": "boolean", "batches": int}
    )


def _batch_rows(name, mean, pooled, values, weights, seeds) -> list[tuple]:
    """Long rows of 5-day batch means: the replication average, then each replication."""
    rows = []
    lines = [("mean", mean, pooled)] + [
        (f"seed {seed}", values[i], None if weights is None else weights[i])
        for i, seed in enumerate(seeds)
    ]
    for replication, series, w in lines:
        z = batch_means(series, BATCH_SIZE, w)
        rows += [(name, replication, j * BATCH_SIZE, float(v)) for j, v in enumerate(z)]
    return rows


def format_report(report: WarmupReport) -> str:
    """The report as text: the series table, the chosen warm-up, why, and the TOML line."""
    reps = len(report.seeds)
    lines = [
        f"warm-up of {report.scenario}: MSER-5 on the average of {reps} replications of "
        f"{report.years:g} years ({int(round(report.years * DAYS_PER_YEAR))} days), no warm-up",
        "",
        f"  {'series':<28}{'cut day':>9}  {'steady state':<13}{'MSER minimum':>14}",
    ]
    for row in report.table.itertuples():
        if not row.analysed:
            lines.append(f"  {row.series:<28}{'-':>9}  {'not analysed':<13}{'-':>14}")
            continue
        lines.append(
            f"  {row.series:<28}{row.cut_day:>9}  {'yes' if row.steady_state else 'NO':<13}"
            f"{row.mser_minimum:>14.4g}"
        )
    lines.append("")
    if report.warmup_days is None:
        lines.append("warm-up: none found")
    else:
        lines.append(
            f"warm-up: {report.warmup_days} days = {report.warmup_years:g} years "
            "(run.warmup_years; rounded up to 0.01 year)"
        )
    lines.append(f"why: {report.reason}")
    for note in report.notes:
        lines.append(f"note: {note}")
    line = report.toml_line()
    if line is not None:
        lines += ["", "put in the scenario file:", "  [run]", f"  {line}"]
    return "\n".join(lines)
