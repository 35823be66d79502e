"""What the explorer page shows: the series panels, the treaty network and a summary.

Each view is a plain function of an :class:`~sim.explorer_model.ExplorerModel` that
returns a matplotlib Figure or HTML text, so it can be tested and drawn in a notebook
without Solara; :mod:`sim.explorer` puts them on the page.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from sim.explorer_model import (
    FRICTIONS,
    ExplorerModel,
    lever_label,
    lever_names,
    params_from_scenario,
)
from sim.model import CooperationModel
from sim.scenario import DAYS_PER_YEAR, LeverSection

CAPACITY_COLORS = {0: "#d55e00", 1: "#e69f00", 2: "#0072b2"}  # low, middle, high
BACKLOG_COLORS = {
    "central_authority": "#0072b2",
    "court": "#cc79a7",
    "law_enforcement": "#009e73",
}


def _years(model: CooperationModel) -> np.ndarray:
    return np.arange(model.day) / DAYS_PER_YEAR


def _completion(model: CooperationModel) -> np.ndarray:
    s, d = model.series, model.day
    issued = s["requests_issued"][:d]
    return np.divide(s["executed"][:d], issued, out=np.zeros(d), where=issued > 0)


def _backlog(model: CooperationModel, role: str) -> np.ndarray:
    return model.series[f"backlog_{role}"][: model.day]


def series_figure(model: ExplorerModel):
    """Four panels: backlog by role, completion, mean trust, intelligence shared.

    Args:
        model: The explorer model (its reference run, if any, is drawn dashed).

    Returns:
        A matplotlib Figure.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    fig = Figure(figsize=(6.6, 4.8), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True)
    runs = [(model, "-", 1.8, 1.0)]
    if model.reference is not None:
        runs.append((model.reference, "--", 1.2, 0.75))
    horizon = model.horizon_days / DAYS_PER_YEAR
    ax = axes[0, 0]
    for m, style, width, alpha in runs:
        for role, color in BACKLOG_COLORS.items():
            label = role.replace("_", " ") if m is model else None
            ax.plot(
                _years(m), _backlog(m, role), style, color=color, lw=width, alpha=alpha, label=label
            )
    ax.set_title("Backlog (requests waiting)")
    top = max((_backlog(m, r).max(initial=0) for m, *_ in runs for r in BACKLOG_COLORS), default=0)
    ax.set_ylim(0, max(10.0, 1.45 * top))  # headroom for the legend
    ax.legend(loc="upper left", fontsize=7.5, ncols=3, frameon=False, handlelength=1.2)
    panels = [
        (axes[0, 1], _completion, "Completion (executed / issued)", "#0072b2"),
        (axes[1, 0], lambda m: m.series["mean_trust"][: m.day], "Mean trust", "#009e73"),
        (
            axes[1, 1],
            lambda m: m.series["intel_shared"][: m.day],
            "Intelligence items shared (cumulative)",
            "#d55e00",
        ),
    ]
    for ax, values, title, color in panels:
        for m, style, width, alpha in runs:
            ax.plot(_years(m), values(m), style, color=color, lw=width, alpha=alpha)
        ax.set_title(title)
    if model.reference is not None:
        handles = [
            Line2D([], [], color="#555555", lw=1.8, label="this run"),
            Line2D([], [], color="#555555", lw=1.2, ls="--", label="starting scenario as filed"),
        ]
        fig.legend(
            handles=handles, loc="outside upper center", ncols=2, fontsize=8.5, frameon=False
        )
    axes[0, 1].set_ylim(0, 1)
    for ax in axes.flat:
        ax.set_xlim(0, horizon)
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=8)
        ax.title.set_fontsize(10)
    for ax in axes[1]:
        ax.set_xlabel("year", fontsize=9)
    return fig


def _layout(model: CooperationModel) -> np.ndarray:
    """Fixed node positions on a circle: bloc members together, by capacity group."""
    w = model.world
    order = np.lexsort((-w.capacity, -w.capacity_group, ~w.mr_bloc))
    angle = np.empty(w.n_states)
    angle[order] = np.pi / 2 - 2 * np.pi * np.arange(w.n_states) / w.n_states
    return np.column_stack([np.cos(angle), np.sin(angle)])


def network_figure(model: CooperationModel):
    """The treaty network, each treaty coloured by the partners' mutual trust.

    Nodes are states (size: capacity; colour: capacity group; dark ring: member of
    the mutual-recognition bloc).

    Args:
        model: The model.

    Returns:
        A matplotlib Figure.
    """
    from matplotlib import colormaps
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    w = model.world
    pos = getattr(model, "_explorer_layout", None)
    if pos is None:
        pos = model._explorer_layout = _layout(model)
    trust = model.trust.snapshot(model.day)
    mutual = 0.5 * (trust + trust.T)
    edges = np.array(list(w.treaties.edges), dtype=np.int64).reshape(-1, 2)
    fig = Figure(figsize=(4.8, 4.7), layout="constrained")
    ax = fig.subplots()
    norm = Normalize(0.3, 0.8)
    cmap = colormaps["viridis"]
    if len(edges):
        width = float(np.clip(1.3 * np.sqrt(120 / len(edges)), 0.25, 1.3))
        lines = LineCollection(
            pos[edges],
            colors=cmap(norm(mutual[edges[:, 0], edges[:, 1]])),
            linewidths=width,
            alpha=float(np.clip(np.sqrt(200 / len(edges)), 0.35, 1.0)),
        )
        ax.add_collection(lines)
    size = 40 + 80 * w.capacity / np.median(w.capacity)
    colors = [CAPACITY_COLORS[int(g)] for g in w.capacity_group]
    ring = np.where(w.mr_bloc, "#222222", "#ffffff")
    ax.scatter(pos[:, 0], pos[:, 1], s=size, c=colors, edgecolors=ring, linewidths=1.6, zorder=3)
    for i, code in enumerate(w.codes):
        x, y = pos[i] * 1.13
        ax.text(x, y, code, fontsize=6.5, ha="center", va="center", color="#444444")
    ax.set_xlim(-1.25, 1.25)
    ax.set_ylim(-1.25, 1.25)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(
        f"Treaty network, day {model.day}\n{len(edges)} treaties; "
        f"{int(w.mr_bloc.sum())} states in the mutual-recognition bloc",
        fontsize=10,
    )
    fig.colorbar(
        _scalar_mappable(cmap, norm), ax=ax, shrink=0.6, label="mutual trust of treaty partners"
    )
    handles = [
        Line2D([], [], marker="o", ls="", color=c, label=f"{g} capacity", markersize=7)
        for g, c in zip(("low", "middle", "high"), CAPACITY_COLORS.values(), strict=True)
    ]
    handles.append(
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            mfc="white",
            mec="#222222",
            mew=1.6,
            markersize=7,
            label="mutual-recognition bloc",
        )
    )
    ax.legend(
        handles=handles, loc="lower left", fontsize=7, frameon=False, bbox_to_anchor=(-0.05, -0.08)
    )
    return fig


