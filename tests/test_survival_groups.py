"""The grouped estimators give, group by group, what sim.survival gives each group alone."""

from __future__ import annotations

import numpy as np
import pytest

from sim import survival
from sim.survival_groups import (
    counts_by_groupings,
    cumulative_incidence_by_group,
    incidences_from_counts,
    km_from_counts,
    km_quantiles_by_group,
    sample_of_counts,
)

CAUSES = {1: "executed", 2: "refused", 3: "lapsed", 5: "withdrawn"}


def sample(seed: int, n: int = 3000, whole: bool = True):
    """Durations with many ties, a fifth censored, five groups of which group 3 is empty
    and group 4 has no event; group -1 is no group."""
    rng = np.random.default_rng(seed)
    durations = rng.integers(0, 400, n).astype(float)
    if not whole:
        durations += rng.random(n).round(2)
    cause = rng.choice([0, 1, 2, 3, 5], size=n, p=[0.2, 0.4, 0.2, 0.1, 0.1])
    group = rng.choice([-1, 0, 1, 2, 4], size=n)
    cause[group == 4] = 0
    return durations, cause, group


@pytest.mark.parametrize("whole", [True, False])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_km_quantiles_by_group_equal_each_group_alone(seed, whole):
    durations, cause, group = sample(seed, whole=whole)
    observed = np.isin(cause, [1, 2])
    probs = (0.1, 0.25, 0.5, 0.75, 0.9)
    got = km_quantiles_by_group(durations, observed, group, 5, probs)
    want = [
        survival.km_quantiles(durations[group == g], observed[group == g], probs) for g in range(5)
    ]
    np.testing.assert_equal(got, want)  # to the bit; NaN where the curve never gets there
    assert got[3]["n"] == 0 and got[4]["events"] == 0 and np.isnan(got[4]["median"])
    assert not np.isnan(got[0]["median"])


@pytest.mark.parametrize("whole", [True, False])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cumulative_incidence_by_group_equals_each_group_alone(seed, whole):
    durations, cause, group = sample(seed, whole=whole)
    got = cumulative_incidence_by_group(durations, cause, group, 5, CAUSES)
    want = [
        survival.cumulative_incidence(durations[group == g], cause[group == g], CAUSES)
        for g in range(5)
    ]
    np.testing.assert_equal(got, want)
    assert all(np.isnan(v) for v in got[3].values())  # an empty group
    assert got[4] == dict.fromkeys(CAUSES.values(), 0.0)  # no event: nothing ended
    assert 0.0 < got[0]["executed"] < 1.0


def test_rows_in_no_group_are_not_checked_or_counted():
    durations = np.array([3.0, 5.0, -1.0, 7.0])
    cause = np.array([1, 0, 9, 1])  # the row in no group has an unknown cause
    group = np.array([0, 0, -1, 1])
    got = cumulative_incidence_by_group(durations, cause, group, 2, {1: "executed"})
    assert got == [
        survival.cumulative_incidence([3.0, 5.0], [1, 0], {1: "executed"}),
        survival.cumulative_incidence([7.0], [1], {1: "executed"}),
    ]


def test_bad_input_is_refused_as_for_one_group():
    durations, cause, group = sample(1, n=50)
    with pytest.raises(ValueError, match="not in causes"):
        cumulative_incidence_by_group(durations, cause, group, 5, {1: "executed"})
    with pytest.raises(ValueError, match="below n_groups=2"):
        km_quantiles_by_group(durations, cause == 1, group, 2)
    with pytest.raises(ValueError, match=">= 0"):
        km_quantiles_by_group(-durations - 1, cause == 1, group, 5)
    with pytest.raises(ValueError, match="must be integers"):
        km_quantiles_by_group(durations, cause == 1, group + 0.5, 5)


