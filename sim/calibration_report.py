"""The facts report: the model against every stylized fact and pattern, over replications.

:func:`facts_table` runs the scenarios the facts concern for several seeds and
reports, per fact and pattern, the model's mean with a 95% t interval and whether it
falls in range; patterns are of two kinds: *validation* patterns emerge from the
mechanisms (P1, P5, P6) and could come out wrong, *input checks* are arithmetic of
input parameters (P2-P4) and only check that the inputs agree with each other.
:func:`format_facts` and :func:`plot_facts` show it (``coopsim facts``). The
measurements are :mod:`sim.calibration_measure`.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.calibration_measure import _measure_run, load_facts
from sim.scenario import Scenario, load_scenario

# Pattern id -> (quantity, low, high, unit). Which patterns validate the model and which
# only check inputs is the `kind` of each pattern in the facts file.
PATTERN_QUANTITIES = {
    "P1": ("load_response_correlation", 0.3, 1.0, "Spearman rho"),
    "P2": ("mr_speedup_ratio", 5.0, 40.0, "ratio"),
    "P3": ("channel_speed_ratio", 5.0, math.inf, "ratio"),
    "P4": ("exchanges_to_undo_one_leak", 10.0, math.inf, "exchanges"),
    "P5": ("eaw_nationality_refusal_lead", 0.01, 1.0, "share difference"),
    "P6": ("mla_form_dual_refusal_lead", 0.01, 1.0, "share difference"),
}
PATTERN_KINDS = ("validation", "input_check")
# Which scenario each quantity is measured in (baseline unless named here).
SCENARIO_OF = {
    "channel_speed_ratio": "secure_platform",
    "jit_growth": "joint_task_forces",
    "production_order_mean_days": "e_evidence",
    "cross_border_share": "e_evidence",
}


def measure_replications(
    scenario: Scenario, seeds: list[int], workers: int = 1, progress: bool = False
) -> pd.DataFrame:
    """Measure every quantity on one scenario for each seed (rows = seeds)."""
    jobs = [(scenario, seed) for seed in seeds]
    if workers > 1:
        from sim.processes import die_with_parent

        # Workers end with this process however it ends (as a sweep's workers do).
        with ProcessPoolExecutor(
            max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),)
        ) as pool:
            rows = list(_progress(pool.map(_measure_run, jobs), len(jobs), progress, scenario.name))
    else:
        rows = list(_progress(map(_measure_run, jobs), len(jobs), progress, scenario.name))
    return pd.DataFrame(rows, index=pd.Index(seeds, name="seed"))


def _progress(iterable, total, show, label):
    if not show:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=label, unit="run")


def mean_ci(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and t-based confidence interval of replicated values (NaNs dropped)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if values.size < 2:
        return mean, math.nan, math.nan
    half = float(
        stats.t.ppf(0.5 + confidence / 2, values.size - 1)
        * values.std(ddof=1)
        / math.sqrt(values.size)
    )
    return mean, mean - half, mean + half


def facts_table(
    reps: int = 5, workers: int = 1, base_seed: int = 1, progress: bool = False
) -> pd.DataFrame:
    """Run the scenarios the facts concern and compare the model with every fact and pattern.

    Returns:
        One row per fact or pattern: id, kind (``fact``, ``validation`` for a
        pattern that emerges from the mechanisms, ``input_check`` for one that is
        arithmetic of inputs), description, figure, quantity, unit, target, low,
        high, model mean and 95% CI, in_range, calibrated, comparable, scenario.
    """
    facts, patterns = load_facts()
    seeds = list(range(base_seed, base_seed + reps))
    needed = {"baseline"} | set(SCENARIO_OF.values())
    measured = {
        name: measure_replications(load_scenario(name), seeds, workers, progress)
        for name in sorted(needed)
    }
    rows = []
    for fact in facts:
        rows.append(
            _row(
                fact["id"],
                fact["description"],
                fact["figure"],
                fact["quantity"],
                fact["unit"],
                fact["target"],
                fact["low"],
                fact["high"],
                fact.get("calibrated", False),
                fact.get("comparable", True),
                measured,
                kind="fact",
            )
        )
    for pattern in patterns:
        quantity, low, high, unit = PATTERN_QUANTITIES[pattern["id"]]
        rows.append(
            _row(
                pattern["id"],
                pattern["description"],
                pattern["check"],
                quantity,
                unit,
                math.nan,
                low,
                high,
                False,
                True,
                measured,
                kind=pattern["kind"],
            )
        )
    return pd.DataFrame(rows)


def _row(
    fact_id,
    description,
    figure,
    quantity,
    unit,
    target,
    low,
    high,
    calibrated,
    comparable,
    measured,
    kind: str = "fact",
) -> dict[str, Any]:
    scenario = SCENARIO_OF.get(quantity, "baseline")
    table = measured[scenario]
    mean = lo = hi = math.nan
    if comparable and quantity in table:
        mean, lo, hi = mean_ci(table[quantity].to_numpy())
    in_range = bool(comparable and math.isfinite(mean) and low <= mean <= high)
    return {
        "id": fact_id,
        "kind": kind,
        "description": description,
        "figure": figure,
        "quantity": quantity,
        "unit": unit,
        "target": target,
        "low": low,
        "high": high,
        "model_mean": mean,
        "ci_low": lo,
        "ci_high": hi,
        "in_range": in_range if comparable else None,
        "calibrated": bool(calibrated),
        "comparable": bool(comparable),
        "scenario": scenario,
    }


KIND_HEADINGS = {
    "fact": "Stylized facts (public figures)",
    "validation": "Validation patterns (emerge from the mechanisms)",
    "input_check": "Input checks (arithmetic of input parameters, not validation)",
}


def format_facts(table: pd.DataFrame) -> str:
    """A readable text table of the facts report: facts, validation patterns, input checks."""
    lines = [f"{'id':<5}{'quantity':<46}{'public':>14}{'model (95% CI)':>28}  in range"]
    kinds = table["kind"] if "kind" in table else pd.Series("fact", index=table.index)
    for kind, heading in KIND_HEADINGS.items():
        part = table[kinds == kind]
        if len(part):
            lines.append(f"-- {heading}")
            lines.extend(_fact_lines(part))
    return "\n".join(lines)


def _fact_lines(table: pd.DataFrame) -> list[str]:
    lines = []
    for row in table.itertuples():
        if not row.comparable:
            model = "not comparable"
        elif math.isnan(row.model_mean):
            model = "no data"
        else:
            model = f"{row.model_mean:.3g} ({row.ci_low:.3g}-{row.ci_high:.3g})"
        public = f"{row.low:.3g}-{row.high:.3g}"
        status = "-" if row.in_range is None else ("yes" if row.in_range else "NO")
        tag = "" if row.calibrated else " (not tuned)"
        lines.append(f"{row.id:<5}{row.quantity:<46}{public:>14}{model:>28}  {status}{tag}")
    return lines


def plot_facts(table: pd.DataFrame, path: Path) -> None:
    """Where each model value falls relative to its public range (one row per fact).

    The x axis is the position in the acceptable range: 0 is its low end and 1 its
    high end (an open-ended range is drawn from its low end to twice that). Values
    far outside are drawn at the edge with an arrow; the text gives the real numbers.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = table[table["comparable"] & np.isfinite(table["model_mean"])].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(rows) + 1.6))
    edge = (-1.5, 2.5)
    ax.axvspan(0, 1, color="0.88", zorder=0)
    for k, row in rows.iterrows():
        high = row.high if math.isfinite(row.high) else 2 * row.low

        def pos(value, low=row.low, high=high):
            return (value - low) / (high - low)

        x = pos(row.model_mean)
        color = "tab:green" if row.in_range else "tab:red"
        shown = float(np.clip(x, *edge))
        marker = "o" if shown == x else (">" if x > edge[1] else "<")
        if math.isfinite(row.ci_low) and shown == x:
            ax.plot(np.clip([pos(row.ci_low), pos(row.ci_high)], *edge), [k, k], color=color, lw=2)
        ax.plot(shown, k, marker, color=color, ms=8)
        upper = f"{row.high:.3g}" if math.isfinite(row.high) else "inf"
        source = "expected" if str(row.id).startswith("P") else "public"
        ax.text(
            edge[1] + 0.1,
            k,
            f"model {row.model_mean:.3g}  ({source} {row.low:.3g}-{upper} {row.unit})",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(
        range(len(rows)),
        [
            f"{r.id}  {r.quantity}" + (" (input check)" if r.kind == "input_check" else "")
            for r in rows.itertuples()
        ],
        fontsize=8,
    )
    ax.set_xlim(edge[0], edge[1])
    ax.set_xticks([-1, 0, 1, 2], ["below", "low end", "high end", "above"])
    ax.set_xlabel("position of the model value in the acceptable range (grey)")
    ax.set_title(
        "coopsim against public stylized facts: mean over replications, 95% CI", fontsize=10
    )
    ax.invert_yaxis()
    fig.tight_layout()
    fig.subplots_adjust(right=0.62)
    fig.savefig(path, dpi=120)
    plt.close(fig)
