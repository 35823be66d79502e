"""Figures for analysts: comparisons, time series, response times, networks, sensitivity, equity.

Every figure function takes pandas DataFrames (from :func:`sim.run` or
:func:`sim.load_results`) and returns a :class:`matplotlib.figure.Figure`, so a
notebook shows it and the CLI saves it. Figures are built without ``pyplot``
(no global figure registry, no backend needed); in Jupyter run
``%matplotlib inline`` once so returned figures are displayed.

``coopsim plot RESULTS`` calls :func:`write_figures`, which draws every figure a
results folder supports and writes each as PNG and SVG.
"""

from __future__ import annotations

import functools
import io
import json
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim import outcomes as outcomes_registry
from sim.errors import CoopsimError
from sim.metrics import incidence_frame, utilisation_frame
from sim.scenario import DAYS_PER_YEAR, ScenarioError

if TYPE_CHECKING:
    from sim.model import CooperationModel
    from sim.store import Results

CAPACITY_GROUPS = ("low", "middle", "high")
GROUP_COLORS = {"low": "#d95f02", "middle": "#7570b3", "high": "#1b9e77"}
STYLE = {
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.prop_cycle": matplotlib.cycler(
        color=["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]
    ),
    "svg.fonttype": "path",
}


class PlotError(CoopsimError, ValueError):
    """A folder or table that holds nothing to draw (the CLI exits with code 2)."""


