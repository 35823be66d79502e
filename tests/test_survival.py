"""sim.survival against analytic values, hand-worked arithmetic and lifelines."""

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from sim import survival
from sim.requests import Outcome

EXECUTED, REFUSED, LAPSED, WITHDRAWN = (
    Outcome.EXECUTED,
    Outcome.REFUSED,
    Outcome.LAPSED,
    Outcome.WITHDRAWN,
)
TWO_CAUSES = {int(EXECUTED): "executed", int(REFUSED): "refused"}

# A small example, worked out by hand below. Seven requests, whole days, with ties:
# on day 3 one request is executed, one is refused and one is still open (censored).
HAND_DAYS = [2, 3, 3, 3, 5, 6, 8]
HAND_CAUSE = [EXECUTED, REFUSED, EXECUTED, 0, EXECUTED, 0, EXECUTED]
# t = day, n = requests at risk on that day (duration >= t, so the request censored
# on day 3 still counts on day 3), d = requests ending that day.
#
# Any ending ("closed"), S(t) = product of (n - d) / n:
#   t=2: n=7, d=1            S = 6/7          = 0.857
#   t=3: n=6, d=2 (+1 cens.) S = 6/7 * 4/6    = 4/7  = 0.571
#   t=5: n=3, d=1            S = 4/7 * 2/3    = 8/21 = 0.381
#   t=6: n=2, d=0 (1 cens.)  S = 8/21
#   t=8: n=1, d=1            S = 0
# Quantile q is the first t with S(t) <= 1 - q:
#   q25 (S <= 0.75) = 3, median (S <= 0.5) = 5, q75 (S <= 0.25) = 8.
# The completed-only median of 2, 3, 3, 5, 8 is 3: the censored waits are left out.
#
# Execution only (refusal censored):
#   t=2: 6/7; t=3: n=6, d=1, S = 6/7 * 5/6 = 5/7 = 0.714; t=5: n=3, d=1,
#   S = 5/7 * 2/3 = 10/21 = 0.476; t=8: S = 0.  q25 = 3, median = 5, q75 = 8.
#
# Aalen-Johansen: F_k(t) = sum over u <= t of S(u-) * d_k(u) / n(u):
#   executed: t=2: 1 * 1/7 = 1/7; t=3: + 6/7 * 1/6 = 2/7; t=5: + 4/7 * 1/3 = 10/21;
#             t=8: + 8/21 * 1/1 = 18/21 = 6/7.
#   refused:  t=3: 6/7 * 1/6 = 1/7.
#   Check: at t=6, 10/21 + 3/21 + S = 8/21 adds up to 1; at t=8, 6/7 + 1/7 = 1.


def test_hand_example_kaplan_meier():
    closed = np.asarray(HAND_CAUSE) != 0
    assert survival.km_quantiles(HAND_DAYS, closed) == {
        "q25": 3.0,
        "median": 5.0,
        "q75": 8.0,
        "n": 7,
        "events": 5,
    }
    executed = np.asarray(HAND_CAUSE) == EXECUTED
    result = survival.km_quantiles(HAND_DAYS, executed)
    assert (result["q25"], result["median"], result["q75"]) == (3.0, 5.0, 8.0)
    assert result["events"] == 4


def test_hand_example_naive_median_leaves_out_the_open_requests():
    completed = [d for d, c in zip(HAND_DAYS, HAND_CAUSE, strict=True) if c != 0]
    assert survival.naive_quantiles(completed)["median"] == 3.0


