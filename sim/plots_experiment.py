"""Figures of an experiment: paired comparisons, response times by policy, sensitivity.

The equity figure, which serves a single run as well, is :mod:`sim.plots_equity`
(re-exported here).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.plot_style import (
    PlotError,
    better_note,
    figure_bytes,
    outcome_label,
    outcome_unit,
    parameter_label,
    styled,
    wrap_label,
)
from sim.plots_equity import EQUITY_PANELS, equity  # re-exported

__all__ = [
    "EQUITY_PANELS",
    "equity",
    "forest",
    "forest_plot",
    "policy_models",
    "response_times_by_policy",
    "sensitivity_bars",
]

if TYPE_CHECKING:
    from sim.model import CooperationModel
    from sim.store import Results


# ======================================================================== comparison
@styled
def forest(table: pd.DataFrame, title: str = "", max_outcomes: int = 12) -> Figure:
    """Forest plot of paired differences with confidence intervals, one panel per outcome.

    Args:
        table: Output of :func:`sim.analysis.compare_policies` (or ``comparison.csv``).
        title: Figure title.
        max_outcomes: Panels drawn at most (the first outcomes of the table).

    Returns:
        The figure.

    Raises:
        PlotError: When the table is empty.
    """
    if table.empty:
        raise PlotError("forest plot: the comparison table is empty (a single policy?)")
    outcomes = list(dict.fromkeys(table["outcome"]))[:max_outcomes]
    table = table[table["outcome"].isin(outcomes)]
    policies = list(dict.fromkeys(table["policy"]))
    level = int(round(100 * float(table["confidence"].iloc[0])))
    reference = table["reference"].iloc[0]
    ncols = 2 if len(outcomes) > 3 else 1
    nrows = math.ceil(len(outcomes) / ncols)
    panel_h = 0.32 * len(policies) + 0.95
    fig = Figure(figsize=(5.2 * ncols + 1.0, 1.0 + panel_h * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    y = np.arange(len(policies))[::-1]
    for k, outcome in enumerate(outcomes):
        ax = axes[k // ncols, k % ncols]
        sub = table[table["outcome"] == outcome].set_index("policy").reindex(policies)
        diff = sub["difference"].to_numpy(dtype=float)
        low = sub["ci_low"].to_numpy(dtype=float)
        high = sub["ci_high"].to_numpy(dtype=float)
        err = np.nan_to_num(np.vstack([diff - low, high - diff]))
        significant = (low > 0) | (high < 0)
        colors = np.where(significant, "#1f77b4", "#9a9a9a")
        for m in range(len(policies)):
            ax.errorbar(
                diff[m : m + 1],
                y[m : m + 1],
                xerr=err[:, m : m + 1],
                fmt="o",
                ms=4.5,
                color=colors[m],
                capsize=3,
                lw=1.4,
            )
        ax.axvline(0.0, color="black", lw=0.8, ls="--")
        labels = policies if k % ncols == 0 else [""] * len(policies)
        ax.set_yticks(y, labels)
        ax.set_ylim(-0.6, len(policies) - 0.4)
        ax.grid(axis="y", visible=False)
        ax.set_title(outcome_label(outcome), loc="left")
        better = better_note(outcome)
        ax.set_xlabel(
            f"difference vs {reference} ({outcome_unit(outcome) or 'outcome units'})"
            + (f"; {better}" if better else "")
        )
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4), useOffset=False)
    for k in range(len(outcomes), nrows * ncols):
        axes[k // ncols, k % ncols].set_visible(False)
    n = int(table["n"].max()) if "n" in table else 0
    note = (
        f"policy - {reference}, paired by seed (common random numbers), {n} pairs; "
        f"bars: {level}% CI; blue: CI excludes 0"
    )
    fig.suptitle((title + "\n" if title else "") + note, fontsize=9)
    return fig


def forest_plot(table: pd.DataFrame, path: Path, title: str = "", max_outcomes: int = 12) -> Path:
    """Write the forest plot of :func:`forest` as a PNG file, atomically.

    Args:
        table: Output of :func:`sim.analysis.compare_policies`.
        path: PNG file to write.
        title: Figure title.
        max_outcomes: Panels drawn at most (the CSV table holds them all).

    Returns:
        The path written.
    """
    from sim.store import atomic_write_bytes

    fig = forest(table, title=title, max_outcomes=max_outcomes)
    path = Path(path)
    atomic_write_bytes(path, figure_bytes(fig, "png"))
    return path


def policy_models(results: Results, replication: int = 0) -> dict[str, CooperationModel]:
    """Re-run one replication of each policy of a comparison, the same seed for all.

    A run is a pure function of (scenario, seed): each policy's scenario is resolved
    from the stored experiment as the experiment itself resolved it (overrides and
    lever values applied); the code may have changed since (compare ``git_commit``).

    Raises:
        PlotError: When the experiment's runs differ by more than their policy (a
            design over uncertainties, drawn parameters) or have no model scenario.
    """
    from sim.experiment import experiment_from_dict
    from sim.model import CooperationModel

    spec = results.manifest.get("experiment", {})
    if spec.get("uncertainties") or spec.get("parameter_uncertainty"):
        raise PlotError("incidence: only for comparisons of policies at fixed parameters")
    source = results.manifest.get("experiment_file") or ""
    experiment = experiment_from_dict(spec, base_dir=Path(source).parent if source else None)
    scenarios = getattr(experiment.target, "scenarios", None)
    if not scenarios:
        raise PlotError("incidence: the experiment has no model scenarios to re-run")
    seed = results.manifest["seeds"][replication]
    return {policy: CooperationModel(sc, rng=seed).run() for policy, sc in scenarios.items()}


@styled
def response_times_by_policy(outcomes: pd.DataFrame) -> Figure:
    """Median response time per run, by legal instrument and request kind, per policy.

    For experiment results (no ledger is stored): each box shows how the run's median
    response time (Kaplan-Meier, when stored) varies over replications; ``n/N`` beside
    it counts the runs whose median was reached (the slowest runs may have none, so a
    box of few runs leans towards the fast ones).

    Args:
        outcomes: An experiment's ``outcomes`` table (column ``policy``, flat outcomes).

    Returns:
        One panel per instrument and request kind with data.

    Raises:
        PlotError: When the table holds no response-time outcomes.
    """
    cols = [
        c
        for c in outcomes.columns
        if c.startswith("km_median_response_days_by_instrument.")
        or c.startswith("km_median_response_days.")
    ]
    if not cols:  # results stored before Kaplan-Meier medians existed, or not asked for
        cols = [
            c
            for c in outcomes.columns
            if c.startswith(("median_response_days_by_instrument.", "median_response_days."))
        ]
    cols = [c for c in cols if outcomes[c].notna().any()]
    if not cols:
        raise PlotError("response times: no median response-time outcomes in the results")
    df = outcomes.copy()
    if "policy" not in df.columns:
        df["policy"] = "run"
    policies = list(dict.fromkeys(df["policy"]))
    ncols = 3 if len(cols) > 4 else 2
    nrows = math.ceil(len(cols) / ncols)
    fig = Figure(
        figsize=(3.9 * ncols + 1.2, (0.35 * len(policies) + 1.2) * nrows + 0.6),
        layout="constrained",
    )
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, col in enumerate(cols):
        ax = axes[k // ncols, k % ncols]
        data = [df.loc[df["policy"] == p, col].dropna().to_numpy(dtype=float) for p in policies]
        keep = [i for i, d in enumerate(data) if d.size]
        ax.boxplot(
            [data[i] for i in keep],
            positions=[len(policies) - 1 - i for i in keep],
            orientation="horizontal",
            whis=(0, 100),
            showfliers=False,
            medianprops={"color": "#d62728", "lw": 1.5},
            widths=0.55,
        )
        # Runs whose median was not reached (the slowest) have no value: say how many count.
        counts = [
            f"{d.size}/{int((df['policy'] == p).sum())}"
            for d, p in zip(data, policies, strict=True)
        ]
        for i, shown in enumerate(counts):
            ax.annotate(
                shown,
                (1.0, len(policies) - 1 - i),
                xycoords=("axes fraction", "data"),
                ha="right",
                va="center",
                fontsize=7,
                color="0.4",
            )
        ax.set_yticks(
            range(len(policies))[::-1], policies if k % ncols == 0 else [""] * len(policies)
        )
        group, _, name = col.partition(".")
        what = "instrument" if "instrument" in group else "request kind"
        ax.set_title(f"{name.replace('_', ' ')} ({what})", loc="left")
        ax.set_xlabel("median time to an answer per run (days)")
        ax.grid(axis="y", visible=False)
    for k in range(len(cols), nrows * ncols):
        axes[k // ncols, k % ncols].set_visible(False)
    km = cols[0].startswith("km_")
    what = (
        "Kaplan-Meier median days to an answer (executed or refused; open requests censored)"
        if km
        else "Median response time of executed requests"
    )
    fig.suptitle(
        f"{what}, across replications (box: quartiles, whiskers: range; n/N: runs whose "
        "median was reached)",
        fontsize=10,
    )
    return fig


# ======================================================================== sensitivity
@styled
def sensitivity_bars(table: pd.DataFrame, policy: str | None = None) -> Figure:
    """Sensitivity indices per parameter, one panel per outcome.

    Args:
        table: Output of :func:`sim.analysis.sensitivity` (or ``sensitivity.csv``):
            Sobol (``S1``, ``ST`` with ``*_conf``) or Morris (``mu_star``,
            ``mu_star_conf``, ``sigma``).
        policy: Policy whose indices are drawn (default: the first).

    Returns:
        Horizontal bars with confidence half-widths as error bars.

    Raises:
        PlotError: When the table holds no indices.
    """
    if table.empty or not ({"S1", "mu_star"} & set(table.columns)):
        raise PlotError("sensitivity: the table holds no Sobol or Morris indices")
    policy = policy or table["policy"].iloc[0]
    df = table[table["policy"] == policy]
    sobol = "S1" in df.columns
    value_col = "ST" if sobol else "mu_star"
    df = df[df[value_col].notna()]
    if df.empty:
        raise PlotError("sensitivity: no outcome has indices (undefined outcomes?)")
    outcomes = list(dict.fromkeys(df["outcome"]))
    params = list(dict.fromkeys(df["parameter"]))
    ncols = 2 if len(outcomes) in (2, 4) else min(3, len(outcomes))
    nrows = math.ceil(len(outcomes) / ncols)
    fig = Figure(
        figsize=(3.9 * ncols + 1.6, (0.42 * len(params) + 1.3) * nrows + 0.7),
        layout="constrained",
    )
    axes = fig.subplots(nrows, ncols, squeeze=False)
    y = np.arange(len(params))[::-1]
    h = 0.38
    for k, outcome in enumerate(outcomes):
        ax = axes[k // ncols, k % ncols]
        sub = df[df["outcome"] == outcome].set_index("parameter").reindex(params)
        if sobol:
            bars = (
                ("S1", "first order S1", "#1f77b4", h / 2),
                ("ST", "total ST", "#ff7f0e", -h / 2),
            )
            for col, label, color, off in bars:
                ax.barh(
                    y + off,
                    sub[col].clip(lower=0),
                    height=h,
                    xerr=sub[f"{col}_conf"],
                    color=color,
                    label=label,
                    error_kw={"lw": 0.8, "capsize": 2},
                )
            ax.set_xlabel("Sobol index (share of variance)")
        else:
            ax.barh(
                y + h / 2,
                sub["mu_star"],
                height=h,
                xerr=sub["mu_star_conf"],
                color="#1f77b4",
                label="mu* (mean |effect|)",
                error_kw={"lw": 0.8, "capsize": 2},
            )
            ax.barh(y - h / 2, sub["sigma"], height=h, color="#ff7f0e", label="sigma (spread)")
            unit = outcome_unit(outcome)
            ax.set_xlabel(f"elementary effect ({unit or 'outcome units'})")
        ax.axvline(0, color="black", lw=0.6)
        ax.set_yticks(y, [parameter_label(p) for p in params] if k % ncols == 0 else [""] * len(y))
        ax.grid(axis="y", visible=False)
        ax.set_title(wrap_label(outcome_label(outcome, unit=False), 40), loc="left")
    for k in range(len(outcomes), nrows * ncols):
        axes[k // ncols, k % ncols].set_visible(False)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2)
    method = "Sobol indices (error bars: CI half-width)" if sobol else "Morris screening"
    fig.suptitle(f"{method}, policy {policy}", fontsize=10)
    return fig
