"""The warm-up: MSER-5 on synthetic series with known answers, and ``coopsim warmup``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.scenario import DAYS_PER_YEAR
from sim.warmup import (
    MserResult,
    batch_means,
    choose_warmup,
    days_to_years,
    ensemble_mean,
    mser,
    mser_statistic,
    replicate_series,
    round_up_days,
)

DAYS = np.arange(2000)


def _noise(seed: int, n: int = DAYS.size, sd: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, sd, n)


# ------------------------------------------------------------------ arithmetic
def test_batch_means_by_hand():
    series = np.arange(1.0, 13.0)  # 12 days: two full batches of 5, 2 days dropped
    np.testing.assert_allclose(batch_means(series), [3.0, 8.0])
    # Weights pool a batch's observations; a batch with no weight (or only NaN) is NaN.
    values = np.array([10, 20, np.nan, 0, 0, np.nan, np.nan, 5, 5, 5], dtype=float)
    weights = np.array([1, 3, 0, 0, 0, 2, 0, 0, 0, 0], dtype=float)
    np.testing.assert_allclose(batch_means(values, 5, weights), [17.5, np.nan])
    np.testing.assert_allclose(
        batch_means(values[:5], 1, weights[:5]), [10, 20, np.nan, np.nan, np.nan]
    )


def test_mser_statistic_by_hand():
    z = np.array([10.0, 0.0, 0.0, 1.0])
    # d = 0: mean 2.75, squared deviations 52.5625 + 2 * 7.5625 + 3.0625 = 70.75, over 4^2.
    # d = 1: [0, 0, 1], mean 1/3, squares 2/3, over 3^2; d = 2: [0, 1]: 0.5 / 2^2; d = 3: 0.
    np.testing.assert_allclose(mser_statistic(z), [70.75 / 16, (2 / 3) / 9, 0.5 / 4, 0.0])


def test_mser_cuts_in_days_on_a_hand_example():
    # Daily values whose 5-day batch means are [10, 0, 0, 1] (see the test above).
    series = np.repeat([10.0, 0.0, 0.0, 1.0], 5)
    result = mser(series, ignore_end=1)  # the last batch alone (statistic 0) is no candidate
    assert isinstance(result, MserResult)
    assert result.cut_day == 5 and result.steady
    np.testing.assert_array_equal(result.days, [0, 5, 10, 15])
    assert np.isnan(result.statistic[-1])
    assert result.minimum == pytest.approx((2 / 3) / 9)


def test_ensemble_mean_pools_the_replications_requests():
    values = np.array([[10.0, np.nan, 1.0], [20.0, 4.0, np.nan]])
    np.testing.assert_allclose(ensemble_mean(values), [15.0, 4.0, 1.0])
    counts = np.array([[1.0, 0.0, 2.0], [3.0, 1.0, 0.0]])
    np.testing.assert_allclose(ensemble_mean(values, counts), [17.5, 4.0, 1.0])
    assert np.isnan(ensemble_mean(np.array([[np.nan], [np.nan]]))[0])


def test_rounding_to_months_and_years_covers_every_day():
    assert round_up_days(0) == 0 and round_up_days(1) == 30 and round_up_days(30) == 30
    assert round_up_days(1551) == 1560
    assert days_to_years(1560) == 4.28 and days_to_years(0) == 0.0 and days_to_years(365) == 1.0
    for days in range(0, 20 * 365, 30):
        assert round(days_to_years(days) * DAYS_PER_YEAR) >= days


# ------------------------------------------------------------------ known answers
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_known_transient_is_cut_near_its_end(seed):
    # An exponential approach to a level: the bias falls below the noise's sd after
    # tau * ln(10) = 115 days; MSER-5 cuts near there, neither at 0 nor far later.
    tau = 50.0
    series = 10.0 - 10.0 * np.exp(-DAYS / tau) + _noise(seed)
    result = mser(series)
    assert result.steady
    assert 80 <= result.cut_day <= 350, result.cut_day
    assert result.cut_day % 5 == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_stationary_series_is_cut_at_or_near_0(seed):
    result = mser(5.0 + _noise(seed))
    assert result.steady and result.cut_day <= 60
    # Autocorrelated (AR(1), 0.9) but stationary: still an early cut.
    e, y = _noise(seed + 10), np.zeros(DAYS.size)
    for t in range(1, y.size):
        y[t] = 0.9 * y[t - 1] + e[t]
    result = mser(y)
    assert result.steady and result.cut_day <= 200


def test_a_constant_series_needs_no_warm_up():
    result = mser(np.full(300, 7.0))
    assert result.cut_day == 0 and result.steady


@pytest.mark.parametrize("slope", [0.01, -0.02])
def test_a_series_that_keeps_trending_is_flagged_not_steady(slope):
    result = mser(100.0 + slope * DAYS + _noise(4))
    assert not result.steady
    assert result.cut_day > DAYS.size / 2  # reported where it is, not hidden


def test_leading_days_without_data_fall_in_the_warm_up():
    series = np.r_[np.full(50, np.nan), 3.0 + _noise(5, 500)]
    result = mser(series)
    assert result.cut_day >= 50 and result.days[0] == 50


def test_too_short_a_series_is_refused():
    with pytest.raises(ValueError, match="at least 7 batches"):
        mser(np.ones(30) + _noise(1, 30))


def _result(cut: int, steady: bool, n: int = 3650) -> MserResult:
    return MserResult(cut, steady, np.arange(0, n, 5), np.ones(n // 5), n)


def test_the_warm_up_is_the_latest_steady_cut_in_whole_months():
    days, reason, notes = choose_warmup(
        {"a": _result(210, True), "b": _result(745, True), "c": _result(3600, False)}
    )
    assert days == 750
    assert "MSER-5 minimum at day 745 on b, the latest of the 2 series" in reason
    assert len(notes) == 1 and "no steady state detected on c" in notes[0]
    days, reason, _ = choose_warmup({"c": _result(3600, False)})
    assert days is None and "no series reached a steady state" in reason


# ------------------------------------------------------------------ runs and the CLI
SMALL = 'extends = "baseline"\n[world]\nn_states = 6\n'


def test_replications_in_processes_equal_serial():
    from sim.scenario import load_scenario

    scenario = load_scenario("baseline", {"world.n_states": 6, "run.years": 0.3})
    serial = replicate_series(scenario, [1, 2], workers=1)
    parallel = replicate_series(scenario, [1, 2], workers=2)
    for one, other in zip(serial, parallel, strict=True):
        assert one.keys() == other.keys()
        for name, (values, weights) in one.items():
            np.testing.assert_array_equal(values, other[name][0])
            assert (weights is None) == (other[name][1] is None)


def test_cli_warmup_prints_a_warm_up_and_writes_the_figure(capsys, write_toml, tmp_path):
    scenario = write_toml("small.toml", SMALL)
    out = tmp_path / "wu"
    argv = ["warmup", str(scenario), "--years", "2", "--reps", "2", "--out", str(out)]
    code = main(argv)
    stdout, stderr = capsys.readouterr()
    table = pd.read_csv(out / "warmup_mser.csv")
    analysed = table[table["analysed"]]
    # Exit 1 exactly when an analysed series has no steady state (and then it says so).
    assert code == 0, stderr  # no steady state on a series is a warning (exit 1 with --strict)
    assert "warm-up:" in stdout and "days =" in stdout and "why: MSER-5 minimum at day" in stdout
    assert "[run]" in stdout and "warmup_years = " in stdout
    for name in ("backlog_central_authority", "backlog_court", "response_days_mla_evidence"):
        assert name in stdout and name in set(table["series"])
    assert (out / "warmup.png").stat().st_size > 10_000
    assert (out / "warmup.png").read_bytes()[:4] == b"\x89PNG"
    daily = pd.read_csv(out / "warmup_series.csv")
    assert len(daily) == 2 * 365 and {"backlog_court", "backlog_court@1"} <= set(daily.columns)
    # The chosen warm-up is the latest steady cut, rounded up to a whole month.
    latest = int(analysed.loc[analysed["steady_state"].astype(bool), "cut_day"].max())
    assert f"warm-up: {round_up_days(latest)} days" in stdout
    # The folder is coopsim's now: a second run may write there again.
    assert json.loads((out / ".coopsim").read_text())["kind"] == "warmup"


@pytest.mark.parametrize(
    "argv",
    [
        ["warmup", "baseline", "--years", "0.1"],
        ["warmup", "baseline", "--years", "ten"],
        ["warmup", "baseline", "--reps", "1"],
        ["warmup", "baseline", "--workers", "0"],
        ["warmup"],
        ["run", "baseline", "--warmup-years", "-1"],
        ["run", "baseline", "--warmup-years", "25"],
        ["compare", "nsc_law", "--warmup-years", "soon"],
    ],
)
def test_bad_arguments_exit_2_with_a_message(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error" in err and ("--" in err or "required" in err)


def test_warmup_of_no_scenario_or_into_a_file_exits_2_and_runs_nothing(capsys, tmp_path):
    code = main(["warmup", "basline", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and "did you mean" in err and "baseline" in err
    taken = tmp_path / "taken"
    taken.write_text("mine")
    code = main(["warmup", "baseline", "--out", str(taken)])
    err = capsys.readouterr().err
    assert code == 2 and "is a file" in err and taken.read_text() == "mine"


def test_run_warmup_years_adds_the_warm_up_before_the_window(capsys):
    code = main(["run", "baseline", "--years", "0.2", "--warmup-years", "0.2", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    assert json.loads(out)["days"] == 73  # the window measured, after a warm-up of 73 days
