"""Figures of one run or a few: daily series, response times, how requests end, agency load."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim import outcomes as outcomes_registry
from sim.plot_style import (
    PlotError,
    category_of,
    styled,
)
from sim.scenario import DAYS_PER_YEAR

if TYPE_CHECKING:
    pass


# ======================================================================== time series
SERIES_PANELS = (
    # (column, panel title, y label with unit)
    ("backlog_central_authority", "Central-authority backlog", "requests waiting (requests)"),
    ("backlog_court", "Court backlog", "requests waiting (requests)"),
    ("backlog_law_enforcement", "Law-enforcement backlog", "requests waiting (requests)"),
    ("mean_trust", "Mean trust between states", "trust (index 0-1)"),
    ("completion", "Completion to date", "executed / issued (share 0-1)"),
    ("cases_open", "Open cases", "open cases (cases)"),
)


def _with_completion(series: pd.DataFrame) -> pd.DataFrame:
    out = series.copy()
    issued = out["requests_issued"].astype(float)
    out["completion"] = out["executed"].astype(float) / issued.where(issued > 0)
    return out


@styled
def time_series(
    series: pd.DataFrame,
    plan: pd.DataFrame | None = None,
    band: tuple[float, float] = (0.1, 0.9),
    columns: tuple[str, ...] | None = None,
) -> Figure:
    """Daily backlogs, trust, completion and open cases; with replication bands.

    Args:
        series: A run's ``series`` (one row per day), or an experiment's series (with
            ``run_id``; several runs per policy).
        plan: The experiment's plan (``run_id`` -> ``policy``), when ``series`` has no
            ``policy`` column.
        band: Quantiles across replications shaded around the mean line.
        columns: Series to draw (default: backlogs, trust, completion, open cases).

    Returns:
        The figure: one panel per series, one line per policy (mean over replications)
        with a band from the lower to the upper quantile of the replications.
    """
    df = _with_completion(series)
    if "policy" not in df.columns:
        if plan is not None and "run_id" in df.columns:
            df = df.merge(plan[["run_id", "policy"]], on="run_id", how="left")
        else:
            df["policy"] = "run"
    if "run_id" not in df.columns:
        df["run_id"] = df["policy"]
    # Weekly means of each run: daily queues are noisy, a week is the scale analysts read.
    df["week"] = df["day"] // 7
    numeric = [p[0] for p in SERIES_PANELS if p[0] in df.columns]
    df = df.groupby(["policy", "run_id", "week"], sort=False)[numeric].mean().reset_index()
    df["years"] = (df["week"] * 7 + 3.5) / DAYS_PER_YEAR
    panels = [p for p in SERIES_PANELS if columns is None or p[0] in columns]
    panels = [p for p in panels if p[0] in df.columns]
    if not panels:
        raise PlotError("time series: none of the expected columns are in the series")
    policies = list(dict.fromkeys(df["policy"]))
    if plan is not None and "policy_index" in plan.columns:  # the experiment's order
        ordered = dict.fromkeys(plan.sort_values("policy_index")["policy"])
        policies = [p for p in ordered if p in policies]
    n_runs = df.groupby("policy")["run_id"].nunique()
    ncols = 3 if len(panels) > 4 else 2
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(4.0 * ncols, 2.7 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (col, title, unit) in enumerate(panels):
        ax = axes[k // ncols, k % ncols]
        for i, policy in enumerate(policies):
            sub = df[df["policy"] == policy]
            grouped = sub.groupby("years")[col]
            mean = grouped.mean()
            color = colors[i % len(colors)]
            ax.plot(mean.index, mean.to_numpy(), color=color, lw=1.3, label=policy)
            if n_runs[policy] > 1:
                lo, hi = grouped.quantile(band[0]), grouped.quantile(band[1])
                ax.fill_between(
                    lo.index, lo.to_numpy(), hi.to_numpy(), color=color, alpha=0.13, lw=0
                )
        ax.set_title(title, loc="left")
        ax.set_xlabel("time (years)")
        ax.set_ylabel(unit)
        if col != "mean_trust":
            ax.set_ylim(bottom=0)
    for k in range(len(panels), nrows * ncols):
        axes[k // ncols, k % ncols].set_visible(False)
    reps = int(n_runs.max())
    note = (
        f"weekly means; lines: mean of {reps} replications per policy; "
        f"bands: {int(band[0] * 100)}-{int(band[1] * 100)}% of replications"
        if reps > 1
        else "weekly means of one run"
    )
    handles = [
        Line2D([], [], color=colors[i % len(colors)], lw=2, label=p) for i, p in enumerate(policies)
    ]
    if len(policies) > 1:
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(policies), 5))
    fig.suptitle(f"Time series ({note})", fontsize=10)
    return fig


# ======================================================================== response times
@styled
def response_times(ledger: pd.DataFrame) -> Figure:
    """Distribution of response times of executed requests by instrument and by channel.

    Args:
        ledger: A run's request ledger (:meth:`sim.model.CooperationModel.ledger_frame`
            or ``ledger.parquet``).

    Returns:
        Two panels of box plots (box: quartiles; whiskers: 5th-95th percentile;
        diamond: mean); each category is labelled with its number of requests.

    Raises:
        PlotError: When no request was executed.
    """
    done = ledger[ledger["response_days"].notna()]
    if done.empty:
        raise PlotError("response times: no executed request in the ledger")
    fig = Figure(figsize=(9.5, 4.2), layout="constrained")
    axes = fig.subplots(1, 2, squeeze=False)[0]
    for ax, col, title in zip(
        axes, ("instrument", "channel"), ("by legal instrument", "by channel"), strict=True
    ):
        groups = [
            (str(name), sub["response_days"].to_numpy(dtype=float))
            for name, sub in done.groupby(col, observed=True)
            if len(sub)
        ]
        groups.sort(key=lambda g: float(np.median(g[1])))
        labels = [f"{category_of(name)}\n(n={len(v)})" for name, v in groups]
        ax.boxplot(
            [v for _, v in groups],
            orientation="horizontal",
            whis=(5, 95),
            showfliers=False,
            showmeans=True,
            meanprops={"marker": "D", "markerfacecolor": "white", "markeredgecolor": "black"},
            medianprops={"color": "#d62728", "lw": 1.5},
            tick_labels=labels,
            widths=0.6,
        )
        ax.set_title(f"Response time {title}", loc="left")
        ax.set_xlabel("response time, issue to answer (days)")
        ax.set_xlim(left=0)
        ax.grid(axis="y", visible=False)
    fig.suptitle(
        "Response times (box: quartiles, red: median, diamond: mean, whiskers: 5-95%)",
        fontsize=10,
    )
    return fig


INCIDENCE_ENDS = ("executed", "refused", "lapsed", "withdrawn")


@styled
def incidence(curves: pd.DataFrame) -> Figure:
    """How requests end over time, by policy: Aalen-Johansen cumulative incidence.

    Args:
        curves: Long frame with ``policy``, ``kind``, ``time`` and one column per way
            of ending (:func:`sim.metrics.incidence_frame` of each policy's run; one
            run's frame, without ``policy``, is drawn as the one policy "run").

    Returns:
        One row of panels per request kind, one column per way of ending; one
        step curve per policy (the reference first).

    Raises:
        PlotError: When the frame holds no curve.
    """
    if curves.empty:
        raise PlotError("incidence: no request created in the window was sent")
    if "policy" not in curves.columns:
        curves = curves.assign(policy="run")
    kinds = list(dict.fromkeys(curves["kind"]))
    policies = list(dict.fromkeys(curves["policy"]))
    fig = Figure(figsize=(3.1 * len(INCIDENCE_ENDS) + 0.6, 2.7 * len(kinds) + 0.9))
    axes = fig.subplots(len(kinds), len(INCIDENCE_ENDS), squeeze=False, sharex=True)
    colours = matplotlib.colormaps["tab10"]
    for row, kind in zip(axes, kinds, strict=True):
        for ax, end in zip(row, INCIDENCE_ENDS, strict=True):
            for i, policy in enumerate(policies):
                part = curves[(curves["kind"] == kind) & (curves["policy"] == policy)]
                ax.plot(
                    part["time"],
                    part[end],
                    drawstyle="steps-post",
                    color=colours(i % 10),
                    lw=1.6 if i == 0 else 1.2,
                    label=policy,
                )
            ax.set_title(f"{outcomes_registry.key_label(kind)}: {end}", loc="left")
            ax.set_ylim(bottom=0)
            ax.set_xlim(0, min(float(curves["time"].max()), 3 * DAYS_PER_YEAR))
        row[0].set_ylabel("share of requests (share)")
    for ax in axes.flat:
        ax.set_xlabel("time since sending (days)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(policies), 5), frameon=False)
    fig.suptitle(
        "How requests created in the window end (Aalen-Johansen cumulative incidence; "
        "open requests censored)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.07, 1, 0.96))
    return fig


@styled
def utilisation(agencies: pd.DataFrame) -> Figure:
    """Every queueing agency's offered load over the window, by role (and policy).

    Args:
        agencies: Frame with ``role``, ``state``, ``utilisation`` and optionally
            ``policy`` (:func:`sim.metrics.utilisation_frame` of each run).

    Returns:
        One panel per agency role: each agency a dot (jittered), a box per policy,
        and the line at 1 above which a queue grows without bound.

    Raises:
        PlotError: When no agency has a utilisation.
    """
    agencies = agencies[np.isfinite(agencies["utilisation"])]
    if agencies.empty:
        raise PlotError("utilisation: no queueing agency offered capacity in the window")
    if "policy" not in agencies.columns:
        agencies = agencies.assign(policy="run")
    roles = list(dict.fromkeys(agencies["role"]))
    policies = list(dict.fromkeys(agencies["policy"]))
    fig = Figure(figsize=(3.3 * len(roles) + 0.6, 1.0 + 0.55 * len(policies) + 1.4))
    axes = fig.subplots(1, len(roles), squeeze=False, sharex=True)[0]
    jitter = np.random.default_rng(0)  # the same picture every time
    for ax, role in zip(axes, roles, strict=True):
        part = agencies[agencies["role"] == role]
        values = [part.loc[part["policy"] == p, "utilisation"].to_numpy() for p in policies]
        ax.boxplot(
            values,
            orientation="horizontal",
            whis=(0, 100),
            widths=0.55,
            tick_labels=policies,
            medianprops={"color": "#d62728", "lw": 1.5},
        )
        for i, v in enumerate(values, start=1):
            ax.scatter(v, i + jitter.uniform(-0.18, 0.18, v.size), s=9, alpha=0.6, zorder=3)
        ax.axvline(1.0, color="black", lw=1, ls="--")
        ax.set_title(f"{category_of(role)} (n={len(part) // max(1, len(policies))})", loc="left")
        ax.set_xlabel("offered load (arrivals / capacity)")
        ax.set_xlim(left=0)
        ax.grid(axis="y", visible=False)
    fig.suptitle(
        "Utilisation of every agency over the window (dashed: 1, above it a queue grows "
        "without bound)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    return fig
