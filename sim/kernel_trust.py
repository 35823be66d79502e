"""Trust's rules compiled: a pair's current trust and the updates closed requests make.

The rules of :class:`sim.trust.TrustNetwork` (lazy relaxation towards the initial
level, gains and losses that compound within a batch, the running sums behind the
daily mean) over its arrays, :class:`sim.kernel_state.TrustArrays`. The network's
Python methods and the compiled stages both call them.
"""

from __future__ import annotations

import numpy as np

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels
from sim.kernel_pick import group_by, insertion_order, pick
from sim.kernel_prefetch import AHEAD, prefetch_pair
from sim.kernel_state import T_DAY, T_DECAY0, T_GAP, T_KEEP_FOR, T_VALID
from sim.units import DAYS_PER_YEAR


@njit(cache=True)
def pairwise_sum(a):
    """Sum as numpy's ``ndarray.sum`` adds a contiguous float64 array (pairwise).

    Numpy halves the array (the first half a multiple of 8 long) until a part has at
    most 128 values, sums each part in eight running sums (:func:`_block_sum`) and adds
    the halves back up. The halving is walked here with a stack of parts, not by
    recursion: numba's cache crashes on loading a recursive kernel called by another,
    and slicing costs a reference count per part.
    """
    n = a.size
    if n <= 128:
        return _block_sum(a, np.int64(0), n)
    part = np.empty((64, 3), dtype=np.int64)  # start, size, halves done; 64 > log2 of any size
    sums = np.empty(64)
    part[0, 0], part[0, 1], part[0, 2] = 0, n, 0
    parts, summed = 1, 0
    while parts:
        start, size, done = part[parts - 1, 0], part[parts - 1, 1], part[parts - 1, 2]
        if size <= 128:
            sums[summed] = _block_sum(a, start, size)
            summed += 1
            parts -= 1
            continue
        half = size // 2
        half -= half % 8
        if done == 2:  # both halves summed: add them, left + right
            sums[summed - 2] = sums[summed - 2] + sums[summed - 1]
            summed -= 1
            parts -= 1
            continue
        part[parts - 1, 2] = done + 1
        part[parts, 0] = start if done == 0 else start + half
        part[parts, 1] = half if done == 0 else size - half
        part[parts, 2] = 0
        parts += 1
    return sums[0]


@njit(cache=True)
def _block_sum(a, start, n):
    """The sum of at most 128 values ``a[start:start + n]`` as numpy adds them: eight sums."""
    if n < 8:
        res = 0.0
        for k in range(start, start + n):
            res += a[k]
        return res
    r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
    r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
    i = start + 8
    blocks_end = start + n - (n % 8)
    while i < blocks_end:
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < start + n:
        res += a[i]
        i += 1
    return res


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
    """Current trust of ``i`` in ``j`` (:meth:`sim.trust.TrustNetwork.get`).

    The share of the gap to baseline left, ``(1 - decay) ** (elapsed / DAYS_PER_YEAR)``,
    comes from ``T.keep`` for the common decay (``T.sums[T_KEEP_FOR]``) and whole days
    below its size: the same expression computed ahead, to the same bit
    (:class:`sim.trust.TrustNetwork`). A run asks for the same few thousand spans
    millions of times, and a ``pow`` each was 2% of a world-scale run. Every array is
    read before the one branch, so that numba's pruning of reference counts takes
    them all (a branch between them cost a run a fifth more in reference counts).
    """
    decay = T.decay[i, j]
    elapsed = day - T.last[i, j]
    base = T.baseline[i, j]
    value = T.value[i, j]
    days = np.int64(elapsed)  # elapsed: whole days between two days of the run, finite
    kept = (decay == T.sums[T_KEEP_FOR]) & (days == elapsed) & (days >= 0)
    kept = kept & (days < T.keep.size)
    share = T.keep[days * kept]
    if not kept:
        share = (1.0 - decay) ** (elapsed / DAYS_PER_YEAR)
    return base + (value - base) * share


@njit(cache=True, inline="always")
def prefetch_trust(T, i, j):
    """Start fetching what :func:`trust_get` reads of the pair ``(i, j)``."""
    prefetch_pair(T.decay, i, j)
    prefetch_pair(T.last, i, j)
    prefetch_pair(T.baseline, i, j)
    prefetch_pair(T.value, i, j)


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


@njit(cache=True, entry=True)
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
def pair_order(key, i, j, n):
    """Positions of the batch sorted by ``key``, equal keys in batch order (stable).

    ``key`` is ``i * n + j`` for states ``i`` and ``j`` below ``n``. A batch of at most
    32 is sorted by insertion; a larger one by two counting sorts
    (:func:`sim.kernel_pick.group_by`), by ``j`` and then by ``i``, each keeping the
    order it is given: a comparison sort of the keys cost a fortieth of world_scale's
    run, and this costs a pass over the batch and the states twice.
    """
    m = key.size
    for k in range(m):
        if i[k] < 0 or i[k] >= n or j[k] < 0 or j[k] >= n:
            raise IndexError("trust: a state outside 0..n - 1")
    if m > 32:
        by_j = group_by(np.arange(m), j, n)[0]
        i_by_j = np.empty(m, dtype=np.int64)
        for k in range(m):
            i_by_j[k] = i[by_j[k]]
        return group_by(by_j, i_by_j, n)[0]
    order = np.arange(m)
    insertion_order(order, key, np.int64(0), m)
    return order


@njit(cache=True, entry=True)
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
    order = pair_order(key, i, j, n)
    # The distinct pairs in key order; each pair's factors multiplied in batch order
    # (the order keeps it within a pair), so repeated pairs compound as they came.
    moved = np.empty(m)
    common = np.zeros(m, dtype=np.bool_)
    n_pairs = 0
    q = 0
    while q < m:
        if q + AHEAD < m:  # a pair some places on (repeats make it nearer)
            ahead = key[order[q + AHEAD]]
            prefetch_trust(T, ahead // n, ahead % n)
        pair = key[order[q]]
        keep = 1.0
        while q < m and key[order[q]] == pair:
            keep = keep * (1.0 - min(max(rate[order[q]], 0.0), 1.0))
            q += 1
        a, b = pair // n, pair % n
        old = trust_get(T, a, b, day)
        new = (1.0 - (1.0 - old) * keep) if towards_one else old * keep
        new = min(max(new, 0.0), 1.0)
        T.value[a, b] = new
        T.last[a, b] = day
        moved[n_pairs] = new - old
        common[n_pairs] = a != b and not T.own_decay[a, b]
        n_pairs += 1
    moved, common = moved[:n_pairs], common[:n_pairs]
    if sums_at(T, day):
        T.sums[T_GAP] += pairwise_sum(pick(moved, common))