def _scalar_mappable(cmap, norm):
    from matplotlib.cm import ScalarMappable

    return ScalarMappable(norm=norm, cmap=cmap)


def _fmt(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    return format(value, spec)


OUTCOME_ROWS = (
    ("Requests issued", "requests_total", "d"),
    ("Completion rate", "completion_rate", ".1%"),
    ("Refusal rate", "refusal_rate", ".1%"),
    ("Median response, MLA (days)", "km_median_response_days.mla_evidence", ".0f"),
    ("Mean backlog (all roles)", "backlog", ".0f"),
    ("Mean trust", "mean_trust", ".3f"),
    ("Intelligence shared", "intel_shared", "d"),
    ("Leaks", "leaks", "d"),
)


def summary_html(model: ExplorerModel) -> tuple[str, str]:
    """Where the run stands, as two HTML fragments.

    Args:
        model: The explorer model.

    Returns:
        ``(status, table)``: the scenario, day, levers on, frictions and changes from
        the file; and a table of key outcomes so far, next to the starting scenario's
        when a control changed it (empty before the first step).
    """
    sc = model.config
    source = Path(sc.source).name if sc.source else model.scenario_path
    on = [
        f"{lever_label(n)} (from year {getattr(sc, n).start_year:g}, {_target(getattr(sc, n))})"
        for n in lever_names()
        if getattr(sc, n).enabled
    ]
    values = params_from_scenario(sc)
    frictions = "; ".join(f"{FRICTIONS[k][1].lower()} {values[k]:g}" for k in FRICTIONS)
    parts = [
        f"<h3 style='margin:0 0 4px 0'>{escape(sc.name)}</h3>",
        f"<p style='margin:0 0 8px 0;color:#555'>{escape(sc.description)}</p>",
        f"<p><b>Day {model.day} of {model.horizon_days}</b> (year "
        f"{model.day / DAYS_PER_YEAR:.2f}); {model.days_per_step} days per step; seed "
        f"{model.seed}; starting scenario <code>{escape(source)}</code></p>",
        f"<p><b>Levers on:</b> {escape('; '.join(on) if on else 'none')}</p>",
        f"<p><b>Frictions:</b> {escape(frictions)}</p>",
    ]
    if model.changes:
        changed = "; ".join(f"{k} {_short(a)} → {_short(b)}" for k, a, b in model.changes)
        parts.append(f"<p><b>Changed from the file:</b> {escape(changed)}</p>")
    parts.append(
        "<p style='color:#555'><i>Change a control in the sidebar, press <b>Reset</b> to "
        "rebuild the run with it, then <b>Step</b> or ▶.</i></p>"
    )
    if model.day == 0:
        return "".join(parts), ""
    now = model.outcomes()
    ref = model.reference.outcomes() if model.reference is not None else None
    cell = "style='text-align:right;padding:2px 12px;white-space:nowrap'"
    head = f"<th {cell}>this run</th>" + (f"<th {cell}>starting scenario</th>" if ref else "")
    rows = [f"<tr><th style='text-align:left'>Day {model.day}</th>{head}</tr>"]
    if model.day <= model.window_start:
        rows.append(
            f"<tr><td colspan=3><i>Warm-up until day {model.window_start}: outcomes are "
            "measured over the window after it.</i></td></tr>"
        )
    for label, key, spec in OUTCOME_ROWS:
        cells = [_outcome(now, key, spec)] + ([_outcome(ref, key, spec)] if ref else [])
        tds = "".join(f"<td {cell}>{c}</td>" for c in cells)
        rows.append(f"<tr><td style='padding:2px 12px 2px 0'>{label}</td>{tds}</tr>")
    table = "<table style='border-collapse:collapse;font-size:14px'>" + "".join(rows) + "</table>"
    return "".join(parts), table


def _outcome(outcomes: dict[str, Any], key: str, spec: str) -> str:
    base, _, part = key.partition(".")
    value = outcomes.get(base)
    if isinstance(value, dict):  # one key of a breakdown, or all of them summed
        value = value.get(part) if part else sum(value.values())
    if spec == "d" and value is not None and np.isfinite(value):
        value = int(value)
    return _fmt(value, spec)


def _short(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _target(section: LeverSection) -> str:
    target = section.applies_to
    return target if isinstance(target, str) else ", ".join(target)


def _png(fig) -> bytes:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