def test_very_long_unsigned_durations_are_estimated_as_one_group_would_be():
    durations = np.array([2**63 + 10, 5, 2**40], dtype=np.uint64)
    observed = np.array([True, True, False])
    group = np.zeros(3, dtype=np.int64)
    want = survival.km_quantiles(durations, observed)
    assert km_quantiles_by_group(durations, observed, group, 1) == [want]


@pytest.mark.parametrize("seed", [1, 2])
def test_integer_days_with_every_row_in_a_group_equal_each_group_alone(seed):
    # The path a run's outcomes take: int days, small-integer causes, no row left out.
    durations, cause, group = sample(seed)
    days, cause, group = durations.astype(np.int32), cause.astype(np.int8), np.abs(group)
    observed = np.isin(cause, [1, 2])
    got = km_quantiles_by_group(days, observed, group, 5)
    want = [survival.km_quantiles(durations[group == g], observed[group == g]) for g in range(5)]
    np.testing.assert_equal(got, want)
    got = cumulative_incidence_by_group(days, cause, group, 5, CAUSES)
    want = [
        survival.cumulative_incidence(durations[group == g], cause[group == g], CAUSES)
        for g in range(5)
    ]
    np.testing.assert_equal(got, want)


def test_a_group_code_for_every_duration_or_an_error():
    durations, cause, _ = sample(1, n=50)
    for short in (np.zeros(1, dtype=int), np.zeros(49, dtype=int)):
        with pytest.raises(ValueError, match="durations has 50 values but group has"):
            km_quantiles_by_group(durations, cause == 1, short, 1)
        with pytest.raises(ValueError, match="durations has 50 values but group has"):
            cumulative_incidence_by_group(durations, cause, short, 1, CAUSES)


@pytest.mark.parametrize("seed", [1, 2])
def test_counts_of_several_groupings_give_each_group_alone_s_estimates(seed):
    """compute_outcomes' path: count once per grouping, read incidences and quartiles off."""
    durations, cause, group = sample(seed)
    days = durations.astype(np.int32)
    other = np.random.default_rng(seed).integers(0, 3, days.size)
    counts = counts_by_groupings(
        days.copy(), cause, 6, {"group": (np.where(group < 0, 3, group), 5), "other": (other, 3)}
    )
    for name, codes, n_groups in (("group", np.where(group < 0, 3, group), 5), ("other", other, 3)):
        by_cause = incidences_from_counts(counts[name], CAUSES)
        quartiles = km_from_counts(counts[name], [1, 2])
        for g in range(n_groups):
            rows = codes == g
            want = survival.cumulative_incidence(durations[rows], cause[rows], CAUSES)
            np.testing.assert_equal(by_cause[g], want)
            km = survival.km_quantiles(durations[rows], np.isin(cause[rows], [1, 2]))
            np.testing.assert_equal(quartiles[g], km)


def test_a_sample_rebuilt_from_counts_has_the_durations_quantiles_and_mean():
    days = np.random.default_rng(4).integers(0, 90, 2001)
    (counts,) = counts_by_groupings(days.copy(), np.ones_like(days), 2, {"all": (None, 1)})["all"][
        :, 1
    ]
    rebuilt = sample_of_counts(counts)
    np.testing.assert_array_equal(rebuilt, np.sort(days).astype(float))
    assert np.quantile(rebuilt, 0.9) == np.quantile(days.astype(float), 0.9)
    assert rebuilt.mean() == days.astype(float).mean()


@pytest.mark.parametrize(
    ("days", "label", "group", "message"),
    [
        ([1, -2], [0, 1], [0, 0], "durations must be >= 0"),
        ([1, 2], [0, 6], [0, 0], "labels must be in 0..5"),
        ([1, 2], [0, 1], [0, 2], "group codes must be below n_groups=2"),
    ],
)
def test_counts_refuse_what_would_land_in_another_cell(days, label, group, message):
    with pytest.raises(ValueError, match=message):
        counts_by_groupings(np.array(days), np.array(label), 6, {"g": (np.array(group), 2)})
