"""The equity figure: outcomes by state capacity group, one bar per policy.

It draws a single run's outcomes as readily as an experiment's (one bar per
policy, with an interval over replications), so it stands apart from the
experiment figures of :mod:`sim.plots_experiment`; :mod:`sim.plots` re-exports it.
"""

from __future__ import annotations

from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.plot_style import CAPACITY_GROUPS, PlotError, styled, wrap_label

EQUITY_PANELS = (
    # (outcome prefix, panel title, y label with unit)
    (
        "completion_rate_by_capacity_group",
        "Completion of requests the group sent",
        "completion rate (share 0-1)",
    ),
    (
        "median_response_days_by_capacity_group",
        "Response to requests the group sent",
        "median response time (days)",
    ),
    (
        "completion_rate_by_requested_capacity_group",
        "Completion of requests the group received",
        "completion rate (share 0-1)",
    ),
    (
        "case_resolution_rate_by_capacity_group",
        "Resolution of cases from the group",
        "case resolution rate (share 0-1)",
    ),
)


@styled
def equity(outcomes: pd.DataFrame | dict[str, Any], confidence: float = 0.95) -> Figure:
    """Outcomes by state capacity group (equity), per policy.

    Args:
        outcomes: Flat outcomes: an experiment's ``outcomes`` table (one row per run,
            column ``policy``), a run's ``outcomes.parquet``, or a run's outcome dict.
        confidence: Level of the error bars (t interval of the mean over replications).

    Returns:
        Grouped bars (low / middle / high capacity), one bar per policy.

    Raises:
        PlotError: When the outcomes hold no capacity-group breakdown.
    """
    from scipy import stats

    if isinstance(outcomes, dict):
        from sim.metrics import flatten

        outcomes = pd.DataFrame([flatten(outcomes)])
    df = outcomes.copy()
    if "policy" not in df.columns:
        df["policy"] = df["scenario"] if "scenario" in df.columns else "run"
    panels = [p for p in EQUITY_PANELS if all(f"{p[0]}.{g}" in df.columns for g in CAPACITY_GROUPS)]
    if not panels:
        raise PlotError("equity: no outcome is broken down by capacity group")
    policies = list(dict.fromkeys(df["policy"]))
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    fig = Figure(figsize=(3.4 * len(panels) + 0.4, 3.6), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    width = 0.8 / len(policies)
    x = np.arange(len(CAPACITY_GROUPS))
    reps, missing = 1, 0
    for ax, (prefix, title, unit) in zip(axes, panels, strict=True):
        for i, policy in enumerate(policies):
            sub = df[df["policy"] == policy]
            reps = max(reps, len(sub))
            means, errs = [], []
            for g in CAPACITY_GROUPS:
                v = sub[f"{prefix}.{g}"].dropna().to_numpy(dtype=float)
                means.append(v.mean() if v.size else np.nan)
                half = (
                    stats.t.ppf((1 + confidence) / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size)
                    if v.size > 1
                    else 0.0
                )
                errs.append(half)
            at = x + (i - (len(policies) - 1) / 2) * width
            ax.bar(
                at,
                means,
                width=width * 0.92,
                yerr=errs if len(sub) > 1 else None,
                color=colors[i % len(colors)],
                label=policy,
                error_kw={"lw": 0.8, "capsize": 2},
            )
            missing += _mark_missing(ax, at, means)
        ax.set_xticks(x, CAPACITY_GROUPS)
        # Every panel is a share or a duration: from zero, over the groups' bars (a
        # missing bar widens nothing, and its mark must fall inside).
        ax.set_xlim(-0.5, len(CAPACITY_GROUPS) - 0.5)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("state capacity group")
        ax.set_ylabel(unit)
        ax.set_title(wrap_label(title, 44), loc="left")
        ax.grid(axis="x", visible=False)
    if len(policies) > 1:
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(policies), 5))
    note = (
        f"mean of {reps} replications, bars: {int(round(100 * confidence))}% CI"
        if reps > 1
        else "one run"
    )
    lines = [f"Equity: outcomes by state capacity group ({note})"]
    if missing:
        lines.append("n/a: no value (the group had no request or case, or no median was reached)")
    fig.suptitle("\n".join(lines), fontsize=10)
    return fig


def _mark_missing(ax, at: np.ndarray, means: list[float]) -> int:
    """Write "n/a" where a bar has no value (no request of the group, or no median reached).

    A missing bar would otherwise read as a zero. Returns how many were marked.
    """
    missing = 0
    for position, value in zip(at, means, strict=True):
        if np.isnan(value):
            missing += 1
            ax.text(
                position,
                0,
                "n/a",
                rotation=90,
                ha="center",
                va="bottom",
                fontsize=8,
                color="0.4",
                clip_on=True,
            )
    return missing