def test_hand_example_cumulative_incidence():
    curves = survival.incidence_curves(HAND_DAYS, HAND_CAUSE, TWO_CAUSES)
    assert list(curves.columns) == ["time", "executed", "refused", "still_open"]
    assert_allclose(curves["time"], [0, 2, 3, 5, 6, 8])
    assert_allclose(curves["executed"], [0, 1 / 7, 2 / 7, 10 / 21, 10 / 21, 6 / 7], atol=1e-15)
    assert_allclose(curves["refused"], [0, 0, 1 / 7, 1 / 7, 1 / 7, 1 / 7], atol=1e-15)
    assert_allclose(curves["still_open"], [1, 6 / 7, 4 / 7, 8 / 21, 8 / 21, 0], atol=1e-15)

    at_day_4 = survival.cumulative_incidence(HAND_DAYS, HAND_CAUSE, TWO_CAUSES, horizon=4)
    assert_allclose(list(at_day_4.values()), [2 / 7, 1 / 7], atol=1e-15)
    # Default horizon: the last day observed.
    at_end = survival.cumulative_incidence(HAND_DAYS, HAND_CAUSE, TWO_CAUSES)
    assert_allclose(list(at_end.values()), [6 / 7, 1 / 7], atol=1e-15)


def test_horizons_outside_the_observed_days():
    def at(horizon, cause=HAND_CAUSE):
        return survival.cumulative_incidence(HAND_DAYS, cause, TWO_CAUSES, horizon=horizon)

    assert at(1) == {"executed": 0.0, "refused": 0.0}  # before anything happened
    # Every request had ended by day 8, so the curves stay flat afterwards.
    assert_allclose(list(at(100).values()), [6 / 7, 1 / 7], atol=1e-15)
    # With the last request still open, what happens after day 8 is unknown.
    last_open = [*HAND_CAUSE[:-1], 0]
    assert all(math.isnan(v) for v in at(9, last_open).values())
    assert not any(math.isnan(v) for v in at(8, last_open).values())
    assert all(math.isnan(v) for v in at(math.nan).values())


def test_without_censoring_km_quantiles_are_the_sample_quantiles():
    # Step-function sample quantiles (inverted_cdf), including ties and even sizes,
    # where interpolation would give a value between two durations.
    rng = np.random.default_rng(3)
    probs = (0.1, 0.25, 0.5, 0.75, 0.9)
    for size in (1, 2, 4, 10, 37, 500):
        days = rng.integers(0, 60, size)
        km = survival.km_quantiles(days, np.ones(size, bool), probs)
        expected = np.quantile(days, probs, method="inverted_cdf")
        assert [km[k] for k in ("q10", "q25", "median", "q75", "q90")] == list(expected), size
        naive = survival.naive_quantiles(days, probs)
        assert [naive[k] for k in ("q10", "q25", "median", "q75", "q90")] == list(expected)
    assert survival.km_quantiles([1, 2, 3, 4], [True] * 4)["median"] == 2.0
    assert survival.km_quantiles([1, 2, 3], [True] * 3)["median"] == np.median([1, 2, 3])


def test_without_censoring_incidence_at_the_end_is_each_cause_share():
    rng = np.random.default_rng(4)
    days = rng.integers(0, 90, 2_000)
    cause = rng.choice([EXECUTED, REFUSED, LAPSED, WITHDRAWN], 2_000, p=[0.55, 0.25, 0.15, 0.05])
    result = survival.cumulative_incidence(days, cause)
    assert list(result) == ["executed", "refused", "lapsed", "withdrawn"]
    for code, name in survival.CLOSING_CAUSES.items():
        assert result[name] == pytest.approx(np.mean(cause == code), abs=1e-12)


def test_incidences_and_still_open_sum_to_one_at_every_time():
    days, cause = _simulated_requests(np.random.default_rng(5), 3_000)
    curves = survival.incidence_curves(days, cause)
    total = curves[["executed", "refused", "lapsed", "withdrawn", "still_open"]].sum(axis=1)
    assert_allclose(total, 1.0, atol=1e-12)
    # Every curve is a proper step curve: incidences never fall, still_open never rises.
    assert (curves[["executed", "refused", "lapsed", "withdrawn"]].diff().iloc[1:] >= 0).all().all()
    assert (curves["still_open"].diff().iloc[1:] <= 0).all()


