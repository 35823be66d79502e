"""The model's calendars: ids by the day they come due, filed and taken compiled.

Every calendar of the model is one: requests in a timed stage by the day the stage
ends, open cases by their deadline, intelligence by its delivery day, notices by the
end of their review, searches by the day they end (all held as arrays of the kernels'
struct: ``cal_``, ``deadline_``, ``delivery_``, ``review_``, ``search_``, each with
``ids``, ``links``, ``meta``, ``count``), and e-evidence's requests for the formal route.
A kernel files an id for a later day and takes today's itself, without a crossing back
to Python after each call. Python only reserves room before a call
(:class:`DayCalendar`, below), because a kernel cannot replace an array the struct was
built over, and files and takes ids of its own with :meth:`DayCalendar.file` and
:meth:`DayCalendar.pop`.

Each day's ids sit in chunks of ``CHUNK`` slots of ``ids``, filled in filing order and
chained from the day's newest chunk to its oldest. Taking a day copies its chunks and
gives them back to a list of free chunks: it costs what the day holds, however many
ids wait for later days. (One scan of every waiting id a day cost 15% of a
world-scale run, where 140,000 wait; single ids linked one by one were no faster
than the scan, their slots scattered.)

``links`` holds each day's newest chunk (``links[day]``, -1 for none), then each
chunk's next: the day's older chunk, or the next free chunk
(``links[n_days + chunk]``). ``meta`` holds the first free chunk, how many are free,
and how many ids are held; ``count`` the number of ids waiting for each day of the
run, so that the model knows before a call how many it will take (the outbox is sized
by that), and a day with none costs nothing. Ids filed for a day after the run are
counted as held but not kept (they are never taken).
"""

from __future__ import annotations

import numpy as np

from sim import replaced_arrays
from sim.kernel_cache import njit  # first: where and how numba compiles the kernels

CHUNK = 16  # slots of a chunk: two cache lines of ids
C_FREE, C_FREE_CHUNKS, C_HELD = range(3)
C_SLOTS = 3


@njit(cache=True, entry=True)
def chunks_needed(k, n_days):
    """The most chunks ``k`` filings can take.

    A filing takes a new chunk only when its day's newest is full or missing, so ``k``
    filings take at most ``k // CHUNK + 1`` chunks a day they go to, on at most
    ``n_days`` days.
    """
    return min(k, k // CHUNK + n_days)


@njit(cache=True)
def room_for(meta, count, k):
    """Whether ``k`` more filings fit the free chunks (``count``: the calendar's days)."""
    return meta[C_FREE_CHUNKS] >= chunks_needed(k, count.size)


@njit(cache=True)
def file_entry(ids, links, meta, count, entry, day):
    """File one id under ``day`` (room was reserved before the call)."""
    n_days = count.size
    if day >= n_days:
        meta[C_HELD] += 1
        return
    n = count[day]
    slot = n % CHUNK
    if slot == 0:  # the day has no chunk yet, or its newest is full: take a free one
        chunk = meta[C_FREE]
        if chunk < 0:
            raise IndexError("a calendar has too little room reserved for this call")
        meta[C_FREE] = links[n_days + chunk]
        meta[C_FREE_CHUNKS] -= 1
        links[n_days + chunk] = links[day] if n > 0 else -1
        links[day] = chunk
    ids[links[day] * CHUNK + slot] = entry
    count[day] = n + 1
    meta[C_HELD] += 1


@njit(cache=True, entry=True)
def take(ids, links, meta, count, day):
    """Take the ids due on ``day`` (a day of the run), in filing order."""
    found = count[day]
    out = np.empty(found, dtype=np.int64)
    if found == 0:
        return out
    n_days = count.size
    chunk = links[day]
    end = found
    k = found - (found - 1) // CHUNK * CHUNK  # ids in the newest chunk, 1 to CHUNK
    while True:  # newest chunk first, so the ids fill ``out`` from its end
        base = chunk * CHUNK
        for i in range(k):
            out[end - k + i] = ids[base + i]
        end -= k
        if end == 0:
            break
        chunk = links[n_days + chunk]
        k = CHUNK
    links[n_days + chunk] = meta[C_FREE]  # ``chunk`` is the day's oldest: the chain goes free
    meta[C_FREE] = links[day]
    meta[C_FREE_CHUNKS] += (found + CHUNK - 1) // CHUNK
    links[day] = -1
    count[day] = 0
    meta[C_HELD] -= found
    return out


@njit(cache=True, entry=True)
def file_all(ids, links, meta, count, new_ids, days):
    """File ``new_ids[k]`` under ``days[k]`` for every k, in order (room was reserved)."""
    for k in range(new_ids.size):
        file_entry(ids, links, meta, count, new_ids[k], days[k])


class DayCalendar:
    """The model's owner of a compiled calendar's arrays.

    Kernels file and take; this side makes room before a call that may file up to
    ``k`` ids (:meth:`reserve`), growing the arrays (which rebuilds the kernels'
    struct) only if the free chunks are too few, and files ids itself.
    """

    def __init__(self, days: int, initial_capacity: int = 1024):
        n_days = max(int(days), 1)
        self.ids = np.empty(0, dtype=np.int64)
        self.links = np.full(n_days, -1, dtype=np.int64)
        self.meta = np.array([-1, 0, 0], dtype=np.int64)
        self.count = np.zeros(n_days, dtype=np.int64)
        self._grow(max(1, int(initial_capacity) // CHUNK))

    def __len__(self) -> int:
        return int(self.meta[C_HELD])

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The struct's fields of this calendar: ``ids``, ``links``, ``meta`` and ``count``."""
        return self.ids, self.links, self.meta, self.count

    def reserve(self, k: int) -> None:
        """Make room for ``k`` more filings (:func:`chunks_needed`).

        When it grows, the calendar at least doubles, so that a run of calls each
        reserving a large ``k`` does not grow it at each.
        """
        short = chunks_needed(k, self.count.size) - int(self.meta[C_FREE_CHUNKS])
        if short > 0:
            self._grow(max(short, self.ids.size // CHUNK))

    def _grow(self, new_chunks: int) -> None:
        """Add ``new_chunks`` chunks to the free list (new arrays: the struct is rebuilt)."""
        n_days, old = self.count.size, self.ids.size // CHUNK
        ids = np.empty((old + new_chunks) * CHUNK, dtype=np.int64)
        ids[: self.ids.size] = self.ids
        links = np.empty(n_days + old + new_chunks, dtype=np.int64)
        links[: self.links.size] = self.links
        chain = np.arange(old, old + new_chunks, dtype=np.int64)
        links[n_days + chain[:-1]] = chain[1:]  # the new chunks, each to the next ...
        links[n_days + chain[-1]] = self.meta[C_FREE]  # ... then the chunks free before
        self.meta[C_FREE] = old
        self.meta[C_FREE_CHUNKS] += new_chunks
        replaced_arrays.note(self.ids, self.links)
        self.ids, self.links = ids, links

    def file(self, ids: np.ndarray, days: np.ndarray) -> None:
        """File ``ids`` under their ``days`` (one each), in order."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        days = np.ascontiguousarray(days, dtype=np.int64)
        self.reserve(ids.size)
        file_all(self.ids, self.links, self.meta, self.count, ids, days)

    def pop(self, day: int) -> np.ndarray:
        """Take the ids due on ``day`` (a day of the run), in filing order."""
        return take(self.ids, self.links, self.meta, self.count, np.int64(day))

    def due_on(self, day: int) -> int:
        """How many ids wait for ``day`` (a day of the run)."""
        return int(self.count[day])
