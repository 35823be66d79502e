"""Growable column tables: the model's storage for records.

The intelligence shares, INTERPOL notices and e-evidence's book keep their records in a
:class:`ColumnTable`, a struct of numpy arrays that grows by doubling (its row count an
array, so that a kernel can add rows in room reserved for it). The ledger of requests
and the case book (:mod:`sim.requests`) keep them in a :class:`RowTable`: the same
columns, as fields of one buffer of rows, because the kernels read and write a
request's (or a case's) fields together. What waits for a day waits in a calendar
(:mod:`sim.kernel_calendar`). Both are used batch-wise, so a day costs what arrives and
what leaves, not what is stored.
``spans`` and ``sorted_unique`` are the small array helpers the hot path shares.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

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
        """Return the filled part of a column.

        A view: for a :class:`RowTable` a strided one, and inside its
        :meth:`~RowTable.read_as_columns` a read-only copy.
        """
        return self._cols[name][: self.size]

    def allocated_bytes(self) -> int:
        """Bytes the table's buffers hold, filled or not."""
        return sum(col.nbytes for col in self._cols.values())

    @contextlib.contextmanager
    def read_as_columns(self, names: Iterable[str] | None = None) -> Iterator[None]:
        """Inside, :meth:`col` gives contiguous columns (read them; the table is fixed).

        A table stored column by column has them already; see :class:`RowTable`.
        """
        yield

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


#: Bytes a :class:`RowTable`'s buffer starts at a multiple of: a cache line.
LINE = 64
#: Rows :meth:`RowTable.read_as_columns` copies at a time (half a megabyte of the
#: ledger's rows: they stay in the core's cache while each column takes its part).
_BLOCK_ROWS = 8192


