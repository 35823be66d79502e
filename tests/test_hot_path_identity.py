"""Shortcuts on the hot path give exactly what the numpy calls they replace give."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import category_cdf, draw_categories
from sim.requests import sorted_unique


@pytest.mark.parametrize(
    "p", [[0.1, 0.2, 0.3, 0.25, 0.15], [0.0, 0.5, 0.0, 0.5, 0.0], [0.2] * 5, [1.0], [0.3, 0.7]]
)
def test_draw_categories_equals_generator_choice_draw_for_draw(p):
    p = np.asarray(p)
    cdf = category_cdf(p)
    for seed in range(50):
        expected, actual = np.random.default_rng(seed), np.random.default_rng(seed)
        for n in (0, 1, 7, 40, 1000):
            want = expected.choice(p.size, size=n, p=p)
            got = draw_categories(actual, cdf, n)
            np.testing.assert_array_equal(got, want)
        # The streams are left in the same state: later draws agree too.
        assert expected.random() == actual.random()


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
