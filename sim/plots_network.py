"""The cooperation network of a run: states as nodes, requests between them as edges."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.plot_style import (
    CAPACITY_GROUPS,
    GROUP_COLORS,
    styled,
)

if TYPE_CHECKING:
    from sim.model import CooperationModel


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


@styled
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