class RowTable(ColumnTable):
    """A :class:`ColumnTable` whose columns are the fields of one buffer of rows.

    The kernels take a request at a time through its stages and read or write several
    of its fields each time, in rows scattered over the table. Stored by column, each
    field is a cache line of its own to fetch from memory (a request has 25); in rows
    of 64 bytes that start on a line, a request's fields come in one. Each column is a
    strided view of the buffer, so code that reads or writes columns (as attributes,
    by name, in place by row id) works unchanged. A pass over a whole column reads
    every row's line, though: the outcomes read a contiguous copy
    (:meth:`read_as_columns`).

    Rows are zero bytes until they are added, so room reserved costs nothing until
    used: :meth:`extend` and :meth:`append` write the fill values of the rows they
    add, and a kernel that adds rows itself (advancing ``n_rows``) writes every field
    that does not fill with zero (the ledger's :func:`sim.kernel_drafting.draft`, the
    case book's :func:`sim.kernel_cases.record_cases`).

    Args:
        columns: Column name -> (dtype, fill value of rows not yet set).
        initial_capacity: Rows allocated at first.
        row_bytes: The size of a row: its fields aligned as a C struct's, then padded
            to this size (choose a divisor or a multiple of :data:`LINE`, so that no
            row straddles more lines than it must).

    Raises:
        ValueError: The fields do not fit in ``row_bytes``.
    """

    def __init__(
        self,
        columns: dict[str, tuple[type, object]],
        initial_capacity: int = 1024,
        row_bytes: int = LINE,
    ):
        self.n_rows = np.zeros(1, dtype=np.int64)
        self._capacity = max(16, int(initial_capacity))
        self._fills = {name: fill for name, (_, fill) in columns.items()}
        self._dtype = row_dtype({name: dtype for name, (dtype, _) in columns.items()}, row_bytes)
        template = np.zeros(1, dtype=self._dtype)
        for name, fill in self._fills.items():
            template[name] = fill
        self._template = template.view(np.uint8)  # one row, as bytes
        self._reading_copies = False
        self._use(self._new_buffer(self._capacity))

    def allocated_bytes(self) -> int:
        """Bytes the buffer of rows holds, filled or not."""
        return self._buffer.nbytes

    def __getstate__(self) -> dict:
        # The columns are views of the buffer; pickled (or deep-copied) they would come
        # back as arrays of their own, and writes through them would miss the rows. The
        # filled rows only: the room reserved is zeros, made again on loading.
        state = {
            key: value
            for key, value in self.__dict__.items()
            if key not in ("_cols", "_buffer", "_reading_copies") and key not in self._fills
        }
        state["_rows"] = self._buffer[: self.size].copy()
        return state

    def __setstate__(self, state: dict) -> None:
        rows = state.pop("_rows")
        self.__dict__.update(state)
        self._reading_copies = False
        buffer = self._new_buffer(self._capacity)  # on a cache line again
        buffer[: rows.size] = rows
        self._use(buffer)

    @contextlib.contextmanager
    def read_as_columns(self, names: Iterable[str] | None = None) -> Iterator[None]:
        """Inside, :meth:`col` gives contiguous copies of the filled columns.

        For code that passes over whole columns (the outcomes): through the strided
        views each pass would read every row's line again. The copy reads each line
        once. The copies are read-only and hold the rows there were on entry;
        attribute reads still give the table's own (strided) columns. The table must
        not grow inside: it raises.

        Args:
            names: The columns to copy (all by default); :meth:`col` gives the others
                as strided views, as outside.
        """
        if self._reading_copies:  # nested: the copies are there
            yield
            return
        size, rows = self.size, self._cols
        chosen = {name: rows[name] for name in (rows if names is None else names)}
        copies = {name: np.empty(size, dtype=col.dtype) for name, col in chosen.items()}
        for start in range(0, size, _BLOCK_ROWS):
            stop = min(start + _BLOCK_ROWS, size)
            for name, col in chosen.items():
                copies[name][start:stop] = col[start:stop]
        for copy in copies.values():
            copy.setflags(write=False)  # a write would be lost with the copy
        self._cols, self._reading_copies = {**rows, **copies}, True
        try:
            yield
        finally:
            self._cols, self._reading_copies = rows, False

    def extend(self, n: int) -> np.ndarray:
        """Add ``n`` rows with every field at its fill value.

        Returns:
            The ids (row numbers) of the new rows.
        """
        ids = super().extend(n)
        if n and self._template.any():
            row = self._dtype.itemsize
            raw = self._buffer.view(np.uint8)[int(ids[0]) * row : (int(ids[0]) + n) * row]
            raw.reshape(n, row)[:] = self._template
        return ids

    def _new_buffer(self, capacity: int) -> np.ndarray:
        """A buffer of ``capacity`` rows of zero bytes, starting on a line.

        ``np.zeros``: the system hands the pages over zeroed as they are first touched,
        so rows never added are never touched.
        """
        row = self._dtype.itemsize
        raw = np.zeros(capacity * row + LINE, dtype=np.uint8)
        start = -raw.ctypes.data % LINE
        return raw[start : start + capacity * row].view(self._dtype)

    def _use(self, buffer: np.ndarray) -> None:
        """Make ``buffer`` the table's rows and its fields the columns."""
        self._buffer = buffer
        self._cols = {name: buffer[name] for name in self._fills}
        self.__dict__.update(self._cols)

    def _resize(self, capacity: int) -> None:
        """A new buffer of ``capacity`` rows holding the rows recorded so far."""
        if self._reading_copies:
            raise RuntimeError("a table cannot grow while read as columns")
        replaced_arrays.note(*self._cols.values())
        new = self._new_buffer(capacity)
        filled_bytes = self.size * self._dtype.itemsize
        new.view(np.uint8)[:filled_bytes] = self._buffer.view(np.uint8)[:filled_bytes]
        self._use(new)
        self._capacity = capacity


def row_dtype(fields: dict[str, type], row_bytes: int) -> np.dtype:
    """A structured dtype of ``fields``, aligned as a C struct, padded to ``row_bytes``.

    Raises:
        ValueError: The aligned fields take more than ``row_bytes``.
    """
    aligned = np.dtype(
        {"names": list(fields), "formats": [np.dtype(t) for t in fields.values()]}, align=True
    )
    if aligned.itemsize > row_bytes:
        raise ValueError(
            f"fields of {aligned.itemsize} bytes (aligned) do not fit rows of {row_bytes}"
        )
    return np.dtype(
        {
            "names": list(fields),
            "formats": [aligned.fields[name][0] for name in fields],
            "offsets": [aligned.fields[name][1] for name in fields],
            "itemsize": row_bytes,
        }
    )
