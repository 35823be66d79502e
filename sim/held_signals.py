"""Ctrl-C and SIGTERM at safe points: between simulated days, never inside a kernel call.

numba converts a compiled kernel's arguments and results with Python code of its own
(a numpy Generator through ``ctypes.cast``, a named tuple through its class, a struct
through its proxy). Python runs a signal's handler at the next bytecode it executes,
so a ``KeyboardInterrupt`` (or a sweep's SIGTERM) raised there leaves numba's
conversion half done: the process dies of a segmentation fault, or reports a
``SystemError``. While a model is built or advances a day, :func:`held_signals`
records SIGINT and SIGTERM instead, and hands them to their handlers once the day is
over, where an exception is safe. A day takes milliseconds, so an interrupt still
stops a run at once.

Only handlers written in Python are held: with the operating system's default
(SIGTERM ends the process) or ``SIG_IGN`` no Python code runs, so nothing is broken.
Signals are only ever handled in the main thread; elsewhere this does nothing.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator

HELD = (signal.SIGINT, signal.SIGTERM)
_active: HeldSignals | None = None  # the hold in force in the main thread, if any


class HeldSignals:
    """SIGINT and SIGTERM recorded while held, handed to their handlers at safe points."""

    def __init__(self) -> None:
        self.pending: list[int] = []
        self._handlers: dict[int, Callable] = {}

    def hold(self) -> None:
        """Record the signals from now on instead of running their Python handlers."""
        self._handlers = {s: h for s in HELD if callable(h := signal.getsignal(s))}
        for signum in self._handlers:
            signal.signal(signum, self._record)

    def release(self) -> None:
        """Give the signals back to their handlers."""
        for signum, handler in self._handlers.items():
            signal.signal(signum, handler)

    def deliver(self) -> None:
        """At a safe point: run the handlers of what came while held (they may raise)."""
        if self.pending:
            self.release()
            self.run_handlers()
            self.hold()

    def run_handlers(self) -> None:
        """Run each recorded signal's handler once, in the order they came."""
        pending, self.pending = self.pending, []
        for signum in pending:
            self._handlers[signum](signum, None)

    def _record(self, signum: int, frame: object) -> None:
        self.pending.append(signum)


@contextlib.contextmanager
def held_signals() -> Iterator[HeldSignals]:
    """Hold SIGINT and SIGTERM while the block runs; deliver them when it ends.

    Nested blocks share the outermost hold (its :meth:`HeldSignals.deliver` is where
    they may land early). If the block raises, what was recorded is dropped: the
    block is already being interrupted.
    """
    global _active
    if threading.current_thread() is not threading.main_thread():
        yield HeldSignals()  # signals never reach this thread: nothing to hold
        return
    if _active is not None:
        yield _active
        return
    held = _active = HeldSignals()
    held.hold()
    try:
        yield held
    finally:
        _active = None
        held.release()
    held.run_handlers()
