"""Growable column tables: the model's storage for records.

The ledger of requests and the case book (:mod:`sim.requests`), the intelligence
shares and INTERPOL notices keep their records in a :class:`ColumnTable`, a struct
of numpy arrays that grows by doubling (its row count an array, so that a kernel can
add rows in room reserved for it). What waits for a day waits in a calendar
(:mod:`sim.kernel_calendar`). Both are used batch-wise, so a day costs what arrives
and what leaves, not what is stored.
``spans`` and ``sorted_unique`` are the small array helpers the hot path shares.
"""

from __future__ import annotations

import numpy as np

from sim import replaced_arrays


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


def filled(size: int, fill, dtype) -> np.ndarray:
    """A new array of ``size`` values ``fill``.

    Zeros come from ``np.zeros``: the system hands large buffers over already zero,
    page by page as they are first touched, so room a table reserves costs nothing
    until it is used.
    """
    if fill == 0:
        return np.zeros(size, dtype=dtype)
    return np.full(size, fill, dtype=dtype)


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
            name: filled(self._capacity, fill, dtype) for name, (dtype, fill) in columns.items()
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
        self._resize(self._grown_capacity(needed))

    def _grown_capacity(self, needed: int) -> int:
        """The capacity after growing to hold ``needed`` rows: doubled until it does."""
        capacity = self._capacity
        while capacity < needed:
            capacity *= 2
        return capacity

    def _resize(self, capacity: int) -> None:
        """New buffers of ``capacity`` rows holding the rows recorded so far."""
        size = self.size
        replaced_arrays.note(*self._cols.values())
        for name, old in self._cols.items():
            new = filled(capacity, self._fills[name], old.dtype)
            new[:size] = old[:size]
            self._cols[name] = new
        self.__dict__.update(self._cols)
        self._capacity = capacity

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
