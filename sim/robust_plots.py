"""The heat map of ``coopsim robust``: packages x worlds, one panel per outcome.

Coloured by regret (Savage; white = the best option in that world, darker = a larger
shortfall) or by effect (the package minus no reform, green where it helps in the
outcome's better direction, purple where it harms); each cell is annotated with the
value, and effects whose interval excludes 0 get ``*``.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim import outcomes as registry
from sim.plot_style import STYLE, figure_bytes
from sim.robust import direction

KINDS = ("regret", "effect")


def _grid(table: pd.DataFrame, value: str, name: str) -> pd.DataFrame:
    """One outcome's values as packages (rows) x worlds (columns), in table order."""
    rows = table[table["outcome"] == name]
    grid = rows.pivot_table(index="package", columns="world", values=value, aggfunc="first")
    return grid.reindex(
        index=list(dict.fromkeys(rows["package"])), columns=list(dict.fromkeys(rows["world"]))
    )


def heatmap(tables: dict[str, pd.DataFrame], kind: str = "regret", ncols: int = 3) -> Figure:
    """Packages x worlds, one panel per outcome, coloured by regret or effect.

    Args:
        tables: Output of :func:`sim.robust.robustness`.
        kind: ``"regret"`` or ``"effect"``.
        ncols: Panels per row.

    Returns:
        The figure.

    Raises:
        ValueError: For an unknown ``kind``.
    """
    if kind not in KINDS:
        raise ValueError(f"heat map: kind {kind!r}; allowed: {', '.join(KINDS)}")
    table = tables["regret"] if kind == "regret" else tables["effects"]
    value = "regret" if kind == "regret" else "difference"
    names = list(dict.fromkeys(table["outcome"]))
    ncols = max(1, min(ncols, len(names)))
    nrows = math.ceil(len(names) / ncols)
    first = _grid(table, value, names[0])
    width = 1.1 + 0.95 * first.shape[1]
    height = 0.9 + 0.38 * first.shape[0]
    with matplotlib.rc_context({**STYLE, "axes.grid": False}):
        fig = Figure(figsize=(ncols * width + 1.2, nrows * height + 0.8), layout="constrained")
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        for ax, name in zip(axes, names, strict=False):
            _panel(ax, table, kind, value, name)
        for ax in axes[len(names) :]:
            ax.set_visible(False)
        what = (
            "regret (Savage): shortfall from the best option in each world"
            if kind == "regret"
            else "effect: package minus no reform (* = 95% CI excludes 0)"
        )
        fig.suptitle(f"Reform packages across worlds: {what}", fontsize=10)
    return fig


def _panel(ax, table: pd.DataFrame, kind: str, value: str, name: str) -> None:
    """Draw one outcome's grid with annotated cells."""
    grid = _grid(table, value, name)
    data = grid.to_numpy(dtype=float)
    finite = data[np.isfinite(data)]
    scale = float(np.max(np.abs(finite))) if finite.size else 1.0
    scale = scale or 1.0
    if kind == "regret":
        shown, cmap, lo, hi = data, "Reds", 0.0, scale
    else:  # green = better for cooperation, whatever the outcome's direction
        shown, cmap, lo, hi = data * direction(name), "PRGn", -scale, scale
    image = ax.imshow(np.ma.masked_invalid(shown), cmap=cmap, vmin=lo, vmax=hi, aspect="auto")
    ax.set_xticks(range(grid.shape[1]), [w.replace("_", " ") for w in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [p.replace("_", " ") for p in grid.index])
    ax.tick_params(axis="x", labelrotation=30)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    significant = (
        _grid(table, "significant", name).to_numpy(dtype=bool) if kind == "effect" else None
    )
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            # Both are differences (pp for shares); regret is >= 0 and shown without a sign.
            text = registry.format_value(data[i, j], name, difference=True)
            text = text.lstrip("+") if kind == "regret" else text
            if significant is not None and significant[i, j]:
                text += "*"
            dark = np.isfinite(shown[i, j]) and abs(shown[i, j]) > 0.6 * scale
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if dark else "black")  # fmt: skip
    better = {1: "higher", -1: "lower"}.get(direction(name), "neither")
    title = textwrap.fill(registry.label(name, with_unit=True), 34)
    ax.set_title(f"{title}\n({better} is better)", fontsize=8.5)
    ax.figure.colorbar(image, ax=ax, shrink=0.8)


def heatmap_plot(tables: dict[str, pd.DataFrame], path: Path, kind: str = "regret") -> Path:
    """Write the heat map of :func:`heatmap` as a PNG file, atomically.

    Returns:
        The path written.
    """
    from sim.store import atomic_write_bytes

    fig = heatmap(tables, kind)
    atomic_write_bytes(Path(path), figure_bytes(fig, "png"))
    return Path(path)


# The files ``coopsim robust`` writes into the results folder, by table.
FILES = {
    "effects": "robust_effects.csv",
    "regret": "robust_regret.csv",
    "max_regret": "robust_max_regret.csv",
    "satisficing": "robust_satisficing.csv",
    "satisficing_detail": "robust_satisficing_worlds.csv",
}
HEATMAP = "robust_heatmap.png"


def write_robustness(tables: dict[str, pd.DataFrame], out: Path, kind: str = "regret") -> list[str]:
    """Write the robustness tables (CSV) and the heat map (PNG) into ``out``, atomically.

    Args:
        tables: Output of :func:`sim.robust.robustness`.
        out: The results folder.
        kind: What the heat map colours: ``"regret"`` or ``"effect"``.

    Returns:
        The names of the files written (a satisficing table only when thresholds were set).
    """
    from sim.store import atomic_write_text

    written = []
    for key, name in FILES.items():
        if not tables[key].empty:
            atomic_write_text(out / name, tables[key].to_csv(index=False))
            written.append(name)
    heatmap_plot(tables, out / HEATMAP, kind)
    return [*written, HEATMAP]
