"""The kernels' prefetch hint: it compiles for the arrays the kernels read and changes nothing."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from sim.kernel_prefetch import AHEAD, prefetch, prefetch_pair


@njit
def _gather_ahead(values, ids):
    total = 0.0
    for k in range(ids.size):
        if k + AHEAD < ids.size:
            prefetch(values, ids[k + AHEAD])
        total += values[ids[k]]
    return total


@njit
def _pairs_ahead(matrix, rows, cols):
    out = np.empty(rows.size)
    for k in range(rows.size):
        if k + AHEAD < rows.size:
            prefetch_pair(matrix, rows[k + AHEAD], cols[k + AHEAD])
        out[k] = matrix[rows[k], cols[k]]
    return out


def _in_order(values) -> float:
    """The values added one by one from 0.0, as the loop adds them."""
    total = 0.0
    for value in values.tolist():
        total += value
    return total


def test_a_loop_that_fetches_ahead_reads_what_it_read_without():
    rng = np.random.default_rng(3)
    # A strided column, as the ledger's are (a field of 64-byte rows), and int8 values.
    rows = np.zeros(5000, dtype=[("stage", "i1"), ("severity", "f8"), ("pad", "V55")])
    rows["severity"] = rng.random(5000)
    ids = rng.integers(0, 5000, 700)
    column = rows["severity"]
    assert not column.flags.c_contiguous
    assert _gather_ahead(column, ids) == _in_order(column[ids])
    small = rng.integers(-5, 5, 5000).astype(np.int8)
    assert _gather_ahead(small, ids) == _in_order(small[ids])

    matrix = rng.random((195, 195))
    a, b = rng.integers(0, 195, 400), rng.integers(0, 195, 400)
    np.testing.assert_array_equal(_pairs_ahead(matrix, a, b), matrix[a, b])
    np.testing.assert_array_equal(_pairs_ahead(matrix.T, a, b), matrix.T[a, b])  # by column
    strided = matrix[::2, ::3]
    a, b = rng.integers(0, strided.shape[0], 400), rng.integers(0, strided.shape[1], 400)
    np.testing.assert_array_equal(_pairs_ahead(strided, a, b), strided[a, b])
    # The hint is in the machine code, not optimised away.
    for kernel in (_gather_ahead, _pairs_ahead):
        for signature in kernel.signatures:
            assert "prefetcht0" in kernel.inspect_asm(signature)


def test_prefetch_refuses_what_it_cannot_address():
    @njit
    def one_index_into_a_matrix(matrix):
        prefetch(matrix, 0)

    @njit
    def a_float_index(values):
        prefetch(values, 1.5)

    with pytest.raises(TypingError):
        one_index_into_a_matrix(np.zeros((2, 2)))
    with pytest.raises(TypingError):
        a_float_index(np.zeros(3))
