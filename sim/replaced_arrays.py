"""The arrays Python replaced under the kernels' struct, noted where they are replaced.

The kernels' struct (:mod:`sim.kernel_state`) is built over the model's arrays; when
Python replaces one (a table or a calendar grows, trust's running sums are rebuilt),
the struct must be built again. Checking every array before every kernel call costs
about a tenth of a 40-state run, so each place that replaces such an array notes the
arrays it replaces here, before it replaces them, and
:meth:`sim.lifecycle.RequestLifecycle.kernel_state` checks the struct again only when
the count of notes moved, on the days a run steps itself (:mod:`sim.stepping`).

A kernel call could run on an old array only after a replacement that was not
noted. So each of those checks, and one at the end of those days, asks of every array
of the struct found replaced whether its replacement was noted, and raises if not: a
missing note fails loudly (at the end of the run of days at the latest), and no run
returns results computed on an old array.
"""

from __future__ import annotations

import weakref

import numpy as np

_count = 0
# The arrays noted as replaced, by id, for as long as they live.
_replaced: weakref.WeakValueDictionary[int, np.ndarray] = weakref.WeakValueDictionary()


def note(*replaced: np.ndarray) -> None:
    """Say that the arrays ``replaced`` are being replaced (call it before)."""
    global _count
    _count += 1
    for array in replaced:
        _replaced[id(array)] = array


def count() -> int:
    """How many replacements were noted in this process so far."""
    return _count


def was_noted(array: np.ndarray) -> bool:
    """Whether ``array`` was noted as replaced."""
    return _replaced.get(id(array)) is array
