"""Stylized facts: the data file, the measurement functions, and the calibrated baseline.

The last tests run the shipped baseline (and the secure-platform scenario for P3)
over three replications and check that the calibrated facts F1-F3, F5, F8 and the
patterns P1-P4 fall inside their acceptable ranges.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim import calibration
from sim.calibration import PATTERN_QUANTITIES, Target, loss, mean_ci

SEEDS = [1, 2, 3]
P1_DAYS = 4 * 365  # the cut lands at year 2; year-3 requests get 300 days to be answered


def test_facts_file_has_every_fact_and_pattern_with_a_source_and_a_range():
    facts, patterns = calibration.load_facts()
    ids = {f["id"] for f in facts}
    assert {"F1", "F2", "F3a", "F3b", "F4", "F5", "F6", "F7", "F8", "F9", "F10"} <= ids
    for fact in facts:
        assert fact["source"] and fact["figure"] and fact["unit"]
        assert fact["low"] <= fact["target"] <= fact["high"], fact["id"]
    assert {p["id"] for p in patterns} == set(PATTERN_QUANTITIES)
    calibrated = {f["id"] for f in facts if f["calibrated"]}
    assert calibrated == {"F1", "F2", "F3a", "F3b", "F5", "F8"}


def test_loss_is_zero_on_target_and_one_at_half_the_range():
    targets = [Target("a", 300.0, 240.0, 420.0), Target("b", 0.9, 0.75, 1.0)]
    assert loss({"a": 300.0, "b": 0.9}, targets) == 0.0
    assert loss({"a": 390.0, "b": 0.9}, targets) == pytest.approx(1.0)
    assert loss({"a": 300.0, "b": 0.775}, targets) == pytest.approx(1.0)
    assert loss({"a": math.nan, "b": 0.9}, targets) == 25.0


def test_mean_ci_is_the_t_interval():
    values = np.array([1.0, 2.0, 4.0, 7.0])
    mean, lo, hi = mean_ci(values)
    half = stats.t.ppf(0.975, 3) * values.std(ddof=1) / 2.0
    assert mean == pytest.approx(3.5)
    assert (lo, hi) == pytest.approx((3.5 - half, 3.5 + half))
    assert math.isnan(mean_ci(np.array([np.nan]))[0])
    assert math.isnan(mean_ci(np.array([2.0]))[1])


def test_measure_returns_every_quantity_from_a_short_run():
    scenario = sim.load_scenario("baseline", {"world.n_states": 15, "run.years": 4.0})
    measured = calibration.measure(sim.CooperationModel(scenario, rng=1).run())
    facts, _ = calibration.load_facts()
    for fact in facts:
        if fact["comparable"]:
            assert fact["quantity"] in measured, fact["id"]
    for quantity, *_ in PATTERN_QUANTITIES.values():
        assert quantity in measured
    assert measured["mla_mean_response_days"] > 0
    assert 0.0 <= measured["treaty_coverage"] <= 1.0


def _p1_quantities(model) -> tuple[float, float]:
    """At the end of year 4: the share of the requests issued in year 3 that were answered
    within 300 days, and the mean central-authority backlog from day 800."""
    share = _answered_within(model, 300, 730, 1095)
    backlog = model.series_frame()["backlog_central_authority"].iloc[800:P1_DAYS].mean()
    return share, float(backlog)


def _answered_within(model, days: int, issued_from: int, issued_to: int) -> float:
    """Share of requests issued in [from, to) that were executed within ``days``."""
    led = model.ledger
    issued = led.col("t_issued")
    cohort = (issued >= issued_from) & (issued < issued_to)
    answered = (led.col("t_executed") >= 0) & (led.col("t_closed") - issued <= days)
    return float(np.mean(answered[cohort]))


@pytest.fixture(scope="module")
def baseline_runs():
    """The shipped baseline for each seed: the P1 quantities when it reaches the end of
    year 4, then every quantity measured at the end (year 5). A run is the same day by day
    whatever its horizon, so the first equal those of a four-year run with the same seed."""
    scenario = sim.load_scenario("baseline")
    measures, p1 = {}, {}
    for seed in SEEDS:
        model = sim.CooperationModel(scenario, rng=seed)
        for _ in range(P1_DAYS):
            model.step()
        p1[seed] = _p1_quantities(model)
        measures[seed] = calibration.measure(model.run())
    return pd.DataFrame.from_dict(measures, orient="index"), p1


@pytest.fixture(scope="module")
def baseline_measures(baseline_runs):
    return baseline_runs[0]


@pytest.mark.parametrize(("fact_id",), [("F1",), ("F2",), ("F3a",), ("F3b",), ("F5",), ("F8",)])
def test_calibrated_baseline_meets_the_fact(fact_id, baseline_measures):
    facts, _ = calibration.load_facts()
    fact = next(f for f in facts if f["id"] == fact_id)
    mean = baseline_measures[fact["quantity"]].mean()
    assert fact["low"] <= mean <= fact["high"], (fact_id, mean, fact["low"], fact["high"])


@pytest.mark.parametrize("pattern", ["P1", "P2", "P4"])
def test_baseline_shows_the_pattern(pattern, baseline_measures):
    quantity, low, high, _ = PATTERN_QUANTITIES[pattern]
    mean = baseline_measures[quantity].mean()
    assert low <= mean <= high, (pattern, mean)


def test_p3_channels_secure_platform_is_far_faster_than_diplomatic():
    table = calibration.measure_replications(
        sim.load_scenario("secure_platform", {"run.years": 4.0}), SEEDS[:2]
    )
    quantity, low, high, _ = PATTERN_QUANTITIES["P3"]
    assert low <= table[quantity].mean() <= high


def test_p1_a_capacity_cut_raises_response_times_for_the_same_cases(baseline_runs):
    # budget_cuts cuts every agency by 30% at year 2. Same seed, same cases: the
    # requests issued in the year after the cut are answered later, and backlogs grow.
    # The baseline side is the first four years of the shared five-year baseline runs.
    _, p1_baseline = baseline_runs
    for seed in SEEDS[:2]:
        cut = sim.run("budget_cuts", seed=seed, years=P1_DAYS / 365)
        share_base, backlog_base = p1_baseline[seed]
        share_cut, backlog_cut = _p1_quantities(cut.model)
        assert share_cut < share_base - 0.02, (seed, share_base, share_cut)
        assert backlog_cut > backlog_base, (seed, backlog_base, backlog_cut)
