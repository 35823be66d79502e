"""Selecting by a mask, as small compiled functions.

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
def pick(values, mask):
    """``values[mask]``."""
    out = np.empty(np.count_nonzero(mask), dtype=values.dtype)
    n = 0
    for k in range(mask.size):
        if mask[k]:
            out[n] = values[k]
            n += 1
    return out


@njit(cache=True)
def pick_not(values, mask):
    """``values[~mask]``."""
    out = np.empty(mask.size - np.count_nonzero(mask), dtype=values.dtype)
    n = 0
    for k in range(mask.size):
        if not mask[k]:
            out[n] = values[k]
            n += 1
    return out


@njit(cache=True)
def pick_equal(values, keys, key):
    """``values[keys == key]``."""
    n = 0
    for k in range(keys.size):
        n += keys[k] == key
    out = np.empty(n, dtype=values.dtype)
    n = 0
    for k in range(keys.size):
        if keys[k] == key:
            out[n] = values[k]
            n += 1
    return out
