"""Single draws from a random stream, without counting references to it at each draw.

A compiled rule that draws one value at a time (``rng.random()``,
``rng.standard_normal()``...) calls numba's method for it, and numba counts a
reference to the generator before each such call and gives it back after: two atomic
operations a draw, more than a uniform draw itself costs. The functions here draw
from the generator's bit generator instead (``bits = rng.bit_generator``, read once
before a loop), which holds no reference count, with the very functions numba's
methods call: the same draws, bit for bit (``tests/test_kernels.py`` compares them).

They lean on numba's own random module (``numba.np.random``, read in numba 0.68, the
locked version), which is not a public interface; that test fails first if it changes.
"""

from __future__ import annotations

import numpy as np
from numba.np.random.distributions import random_beta, random_poisson, random_standard_normal
from numba.np.random.generator_core import next_double

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels


@njit(cache=True)
def uniform(bits):
    """``rng.random()``: a float in [0, 1)."""
    return next_double(bits)


@njit(cache=True)
def standard_normal(bits):
    """``rng.standard_normal()``."""
    return random_standard_normal(bits)


@njit(cache=True)
def poisson(bits, lam):
    """``rng.poisson(lam)``."""
    return np.int64(random_poisson(bits, lam))


@njit(cache=True)
def beta(bits, a, b):
    """``rng.beta(a, b)``."""
    return random_beta(bits, a, b)
