"""Growable column tables and the calendar of due days: the model's storage for records.

The ledger of requests and the case book (:mod:`sim.requests`), the intelligence
shares and INTERPOL notices keep their records in a :class:`ColumnTable`, a struct
of numpy arrays that grows by doubling (its row count an array, so that a kernel can
add rows in room reserved for it). What waits for a day in the compiled day (a
request in a timed stage, a case's deadline, a notice under review) waits in a
compiled calendar (:mod:`sim.kernel_calendar`); e-evidence's requests for the formal
route wait in a :class:`Calendar`, the same structure in numpy. Both are used
batch-wise, so a day costs what arrives and what leaves, not what is stored.
``spans`` and ``sorted_unique`` are the small array helpers the hot path shares.
"""

from __future__ import annotations

import numpy as np


class Calendar:
    """Ids waiting for a day: ``add`` files them under due days, ``pop`` takes a day's.

    All waiting ids sit in two flat arrays in the order they were filed; taking a
    day is one scan of those arrays, so filing a batch spread over many days costs
    no Python loop over the days. A day's ids come back in filing order.
    """

    def __init__(self, initial_capacity: int = 1024):
        capacity = max(16, int(initial_capacity))
        self._ids = np.empty(capacity, dtype=np.int64)
        self._due = np.empty(capacity, dtype=np.int64)
        self._n = 0  # slots used, taken ones included
        self._taken = 0  # slots already popped (due set to -1), reclaimed by _compact
        self._earliest = np.iinfo(np.int64).max  # no waiting id is due before this

    def __len__(self) -> int:
        return self._n - self._taken

    def add(self, ids: np.ndarray, days) -> None:
        """File ``ids`` under their due ``days`` (one day for all, or one each)."""
        ids = np.asarray(ids)
        k = ids.size
        if k == 0:
            return
        if self._n + k > self._ids.size:
            self._compact()
            if self._n + k > self._ids.size:
                capacity = self._ids.size
                while capacity < self._n + k:
                    capacity *= 2
                for name in ("_ids", "_due"):
                    new = np.empty(capacity, dtype=np.int64)
                    new[: self._n] = getattr(self, name)[: self._n]
                    setattr(self, name, new)
        self._ids[self._n : self._n + k] = ids
        self._due[self._n : self._n + k] = days
        self._earliest = min(self._earliest, int(self._due[self._n : self._n + k].min()))
        self._n += k

    def pop(self, day: int) -> np.ndarray | None:
        """Take the ids due on ``day`` (None if there are none).

        Days are taken in order, so after ``day`` nothing earlier waits unless
        filed afterwards.
        """
        if self._earliest > day:
            return None
        due = self._due[: self._n]
        hit = (due == day).nonzero()[0]
        self._earliest = day + 1
        if hit.size == 0:
            return None
        ids = self._ids[hit]
        due[hit] = -1
        self._taken += hit.size
        if self._taken * 2 > self._n:
            self._compact()
        return ids

    def _compact(self) -> None:
        if self._taken == 0:
            return
        keep = (self._due[: self._n] >= 0).nonzero()[0]
        self._n = keep.size
        self._ids[: self._n] = self._ids[keep]
        self._due[: self._n] = self._due[keep]
        self._taken = 0


