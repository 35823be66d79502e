"""Worker processes that end with their parent.

Sweeps, calibration and warm-up analyses run their replications in pools of
worker processes. :func:`die_with_parent` is each pool's initializer, so that a
killed command leaves no worker computing runs nobody will store.
"""

from __future__ import annotations

import os
import signal
import time

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_WATCHDOG_SECONDS = 0.5


def die_with_parent(parent_pid: int | None = None) -> None:
    """Make this (worker) process end when its parent process dies, however it dies.

    On Linux the kernel sends SIGKILL when the parent exits (``prctl(PR_SET_PDEATHSIG)``);
    everywhere a daemon thread also checks ``os.getppid()`` twice a second and exits when
    the parent has changed (the orphan was re-parented). Without this, the workers of a
    SIGKILLed sweep keep computing runs nobody will store, each on a core.

    Args:
        parent_pid: The parent to watch (default: the current parent).
    """
    import ctypes
    import sys
    import threading

    parent_pid = os.getppid() if parent_pid is None else parent_pid
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # not glibc/musl: the watchdog still works
            pass
    if os.getppid() != parent_pid:  # the parent died before the guard was in place
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(_WATCHDOG_SECONDS)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="coopsim-parent-watchdog", daemon=True).start()