def test_still_open_is_scipys_kaplan_meier_and_one_cause_is_its_complement():
    days, cause = _simulated_requests(np.random.default_rng(6), 3_000)
    ended = cause != 0
    curves = survival.incidence_curves(days, cause).set_index("time")
    km = stats.ecdf(stats.CensoredData.right_censored(days, censored=~ended)).sf
    assert_allclose(curves["still_open"].loc[km.quantiles], km.probabilities, atol=1e-15)
    # With a single way of ending, the incidence is 1 - Kaplan-Meier.
    single = survival.incidence_curves(days, ended.astype(int), {1: "closed"}).set_index("time")
    assert_allclose(single["closed"].loc[km.quantiles], 1 - km.probabilities, atol=1e-12)


@pytest.mark.parametrize("case", ["ties", "few_events", "fractional", "one"])
def test_kaplan_meier_is_scipys_ecdf_to_the_last_bit(case):
    """km_quantiles' curve (computed here, see the module) is scipy.stats.ecdf's exactly."""
    rng = np.random.default_rng(11)
    if case == "ties":  # whole days, many ties, a fifth censored
        days, cause = _simulated_requests(rng, 2_000)
        observed = cause != 0
    elif case == "few_events":  # almost everything still open
        days = rng.integers(0, 40, 500).astype(float)
        observed = rng.random(500) < 0.02
    elif case == "fractional":
        days = rng.exponential(10.0, 300)
        observed = rng.random(300) < 0.7
    else:
        days, observed = np.array([3.0]), np.array([True])
    times, curve = survival._kaplan_meier(np.asarray(days, dtype=float), observed)
    km = stats.ecdf(stats.CensoredData.right_censored(days, censored=~observed)).sf
    np.testing.assert_array_equal(times, km.quantiles)
    np.testing.assert_array_equal(curve, km.probabilities)


