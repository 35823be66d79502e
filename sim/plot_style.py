"""What every coopsim figure shares: its style, its error, and outcomes' labels and units.

Labels and units come from the outcome registry (:mod:`sim.outcomes`), so a figure
never guesses a unit from an outcome's name.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.figure import Figure

from sim import outcomes as outcomes_registry
from sim.errors import CoopsimError

if TYPE_CHECKING:
    pass


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


def styled(func: Callable[..., Figure]) -> Callable[..., Figure]:
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


def category_of(name: str) -> str:
    """A readable category label (``contact_point_24_7`` -> ``contact point 24/7``)."""
    return name.replace("_24_7", " 24/7").replace("_", " ")


def parameter_label(name: str) -> str:
    """A parameter label: ``agencies.central_authority_capacity`` -> two short lines."""
    section, _, key = name.rpartition(".")
    text = wrap_label(key, 24)
    return f"{text}\n[{section}]" if section else text


def wrap_label(text: str, width: int = 22) -> str:
    """Break a label on underscores/spaces so long names do not collide."""
    import textwrap

    return "\n".join(textwrap.wrap(text.replace("_", " "), width)) or text


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
