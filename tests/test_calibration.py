"""Stylized facts: the data file, the measurement functions, and the calibrated baseline.

The last tests run the shipped baseline (and the secure-platform scenario for P3)
over three replications and check that the calibrated facts F1-F3, F5, F8 and the
patterns fall inside their acceptable ranges: the validation patterns (P1, P5, P6,
which emerge from the mechanisms) and the input checks (P2-P4, arithmetic of inputs).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim import calibration
from sim.calibration import (
    PATTERN_KINDS,
    PATTERN_QUANTITIES,
    Target,
    format_facts,
    ground_shares,
    loss,
    mean_ci,
    refusal_ground_patterns,
)
from sim.requests import Instrument, Kind, Ledger, Outcome, RefusalGround
from sim.scenario import warmup_days

SEEDS = [1, 2, 3]
# The baseline's warm-up; the budget cut lands two years into the window after it.
WARMUP = warmup_days(sim.load_scenario("baseline"))
P1_DAYS = WARMUP + 4 * 365  # year-3 requests of the window get 300 days to be answered


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


def test_patterns_say_whether_they_validate_or_check_inputs():
    _, patterns = calibration.load_facts()
    kinds = {p["id"]: p["kind"] for p in patterns}
    assert set(kinds.values()) <= set(PATTERN_KINDS)
    # P2-P4 are arithmetic of inputs; each says which.
    assert {i for i, k in kinds.items() if k == "input_check"} == {"P2", "P3", "P4"}
    assert all(p["reason"] for p in patterns if p["kind"] == "input_check")
    assert {i for i, k in kinds.items() if k == "validation"} >= {"P1", "P5", "P6"}


def test_validation_patterns_name_public_sources():
    sources = calibration.load_pattern_sources()
    for pattern in ("P5", "P6"):
        mine = [s for s in sources if s["pattern"] == pattern]
        assert mine, pattern
        for source in mine:
            assert source["figure"] and source["title"] and source["publisher"]
            assert source["year"] and source["url"].startswith("https://")
    eaw = [s for s in sources if s["pattern"] == "P5" and "share_of_refusals" in s]
    assert eaw and eaw[0]["ground"] == RefusalGround.NATIONALITY_BAR.name.lower()


def _refusal_ledger(rows):
    """A ledger of refused requests: (kind, instrument, ground, day issued) per row."""
    led = Ledger(initial_capacity=4)
    kind, instrument, ground, issued = (np.array(c) for c in zip(*rows, strict=True))
    led.append(
        kind=kind,
        instrument=instrument,
        refusal_ground=ground,
        outcome=np.where(ground == RefusalGround.NONE, Outcome.EXECUTED, Outcome.REFUSED),
        t_issued=issued,
    )
    return led


def test_refusal_ground_patterns_on_a_constructed_ledger():
    ext, mla = Kind.EXTRADITION, Kind.MLA_EVIDENCE
    mr, treaty = Instrument.MUTUAL_RECOGNITION, Instrument.BILATERAL_TREATY
    g = RefusalGround
    rows = (
        # Mutual-recognition extraditions: 3 nationality, 1 human rights refusals.
        [(ext, mr, g.NATIONALITY_BAR, 400)] * 3
        + [(ext, mr, g.HUMAN_RIGHTS, 400)]
        + [(ext, mr, g.NONE, 400)] * 5  # executed: not refusals
        + [(ext, mr, g.HUMAN_RIGHTS, 10)] * 9  # issued before the window: left out
        # Evidence requests outside mutual recognition: 2 form, 1 dual, 1 political,
        # 3 sovereignty, 1 data protection refusals (8).
        + [(mla, treaty, g.FORM_DEFECT, 500)] * 2
        + [(mla, treaty, g.DUAL_CRIMINALITY, 500)]
        + [(mla, treaty, g.POLITICAL_OFFENCE, 500)]
        + [(mla, treaty, g.SOVEREIGNTY, 500)] * 3
        + [(mla, treaty, g.DATA_PROTECTION, 500)]
        + [(mla, mr, g.SOVEREIGNTY, 500)] * 4  # mutual recognition: not in P6
        + [(ext, treaty, g.SOVEREIGNTY, 500)] * 4  # extradition: not in P6
    )
    led = _refusal_ledger(rows)
    window = led.col("t_issued") >= 365
    out = refusal_ground_patterns(led, window)
    assert out["eaw_nationality_refusal_lead"] == pytest.approx(3 / 4 - 1 / 4)
    assert out["mla_form_dual_refusal_lead"] == pytest.approx(3 / 8 - 4 / 8)
    # Nothing refused: no pattern to measure.
    empty = refusal_ground_patterns(led, np.zeros(len(led), dtype=bool))
    assert all(math.isnan(v) for v in empty.values())


def test_ground_shares_count_each_ground():
    shares = ground_shares(np.array([3, 3, 1, 6], dtype=np.int8))
    assert shares.sum() == pytest.approx(1.0)
    assert shares[RefusalGround.NATIONALITY_BAR] == 0.5
    assert shares[RefusalGround.DUAL_CRIMINALITY] == 0.25
    assert shares[RefusalGround.NONE] == 0.0


def test_format_facts_reports_input_checks_apart_from_validation():
    def row(i, kind, value):
        return {
            "id": i, "kind": kind, "quantity": f"q_{i}", "low": 0.0, "high": 1.0,
            "model_mean": value, "ci_low": value, "ci_high": value,
            "in_range": 0.0 <= value <= 1.0, "calibrated": False, "comparable": True,
        }  # fmt: skip

    text = format_facts(pd.DataFrame([row("P4", "input_check", 0.5), row("P1", "validation", 2.0)]))
    lines = text.splitlines()
    validation = next(k for k, line in enumerate(lines) if line.startswith("-- Validation"))
    checks = next(k for k, line in enumerate(lines) if line.startswith("-- Input checks"))
    assert validation < checks
    assert lines[validation + 1].startswith("P1") and lines[validation + 1].endswith(
        "NO (not tuned)"
    )
    assert lines[checks + 1].startswith("P4")


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
    scenario = sim.load_scenario(
        "baseline", {"world.n_states": 15, "run.years": 3.0, "run.warmup_years": 1.0}
    )
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
    """At the end of the window's year 4: the share of the requests issued in its year 3
    that were answered within 300 days, and the mean central-authority backlog from 70
    days after the cut."""
    share = _answered_within(model, 300, WARMUP + 730, WARMUP + 1095)
    backlog = model.series_frame()["backlog_central_authority"].iloc[WARMUP + 800 : P1_DAYS]
    backlog = backlog.mean()
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
    year 4 of the window, then every quantity measured at the end. A run is the same day by day
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


# P6 is not asserted: over seeds 1-5 its mean is about 0 (-0.02, 95% CI -0.22 to 0.19), so
# whether a run shows it depends on the seed; docs/ODD.md section 8 reports it as not shown.
@pytest.mark.parametrize("pattern", ["P1", "P2", "P4", "P5"])
def test_baseline_shows_the_pattern(pattern, baseline_measures):
    quantity, low, high, _ = PATTERN_QUANTITIES[pattern]
    mean = baseline_measures[quantity].mean()
    assert low <= mean <= high, (pattern, mean)


def test_p3_channels_secure_platform_is_far_faster_than_diplomatic():
    table = calibration.measure_replications(
        sim.load_scenario("secure_platform", {"run.years": 2.0}), SEEDS[:2]
    )
    quantity, low, high, _ = PATTERN_QUANTITIES["P3"]
    assert low <= table[quantity].mean() <= high


def test_p1_a_capacity_cut_raises_response_times_for_the_same_cases(baseline_runs):
    # budget_cuts cuts every agency by 30% two years into the window. Same seed, cases: the
    # requests issued in the year after the cut are answered later, and backlogs grow.
    # The baseline side is the first four years of the shared five-year baseline runs.
    _, p1_baseline = baseline_runs
    for seed in SEEDS[:2]:
        cut = sim.run("budget_cuts", seed=seed, years=(P1_DAYS - WARMUP) / 365)
        share_base, backlog_base = p1_baseline[seed]
        share_cut, backlog_cut = _p1_quantities(cut.model)
        assert share_cut < share_base - 0.02, (seed, share_base, share_cut)
        assert backlog_cut > backlog_base, (seed, backlog_base, backlog_cut)