def test_a_run_and_its_outcomes_do_not_import_scipy_stats():
    """scipy.stats costs each process about half a second: only the confidence band needs it."""
    code = (
        "import sys, sim\n"
        "r = sim.run(sim.load_scenario('baseline', {'world.n_states': 6, 'run.years': 0.3,"
        " 'run.warmup_years': 0.0}), seed=2)\n"
        "assert r.outcomes['completion_rate'] >= 0\n"
        "print(sorted(m for m in sys.modules if m.startswith('scipy.stats')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_exponential_durations_with_independent_censoring_recover_the_true_quartiles():
    # Waits of whole days, ceil(Exp(mean 60)): the q-quantile is ceil(-60 log(1 - q)),
    # so 18, 42 and 84 days. Observation stops at an independent uniform day.
    rng = np.random.default_rng(20240601)
    size = 5_000
    waits = np.ceil(rng.exponential(60.0, size))
    stop = rng.integers(0, 250, size)
    days = np.minimum(waits, stop)
    observed = waits <= stop
    assert 0.2 < 1 - observed.mean() < 0.35  # a quarter censored, mostly long waits

    km = survival.km_quantiles(days, observed, confidence_level=0.95)
    assert km["q25"] == pytest.approx(18, abs=2)
    assert km["median"] == pytest.approx(42, abs=3)
    assert km["q75"] == pytest.approx(84, abs=6)
    assert km["median_low"] <= 42 <= km["median_high"]
    # Completed only: the long waits are the ones censored, so the median is far too low.
    naive = survival.naive_quantiles(days[observed])
    assert naive["median"] < 35


def test_exponential_competing_causes_recover_the_true_incidence():
    # Two ways of ending with constant daily rates a and b: the incidence of the
    # first by day t is a / (a + b) * (1 - exp(-(a + b) t)).
    rng = np.random.default_rng(11)
    size = 20_000
    a, b = 1 / 50, 1 / 150
    time_a, time_b = rng.exponential(1 / a, size), rng.exponential(1 / b, size)
    stop = rng.uniform(0, 200, size)
    days = np.minimum.reduce([time_a, time_b, stop])
    cause = np.select([days == time_a, days == time_b], [EXECUTED, REFUSED], 0)
    for t in (10, 40, 100):
        result = survival.cumulative_incidence(days, cause, TWO_CAUSES, horizon=t)
        total = 1 - math.exp(-(a + b) * t)
        assert result["executed"] == pytest.approx(a / (a + b) * total, abs=0.015)
        assert result["refused"] == pytest.approx(b / (a + b) * total, abs=0.015)


def test_km_median_is_at_least_the_completed_only_median_when_long_waits_are_censored():
    rng = np.random.default_rng(8)
    for _ in range(20):
        waits = rng.integers(1, 120, 400)
        cutoff = rng.integers(40, 100)  # the run ends: waits past it are censored there
        days, observed = np.minimum(waits, cutoff), waits <= cutoff
        km = survival.km_quantiles(days, observed)["median"]
        naive = survival.naive_quantiles(days[observed])["median"]
        assert math.isnan(km) or km >= naive


def test_quantiles_the_curve_never_reaches_are_nan():
    # S(1) = 3/4, then only censored requests: a quarter have been answered, no more.
    result = survival.km_quantiles([1, 2, 3, 4], [True, False, False, False])
    assert result["q25"] == 1.0
    assert math.isnan(result["median"]) and math.isnan(result["q75"])
    nothing = survival.km_quantiles([5, 6, 7], [False] * 3, confidence_level=0.9)
    assert nothing["events"] == 0 and nothing["n"] == 3
    assert all(math.isnan(nothing[k]) for k in ("q25", "median", "q75", "median_low"))


def test_confidence_interval_brackets_the_estimate():
    days, cause = _simulated_requests(np.random.default_rng(9), 800)
    result = survival.km_quantiles(days, cause == EXECUTED, confidence_level=0.95)
    for key in ("q25", "median"):
        assert result[f"{key}_low"] <= result[key] <= result[f"{key}_high"], key
    wider = survival.km_quantiles(days, cause == EXECUTED, confidence_level=0.99)
    assert wider["median_low"] <= result["median_low"]
    assert wider["median_high"] >= result["median_high"]


def test_empty_input_gives_nan_and_never_raises():
    km = survival.km_quantiles([], [], confidence_level=0.95)
    assert km["n"] == 0 and km["events"] == 0
    assert all(math.isnan(km[k]) for k in ("q25", "median", "q75", "median_low", "median_high"))
    naive = survival.naive_quantiles(np.array([], dtype=int))
    assert naive["n"] == 0 and math.isnan(naive["median"])
    incidence = survival.cumulative_incidence([], [])
    assert list(incidence) == list(survival.CLOSING_CAUSES.values())
    assert all(math.isnan(v) for v in incidence.values())
    assert all(math.isnan(v) for v in survival.cumulative_incidence([], [], horizon=30).values())
    curves = survival.incidence_curves([], [])
    assert curves.empty
    assert list(curves.columns) == ["time", *survival.CLOSING_CAUSES.values(), "still_open"]


def test_ties_are_handled_deterministically_and_order_does_not_matter():
    days, cause = _simulated_requests(np.random.default_rng(10), 5_000)
    assert np.unique(days).size < 400  # whole days: ties everywhere
    shuffle = np.random.default_rng(0).permutation(days.size)
    first = survival.incidence_curves(days, cause)
    pd.testing.assert_frame_equal(first, survival.incidence_curves(days, cause))
    assert_allclose(
        survival.incidence_curves(days[shuffle], cause[shuffle]), first, rtol=0, atol=1e-15
    )
    answered = np.isin(cause, [EXECUTED, REFUSED])
    km = survival.km_quantiles(days, answered, confidence_level=0.95)
    assert km == survival.km_quantiles(days, answered, confidence_level=0.95)
    assert km == survival.km_quantiles(days[shuffle], answered[shuffle], confidence_level=0.95)


def test_request_durations_censor_open_requests_at_the_end_day():
    t_issued = np.array([0, 10, 20, 30, 40], dtype=np.int32)
    t_closed = np.array([12, 25, -1, 70, -1], dtype=np.int32)
    outcome = np.array([EXECUTED, REFUSED, Outcome.OPEN, WITHDRAWN, Outcome.OPEN], np.int8)
    days, cause = survival.request_durations(t_issued, t_closed, outcome, end_day=100)
    assert days.tolist() == [12, 15, 80, 40, 60]
    assert cause.tolist() == [1, 2, 0, 4, 0]
    with pytest.raises(ValueError, match="issued"):
        survival.request_durations([-1], [5], [EXECUTED], end_day=100)
    with pytest.raises(ValueError, match="closing day"):
        survival.request_durations([3], [-1], [EXECUTED], end_day=100)


def test_bad_input_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="durations has 2 values"):
        survival.km_quantiles([1, 2], [True])
    with pytest.raises(ValueError, match=">= 0"):
        survival.naive_quantiles([-1.0])
    with pytest.raises(ValueError, match="finite"):
        survival.cumulative_incidence([1.0, math.nan], [1, 1])
    with pytest.raises(ValueError, match=r"cause codes \[4\]"):
        survival.cumulative_incidence([1, 2], [1, 4], TWO_CAUSES)
    with pytest.raises(ValueError, match="in \\(0, 1\\)"):
        survival.km_quantiles([1], [True], probs=(0.5, 1.0))
    with pytest.raises(ValueError, match="censored"):
        survival.incidence_curves([1], [1], {0: "open", 1: "executed"})


