"""Shortcuts and compiled draws on the hot path give what the numpy calls they replace give."""

from __future__ import annotations

import numpy as np
import pytest

from sim.casegen import category_cdf
from sim.kernel_cases import CASE_PARAMETERS, draw_cases, gravity_partners
from sim.kernel_state import new_streams
from sim.requests import sorted_unique


def _reference_partners(rng, row, origin, k):
    """The gravity rule drawn in Python: ``k`` uniforms at a time until ``k`` are distinct."""
    chosen: list[int] = []
    while len(chosen) < k:
        u = rng.random(k)
        for p in np.searchsorted(row, u * row[-1], side="right").tolist():
            p = min(p, len(row) - 1)
            if p != origin and p not in chosen and len(chosen) < k:
                chosen.append(p)
    return chosen


def _draw(rng, p, rate, cum):
    n = rate.size
    cp = np.zeros(len(CASE_PARAMETERS))
    cp[:6] = [2.0, 5.0, 10.0, 2.0, 300.0, 2.5]  # severity a, b; concentration; deadline; links
    streams = new_streams(rng, rng)  # the case draws take the cases' stream
    return draw_cases(
        streams,
        rate,
        category_cdf(p),
        np.full(p.size, 0.3),
        cum,
        np.zeros(n, bool),
        np.zeros(n),
        cp,
        0,
    )


@pytest.mark.parametrize(
    "p", [[0.1, 0.2, 0.3, 0.25, 0.15], [0.0, 0.5, 0.0, 0.5, 0.0], [0.2] * 5, [1.0], [0.3, 0.7]]
)
def test_case_types_are_generator_choice_draw_for_draw(p):
    """The compiled case draws take the cases' types as ``Generator.choice`` would."""
    p = np.asarray(p)
    cum = np.ones((6, 6)).cumsum(axis=1)
    for seed in range(20):
        for scale in (0.0, 0.5, 5.0):
            rate = np.full(6, scale)
            expected, actual = np.random.default_rng(seed), np.random.default_rng(seed)
            n = int(expected.poisson(rate).sum())
            want = expected.choice(p.size, size=n, p=p)
            np.testing.assert_array_equal(_draw(actual, p, rate, cum).case_type, want)


@pytest.mark.parametrize("n", [2, 3, 40, 195])
def test_gravity_partners_equal_the_python_rule_draw_for_draw(n):
    rng = np.random.default_rng(n)
    weights = rng.random((n, n))
    weights[rng.random((n, n)) < 0.2] = 0.0  # repeated cumulative values (ties)
    np.fill_diagonal(weights, 0.0)  # as in the gravity matrix
    cum = weights.cumsum(axis=1)
    for seed in range(30):
        origin = int(rng.integers(n))
        if cum[origin, -1] == 0.0:
            continue
        k = int(rng.integers(1, min(n - 1, np.count_nonzero(weights[origin])) + 1))
        expected, actual = np.random.default_rng(seed), np.random.default_rng(seed)
        out = np.full(k + 2, -1, dtype=np.int64)
        gravity_partners(actual, cum[origin], origin, k, out, 1)
        assert out[1 : k + 1].tolist() == _reference_partners(expected, cum[origin], origin, k)
        assert out[0] == out[-1] == -1  # only its slots are written
        assert expected.random() == actual.random()  # the streams are left in the same state


def test_sorted_unique_equals_np_unique():
    rng = np.random.default_rng(0)
    for size in (0, 1, 2, 5, 30, 500):
        for high in (1, 3, 50, 10**9):
            values = rng.integers(0, high, size=size)
            np.testing.assert_array_equal(sorted_unique(values), np.unique(values))
            got, counts = sorted_unique(values, return_counts=True)
            want, want_counts = np.unique(values, return_counts=True)
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(counts, want_counts)
    int8 = np.array([3, -1, 3, 0], dtype=np.int8)
    assert sorted_unique(int8).dtype == np.int8
    np.testing.assert_array_equal(sorted_unique(int8), [-1, 0, 3])
