"""Interactive explorer: move a lever and watch the cooperation network respond.

A Mesa SolaraViz app over :class:`~sim.model.CooperationModel`. The sidebar holds
the main frictions (legal distance, sovereignty sensitivity, central authority
capacity) and every reform lever (its switch and start year); the page shows live
plots of backlog, completion, trust and intelligence shared, and the treaty
network coloured by trust. Next to each run the starting scenario, as the file
states it and with the same seed, runs in step as a dashed reference, so a lever's
effect is the gap between the two.

Three ways in:

* ``coopsim explore [SCENARIO] [--port P]`` serves it on 127.0.0.1 (:func:`serve`);
* ``sim.explorer.explorer("baseline")`` as the last line of a notebook cell shows
  the same page inline;
* :class:`ExplorerModel` is the model the page drives: flat keyword parameters
  (``legal_distance_days=40``, ``nsc_law_enabled=True``, ...) mapped to dotted
  scenario overrides.

Solara and the plotting pieces are the optional ``viz`` extra
(``uv sync --extra viz``); only :func:`explorer`, :func:`page` and the server need
them, so this module imports without them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from sim import levers
from sim.errors import CoopsimError
from sim.model import CooperationModel
from sim.scenario import DAYS_PER_YEAR, LeverSection, Scenario, load_scenario, resolve_scenario_path

SCENARIO_ENV = "COOPSIM_EXPLORER_SCENARIO"
"""Environment variable through which :func:`serve` hands the scenario to the app."""

VIZ_HINT = (
    "the explorer needs the viz extra: run `uv sync --extra viz` (or pip install 'coopsim[viz]')"
)

# Flat parameter name -> (dotted scenario key, label, slider min, slider max, slider step).
FRICTIONS: dict[str, tuple[str, str, float, float, float]] = {
    "legal_distance_days": (
        "drafting.legal_distance_days",
        "Legal distance: extra drafting days",
        0.0,
        120.0,
        1.0,
    ),
    "clarification_per_legal_distance": (
        "review.clarification_per_legal_distance",
        "Legal distance: clarification chance",
        0.0,
        1.0,
        0.05,
    ),
    "sovereignty_sensitivity_mean": (
        "world.sovereignty_sensitivity_mean",
        "Sovereignty sensitivity (mean)",
        0.0,
        1.0,
        0.05,
    ),
    "central_authority_capacity": (
        "agencies.central_authority_capacity",
        "Central authority capacity",
        0.05,
        3.0,
        0.05,
    ),
}

LEVER_LABELS: dict[str, str] = {
    "nsc_law": "NSC law",
    "legal_harmonization": "Legal harmonization",
    "treaty_expansion": "Treaty expansion",
    "mutual_recognition": "Mutual recognition",
    "secure_platform": "Secure platform",
    "rapid_channels": "Rapid 24/7 channels",
    "joint_task_forces": "Joint task forces",
    "capacity_building": "Capacity building",
    "diplomatic_engagement": "Diplomatic engagement",
    "confidentiality_standards": "Confidentiality standards",
    "e_evidence": "E-evidence production orders",
    "geopolitical_tension": "Stress: geopolitical tension",
    "demand_surge": "Stress: demand surge",
    "budget_cuts": "Stress: budget cuts",
}

DEFAULT_DAYS_PER_STEP = 30
CAPACITY_COLORS = {0: "#d55e00", 1: "#e69f00", 2: "#0072b2"}  # low, middle, high
BACKLOG_COLORS = {
    "central_authority": "#0072b2",
    "court": "#cc79a7",
    "law_enforcement": "#009e73",
}


def lever_names() -> tuple[str, ...]:
    """Every registered reform lever and stress test, reforms first."""
    names = [lever.name for lever in levers.registered()]
    ordered = [n for n in LEVER_LABELS if n in names]
    return tuple(ordered + [n for n in names if n not in LEVER_LABELS])


def lever_label(name: str) -> str:
    """Readable label of a lever."""
    return LEVER_LABELS.get(name, name.replace("_", " ").capitalize())


def parameter_keys() -> dict[str, str]:
    """Map every flat explorer parameter to its dotted scenario key."""
    keys = {name: spec[0] for name, spec in FRICTIONS.items()}
    for lever in lever_names():
        keys[f"{lever}_enabled"] = f"{lever}.enabled"
        keys[f"{lever}_start_year"] = f"{lever}.start_year"
    return keys


def params_from_scenario(scenario: Scenario) -> dict[str, Any]:
    """Flat explorer parameters holding the values a scenario states.

    Args:
        scenario: A validated scenario.

    Returns:
        ``{flat name: value}`` for every friction and lever parameter.
    """
    data = scenario.model_dump()
    out = {}
    for flat, dotted in parameter_keys().items():
        section, key = dotted.split(".")
        out[flat] = data[section][key]
    return out


def overrides_from_params(params: dict[str, Any]) -> dict[str, Any]:
    """Dotted scenario overrides from flat explorer parameters.

    Args:
        params: ``{flat name: value}``, e.g. ``{"nsc_law_enabled": True}``.

    Returns:
        ``{"nsc_law.enabled": True}`` and the like.

    Raises:
        ValueError: If a name is not an explorer parameter.
    """
    keys = parameter_keys()
    unknown = sorted(set(params) - set(keys))
    if unknown:
        raise ValueError(f"unknown explorer parameters {unknown}; allowed: {sorted(keys)}")
    out: dict[str, Any] = {}
    for flat, value in params.items():
        if isinstance(value, np.generic):
            value = value.item()
        if flat.endswith("_enabled"):
            value = bool(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        out[keys[flat]] = value
    return out


class ExplorerError(CoopsimError):
    """The explorer cannot start: the viz extra is missing or the port is taken."""


class ExplorerModel(CooperationModel):
    """A CooperationModel built from flat keyword parameters, stepping many days at once.

    SolaraViz rebuilds the model with ``type(model)(**params)``; this class maps the
    flat parameters onto a scenario file and keeps, when they change it, a
    reference run of the file as it stands (same seed) that advances alongside.

    Args:
        scenario_path: The starting scenario (file or shipped name).
        seed: Random seed of both runs.
        days_per_step: Simulated days per :meth:`step` (one click on Step).
        **params: Flat explorer parameters (see :func:`parameter_keys`); missing ones
            keep the file's value.
    """

    def __init__(
        self,
        scenario_path: str = "baseline",
        seed: int = 1,
        days_per_step: int = DEFAULT_DAYS_PER_STEP,
        **params: Any,
    ):
        # SolaraViz's Reset also passes Mesa's own (empty) experiment scenario
        # object; the coopsim scenario comes from the file and the parameters.
        params.pop("scenario", None)
        self.scenario_path = str(scenario_path)
        self.seed = int(seed)
        self.days_per_step = max(1, int(days_per_step))
        self.base_scenario = load_scenario(scenario_path)
        self.overrides = overrides_from_params(params)
        scenario = (
            load_scenario(scenario_path, self.overrides) if self.overrides else self.base_scenario
        )
        super().__init__(scenario, rng=self.seed)
        self.changes = _changes(self.base_scenario, scenario)
        self.reference = (
            CooperationModel(self.base_scenario, rng=self.seed) if self.changes else None
        )
        # Mesa's step() advances time by one unit (one day); one explorer step runs
        # `days_per_step` days through Mesa's event list, so reforms still take
        # effect on their day.
        self.step = self._step_days

    def _step_days(self) -> None:
        days = min(self.days_per_step, self.horizon_days - self.day)
        if days <= 0:
            self.running = False
            return
        self.run_for(days)
        if self.reference is not None:
            self.reference.run_for(days)
        if self.day >= self.horizon_days:
            self.running = False


def _changes(base: Scenario, scenario: Scenario) -> list[tuple[str, Any, Any]]:
    """The explorer parameters whose value differs from the starting scenario."""
    old, new = params_from_scenario(base), params_from_scenario(scenario)
    return [(k, old[k], new[k]) for k in old if old[k] != new[k]]


def model_params(scenario_path: str = "baseline", seed: int = 1) -> dict[str, Any]:
    """The SolaraViz ``model_params``: controls initialised from the scenario file.

    Args:
        scenario_path: The starting scenario (file or shipped name).
        seed: Initial seed.

    Returns:
        Mesa user-parameter dicts (sliders and checkboxes) plus the fixed scenario path.
    """
    scenario = load_scenario(scenario_path)
    values = params_from_scenario(scenario)
    years = scenario.run.years
    out: dict[str, Any] = {
        "scenario_path": str(scenario_path),
        "days_per_step": {
            "type": "SliderInt",
            "value": DEFAULT_DAYS_PER_STEP,
            "min": 1,
            "max": 365,
            "step": 1,
            "label": "Days per step",
        },
        "seed": {"type": "SliderInt", "value": seed, "min": 1, "max": 100, "step": 1},
    }
    out["seed"]["label"] = "Seed"
    for name, (_, label, lo, hi, step) in FRICTIONS.items():
        value = float(values[name])
        out[name] = {
            "type": "SliderFloat",
            "value": value,
            "min": min(lo, value),
            "max": max(hi, value),
            "step": step,
            "label": label,
        }
    for lever in lever_names():
        label = lever_label(lever)
        out[f"{lever}_enabled"] = {
            "type": "Checkbox",
            "value": bool(values[f"{lever}_enabled"]),
            "label": f"{label}: on",
        }
        start = float(values[f"{lever}_start_year"])
        out[f"{lever}_start_year"] = {
            "type": "SliderFloat",
            "value": start,
            "min": 0.0,
            "max": max(float(years), start),
            "step": 0.25,
            "label": f"{label}: start year",
        }
    return out


# --------------------------------------------------------------------------------------
# Page components (need the viz extra)
# --------------------------------------------------------------------------------------


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


def _page_component():
    """Build the Solara components (imported lazily: solara is the viz extra)."""
    import solara
    from mesa.visualization import SolaraViz
    from mesa.visualization.utils import update_counter

    @solara.component
    def MainView(model: ExplorerModel):
        update_counter.get()  # re-render after every Step / Play tick
        key = [id(model), model.day]
        series = solara.use_memo(lambda: _png(series_figure(model)), key)
        network = solara.use_memo(lambda: _png(network_figure(model)), key)
        with solara.Columns([3, 2]):
            with solara.Card(margin=0):
                solara.Image(series, width="100%")
            with solara.Card(margin=0):
                solara.Image(network, width="100%")
        status, table = summary_html(model)
        with solara.Card(margin=0):
            with solara.Columns([3, 2]):
                solara.HTML(tag="div", unsafe_innerHTML=status)
                solara.HTML(tag="div", unsafe_innerHTML=table)

    @solara.component
    def ExplorerPage(scenario_path: str, seed: int):
        params = solara.use_memo(lambda: model_params(scenario_path, seed), [scenario_path, seed])
        first = solara.use_memo(
            lambda: ExplorerModel(scenario_path=scenario_path, seed=seed), [scenario_path, seed]
        )
        model = solara.use_reactive(first)
        # SolaraViz draws the app bar and the sidebar (Reset / Play / Step and the
        # parameters) and rebuilds `model` on Reset; the main area is ours.
        SolaraViz(
            model,
            components=[],
            model_params=params,
            name=f"coopsim explorer: {first.config.name}",
            play_interval=150,
        )
        MainView(model.value)

    return ExplorerPage


def explorer(scenario: str | Path = "baseline", seed: int = 1):
    """The explorer page, for a notebook cell (last line) or a Solara app.

    Args:
        scenario: The starting scenario (file or shipped name).
        seed: Initial seed.

    Returns:
        A Solara element: Mesa's SolaraViz controls and the explorer's plots.

    Raises:
        ImportError: If the viz extra is not installed.
        sim.scenario.ScenarioError: If the scenario is not valid.
    """
    try:
        page = _page_component()
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(VIZ_HINT) from exc
    load_scenario(scenario)  # fail here, with the file and key, not inside the page
    return page(str(scenario), int(seed))


# --------------------------------------------------------------------------------------
# Serving
# --------------------------------------------------------------------------------------


def viz_available() -> bool:
    """Whether the viz extra (solara and Mesa's visualization) is importable."""
    try:
        import solara  # noqa: F401
        from mesa.visualization import SolaraViz  # noqa: F401
    except ImportError:
        return False
    return True


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def server_command(port: int) -> list[str]:
    """The ``solara run`` command line serving the app on 127.0.0.1."""
    app = Path(__file__).with_name("explorer_app.py")
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(app),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--no-check-version",
        "--log-level",
        "warning",
    ]


