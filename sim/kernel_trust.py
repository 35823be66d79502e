"""Trust's rules compiled: a pair's current trust and the updates closed requests make.

The rules of :class:`sim.trust.TrustNetwork` (lazy relaxation towards the initial
level, gains and losses that compound within a batch, the running sums behind the
daily mean) over its arrays, :class:`sim.kernel_state.TrustArrays`. The network's
Python methods and the compiled stages both call them.
"""

from __future__ import annotations

import numpy as np

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels
from sim.kernel_pick import distinct, insert_right, pick
from sim.kernel_state import T_DAY, T_DECAY0, T_GAP, T_VALID

DAYS_PER_YEAR = 365.0


@njit(cache=True)
def pairwise_sum(a):
    """Sum as numpy's ``ndarray.sum`` adds a contiguous float64 array (pairwise)."""
    n = a.size
    if n < 8:
        res = 0.0
        for k in range(n):
            res += a[k]
        return res
    if n <= 128:
        r = a[:8].copy()
        i = 8
        while i < n - (n % 8):
            for j in range(8):
                r[j] += a[i + j]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n:
            res += a[i]
            i += 1
        return res
    half = n // 2
    half -= half % 8
    return pairwise_sum(a[:half]) + pairwise_sum(a[half:])


@njit(cache=True)
def off_diagonal_mean(matrix):
    """Mean of a square matrix's off-diagonal entries, added as numpy adds (NaN below 2 x 2).

    ``(matrix.sum() - matrix.trace()) / (n * (n - 1))``: both sums pairwise, as numpy
    adds a contiguous array and its diagonal.
    """
    n = matrix.shape[0]
    if n < 2:
        return np.nan
    diagonal = np.empty(n)
    for k in range(n):
        diagonal[k] = matrix[k, k]
    return (pairwise_sum(matrix.ravel()) - pairwise_sum(diagonal)) / (n * (n - 1))


@njit(cache=True)
def trust_get(T, i, j, day):
    """Current trust of ``i`` in ``j`` (:meth:`sim.trust.TrustNetwork.get`)."""
    keep = (1.0 - T.decay[i, j]) ** ((day - T.last[i, j]) / DAYS_PER_YEAR)
    base = T.baseline[i, j]
    return base + (T.value[i, j] - base) * keep


@njit(cache=True)
def sums_at(T, day):
    """Bring trust's running sums to ``day``; False if they must be rebuilt."""
    s = T.sums
    if s[T_VALID] == 0.0 or day < s[T_DAY]:
        s[T_VALID] = 0.0
        return False
    if day > s[T_DAY]:
        s[T_GAP] *= (1.0 - s[T_DECAY0]) ** ((day - s[T_DAY]) / DAYS_PER_YEAR)
        s[T_DAY] = day
    return True


@njit(cache=True)
def mean_trust(T, own, base_sum, day):
    """:meth:`sim.trust.TrustNetwork.mean` from the running sums: ``(valid, mean)``.

    Not valid when the sums must be rebuilt first (Python does, then asks again). The
    pairs with their own decay (``own``, flat indices) are relaxed one by one and their
    gaps added as numpy adds them (:func:`pairwise_sum`).
    """
    if not sums_at(T, day):
        return False, np.nan
    n = T.value.shape[1]
    total = base_sum + T.sums[T_GAP]
    if own.size:
        gaps = np.empty(own.size)
        for k in range(own.size):
            i, j = own[k] // n, own[k] % n
            gaps[k] = trust_get(T, i, j, day) - T.baseline[i, j]
        total += pairwise_sum(gaps)
    return True, total / (n * (n - 1))


@njit(cache=True)
def trust_apply(T, i, j, rate, day, towards_one):
    """:meth:`sim.trust.TrustNetwork._apply`: gains or losses, repeated pairs compounding."""
    m = i.size
    if m == 0:
        return
    if m == 1:
        a, b = i[0], j[0]
        r = min(max(rate[0], 0.0), 1.0)
        old = trust_get(T, a, b, day)
        new = old + r * (1.0 - old) if towards_one else old * (1.0 - r)
        new = min(max(new, 0.0), 1.0)
        T.value[a, b] = new
        T.last[a, b] = day
        if sums_at(T, day) and a != b and not T.own_decay[a, b]:
            T.sums[T_GAP] += new - old
        return
    n = T.value.shape[1]
    key = np.empty(m, dtype=np.int64)
    for k in range(m):
        key[k] = np.int64(i[k]) * n + j[k]
    pair = distinct(key)
    keep = np.ones(pair.size)
    for k in range(m):
        r = min(max(rate[k], 0.0), 1.0)
        p = insert_right(pair, key[k] - 1)  # keys are integers: the first equal to key[k]
        keep[p] = keep[p] * (1.0 - r)
    moved = np.empty(pair.size)
    common = np.zeros(pair.size, dtype=np.bool_)
    for p in range(pair.size):
        a, b = pair[p] // n, pair[p] % n
        old = trust_get(T, a, b, day)
        new = (1.0 - (1.0 - old) * keep[p]) if towards_one else old * keep[p]
        new = min(max(new, 0.0), 1.0)
        T.value[a, b] = new
        T.last[a, b] = day
        moved[p] = new - old
        common[p] = a != b and not T.own_decay[a, b]
    if sums_at(T, day):
        T.sums[T_GAP] += pairwise_sum(pick(moved, common))
