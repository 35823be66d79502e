"""Selecting by a mask, grouping and sorting, as small compiled functions.

numba lowers every ``values[mask]`` and every array expression (``~mask``,
``a & ~b``, ``keys == key``) inline, as its own loop nest, at each place it is
written; the kernels select this way at about thirty places, which made compiling
them slow. These functions are compiled once per array type and called instead.
Each gives exactly what the numpy expression in its docstring gives.
"""

from __future__ import annotations

import numpy as np

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels


@njit(cache=True)
def count_true(mask):
    """``np.count_nonzero(mask)``, without numba's temporary copy of the mask."""
    n = 0
    for k in range(mask.size):
        n += mask[k] != 0
    return n


@njit(cache=True)
def pick(values, mask):
    """``values[mask]``; when nothing is selected, an empty view of ``values``.

    A day selects nothing at many of the places that select (a stage no request is
    in): the view allocates nothing, where a new empty array costs an allocation.
    """
    size = count_true(mask)
    if size == 0:
        return values[:0]
    out = np.empty(size, dtype=values.dtype)
    n = 0
    for k in range(mask.size):
        if mask[k]:
            out[n] = values[k]
            n += 1
    return out


@njit(cache=True)
def pick_not(values, mask):
    """``values[~mask]`` (an empty view of ``values`` when nothing is selected)."""
    size = mask.size - count_true(mask)
    if size == 0:
        return values[:0]
    out = np.empty(size, dtype=values.dtype)
    n = 0
    for k in range(mask.size):
        if not mask[k]:
            out[n] = values[k]
            n += 1
    return out


@njit(cache=True)
def pick_equal(values, keys, key):
    """``values[keys == key]`` (an empty view of ``values`` when nothing is selected)."""
    n = 0
    for k in range(keys.size):
        n += keys[k] == key
    if n == 0:
        return values[:0]
    out = np.empty(n, dtype=values.dtype)
    n = 0
    for k in range(keys.size):
        if keys[k] == key:
            out[n] = values[k]
            n += 1
    return out


@njit(cache=True)
def group_by(values, keys, n_keys):
    """``values`` grouped by key, each group in its given order: ``(grouped, start)``.

    Group ``k`` is ``grouped[start[k]:start[k + 1]]``, what ``pick_equal(values, keys,
    k)`` gives, for every ``k`` in ``0..n_keys - 1`` from one pass over the keys (a
    counting sort) instead of one a key.
    """
    start = np.zeros(n_keys + 1, dtype=np.int64)
    for k in range(keys.size):
        if keys[k] < 0 or keys[k] >= n_keys:  # would write outside the counts
            raise IndexError("group_by: a key outside 0..n_keys - 1")
        start[keys[k] + 1] += 1
    for k in range(n_keys):
        start[k + 1] += start[k]
    grouped = np.empty(values.size, dtype=values.dtype)
    end = start[:-1].copy()
    for k in range(keys.size):
        grouped[end[keys[k]]] = values[k]
        end[keys[k]] += 1
    return grouped, start


# numpy's own np.unique, np.repeat, np.where and np.searchsorted cost numba about 7 s
# to compile together, for the few places the kernels use them; these loops cost 2 s
# (docs/compiled_pipeline.md, "Compile and load").


# inline="always": called on a few values at a time, where a call would cost more
# (and count a reference to the array in and out).
@njit(cache=True, inline="always")
def insertion_sort(values, lo, hi):
    """Sort ``values[lo:hi]`` in place by insertion (a few values)."""
    for k in range(lo + 1, hi):
        value = values[k]
        j = k
        while j > lo and values[j - 1] > value:
            values[j] = values[j - 1]
            j -= 1
        values[j] = value


@njit(cache=True, inline="always")
def insertion_order(order, keys, lo, hi):
    """Sort ``order[lo:hi]`` in place by ``keys[order]``, equal keys in their given order."""
    for k in range(lo + 1, hi):
        entry = order[k]
        j = k
        while j > lo and not keys[order[j - 1]] <= keys[entry]:
            order[j] = order[j - 1]
            j -= 1
        order[j] = entry


@njit(cache=True)
def sort_values(values):
    """``values.sort()`` for integers, in place.

    Quicksort with the median of three as pivot, the larger part of each split kept on
    a stack of index ranges (so it holds at most 64) and parts of at most 16 sorted by
    insertion: numba's own quicksort, in one function. numba's calls its partition for
    each part, counting a reference to the array in and out (a tenth of world_scale's
    reference counts went there), and costs more to compile. Integers only: equal
    integers cannot be told apart, so any correct sort gives numpy's.
    """
    stack = np.empty((64, 2), dtype=np.int64)
    top = 0
    lo, hi = 0, values.size - 1
    while True:
        while hi - lo >= 16:
            mid = (lo + hi) >> 1
            # The median of three at mid, the smallest at lo, the largest at hi.
            if values[mid] < values[lo]:
                values[mid], values[lo] = values[lo], values[mid]
            if values[hi] < values[mid]:
                values[hi], values[mid] = values[mid], values[hi]
                if values[mid] < values[lo]:
                    values[mid], values[lo] = values[lo], values[mid]
            pivot = values[mid]
            i, j = lo, hi
            while True:
                i += 1
                while values[i] < pivot:
                    i += 1
                j -= 1
                while pivot < values[j]:
                    j -= 1
                if i >= j:
                    break
                values[i], values[j] = values[j], values[i]
            # values[lo..j] <= pivot <= values[j+1..hi]: go on with the smaller part.
            if j - lo < hi - j - 1:
                stack[top, 0], stack[top, 1] = j + 1, hi
                hi = j
            else:
                stack[top, 0], stack[top, 1] = lo, j
                lo = j + 1
            top += 1
        insertion_sort(values, lo, hi + 1)
        if top == 0:
            return
        top -= 1
        lo, hi = stack[top, 0], stack[top, 1]


@njit(cache=True)
def distinct(values):
    """``np.unique(values)``: the sorted distinct values (integers)."""
    ordered = values.copy()
    sort_values(ordered)
    out = np.empty(ordered.size, dtype=ordered.dtype)
    n = 0
    for k in range(ordered.size):
        if k == 0 or ordered[k] != ordered[k - 1]:
            out[n] = ordered[k]
            n += 1
    return out[:n]


@njit(cache=True)
def repeat_each(values, counts):
    """``np.repeat(values, counts)``: each value ``counts[k]`` times, in order."""
    out = np.empty(counts.sum(), dtype=values.dtype)
    n = 0
    for k in range(values.size):
        for _ in range(counts[k]):
            out[n] = values[k]
            n += 1
    return out


@njit(cache=True)
def insert_right(ordered, value):
    """``np.searchsorted(ordered, value, side="right")``: how many are <= ``value``."""
    lo, hi = 0, ordered.size
    while lo < hi:
        mid = (lo + hi) >> 1
        if ordered[mid] <= value:
            lo = mid + 1
        else:
            hi = mid
    return lo
