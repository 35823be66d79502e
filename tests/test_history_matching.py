"""History matching (calibration with uncertainty) and compare --parameter-uncertainty.

Fast: pure functions on synthetic data, a synthetic simulator with a known truth, and
tiny worlds (6 states, a few months) for the model-level checks.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import accepted_set, emulator, implausibility
from sim import history_matching as hm
from sim.analysis import nested_paired_difference, variance_components
from sim.calibration import CALIBRATED_PARAMETERS
from sim.cli import main
from sim.experiment import experiment_from_dict, parameter_draws
from sim.scenario import ScenarioError

SMALL = 'extends = "baseline"\nname = "small"\n[world]\nn_states = 6\n[run]\nyears = 0.2\n'
SMALL += "warmup_years = 0.0\n"
FASTER = 'extends = "small.toml"\nname = "faster"\n[agencies]\ncentral_authority_capacity = 8.0\n'


# ------------------------------------------------------------------ implausibility
def test_implausibility_by_hand():
    # |330 - 300| / sqrt(100 + 1600 + 225 + 75) = 30 / sqrt(2000)
    value = implausibility.implausibility(330.0, 300.0, 1600.0, 225.0, 100.0, 75.0)
    assert value == pytest.approx(30 / math.sqrt(2000))
    assert value == pytest.approx(0.670820, abs=1e-6)
    # vectorised, with per-point emulator variances
    values = implausibility.implausibility(
        np.array([300.0, 240.0]), 300.0, 0.0, 0.0, np.array([1.0, 400.0])
    )
    np.testing.assert_allclose(values, [0.0, 3.0])


def test_observation_variance_follows_the_side_of_the_target():
    # F1: target 300, range 240-420: sd 20 below, 40 above; discrepancy 5% of 300 = 15.
    f1 = next(o for o in implausibility.observations() if o.fact_id == "F1")
    assert (f1.sd_below, f1.sd_above, f1.discrepancy_sd) == pytest.approx((20.0, 40.0, 15.0))
    # 260: 40 / sqrt(20^2 + 15^2) = 1.6; 380: 80 / sqrt(40^2 + 15^2)
    values = implausibility.fact_implausibility(f1, np.array([260.0, 380.0]), 0.0, 0.0)
    np.testing.assert_allclose(values, [1.6, 80 / math.sqrt(1825)])
    # the edges of the acceptable range are at 3 observation sds
    assert implausibility.fact_implausibility(f1, np.array([240.0]), 0.0, 0.0)[0] < 3.0


def test_calibrated_facts_are_the_observations():
    ids = [o.fact_id for o in implausibility.observations()]
    assert ids == ["F1", "F2", "F3a", "F3b", "F5", "F8"]


# ------------------------------------------------------------------ emulator
def _smooth(x: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * x[:, 0]) + 2.0 * x[:, 1] ** 2 + 0.5 * x[:, 2]


def test_emulator_recovers_a_known_smooth_function():
    x = emulator.latin_hypercube(50, 3, seed=1)
    em = emulator.Emulator(seed=0).fit(x, _smooth(x))
    test = np.random.default_rng(2).random((400, 3))
    mean, var = em.predict(test)
    truth = _smooth(test)
    spread = truth.max() - truth.min()
    assert np.sqrt(np.mean((mean - truth) ** 2)) < 0.03 * spread
    # its uncertainty is honest: the truth lies within 3 sds almost everywhere
    assert np.mean(np.abs(mean - truth) <= 3 * np.sqrt(var) + 1e-3) > 0.95


def test_emulator_with_known_noise_estimates_the_mean_and_leaves_the_noise_out():
    rng = np.random.default_rng(3)
    x = emulator.latin_hypercube(60, 3, seed=4)
    noisy = _smooth(x) + rng.normal(0, 0.1, len(x))
    em = emulator.Emulator(seed=0).fit(x, noisy, np.full(len(x), 0.01))
    test = rng.random((300, 3))
    mean, var = em.predict(test)
    assert np.sqrt(np.mean((mean - _smooth(test)) ** 2)) < 0.1
    assert np.median(var) < 0.01  # the variance of the mean, not of a noisy run
    loo = em.loo_errors()
    assert np.mean(np.abs(loo) <= 3) >= 0.95 and 0.6 < np.sqrt(np.mean(loo**2)) < 1.5


# ------------------------------------------------------------------ the matching
PRIORS = [
    implausibility.Prior("a.x", 0.0, 1.0),
    implausibility.Prior("a.y", 1.0, 10.0, "log"),
    implausibility.Prior("a.inert", 0.0, 1.0),
]
OBS = [
    implausibility.Observation("A", "f1", 6.0, 5.0, 7.0, 0.1),
    implausibility.Observation("B", "f2", 3.0, 2.5, 3.5, 0.05),
]
TRUTH = (0.6, math.exp(1.5), 0.5)  # f1 = 10 x = 6, f2 = 2 log y = 3


def synthetic(jobs):
    for job in jobs:
        p = dict(job.params)
        rng = np.random.default_rng(job.seed)
        yield (
            job,
            {
                "f1": 10 * p["a.x"] + rng.normal(0, 0.2),
                "f2": 2 * math.log(p["a.y"]) + rng.normal(0, 0.1),
            },
        )


@pytest.fixture(scope="module")
def matched():
    return hm.history_match(
        synthetic, PRIORS, OBS, wave_points=(30, 20), reps=2, seed=1, candidates=20_000
    )


def test_history_matching_keeps_the_truth_and_rules_out_a_far_point(matched):
    truth_i, far_i = matched.max_implausibility(np.array([TRUTH, (0.05, 9.0, 0.5)]))
    assert truth_i <= implausibility.CUTOFF < far_i
    assert len(matched.accepted) > 0
    # every accepted vector explains f1 and f2: x near 0.6, y near e^1.5
    assert matched.accepted["a.x"].between(0.45, 0.75).all()
    assert matched.accepted["a.y"].between(2.5, 8.0).all()
    assert (matched.accepted["max_implausibility"] <= implausibility.CUTOFF).all()
    # the space shrinks wave by wave; the inert parameter is not constrained
    first, second = (w["non_implausible_fraction"] for w in matched.waves)
    assert 0 < second <= first < 0.3
    ranges = matched.accepted_ranges().set_index("parameter")
    assert ranges.loc["a.inert", "share_of_prior_range"] > 0.5
    assert ranges.loc["a.x", "share_of_prior_range"] < 0.35
    assert [w["runs"] for w in matched.waves] == [60, 40]


def test_history_matching_is_reproducible(matched):
    again = hm.history_match(
        synthetic, PRIORS, OBS, wave_points=(30, 20), reps=2, seed=1, candidates=20_000
    )
    pd.testing.assert_frame_equal(again.runs, matched.runs)
    pd.testing.assert_frame_equal(again.accepted, matched.accepted)


def test_an_unreachable_fact_leaves_an_empty_accepted_set_and_says_so():
    impossible = [implausibility.Observation("A", "f1", 60.0, 55.0, 65.0, 0.1), OBS[1]]
    result = hm.history_match(
        synthetic, PRIORS, impossible, wave_points=(20, 10), reps=2, seed=1, candidates=5_000
    )
    assert result.accepted.empty and len(result.waves) == 1
    assert result.waves[0]["non_implausible_fraction"] == 0.0
    assert "No parameter vector was accepted" in accepted_set.format_summary(result)


def test_outputs_are_written_and_read_back(matched, tmp_path):
    written = accepted_set.write_outputs(matched, tmp_path, {"date": "today", "git_commit": "abc"})
    assert {p.name for p in written} == {
        "priors.toml",
        "accepted.csv",
        "runs.csv",
        "history_matching.toml",
    }
    summary = tomllib.loads((tmp_path / "history_matching.toml").read_text())
    assert summary["accepted_count"] == len(matched.accepted)
    assert summary["method"]["cutoff"] == 3.0 and summary["git_commit"] == "abc"
    assert [w["runs"] for w in summary["wave"]] == [60, 40]
    accepted = pd.read_csv(tmp_path / "accepted.csv")
    assert len(accepted) == len(matched.accepted)


def test_the_pairs_figure_draws(matched, tmp_path):
    from sim.plots import calibration_plot

    bounds = {p.name: (p.low, p.high, p.log) for p in PRIORS}
    path = calibration_plot(matched.runs, matched.accepted, bounds, tmp_path / "hm.png", "t")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_the_simulator_cache_resumes_without_running_again(tmp_path, monkeypatch):
    cache = tmp_path / "runs_cache.csv"
    tiny = {"world.n_states": 6, "run.warmup_years": 0.0}
    calls = []

    def fake_measure(args):
        calls.append(args[1])
        return {"f1": float(args[1]), "f2": 2.0}

    monkeypatch.setattr(hm, "_measure_run", fake_measure)
    jobs = [hm.Job(1, 0, 11, (("review.service_days", 30.0),)), hm.Job(1, 0, 12, ())]
    first = dict(hm.CoopsimSimulator(1.5, cache=cache, overrides=tiny)(jobs))
    assert calls == [11, 12] and cache.is_file()
    again = dict(hm.CoopsimSimulator(1.5, cache=cache, overrides=tiny)(jobs))
    assert calls == [11, 12]  # nothing ran again
    assert again == first
    # a different scenario (window) does not reuse them
    dict(hm.CoopsimSimulator(2.0, cache=cache, overrides=tiny)(jobs[:1]))
    assert calls == [11, 12, 11]


# ------------------------------------------------------------------ the shipped result
def test_the_shipped_priors_are_valid_and_cover_the_calibrated_parameters():
    priors = implausibility.load_priors()
    assert sorted(p.name for p in priors) == sorted(CALIBRATED_PARAMETERS)
    for p in priors:
        assert p.why and p.low < p.default < p.high
        if p.name != "interpol.rejection_base":
            assert (
                p.log
                and p.low == pytest.approx(p.default / 2)
                and p.high == pytest.approx(2 * p.default)
            )


def test_the_shipped_accepted_set_loads_is_non_empty_and_within_the_priors():
    accepted = accepted_set.load_accepted()
    assert len(accepted) > 0 and list(accepted.columns) == list(CALIBRATED_PARAMETERS)
    for p in implausibility.load_priors():
        assert accepted[p.name].between(p.low, p.high).all(), p.name
    summary = tomllib.loads(implausibility.SUMMARY_FILE.read_text())
    assert summary["accepted_count"] == len(accepted)
    full = pd.read_csv(implausibility.ACCEPTED_FILE)
    assert (full["max_implausibility"] <= summary["method"]["cutoff"]).all()


def test_bad_priors_are_refused(tmp_path):
    text = implausibility.PRIORS_FILE.read_text().replace("low = 19.0", "low = -5.0")
    (tmp_path / "p.toml").write_text(text)
    with pytest.raises(ScenarioError, match="review.service_days"):
        implausibility.load_priors(tmp_path / "p.toml")


# ------------------------------------------------------------------ the variance split
def test_the_variance_split_recovers_known_components():
    rng = np.random.default_rng(5)
    draws, seeds = 400, 5
    effect = np.repeat(rng.normal(0, 2.0, draws), seeds)  # between-draw sd 2
    values = 1.0 + effect + rng.normal(0, 1.0, draws * seeds)  # within sd 1
    groups = np.repeat(np.arange(draws), seeds)
    comp = variance_components(values, groups)
    assert comp["var_between"] == pytest.approx(4.0, rel=0.15)
    assert comp["var_within"] == pytest.approx(1.0, rel=0.08)
    row = nested_paired_difference(np.zeros_like(values), values, groups)
    # variance of the mean: 4 / 400 from parameters, 1 / (5 * 400) from chance
    assert row["share_parameters"] == pytest.approx(4 / 4.2, abs=0.02)
    assert row["share_parameters"] + row["share_chance"] == pytest.approx(1.0)
    assert row["ci_low"] < 1.0 < row["ci_high"] and row["draws"] == draws


def test_balanced_anova_matches_the_textbook_formula():
    values = np.array([1.0, 3.0, 4.0, 6.0, 10.0, 12.0])  # 3 groups of 2
    groups = np.array([0, 0, 1, 1, 2, 2])
    comp = variance_components(values, groups)
    # group means 2, 5, 11; grand 6: MSB = 2 * (16 + 1 + 25) / 2 = 42; MSW = 6 / 3 = 2
    assert comp["ms_between"] == pytest.approx(42.0) and comp["ms_within"] == pytest.approx(2.0)
    assert comp["var_between"] == pytest.approx(20.0)


def test_identical_draws_give_nothing_from_parameters():
    # every draw has the same mean (the parameters change nothing): MSB = 0 < MSW
    values = np.tile([-1.0, 1.0, 0.5, -0.5], 10) + 3.0
    groups = np.repeat(np.arange(10), 4)
    row = nested_paired_difference(np.zeros_like(values), values, groups)
    assert row["share_parameters"] == 0.0 and row["share_chance"] == 1.0
    assert row["var_parameters"] == 0.0 and "set to 0" in row["split_note"]
    assert row["difference"] == pytest.approx(3.0)


def test_one_seed_per_draw_gives_an_interval_but_no_split():
    values = np.arange(6, dtype=float)
    row = nested_paired_difference(np.zeros(6), values, np.arange(6))
    assert math.isfinite(row["ci_low"]) and math.isnan(row["share_parameters"])
    assert "one seed per draw" in row["split_note"]


# ------------------------------------------------------------------ draws in experiments
@pytest.fixture
def accepted_csv(tmp_path):
    rng = np.random.default_rng(0)
    priors = implausibility.load_priors()
    rows = {p.name: p.from_unit(rng.random(5)) for p in priors}
    path = tmp_path / "accepted.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _experiment(tmp_path, accepted, **changes):
    (tmp_path / "small.toml").write_text(SMALL)
    (tmp_path / "faster.toml").write_text(FASTER)
    data = {
        "name": "pu",
        "replications": 6,
        "base_seed": 3,
        "levers": {"scenarios": ["small.toml", "faster.toml"]},
        "parameter_uncertainty": {"seeds_per_draw": 2, "accepted": str(accepted)},
        **changes,
    }
    return experiment_from_dict(data, "pu.toml", base_dir=tmp_path)


def test_every_policy_runs_the_same_draw_at_a_replication(tmp_path, accepted_csv):
    exp = _experiment(tmp_path, accepted_csv)
    plan = exp.plan_frame()
    names = list(CALIBRATED_PARAMETERS)
    assert (plan["draw"] == plan["replication"] // 2).all()
    for _, group in plan.groupby("replication"):
        assert group["policy"].nunique() == 2
        assert len(group[["draw", "accepted_row", *names]].drop_duplicates()) == 1
    # three draws of five vectors: all different
    assert plan.groupby("draw")["accepted_row"].first().nunique() == 3
    accepted = pd.read_csv(accepted_csv)
    merged = plan.merge(accepted.reset_index(names="accepted_row"), on="accepted_row")
    for name in names:
        np.testing.assert_allclose(merged[f"{name}_x"], merged[f"{name}_y"])
    # more replications keep the earlier draws
    longer = _experiment(tmp_path, accepted_csv, replications=10)
    pd.testing.assert_frame_equal(longer.draws.iloc[:3], exp.draws)
    assert exp.plan_hash() != longer.plan_hash()


def test_parameter_draws_use_a_seeded_permutation():
    accepted = pd.DataFrame({"a": np.arange(4.0)})
    draws = parameter_draws(accepted, 6, base_seed=9)
    assert sorted(draws["accepted_row"][:4]) == [0, 1, 2, 3]
    assert list(draws["accepted_row"][4:]) == list(draws["accepted_row"][:2])
    pd.testing.assert_frame_equal(draws, parameter_draws(accepted, 6, base_seed=9))


def test_parameter_uncertainty_refuses_what_would_be_silently_wrong(tmp_path, accepted_csv):
    with pytest.raises(ScenarioError, match="not a multiple of"):
        _experiment(tmp_path, accepted_csv, replications=5)
    with pytest.raises(ScenarioError, match="overrides.review.service_days"):
        _experiment(tmp_path, accepted_csv, overrides={"review.service_days": 40.0})
    (tmp_path / "own.toml").write_text(SMALL + "[review]\nservice_days = 20.0\n")
    with pytest.raises(ScenarioError, match="would overwrite"):
        _experiment(tmp_path, accepted_csv, levers={"scenarios": ["small.toml", "own.toml"]})
    empty = tmp_path / "empty.csv"
    pd.DataFrame(columns=list(CALIBRATED_PARAMETERS)).to_csv(empty, index=False)
    with pytest.raises(ScenarioError, match="accepted set is empty"):
        _experiment(tmp_path, empty)


def test_compare_with_parameter_uncertainty_prints_the_split_and_resumes(
    tmp_path, accepted_csv, capsys
):
    (tmp_path / "small.toml").write_text(SMALL)
    (tmp_path / "faster.toml").write_text(FASTER)
    out = tmp_path / "res"
    argv = [
        "compare",
        str(tmp_path / "faster.toml"),
        "--reference",
        str(tmp_path / "small.toml"),
        "--reps",
        "4",
        "--years",  # the shipped comparison's 3-year window would be most of the test's time
        "0.5",
        "--seeds-per-draw",
        "2",
        "--workers",
        "1",
        "--parameter-uncertainty",
        "--accepted",
        str(accepted_csv),
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    header = printed.splitlines()[0]
    assert "from parameters" in header and "from chance" in header and "draws" in header
    assert "t interval on the draw means" in printed
    table = pd.read_csv(out / "comparison.csv")
    assert {"share_parameters", "share_chance", "var_parameters", "var_chance"} <= set(table)
    # half a year is too short for some medians; every outcome with a value has both draws
    defined = table["difference"].notna()
    assert defined.sum() >= 5 and (table.loc[defined, "draws"] == 2).all()
    shares = table[["share_parameters", "share_chance"]].dropna()
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    from sim.store import load_results

    results = load_results(out)
    assert set(results.outcomes["draw"]) == {0, 1}
    assert results.manifest["accepted_set"]["vectors"] == 5
    # the same command resumes (nothing to run) and analyze redoes the split from the store
    before = (out / "runs.parquet").read_bytes() if (out / "runs.parquet").exists() else None
    assert main(argv) == 0
    assert "8 of 8 runs done" in capsys.readouterr().out
    if before is not None:
        assert len(load_results(out).runs) == len(results.runs)
    assert main(["analyze", str(out)]) == 0
    again = pd.read_csv(out / "analysis" / "comparison.csv")
    pd.testing.assert_frame_equal(again, table)


def test_compare_options_need_parameter_uncertainty(capsys):
    assert main(["compare", "nsc_law", "--seeds-per-draw", "2"]) == 2
    assert "--seeds-per-draw goes with --parameter-uncertainty" in capsys.readouterr().err


def test_calibrate_explains_the_retired_budget_option(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["calibrate", "--budget", "60"])
    assert stop.value.code == 2
    assert "history matching replaced" in capsys.readouterr().err


def test_calibrate_refuses_a_window_too_short_for_the_facts(capsys):
    with pytest.raises(SystemExit):
        main(["calibrate", "--years", "1"])
    assert "at least 1.5" in capsys.readouterr().err


def test_the_calibration_files_ship_in_the_package():
    shipped = Path(hm.__file__).resolve().parent / "data" / "calibration"
    assert {"priors.toml", "accepted.csv", "history_matching.toml"} <= {
        p.name for p in shipped.iterdir()
    }


def test_a_priors_file_that_is_missing_or_not_toml_is_named_in_the_error(tmp_path):
    missing = tmp_path / "missing.toml"
    with pytest.raises(ScenarioError, match=re.escape(f"{missing}: priors file not found")):
        implausibility.load_priors(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("[[prior]\nname = 'x'\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=re.escape(f"{broken}: not valid TOML")):
        implausibility.load_priors(broken)
