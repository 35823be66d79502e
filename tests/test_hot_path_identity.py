"""Shortcuts on the hot path give exactly what the numpy calls they replace give."""

from __future__ import annotations

import numpy as np
import pytest

from sim.casegen import _DENSE_LOOKUP_LIMIT, category_cdf, count_at_most, draw_categories
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


@pytest.mark.parametrize("n", [1, 2, 3, 40, 64, 195, 400])
@pytest.mark.parametrize("queries", [1, 25, 3000])
def test_count_at_most_equals_searchsorted_row_by_row(n, queries):
    rng = np.random.default_rng(n * 10_007 + queries)
    weights = rng.random((n, n))
    weights[rng.random((n, n)) < 0.2] = 0.0  # repeated cumulative values (ties)
    np.fill_diagonal(weights, 0.0)  # as in the gravity matrix
    weights[rng.integers(n)] = 0.0  # a row of zeros (a state with no partners)
    cum = weights.cumsum(axis=1)
    rows = rng.integers(0, n, size=queries)
    x = rng.random(queries) * cum[rows, -1]
    x[::3] = cum[rows[::3], rng.integers(0, n, size=x[::3].size)]  # exactly on an entry
    x[::7] = 0.0
    x[1::11] = cum[rows[1::11], -1] + 1.0  # above every entry of the row
    x[2::13] = -1.0  # below every entry
    want = np.array([cum[r].searchsorted(v, side="right") for r, v in zip(rows, x, strict=True)])
    got = count_at_most(cum, rows, x)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.int64
    # Both paths are exercised: whole-row comparison below the limit, binary search above.
    assert (queries * n > _DENSE_LOOKUP_LIMIT) == (queries == 3000 and n >= 40)
