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

The model and its controls are in :mod:`sim.explorer_model`, the figures and the
summary in :mod:`sim.explorer_views`; this module puts them on a page and serves
it, and re-exports their names (``sim.explorer.ExplorerModel`` works).

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
from pathlib import Path

from sim.errors import CoopsimError
from sim.explorer_model import (
    DEFAULT_DAYS_PER_STEP,
    FRICTIONS,
    LEVER_LABELS,
    ExplorerModel,
    lever_label,
    lever_names,
    model_params,
    overrides_from_params,
    parameter_keys,
    params_from_scenario,
)
from sim.explorer_views import (
    BACKLOG_COLORS,
    CAPACITY_COLORS,
    OUTCOME_ROWS,
    _png,
    network_figure,
    series_figure,
    summary_html,
)
from sim.scenario import load_scenario, resolve_scenario_path

__all__ = [
    "BACKLOG_COLORS",
    "CAPACITY_COLORS",
    "DEFAULT_DAYS_PER_STEP",
    "FRICTIONS",
    "LEVER_LABELS",
    "OUTCOME_ROWS",
    "SCENARIO_ENV",
    "VIZ_HINT",
    "ExplorerError",
    "ExplorerModel",
    "explorer",
    "lever_label",
    "lever_names",
    "model_params",
    "network_figure",
    "overrides_from_params",
    "parameter_keys",
    "params_from_scenario",
    "serve",
    "server_command",
    "series_figure",
    "summary_html",
    "viz_available",
]

SCENARIO_ENV = "COOPSIM_EXPLORER_SCENARIO"
"""Environment variable through which :func:`serve` hands the scenario to the app."""

VIZ_HINT = (
    "the explorer needs the viz extra: run `uv sync --extra viz` (or pip install 'coopsim[viz]')"
)


class ExplorerError(CoopsimError):
    """The explorer cannot start: the viz extra is missing or the port is taken."""


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