# Reference: lifelines 0.30.3, AalenJohansenFitter(calculate_variance=False)
# .fit(LIFELINES_DAYS, LIFELINES_CAUSE, event_of_interest=code).cumulative_density_,
# run with `uv run --with lifelines==0.30.3` (it needs pandas < 3, so it is not a
# dependency of the project). No two times are equal, so it does not jitter.
LIFELINES_DAYS = [2.0, 3.5, 5.0, 6.5, 7.0, 9.0, 11.5, 12.0, 14.0, 15.5, 18.0, 21.0]
LIFELINES_CAUSE = [1, 0, 2, 1, 4, 0, 1, 3, 0, 1, 2, 0]
LIFELINES_CIF = {
    "executed": [0.0, 1 / 12, 1 / 12, 1 / 12, 0.175, 0.175, 0.175]
    + [0.2819444444444444] * 3
    + [0.42453703703703694] * 3,
    "refused": [0.0] * 3 + [0.09166666666666667] * 8 + [0.2342592592592592] * 2,
    "lapsed": [0.0] * 8 + [0.10694444444444443] * 5,
    "withdrawn": [0.0] * 5 + [0.09166666666666663] * 8,
}


def test_agrees_with_lifelines_reference_values():
    curves = survival.incidence_curves(LIFELINES_DAYS, LIFELINES_CAUSE)
    assert_allclose(curves["time"], [0.0, *LIFELINES_DAYS])
    for name, expected in LIFELINES_CIF.items():
        assert_allclose(curves[name], expected, rtol=0, atol=1e-12, err_msg=name)


def test_agrees_with_lifelines_on_data_without_ties():
    lifelines = pytest.importorskip("lifelines")  # uv run --with "lifelines>=0.30" pytest ...
    rng = np.random.default_rng(12)
    days = rng.permutation(np.linspace(0.5, 400.0, 2_000)) + rng.uniform(0, 1e-3, 2_000)
    cause = rng.choice(
        [0, EXECUTED, REFUSED, LAPSED, WITHDRAWN], 2_000, p=[0.3, 0.4, 0.1, 0.1, 0.1]
    )
    ours = survival.incidence_curves(days, cause).set_index("time")
    for code, name in survival.CLOSING_CAUSES.items():
        fitter = lifelines.AalenJohansenFitter(calculate_variance=False)
        reference = fitter.fit(days, cause, event_of_interest=code).cumulative_density_.iloc[:, 0]
        assert_allclose(ours[name].loc[reference.index], reference, rtol=0, atol=1e-9)


