"""The model's arrays in ordinary memory pages, not transparent huge pages.

numpy asks Linux for transparent huge pages (``madvise(MADV_HUGEPAGE)``) on every array
of 4 MB or more, and where the system leaves that choice to programs (``madvise`` in
``/sys/kernel/mm/transparent_hugepage/enabled``, the usual default) Linux honours it.
The model's tables are such arrays: the ledger's and the case book's columns, the
queues, the daily series. On a virtual machine whose host takes back the memory its
guest frees (a balloon driver's free page reporting, as on the cloud machines measured
in docs/performance.md), the first touch of memory the host took back costs five to six
times as much in huge pages as in ordinary ones, and a world-scale run touches a few
hundred megabytes for the first time: in fresh processes after a pause it took a median
0.91 of the time without them, and 0.96 right after another run.

So while the model builds, steps and counts its outcomes, :func:`ordinary_pages`
turns numpy's request off, and puts back what was in force after. It changes where
the arrays live, not what they hold: runs are the same bit for bit. Set
``COOPSIM_HUGE_PAGES=1`` to leave numpy's choice alone (numpy's own switch is the
``NUMPY_MADVISE_HUGEPAGE`` environment variable).
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable, Iterator

from numpy._core import multiarray

from sim.errors import CoopsimError

#: The environment variable that keeps numpy's choice of pages: ``1`` keeps it, ``0``
#: (or unset) turns huge pages off while the model works.
ENV = "COOPSIM_HUGE_PAGES"

# numpy's switch for all arrays allocated from now on; returns the setting it replaced.
# Private (numpy reads NUMPY_MADVISE_HUGEPAGE into it at import): without it, no change.
_set_huge_pages: Callable[[bool], bool] | None = getattr(multiarray, "_set_madvise_hugepage", None)


class EnvironmentSettingError(CoopsimError, ValueError):
    """An environment variable coopsim reads holds a value it does not allow."""


def huge_pages_kept() -> bool:
    """Whether ``COOPSIM_HUGE_PAGES`` asks to keep numpy's choice of pages.

    Raises:
        EnvironmentSettingError: The variable holds something other than ``0`` or ``1``.
    """
    value = os.environ.get(ENV, "0").strip()
    if value not in ("0", "1"):
        raise EnvironmentSettingError(
            f"environment variable {ENV}={value!r}: allowed values are 0 and 1"
        )
    return value == "1"


# numpy's switch is the process's: models working in several threads at once share one
# "off", taken by the first to start and given back by the last to finish.
_lock = threading.Lock()
_working = 0  # models inside ordinary_pages, all threads together
_numpy_setting = True  # what was in force when the first of them started


@contextlib.contextmanager
def ordinary_pages() -> Iterator[None]:
    """Arrays allocated inside are not given huge pages (unless ``COOPSIM_HUGE_PAGES=1``).

    numpy's setting is put back when the last model working in the process (in any
    thread) leaves; while one works, every thread's large arrays get ordinary pages.
    """
    global _working, _numpy_setting
    if huge_pages_kept() or _set_huge_pages is None:  # the variable checked either way
        yield
        return
    with _lock:
        if _working == 0:
            _numpy_setting = _set_huge_pages(False)
        _working += 1
    try:
        yield
    finally:
        with _lock:
            _working -= 1
            if _working == 0:
                _set_huge_pages(_numpy_setting)


def in_ordinary_pages(method: Callable) -> Callable:
    """Decorate a method so that it runs inside :func:`ordinary_pages`."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with ordinary_pages():
            return method(*args, **kwargs)

    return wrapper
