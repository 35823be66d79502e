"""A count of the arrays Python replaced under the kernels' struct.

The kernels' struct (:mod:`sim.kernel_state`) is built over the model's arrays; when
Python replaces one (a table or a calendar grows, trust's running sums are rebuilt),
the struct must be built again. Checking every array before every kernel call costs
about a tenth of a 40-state run, so each place that replaces such an array says so
here, and :meth:`sim.lifecycle.RequestLifecycle.kernel_state` checks the arrays again
only when the count moved, on days a run steps itself (:mod:`sim.stepping`). At the
end of those days it checks them all anyway and raises if one was replaced unnoticed:
a missing note fails loudly, it never leaves a kernel writing to an old array.
"""

from __future__ import annotations

_count = 0


def note() -> None:
    """Say that an array the struct may hold was replaced."""
    global _count
    _count += 1


def count() -> int:
    """How many replacements were noted in this process so far."""
    return _count
