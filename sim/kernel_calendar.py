"""The request calendar, compiled: requests in a timed stage, by the day the stage ends.

The same structure as :class:`sim.columns.Calendar` (two flat arrays in filing order,
taking a day is one scan), held as arrays the kernels' struct carries (``cal_ids``,
``cal_due``, ``cal_meta``, ``cal_count``), so that a kernel files a request for a later
day and takes today's itself, without a crossing back to Python after each call.
Python only reserves room before a call (:class:`RequestCalendar`, below), because a
kernel cannot replace an array the struct was built over.

``meta`` holds the slots used (taken ones included) and the slots already taken
(their day set to -1, reclaimed by :func:`compact`); ``count`` the number of ids
waiting for each day of the run, so that the model knows before a call how many
requests it will move (the outbox is sized by that), and a day with none costs no scan.
Ids filed for a day after the run are kept but not counted (they are never taken).
"""

from __future__ import annotations

import numpy as np

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels

C_USED, C_TAKEN = range(2)
C_SLOTS = 2


@njit(cache=True)
def file_entry(ids, due, meta, count, request, day):
    """File one request under ``day`` (room was reserved before the call)."""
    n = meta[C_USED]
    if n >= ids.size:
        raise IndexError("the request calendar has too little room reserved for this call")
    ids[n] = request
    due[n] = day
    meta[C_USED] = n + 1
    if day < count.size:
        count[day] += 1


@njit(cache=True)
def take(ids, due, meta, count, day):
    """Take the ids due on ``day`` (a day of the run), in filing order."""
    found = count[day]
    out = np.empty(found, dtype=np.int64)
    if found == 0:
        return out
    n = meta[C_USED]
    j = 0
    for k in range(n):
        if due[k] == day:
            out[j] = ids[k]
            due[k] = -1
            j += 1
            if j == found:
                break
    count[day] = 0
    meta[C_TAKEN] += found
    if meta[C_TAKEN] * 2 > n:
        compact(ids, due, meta)
    return out


@njit(cache=True)
def compact(ids, due, meta):
    """Reclaim the slots of taken ids, keeping the others in filing order."""
    if meta[C_TAKEN] == 0:
        return
    kept = 0
    for k in range(meta[C_USED]):
        if due[k] >= 0:
            ids[kept] = ids[k]
            due[kept] = due[k]
            kept += 1
    meta[C_USED] = kept
    meta[C_TAKEN] = 0


class RequestCalendar:
    """The model's owner of the compiled calendar's arrays.

    Kernels file and take; this side only makes room before a call that may file up to
    ``k`` requests (:meth:`reserve`), compacting first and growing the arrays (which
    rebuilds the kernels' struct) only if that is not enough.
    """

    def __init__(self, days: int, initial_capacity: int = 1024):
        capacity = max(16, int(initial_capacity))
        self.ids = np.empty(capacity, dtype=np.int64)
        self.due = np.empty(capacity, dtype=np.int64)
        self.meta = np.zeros(C_SLOTS, dtype=np.int64)
        self.count = np.zeros(max(int(days), 1), dtype=np.int64)

    def __len__(self) -> int:
        return int(self.meta[C_USED] - self.meta[C_TAKEN])

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The struct's fields ``cal_ids``, ``cal_due``, ``cal_meta`` and ``cal_count``."""
        return self.ids, self.due, self.meta, self.count

    def reserve(self, k: int) -> None:
        """Make room for ``k`` more filings.

        After compacting, the arrays keep at least as much room again as they hold,
        so that a run of calls each reserving a large ``k`` does not compact at each.
        """
        if self.meta[C_USED] + k <= self.ids.size:
            return
        compact(self.ids, self.due, self.meta)
        used = int(self.meta[C_USED])
        capacity = self.ids.size
        while capacity < 2 * (used + k):
            capacity *= 2
        if capacity > self.ids.size:
            for name in ("ids", "due"):
                grown = np.empty(capacity, dtype=np.int64)
                grown[:used] = getattr(self, name)[:used]
                setattr(self, name, grown)

    def due_on(self, day: int) -> int:
        """How many ids wait for ``day`` (a day of the run)."""
        return int(self.count[day])