def spans(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Indices of the runs ``[starts[k], starts[k] + lengths[k])``, concatenated."""
    total = int(lengths.sum())
    return (starts - (lengths.cumsum() - lengths)).repeat(lengths) + np.arange(total)


def sorted_unique(values: np.ndarray, return_counts: bool = False):
    """``np.unique`` of a 1-D array (sorted distinct values, optionally their counts).

    The same result with a fraction of ``np.unique``'s overhead, which matters on
    the hot path where the arrays are small and the calls many.
    """
    ordered = np.sort(values)
    first = np.empty(ordered.size, dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    distinct = ordered[first]
    if not return_counts:
        return distinct
    return distinct, _run_lengths(first.nonzero()[0], ordered.size)


def _run_lengths(starts: np.ndarray, total: int) -> np.ndarray:
    """Lengths of the runs that begin at ``starts`` (increasing) and fill ``total``."""
    lengths = np.empty(starts.size, dtype=np.int64)
    lengths[:-1] = starts[1:] - starts[:-1]
    lengths[-1:] = total - starts[-1:]
    return lengths


def _length(values) -> int:
    """Rows in a column batch: its length, or 0 for a scalar (which broadcasts)."""
    if isinstance(values, np.ndarray):  # the usual case, without np.ndim's overhead
        return values.size if values.ndim else 0
    return int(np.size(values)) if np.ndim(values) > 0 else 0


class ColumnTable:
    """Records stored column by column in numpy arrays that grow by doubling.

    Columns read as attributes return the whole buffer, for in-place writes by row
    id; buffers are replaced when the table grows, so never keep one across an
    :meth:`append`. Columns read by name (``table["col"]``) return the filled part.

    Args:
        columns: Column name -> (dtype, fill value of rows not yet set).
        initial_capacity: Rows allocated at first.

    Attributes:
        n_rows: The number of rows recorded so far, as an array of one: a kernel adds
            rows by writing them and advancing it, in room :meth:`reserve` made.
    """

    def __init__(self, columns: dict[str, tuple[type, object]], initial_capacity: int = 1024):
        self.n_rows = np.zeros(1, dtype=np.int64)
        self._capacity = max(16, int(initial_capacity))
        self._fills = {name: fill for name, (_, fill) in columns.items()}
        self._cols: dict[str, np.ndarray] = {
            name: np.full(self._capacity, fill, dtype=dtype)
            for name, (dtype, fill) in columns.items()
        }
        self.__dict__.update(self._cols)  # plain attribute reads on the hot path

    def __getattr__(self, name: str) -> np.ndarray:
        cols = self.__dict__.get("_cols")
        if cols is not None and name in cols:
            return cols[name]
        raise AttributeError(name)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.col(name)

    def __len__(self) -> int:
        return self.size

    @property
    def size(self) -> int:
        """Number of rows recorded so far."""
        return int(self.n_rows[0])

    @property
    def capacity(self) -> int:
        """Rows the buffers hold before they grow."""
        return self._capacity

    def col(self, name: str) -> np.ndarray:
        """Return the filled part of a column (a view)."""
        return self._cols[name][: self.size]

    def _grow(self, needed: int) -> None:
        new_capacity = self._capacity
        while new_capacity < needed:
            new_capacity *= 2
        size = self.size
        for name, old in self._cols.items():
            new = np.full(new_capacity, self._fills[name], dtype=old.dtype)
            new[:size] = old[:size]
            self._cols[name] = new
        self.__dict__.update(self._cols)
        self._capacity = new_capacity

    def append(self, **columns) -> np.ndarray:
        """Add a batch of rows.

        Args:
            **columns: Equal-length arrays (or scalars) for some columns; the rest keep
                their fill values.

        Returns:
            The ids (row numbers) of the new rows.
        """
        # Scalars broadcast; the batch size comes from the array columns.
        n = max((_length(v) for v in columns.values()), default=0)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        ids = self.extend(n)
        start, stop = int(ids[0]), int(ids[0]) + n
        cols = self._cols
        for name, values in columns.items():
            cols[name][start:stop] = values
        return ids

    def extend(self, n: int) -> np.ndarray:
        """Add ``n`` rows with every column at its fill value (a kernel writes them).

        Returns:
            The ids (row numbers) of the new rows.
        """
        start = int(self.n_rows[0])
        stop = start + n
        if stop > self._capacity:
            self._grow(stop)
        self.n_rows[0] = stop
        return np.arange(start, stop)

    def reserve(self, n: int) -> None:
        """Make room for ``n`` more rows without adding them (a kernel will)."""
        if self.size + n > self._capacity:
            self._grow(self.size + n)
