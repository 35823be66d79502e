"""The arrays Python replaced under the kernels' struct, noted where they are replaced.

The kernels' struct (:mod:`sim.kernel_state`) is built over the model's arrays; when
Python replaces one (a table or a calendar grows, trust's running sums are rebuilt),
the struct must be built again. Checking every array before every kernel call costs
about a tenth of a 40-state run, so each place that replaces such an array notes the
new arrays here, and :meth:`sim.lifecycle.RequestLifecycle.kernel_state` checks the
struct again only when the count of notes moved, on the days a run steps itself
(:mod:`sim.stepping`). Each of those checks, and one at the end of those days, also
asks whether every array found replaced was noted, and raises if not: a missing note
fails loudly at the next check, it never leaves a kernel writing to an old array
unnoticed.
"""

from __future__ import annotations

import weakref

import numpy as np

_count = 0
# The noted arrays, by id, for as long as they live.
_noted: weakref.WeakValueDictionary[int, np.ndarray] = weakref.WeakValueDictionary()


def note(*arrays: np.ndarray) -> None:
    """Say that ``arrays`` replaced arrays the struct may hold."""
    global _count
    _count += 1
    for array in arrays:
        _noted[id(array)] = array


def count() -> int:
    """How many replacements were noted in this process so far."""
    return _count


def was_noted(array: np.ndarray) -> bool:
    """Whether ``array`` was noted as a replacement (and is still alive)."""
    return _noted.get(id(array)) is array