def _styled(func: Callable[..., Figure]) -> Callable[..., Figure]:
    """Draw under the module's style (clean defaults, independent of the user's rcParams)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with matplotlib.rc_context(STYLE):
            return func(*args, **kwargs)

    return wrapper


# ======================================================================== labels and units
def outcome_unit(name: str) -> str:
    """The unit of an outcome from the outcome registry (``""`` for an unregistered name)."""
    return outcomes_registry.unit(name)


def outcome_label(name: str, unit: bool = True) -> str:
    """The plain name of a (dotted) outcome from the registry, with its unit in parentheses.

    Args:
        name: Outcome name, e.g. ``median_response_days.extradition``.
        unit: Append the unit.

    Returns:
        E.g. ``"median response time: extradition (days)"``.
    """
    return outcomes_registry.label(name, with_unit=unit)


def better_note(name: str) -> str:
    """``"higher is better"``, ``"lower is better"`` or ``""`` (from the registry)."""
    direction = outcomes_registry.better(name)
    return "" if direction == "neither" else f"{direction} is better"


def _category(name: str) -> str:
    """A readable category label (``contact_point_24_7`` -> ``contact point 24/7``)."""
    return name.replace("_24_7", " 24/7").replace("_", " ")


def _parameter(name: str) -> str:
    """A parameter label: ``agencies.central_authority_capacity`` -> two short lines."""
    section, _, key = name.rpartition(".")
    text = _wrap(key, 24)
    return f"{text}\n[{section}]" if section else text


def _wrap(text: str, width: int = 22) -> str:
    """Break a label on underscores/spaces so long names do not collide."""
    import textwrap

    return "\n".join(textwrap.wrap(text.replace("_", " "), width)) or text


# ======================================================================== comparison
@_styled
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


@_styled
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
@_styled
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
        labels = [f"{_category(name)}\n(n={len(v)})" for name, v in groups]
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


@_styled
def incidence(curves: pd.DataFrame) -> Figure:
    """How requests end over time, by policy: Aalen-Johansen cumulative incidence.

    Args:
        curves: Long frame with ``policy``, ``kind``, ``time`` and one column per way
            of ending (:func:`sim.metrics.incidence_frame` of each policy's run).

    Returns:
        One row of panels per request kind, one column per way of ending; one
        step curve per policy (the reference first).

    Raises:
        PlotError: When the frame holds no curve.
    """
    if curves.empty:
        raise PlotError("incidence: no requests sent in the window")
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
        "How requests sent in the window end (Aalen-Johansen cumulative incidence; "
        "open requests censored)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.07, 1, 0.96))
    return fig


@_styled
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
        ax.set_title(f"{_category(role)} (n={len(part) // max(1, len(policies))})", loc="left")
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


@_styled
def response_times_by_policy(outcomes: pd.DataFrame) -> Figure:
    """Median response time per run, by legal instrument and request kind, per policy.

    For experiment results (no ledger is stored): each box shows how the run's median
    response time varies over replications.

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
        ax.set_yticks(
            range(len(policies))[::-1], policies if k % ncols == 0 else [""] * len(policies)
        )
        group, _, name = col.partition(".")
        what = "instrument" if "instrument" in group else "request kind"
        ax.set_title(f"{name.replace('_', ' ')} ({what})", loc="left")
        ax.set_xlabel("median response per run (days)")
        ax.grid(axis="y", visible=False)
    for k in range(len(cols), nrows * ncols):
        axes[k // ncols, k % ncols].set_visible(False)
    fig.suptitle(
        "Median response time of executed requests, across replications "
        "(box: quartiles, whiskers: range)",
        fontsize=10,
    )
    return fig


# ======================================================================== network
def network_frames(model: CooperationModel) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nodes and edges of the trust / treaty network of a model at its current day.

    Args:
        model: A model (run or not).

    Returns:
        ``nodes``: code, capacity, capacity_group, mr_bloc, alliance; ``edges``: one row
        per unordered pair of states: source, target, trust (mean of both directions),
        treaty (True where a bilateral treaty links them).
    """
    world = model.world
    trust = model.trust.snapshot(model.day)
    n = world.n_states
    groups = np.asarray(CAPACITY_GROUPS, dtype=object)[np.asarray(world.capacity_group)]
    nodes = pd.DataFrame(
        {
            "code": list(world.codes),
            "capacity": np.asarray(world.capacity, dtype=float),
            "capacity_group": groups,
            "mr_bloc": np.asarray(world.mr_bloc, dtype=bool),
            "alliance": np.asarray(world.alliance, dtype=bool),
        }
    )
    i, j = np.triu_indices(n, k=1)
    treaty_pairs = {tuple(sorted(e)) for e in world.treaties.edges()}
    edges = pd.DataFrame(
        {
            "source": np.asarray(world.codes)[i],
            "target": np.asarray(world.codes)[j],
            "trust": (trust[i, j] + trust[j, i]) / 2.0,
            "treaty": [(a, b) in treaty_pairs for a, b in zip(i.tolist(), j.tolist(), strict=True)],
        }
    )
    return nodes, edges


@_styled
def network(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    title: str = "",
    trust_quantile: float = 0.9,
    seed: int = 1,
) -> Figure:
    """The trust / treaty network: node size = capacity, edge width = trust.

    Drawn edges: every bilateral treaty (dark) and the most trusting pairs without
    one (light; those at or above the ``trust_quantile`` of all pairs), so the
    picture is not a hairball of all n(n-1)/2 pairs.

    Args:
        nodes: From :func:`network_frames`.
        edges: From :func:`network_frames`.
        title: Figure title.
        trust_quantile: Quantile of pair trust above which non-treaty pairs are drawn.
        seed: Seed of the force-directed layout.

    Returns:
        The figure.
    """
    import networkx as nx

    threshold = float(edges["trust"].quantile(trust_quantile)) if len(edges) else 0.0
    shown = edges[edges["treaty"] | (edges["trust"] >= threshold)]
    graph = nx.Graph()
    graph.add_nodes_from(nodes["code"])
    for row in shown.itertuples():
        graph.add_edge(row.source, row.target, trust=float(row.trust), treaty=bool(row.treaty))
    large = len(nodes) > 40
    pos = nx.spring_layout(
        graph, weight="trust", seed=seed, k=(2.6 if large else 1.8) / math.sqrt(len(nodes))
    )
    t_lo = float(shown["trust"].min()) if len(shown) else 0.0
    t_hi = float(shown["trust"].max()) if len(shown) else 1.0
    span = max(t_hi - t_lo, 1e-9)

    def width(t: float) -> float:
        return 0.4 + 3.6 * (t - t_lo) / span

    fig = Figure(figsize=(10.5, 11.0) if large else (8.0, 8.6), layout="constrained")
    dense = graph.number_of_edges() > 150
    ax = fig.subplots()
    for treaty, color, alpha in (
        (False, "#9ecae1", 0.8),
        (True, "#404040", 0.35 if dense else 0.8),
    ):
        es = [(u, v) for u, v, d in graph.edges(data=True) if d["treaty"] is treaty]
        nx.draw_networkx_edges(
            graph,
            pos,
            edgelist=es,
            width=[width(graph.edges[e]["trust"]) for e in es],
            edge_color=color,
            alpha=alpha,
            ax=ax,
        )
    capacity = nodes["capacity"].to_numpy(dtype=float)
    scale = capacity / max(capacity.max(), 1e-9)
    sizes = 40 + 450 * scale if large else 60 + 700 * scale
    colors = [GROUP_COLORS.get(g, "#777777") for g in nodes["capacity_group"]]
    border = ["black" if b else "white" for b in nodes["mr_bloc"]]
    nx.draw_networkx_nodes(
        graph,
        pos,
        nodelist=list(nodes["code"]),
        node_size=sizes,
        node_color=colors,
        edgecolors=border,
        linewidths=1.4,
        ax=ax,
    )
    label_pos = {k: (x, y + 0.035) for k, (x, y) in pos.items()}
    nx.draw_networkx_labels(
        graph, label_pos, font_size=6.5 if len(nodes) > 30 else 8, ax=ax, verticalalignment="bottom"
    )
    ax.set_axis_off()
    legend = [Patch(color=GROUP_COLORS[g], label=f"{g} capacity") for g in CAPACITY_GROUPS] + [
        Line2D([], [], color="#404040", lw=width(t_hi), label=f"treaty, trust {t_hi:.2f}"),
        Line2D([], [], color="#404040", lw=width(t_lo), label=f"treaty, trust {t_lo:.2f}"),
        Line2D(
            [],
            [],
            color="#9ecae1",
            lw=2,
            label=f"no treaty, trust >= {threshold:.2f} (top {100 * (1 - trust_quantile):.0f}%)",
        ),
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            ms=8,
            mfc="white",
            mec="black",
            label="mutual-recognition bloc",
        ),
    ]
    fig.legend(handles=legend, loc="outside lower center", ncols=3, frameon=False)
    ax.set_title(
        (title + "\n" if title else "")
        + "node size: capacity (budget units); edge width: mutual trust (index 0-1)",
        fontsize=9.5,
    )
    return fig


# ======================================================================== sensitivity
@_styled
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
        ax.set_yticks(y, [_parameter(p) for p in params] if k % ncols == 0 else [""] * len(y))
        ax.grid(axis="y", visible=False)
        ax.set_title(_wrap(outcome_label(outcome, unit=False), 40), loc="left")
    for k in range(len(outcomes), nrows * ncols):
        axes[k // ncols, k % ncols].set_visible(False)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2)
    method = "Sobol indices (error bars: CI half-width)" if sobol else "Morris screening"
    fig.suptitle(f"{method}, policy {policy}", fontsize=10)
    return fig


# ======================================================================== equity
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


@_styled
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
    reps = 1
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
            ax.bar(
                x + (i - (len(policies) - 1) / 2) * width,
                means,
                width=width * 0.92,
                yerr=errs if len(sub) > 1 else None,
                color=colors[i % len(colors)],
                label=policy,
                error_kw={"lw": 0.8, "capsize": 2},
            )
        ax.set_xticks(x, CAPACITY_GROUPS)
        ax.set_xlabel("state capacity group")
        ax.set_ylabel(unit)
        ax.set_title(_wrap(title, 44), loc="left")
        ax.grid(axis="x", visible=False)
    if len(policies) > 1:
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(policies), 5))
    note = (
        f"mean of {reps} replications, bars: {int(round(100 * confidence))}% CI"
        if reps > 1
        else "one run"
    )
    fig.suptitle(f"Equity: outcomes by state capacity group ({note})", fontsize=10)
    return fig


# ======================================================================== warm-up
@_styled
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
        ax.set_title(f"{_wrap(label, 48)}\n({note})", loc="left")
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
@_styled
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
                ax.set_xlabel(_parameter(col_name), fontsize=7)
            else:
                ax.set_xticklabels([], minor=False)
                ax.set_xticklabels([], minor=True)
            if j == 0 and i > 0:
                ax.set_ylabel(_parameter(row_name), fontsize=7)
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


# ======================================================================== writing
def figure_bytes(fig: Figure, fmt: str, dpi: int = 150) -> bytes:
    """Render a figure to PNG or SVG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi)
    return buffer.getvalue()


def save_figure(fig: Figure, out: Path, stem: str) -> list[Path]:
    """Write a figure as ``<stem>.png`` and ``<stem>.svg``, each atomically.

    Args:
        fig: The figure.
        out: Destination folder (created).
        stem: File name without extension.

    Returns:
        The two paths written.
    """
    from sim.store import atomic_write_bytes

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in ("png", "svg"):
        path = out / f"{stem}.{fmt}"
        atomic_write_bytes(path, figure_bytes(fig, fmt))
        paths.append(path)
    return paths


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    path = folder / "manifest.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise PlotError(f"{path}: unreadable manifest ({exc})") from None


def rerun_model(manifest: dict[str, Any]) -> CooperationModel:
    """Re-run a stored single run from its manifest (scenario and seed) to get its model.

    A run is a pure function of (scenario, seed); the code may have changed since
    (compare ``manifest["git_commit"]``).
    """
    from sim.model import CooperationModel
    from sim.scenario import Scenario

    scenario = Scenario.model_validate(manifest["scenario"])
    return CooperationModel(scenario, rng=manifest["seed"]).run()


def run_figures(folder: Path) -> dict[str, Figure]:
    """Every figure of a single-run folder (written by ``coopsim run --out``).

    Args:
        folder: The run folder (outcomes, series, ledger, manifest).

    Returns:
        Figures by file stem.
    """
    manifest = _read_manifest(folder) or {}
    figures: dict[str, Figure] = {}
    name = manifest.get("scenario", {}).get("name", folder.name)
    series = pd.read_parquet(folder / "series.parquet")
    figures["time_series"] = time_series(series.assign(policy=name))
    ledger = pd.read_parquet(folder / "ledger.parquet")
    if ledger["response_days"].notna().any():
        figures["response_times"] = response_times(ledger)
    outcomes = pd.read_parquet(folder / "outcomes.parquet")
    if "scenario" in outcomes.columns:
        outcomes = outcomes.assign(policy=outcomes["scenario"])
    figures["equity"] = equity(outcomes)
    if "scenario" in manifest and "seed" in manifest:
        try:
            model = rerun_model(manifest)
        except (ScenarioError, ValueError) as exc:  # scenario no longer valid for this code
            warnings.warn(
                f"network: skipped, the stored scenario no longer loads: {exc}", stacklevel=2
            )
        else:
            figures["incidence"] = incidence(incidence_frame(model).assign(policy=name))
            figures["utilisation"] = utilisation(utilisation_frame(model).assign(policy=name))
            nodes, edges = network_frames(model)
            same = int(model.outcomes()["requests_total"]) == int(
                outcomes["requests_total"].iloc[0]
            )
            note = "" if same else " (re-run with newer code differs from the stored run)"
            figures["network"] = network(
                nodes,
                edges,
                title=f"{name}, seed {manifest['seed']}: trust at day {int(model.day)}{note}",
            )
    return figures


def experiment_figures(results: Results) -> dict[str, Figure]:
    """Every figure an experiment's results support.

    Args:
        results: From :func:`sim.load_results`.

    Returns:
        Figures by file stem (comparison, time_series, response_times, equity, sensitivity).
    """
    from sim.analysis import analyze

    figures: dict[str, Figure] = {}
    name = results.manifest.get("name", results.folder.name)
    description = results.manifest.get("experiment", {}).get("description", "")
    if results.outcomes.empty:
        raise PlotError(f"{results.folder}: no finished runs to draw")
    tables = analyze(results)
    if not tables["comparison"].empty:
        title = f"{name}: {description}"[:90] if description else name
        figures["comparison"] = forest(tables["comparison"], title=title)
    if not results.series.empty:
        figures["time_series"] = time_series(results.series, plan=results.plan)
    try:
        figures["response_times"] = response_times_by_policy(results.outcomes)
    except PlotError:
        pass
    try:
        figures["equity"] = equity(results.outcomes)
    except PlotError:
        pass
    try:
        models = policy_models(results)
    except (PlotError, ScenarioError, OSError) as exc:
        warnings.warn(f"incidence: skipped ({exc})", stacklevel=2)
    else:
        figures["incidence"] = incidence(
            pd.concat(
                [incidence_frame(m).assign(policy=p) for p, m in models.items()],
                ignore_index=True,
            )
        )
        figures["utilisation"] = utilisation(
            pd.concat(
                [utilisation_frame(m).assign(policy=p) for p, m in models.items()],
                ignore_index=True,
            )
        )
    if not tables["sensitivity"].empty:
        try:
            figures["sensitivity"] = sensitivity_bars(tables["sensitivity"])
        except PlotError:
            pass
    return figures


def write_figures(results: Path, out: Path | None = None) -> list[Path]:
    """Draw every figure a results folder supports; write each as PNG and SVG.

    Args:
        results: A single-run folder (``coopsim run --out``) or an experiment folder
            (``coopsim compare`` / ``coopsim sweep``).
        out: Destination folder (default ``RESULTS/figures``).

    Returns:
        The files written.

    Raises:
        PlotError: When the folder is neither kind of results folder.
    """
    from sim.store import StoreError, load_results

    folder = Path(results)
    if not folder.is_dir():
        raise PlotError(f"{folder}: no such folder")
    manifest = _read_manifest(folder)
    run_files = ("series.parquet", "ledger.parquet", "outcomes.parquet")
    if (
        manifest
        and manifest.get("kind") == "run"
        and all((folder / f).is_file() for f in run_files)
    ):
        figures = run_figures(folder)
    elif manifest and (folder / "plan.parquet").is_file():
        try:
            figures = experiment_figures(load_results(folder))
        except StoreError as exc:
            raise PlotError(str(exc)) from None
    else:
        raise PlotError(
            f"{folder}: not a results folder; expected one written by 'coopsim run --out' "
            "(manifest.json, series/ledger/outcomes.parquet) or by 'coopsim compare' / "
            "'coopsim sweep' (manifest.json, plan.parquet)"
        )
    out_dir = Path(out) if out is not None else folder / "figures"
    written: list[Path] = []
    for stem, fig in figures.items():
        written += save_figure(fig, out_dir, stem)
    return written
