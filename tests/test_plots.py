"""Figures: every figure function from a tiny run and a tiny experiment; coopsim plot."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import sim
from sim import metrics, plots
from sim.analysis import analyze
from sim.cli import main

UNIT = re.compile(r"\(.+\)")


@pytest.fixture(scope="module")
def tiny_run():
    scenario = sim.load_scenario(
        "baseline", {"world.n_states": 12, "run.years": 1.0, "run.warmup_years": 0.0}
    )
    return sim.run(scenario, seed=1)


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "cmp"
    code = main(
        [
            "compare",
            "nsc_law_package",
            "--reps",
            "2",
            "--years",
            "0.6",
            "--warmup-years",
            "0",
            "--workers",
            "1",
        ]
        + ["--out", str(out)]
    )
    assert code == 0
    return out


@pytest.fixture(scope="module")
def tiny_results(compare_dir):
    return sim.load_results(compare_dir)


def _axes(fig: Figure):
    return [ax for ax in fig.axes if ax.get_visible() and ax.axison]


def _check(fig: Figure, x_units: bool = True, y_labels: bool = False) -> None:
    assert isinstance(fig, Figure)
    axes = _axes(fig)
    assert axes
    for ax in axes:
        xlabel = ax.get_xlabel()
        assert xlabel, f"panel {ax.get_title()!r} has no x label"
        if x_units:
            assert UNIT.search(xlabel), f"x label {xlabel!r} names no unit"
        if y_labels:
            assert ax.get_ylabel(), f"panel {ax.get_title()!r} has no y label"
            assert UNIT.search(ax.get_ylabel()), f"y label {ax.get_ylabel()!r} names no unit"


def test_time_series_of_a_run(tiny_run):
    _check(plots.time_series(tiny_run.series), y_labels=True)


def test_response_times_of_a_run(tiny_run):
    _check(plots.response_times(tiny_run.model.ledger_frame()))


def test_equity_of_a_run(tiny_run):
    _check(plots.equity(tiny_run.outcomes), x_units=False, y_labels=True)


def test_equity_marks_a_group_without_a_value_instead_of_drawing_a_blank():
    groups = ("low", "middle", "high")
    row = {
        f"median_response_days_by_capacity_group.{g}": v
        for g, v in zip(groups, (30, np.nan, 12), strict=True)
    }
    fig = plots.equity(pd.DataFrame([row]))
    (ax,) = _axes(fig)
    marks = [t for t in ax.texts if t.get_text() == "n/a"]
    assert len(marks) == 1 and marks[0].get_position()[0] == 1  # the middle group's bar
    assert "n/a: no value" in fig._suptitle.get_text()
    row["median_response_days_by_capacity_group.middle"] = 20
    assert "n/a" not in plots.equity(pd.DataFrame([row]))._suptitle.get_text()


def test_equity_marks_of_an_outer_group_of_two_policies_fall_inside_the_panel():
    rows = [
        {"policy": policy, "median_response_days_by_capacity_group.low": np.nan}
        | {f"median_response_days_by_capacity_group.{g}": 40 for g in ("middle", "high")}
        for policy in ("a", "b")
    ]
    (ax,) = _axes(plots.equity(pd.DataFrame(rows)))
    low, high = ax.get_xlim()
    marks = [t.get_position()[0] for t in ax.texts if t.get_text() == "n/a"]
    assert len(marks) == 2 and all(low < x < 0.5 for x in marks)  # both under "low"
    assert ax.get_ylim()[0] == 0


def test_network_of_a_run(tiny_run):
    nodes, edges = plots.network_frames(tiny_run.model)
    assert len(nodes) == 12 and len(edges) == 12 * 11 // 2
    assert edges["trust"].between(0, 1).all()
    fig = plots.network(nodes, edges)
    assert isinstance(fig, Figure)
    assert "capacity" in fig.axes[0].get_title() and "trust" in fig.axes[0].get_title()


def test_incidence_curves_of_a_run_add_up_and_name_their_units(tiny_run):
    curves = metrics.incidence_frame(tiny_run.model)
    assert set(curves["kind"]) == {"mla_evidence", "extradition"}
    ends = curves[["executed", "refused", "lapsed", "withdrawn", "still_open"]].sum(axis=1)
    assert np.allclose(ends, 1.0)  # every request sent is in exactly one state
    fig = plots.incidence(curves.assign(policy="run"))
    _check(fig, y_labels=False)
    assert len(_axes(fig)) == 2 * len(plots.INCIDENCE_ENDS)


def test_utilisation_of_a_run_has_every_queueing_agency(tiny_run):
    agencies = metrics.utilisation_frame(tiny_run.model)
    assert (agencies["role"] == "central_authority").sum() == 12
    assert (agencies["utilisation"] >= 0).all()
    _check(plots.utilisation(agencies))


def test_forest_of_an_experiment(tiny_results):
    table = analyze(tiny_results)["comparison"]
    fig = plots.forest(table)
    _check(fig)
    assert len(_axes(fig)) == table["outcome"].nunique()


def test_time_series_of_an_experiment_has_bands(tiny_results):
    assert not tiny_results.series.empty  # compare keeps the daily series
    fig = plots.time_series(tiny_results.series, plan=tiny_results.plan)
    _check(fig, y_labels=True)
    assert "replications" in fig.get_suptitle()
    assert any(ax.collections for ax in _axes(fig))  # the bands


def test_response_times_and_equity_of_an_experiment(tiny_results):
    _check(plots.response_times_by_policy(tiny_results.outcomes))
    _check(plots.equity(tiny_results.outcomes), x_units=False, y_labels=True)


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_sensitivity_bars(method):
    rows = []
    for outcome in ("completion_rate", "median_response_days.extradition"):
        for p, v in (("agencies.central_authority_capacity", 0.6), ("world.initial_trust", 0.2)):
            base = {"outcome": outcome, "policy": "baseline", "parameter": p}
            if method == "sobol":
                rows.append({**base, "S1": v, "S1_conf": 0.1, "ST": v + 0.1, "ST_conf": 0.1})
            else:
                rows.append({**base, "mu": v, "mu_star": v, "mu_star_conf": 0.1, "sigma": v / 2})
    _check(plots.sensitivity_bars(pd.DataFrame(rows)))


def test_empty_tables_raise_plot_errors():
    with pytest.raises(plots.PlotError):
        plots.forest(pd.DataFrame())
    with pytest.raises(plots.PlotError):
        plots.sensitivity_bars(pd.DataFrame())


def test_outcome_labels_carry_units():
    assert plots.outcome_label("median_response_days.extradition").endswith("(days)")
    assert plots.outcome_label("completion_rate") == "completion rate (share)"
    assert plots.outcome_label("mean_trust").endswith("(index 0-1)")


def test_cli_plot_of_a_compare_writes_png_and_svg(compare_dir, tmp_path, capsys):
    out = tmp_path / "figs"
    assert main(["plot", str(compare_dir), "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    stems = ("comparison", "time_series", "response_times", "equity", "incidence", "utilisation")
    for stem in stems:
        assert {f"{stem}.png", f"{stem}.svg"} <= names
    # no temporary files left (.coopsim marks the folder as coopsim's: see sim.cli.prepare_out)
    assert not [n for n in names if n.startswith(".") and n != ".coopsim"]
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "wrote" in capsys.readouterr().out


def test_cli_plot_of_a_run_folder(tiny_run, tmp_path):
    from sim.store import write_run

    folder = write_run(tmp_path / "run", tiny_run, seed=1)
    assert main(["plot", str(folder)]) == 0
    names = {p.name for p in (folder / "figures").iterdir()}
    for stem in ("time_series", "response_times", "equity", "network", "incidence", "utilisation"):
        assert {f"{stem}.png", f"{stem}.svg"} <= names


def test_cli_plot_of_a_bad_folder_exits_2(tmp_path, capsys):
    (tmp_path / "something.txt").write_text("not results")
    assert main(["plot", str(tmp_path)]) == 2
    assert "not a results folder" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "missing")]) == 2
    assert not (tmp_path / "figures").exists()


def test_response_times_by_policy_say_how_many_runs_reached_a_median(tiny_results):
    outcomes = tiny_results.outcomes.copy()
    column = next(c for c in outcomes.columns if c.startswith("km_median_response_days."))
    outcomes.loc[outcomes.index[0], column] = float("nan")  # a run whose median was not reached
    fig = plots.response_times_by_policy(outcomes)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    first = outcomes["policy"].iloc[0]
    n = int((outcomes["policy"] == first).sum())
    assert f"{n - 1}/{n}" in texts
    assert "Kaplan-Meier" in fig._suptitle.get_text()


def test_one_runs_incidence_frame_is_drawn_as_it_is():
    from sim.metrics_frames import incidence_frame

    result = sim.run(
        "baseline",
        seed=2,
        overrides={"world.n_states": 8, "run.years": 1.0, "run.warmup_years": 0.0},
    )
    fig = plots.incidence(incidence_frame(result.model))
    assert any(line.get_label() == "run" for ax in fig.axes for line in ax.get_lines())
