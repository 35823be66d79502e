"""Figures of the model's checks: the warm-up analysis and history matching's accepted set."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.plot_style import (
    PlotError,
    figure_bytes,
    parameter_label,
    styled,
    wrap_label,
)

if TYPE_CHECKING:
    pass


# ======================================================================== warm-up
@styled
def warmup(
    batched: pd.DataFrame, table: pd.DataFrame, warmup_day: int | None, title: str = ""
) -> Figure:
    """The series a warm-up is chosen on, with each series' MSER-5 cut and the chosen one.

    Args:
        batched: 5-day batch means (:attr:`sim.warmup.WarmupReport.batched`): columns
            ``series``, ``replication`` (``mean`` or ``seed <n>``), ``day``, ``value``.
        table: One row per series (:attr:`sim.warmup.WarmupReport.table`):
            ``series``, ``label``, ``analysed``, ``cut_day``, ``steady_state``.
        warmup_day: The chosen warm-up (a solid vertical line), or None.
        title: Figure title.

    Returns:
        The figure: one panel per series, the replication average bold over the
        replications drawn faintly, a dotted line at the series' own cut.
    """
    names = list(dict.fromkeys(batched["series"]))
    if not names:
        raise PlotError("warm-up: no series to draw")
    rows = table.set_index("series")
    n_days = int(batched["day"].max()) + 5
    ncols = 3 if len(names) > 4 else 2
    nrows = math.ceil(len(names) / ncols)
    fig = Figure(figsize=(4.0 * ncols, 2.7 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, name in enumerate(names):
        ax = axes[k // ncols, k % ncols]
        sub = batched[batched["series"] == name]
        for replication, line in sub.groupby("replication", sort=False):
            if replication != "mean":
                ax.plot(line["day"], line["value"], color="0.6", lw=0.6, alpha=0.5)
        mean = sub[sub["replication"] == "mean"]
        ax.plot(mean["day"], mean["value"], color="#1f77b4", lw=1.3)
        row = rows.loc[name] if name in rows.index else None
        label = name if row is None else row["label"]
        note = "not analysed: too few answers"
        if row is not None and row["analysed"]:
            steady = bool(row["steady_state"])
            note = f"cut day {row['cut_day']}" + ("" if steady else ", NO steady state")
            ax.axvline(row["cut_day"], color="#2ca02c" if steady else "#ff7f0e", lw=1.0, ls=":")
        if warmup_day is not None:
            ax.axvline(warmup_day, color="#d62728", lw=1.2)
        ax.set_title(f"{wrap_label(label, 48)}\n({note})", loc="left")
        ax.set_xlabel("day")
        ax.set_xlim(0, n_days)
        ax.set_ylim(bottom=0)
    for k in range(len(names), nrows * ncols):
        axes[k // ncols, k % ncols].set_visible(False)
    reps = batched.loc[batched["replication"] != "mean", "replication"].nunique()
    handles = [
        Line2D([], [], color="#1f77b4", lw=1.3, label=f"mean of {reps} replications"),
        Line2D([], [], color="0.6", lw=0.6, label="each replication"),
        Line2D([], [], color="0.3", lw=1.0, ls=":", label="the series' MSER-5 cut"),
    ]
    if warmup_day is not None:
        handles.append(Line2D([], [], color="#d62728", lw=1.2, label=f"warm-up: {warmup_day} d"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    fig.suptitle(title or "Warm-up (5-day batch means)", fontsize=10)
    return fig


def warmup_plot(
    batched: pd.DataFrame,
    table: pd.DataFrame,
    warmup_day: int | None,
    path: Path,
    title: str = "",
) -> Path:
    """Write the figure of :func:`warmup` as a PNG file, atomically.

    Returns:
        The path written.
    """
    from sim.store import atomic_write_bytes

    fig = warmup(batched, table, warmup_day, title=title)
    path = Path(path)
    atomic_write_bytes(path, figure_bytes(fig, "png"))
    return path


# ======================================================================== calibration
@styled
def calibration_pairs(
    runs: pd.DataFrame,
    accepted: pd.DataFrame,
    priors: dict[str, tuple[float, float, bool]],
    title: str = "",
) -> Figure:
    """History matching: where the accepted parameter vectors lie within the priors.

    Below the diagonal, every pair of parameters: wave-1 points (grey, a Latin
    hypercube over the priors), wave-2 points (blue rings, non-implausible by the
    wave-1 emulators) and the accepted ones (red). On the diagonal, the accepted
    values' histogram against the prior's flat density (dashed: the count a uniform
    draw of the same size would put in each bin). Axes span the prior ranges (log
    scale for log-uniform priors).

    Args:
        runs: Every simulated run (``wave``, ``point`` and the parameter columns).
        accepted: The accepted points (parameter columns).
        priors: ``{name: (low, high, log_scale)}`` in display order.
        title: Figure title.
    """
    names = list(priors)
    d = len(names)
    points = runs.drop_duplicates(["wave", "point"])
    fig = Figure(figsize=(1.9 * d + 0.6, 1.9 * d + 0.8))
    axes = fig.subplots(d, d, squeeze=False)
    for i, row_name in enumerate(names):
        for j, col_name in enumerate(names):
            ax = axes[i, j]
            low, high, log = priors[col_name]
            if j > i:
                ax.set_axis_off()
                continue
            edges = np.geomspace(low, high, 11) if log else np.linspace(low, high, 11)
            if i == j:
                values = accepted[col_name].to_numpy(dtype=float) if len(accepted) else []
                ax.hist(values, bins=edges, color="#d62728", alpha=0.75)
                ax.axhline(len(values) / 10, color="0.3", ls="--", lw=0.9)
                ax.set_yticks([])
                ax.grid(False)
            else:
                for wave, style in (
                    (1, {"color": "0.65", "s": 9, "marker": "o", "lw": 0}),
                    (2, {"facecolors": "none", "edgecolors": "#1f77b4", "s": 14, "lw": 0.7}),
                ):
                    part = points[points["wave"] == wave]
                    ax.scatter(part[col_name], part[row_name], **style)
                if len(accepted):
                    ax.scatter(accepted[col_name], accepted[row_name], color="#d62728", s=12)
                r_low, r_high, r_log = priors[row_name]
                ax.set_ylim(r_low, r_high)
                _prior_scale(ax, "y", r_log)
            ax.set_xlim(low, high)
            _prior_scale(ax, "x", log)
            ax.tick_params(labelsize=6)
            if i == d - 1:
                ax.set_xlabel(parameter_label(col_name), fontsize=7)
            else:
                ax.set_xticklabels([], minor=False)
                ax.set_xticklabels([], minor=True)
            if j == 0 and i > 0:
                ax.set_ylabel(parameter_label(row_name), fontsize=7)
            elif i != j:
                ax.set_yticklabels([], minor=False)
                ax.set_yticklabels([], minor=True)
    handles = [
        Line2D([], [], marker="o", ls="", color="0.65", label="wave 1 (prior sample)"),
        Line2D([], [], marker="o", ls="", mfc="none", mec="#1f77b4", label="wave 2"),
        Line2D([], [], marker="o", ls="", color="#d62728", label=f"accepted ({len(accepted)})"),
        Line2D([], [], ls="--", color="0.3", label="flat prior (diagonal)"),
    ]
    fig.legend(handles=handles, loc="upper right", bbox_to_anchor=(0.98, 0.98), frameon=False)
    if title:
        fig.suptitle(title, x=0.02, ha="left")
    fig.tight_layout()
    return fig


def _prior_scale(ax: Any, which: str, log: bool) -> None:
    """Log scale for a log-uniform prior, with plain numbers at 1-2-5 ticks."""
    from matplotlib import ticker

    axis = ax.xaxis if which == "x" else ax.yaxis
    if log:
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")
        axis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_minor_formatter(ticker.NullFormatter())
    else:
        axis.set_major_locator(ticker.MaxNLocator(4))
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: f"{v:g}"))


def calibration_plot(
    runs: pd.DataFrame,
    accepted: pd.DataFrame,
    priors: dict[str, tuple[float, float, bool]],
    path: Path,
    title: str = "",
) -> Path:
    """Write the figure of :func:`calibration_pairs` as a PNG file, atomically."""
    from sim.store import atomic_write_bytes

    fig = calibration_pairs(runs, accepted, priors, title=title)
    path = Path(path)
    atomic_write_bytes(path, figure_bytes(fig, "png", dpi=120))
    return path
