"""Figures for analysts: comparisons, time series, response times, networks, sensitivity, equity.

Every figure function takes pandas DataFrames (from :func:`sim.run` or
:func:`sim.load_results`) and returns a :class:`matplotlib.figure.Figure`, so a
notebook shows it and the CLI saves it. Figures are built without ``pyplot``
(no global figure registry, no backend needed); in Jupyter run
``%matplotlib inline`` once so returned figures are displayed.

``coopsim plot RESULTS`` calls :func:`write_figures`, which draws every figure a
results folder supports and writes each as PNG and SVG. The figures themselves live by
subject in :mod:`sim.plots_run`, :mod:`sim.plots_network`, :mod:`sim.plots_experiment`,
:mod:`sim.plots_equity` and :mod:`sim.plots_calibration` (shared style in
:mod:`sim.plot_style`); this module re-exports them, so
``from sim import plots; plots.forest(...)`` works.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure

from sim.metrics import incidence_frame, utilisation_frame
from sim.plot_style import (
    PlotError,
    figure_bytes,
    outcome_label,
    outcome_unit,
    save_figure,
)
from sim.plots_calibration import calibration_pairs, calibration_plot, warmup, warmup_plot
from sim.plots_equity import equity
from sim.plots_experiment import (
    forest,
    forest_plot,
    policy_models,
    response_times_by_policy,
    sensitivity_bars,
)
from sim.plots_network import network, network_frames
from sim.plots_run import INCIDENCE_ENDS, incidence, response_times, time_series, utilisation
from sim.scenario import ScenarioError

__all__ = [
    "INCIDENCE_ENDS",
    "PlotError",
    "calibration_pairs",
    "calibration_plot",
    "equity",
    "experiment_figures",
    "figure_bytes",
    "forest",
    "forest_plot",
    "incidence",
    "network",
    "network_frames",
    "outcome_label",
    "outcome_unit",
    "policy_models",
    "rerun_model",
    "response_times",
    "response_times_by_policy",
    "run_figures",
    "save_figure",
    "sensitivity_bars",
    "time_series",
    "utilisation",
    "warmup",
    "warmup_plot",
    "write_figures",
]

if TYPE_CHECKING:
    from sim.model import CooperationModel
    from sim.store import Results


# ======================================================================== writing
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
