"""The model's calendars: ids by the day they come due, filed and taken compiled.

Every calendar of the model is one: requests in a timed stage by the day the stage
ends, open cases by their deadline, intelligence by its delivery day, notices by the
end of their review, searches by the day they end (all held as arrays of the kernels'
struct: ``cal_``, ``deadline_``, ``delivery_``, ``review_``, ``search_``, each with
``ids``, ``due``, ``meta``, ``count``), and e-evidence's requests for the formal route.
Two flat arrays in filing order; taking a day is one scan. A kernel files an id for a
later day and takes today's itself, without a crossing back to Python after each
call. Python only reserves room before a call (:class:`DayCalendar`, below), because
a kernel cannot replace an array the struct was built over, and files and takes ids
of its own with :meth:`DayCalendar.file` and :meth:`DayCalendar.pop`.

``meta`` holds the slots used (taken ones included) and the slots already taken
(their day set to -1, reclaimed by :func:`compact`); ``count`` the number of ids
waiting for each day of the run, so that the model knows before a call how many
it will take (the outbox is sized by that), and a day with none costs no scan.
Ids filed for a day after the run are kept but not counted (they are never taken).
"""

from __future__ import annotations

import numpy as np

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels

C_USED, C_TAKEN = range(2)
C_SLOTS = 2


@njit(cache=True)
def file_entry(ids, due, meta, count, entry, day):
    """File one id under ``day`` (room was reserved before the call)."""
    n = meta[C_USED]
    if n >= ids.size:
        raise IndexError("a calendar has too little room reserved for this call")
    ids[n] = entry
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


@njit(cache=True)
def file_all(ids, due, meta, count, new_ids, days):
    """File ``new_ids[k]`` under ``days[k]`` for every k, in order (room was reserved)."""
    for k in range(new_ids.size):
        file_entry(ids, due, meta, count, new_ids[k], days[k])


class DayCalendar:
    """The model's owner of a compiled calendar's arrays.

    Kernels file and take; this side makes room before a call that may file up to
    ``k`` ids (:meth:`reserve`), compacting first and growing the arrays (which
    rebuilds the kernels' struct) only if that is not enough, and files ids itself.
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
        """The struct's fields of this calendar: ``ids``, ``due``, ``meta`` and ``count``."""
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

    def file(self, ids: np.ndarray, days: np.ndarray) -> None:
        """File ``ids`` under their ``days`` (one each), in order."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        days = np.ascontiguousarray(days, dtype=np.int64)
        self.reserve(ids.size)
        file_all(self.ids, self.due, self.meta, self.count, ids, days)

    def pop(self, day: int) -> np.ndarray:
        """Take the ids due on ``day`` (a day of the run), in filing order."""
        return take(self.ids, self.due, self.meta, self.count, np.int64(day))

    def due_on(self, day: int) -> int:
        """How many ids wait for ``day`` (a day of the run)."""
        return int(self.count[day])