def serve(scenario: str = "baseline", port: int = 8765) -> int:
    """Serve the explorer on ``http://127.0.0.1:PORT`` until Ctrl-C (or SIGTERM).

    Args:
        scenario: The starting scenario (file or shipped name).
        port: TCP port on 127.0.0.1.

    Returns:
        The exit code: 0 after Ctrl-C or SIGTERM, the server's code if it stops by itself.

    Raises:
        ExplorerError: If the viz extra is missing or the port is taken.
        sim.scenario.ScenarioError: If the scenario is not valid.
    """
    loaded = load_scenario(scenario)  # bad input fails here, with the file and key
    if not viz_available():
        raise ExplorerError(VIZ_HINT)
    if not _port_free(port):
        raise ExplorerError(f"port {port} on 127.0.0.1 is in use; choose another with --port")
    path = Path(loaded.source) if loaded.source else resolve_scenario_path(scenario)
    env = {
        **os.environ,
        SCENARIO_ENV: str(path.resolve()),
        "SOLARA_THEME_TITLE": f"coopsim explorer: {loaded.name}",
        "SOLARA_THEME_SHOW_BANNER": "false",
    }
    url = f"http://127.0.0.1:{port}/"
    print(f"coopsim explorer: {loaded.name} ({path}); starting the server ...", flush=True)
    proc = subprocess.Popen(server_command(port), env=env)

    def stop(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        while proc.poll() is None and not _listening(port):
            time.sleep(0.2)
        if proc.poll() is None:
            print(f"explorer ready: {url}  (Ctrl-C to stop)", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        print("explorer stopped", file=sys.stderr)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