def _simulated_requests(rng, size, end_day=365):
    """Requests issued over a year with whole-day waits; those unfinished at the end are open."""
    issued = rng.integers(0, end_day, size)
    waits = np.ceil(rng.exponential(60.0, size)).astype(int)
    ends = rng.choice([EXECUTED, REFUSED, LAPSED, WITHDRAWN], size, p=[0.6, 0.2, 0.1, 0.1])
    still_open = issued + waits > end_day
    days = np.where(still_open, end_day - issued, waits)
    cause = np.where(still_open, int(Outcome.OPEN), ends)
    return days, cause


@pytest.mark.parametrize(
    "durations",
    [
        np.array([3.0, 0.0, 3.0, 7.0, 1.0]),  # whole days: counted
        np.array([3.0, 0.5, 3.0, 7.25]),  # fractions: sorted
        np.array([2.0, 1e7, 2.0]),  # beyond the counted range: sorted
        np.random.default_rng(3).integers(0, 900, 20_000).astype(float),
    ],
)
def test_distinct_times_equal_numpys_unique(durations):
    times, day = survival._distinct_times(durations)
    expected_times, expected_day = np.unique(durations, return_inverse=True)
    assert times.dtype == expected_times.dtype
    assert np.array_equal(times, expected_times) and np.array_equal(day, expected_day)


def test_incidence_counted_in_one_pass_equals_a_count_per_cause():
    days, cause = _simulated_requests(np.random.default_rng(11), 5_000)
    times, day = np.unique(days, return_inverse=True)
    codes = list(survival.CLOSING_CAUSES)
    ends = survival._ends_by_cause(day, cause, codes, times.size)
    for row, code in zip(ends, codes, strict=True):
        assert np.array_equal(row, np.bincount(day[cause == code], minlength=times.size))
    assert ends.sum() == np.count_nonzero(cause)  # every ending counted once, the open ones not


def test_incidence_of_no_cause_is_empty_and_negative_codes_are_counted_one_by_one():
    days = np.array([1.0, 2.0, 2.0, 5.0])
    assert survival.cumulative_incidence(days, [0, 0, 0, 0], causes={}) == {}
    ends = survival._ends_by_cause(np.array([0, 1, 1, 2]), np.array([-3, 0, -3, 7]), [-3, 7], 3)
    assert ends.tolist() == [[1, 1, 0], [0, 0, 1]]


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint16, np.int8])
def test_whole_days_as_integers_give_what_the_same_days_as_floats_give(dtype):
    days, cause = _simulated_requests(np.random.default_rng(5), 4_000)
    days = np.minimum(days, 120).astype(float)  # whole days, as floats; fit every dtype below
    whole = days.astype(dtype)
    assert survival._as_durations(whole).dtype == np.int64
    observed = cause == Outcome.EXECUTED
    assert survival.km_quantiles(whole, observed) == survival.km_quantiles(days, observed)
    assert survival.cumulative_incidence(whole, cause) == survival.cumulative_incidence(days, cause)
    assert survival.naive_quantiles(whole) == survival.naive_quantiles(days)
    curves = survival.incidence_curves(whole, cause)
    pd.testing.assert_frame_equal(curves, survival.incidence_curves(days, cause))
    big = np.array([2, 10**7, 2], dtype=np.int64)  # beyond the counted range: sorted
    times, _ = survival._distinct_times(survival._as_durations(big))
    assert times.dtype == float and times.tolist() == [2.0, 1e7]


def test_negative_integer_durations_are_refused():
    with pytest.raises(ValueError, match="durations must be >= 0"):
        survival.km_quantiles(np.array([3, -1, 2], dtype=np.int32), [True, True, False])
