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

While the model builds, :func:`collector_paused` also pauses Python's cyclic garbage
collector. The build is where a process's first model loads the compiled kernels from
numba's cache. numba used to ready its compiler first and make some 50,000 objects then
(its type registries and templates), which set off a full sweep of the whole heap
(about 190,000 objects: 0.07-0.14 s on the machine measured, which freed 40); the
kernels now load without them (:class:`sim.kernel_cache.MachineCodeCache`), and a
world-scale build makes about 12,000 objects. Paused, the collector looks at the
build's young objects once when the build ends, and the heap's next full sweep comes
once enough objects have been kept since: in a ten-year world-scale run not at all.
The collector is the process's: while a model builds, no thread's objects are
collected, and a ``gc.disable()`` made in another thread during a build is undone when
it ends.
"""

from __future__ import annotations

import contextlib
import functools
import gc
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


class SharedSwitch:
    """A process-wide setting the model turns off while it works, shared by threads.

    Models working in several threads at once share one "off": the first to start
    turns the setting off and keeps what was in force, the last to finish puts that
    back.

    Args:
        turn_off: Turns the setting off; returns what was in force.
        put_back: Puts back what ``turn_off`` returned.
    """

    def __init__(self, turn_off: Callable[[], object], put_back: Callable[[object], None]):
        self._turn_off, self._put_back = turn_off, put_back
        self._lock = threading.Lock()
        self._working = 0  # models inside, all threads together
        self._kept: object = None  # what was in force when the first of them started

    @contextlib.contextmanager
    def off(self) -> Iterator[None]:
        """The setting off inside (and in every thread while one model is inside)."""
        with self._lock:
            if self._working == 0:
                self._kept = self._turn_off()
            self._working += 1
        try:
            yield
        finally:
            with self._lock:
                self._working -= 1
                if self._working == 0:
                    self._put_back(self._kept)


def _pause_collector() -> bool:
    enabled = gc.isenabled()
    gc.disable()
    return enabled


def _resume_collector(enabled: object) -> None:
    if enabled:  # a user's own gc.disable() stays
        gc.enable()


# Looked up when called: ordinary_pages() uses it only where numpy has the switch.
_huge_pages = SharedSwitch(lambda: _set_huge_pages(False), lambda kept: _set_huge_pages(kept))
_collector = SharedSwitch(_pause_collector, _resume_collector)


def ordinary_pages() -> contextlib.AbstractContextManager[None]:
    """Arrays allocated inside are not given huge pages (unless ``COOPSIM_HUGE_PAGES=1``).

    numpy's setting is put back when the last model working in the process (in any
    thread) leaves; while one works, every thread's large arrays get ordinary pages.
    """
    if huge_pages_kept() or _set_huge_pages is None:  # the variable checked either way
        return contextlib.nullcontext()
    return _huge_pages.off()


def collector_paused() -> contextlib.AbstractContextManager[None]:
    """Python's cyclic garbage collector paused inside (see the module's docstring).

    It resumes when the last model inside (in any thread) leaves, unless it was off
    already when the first came in.
    """
    return _collector.off()


def in_ordinary_pages(method: Callable) -> Callable:
    """Decorate a method so that it runs inside :func:`ordinary_pages`."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with ordinary_pages():
            return method(*args, **kwargs)

    return wrapper
