"""Executors: where the runs of an experiment are computed.

The serial executor runs in this process; :class:`ProcessExecutor` runs chunks on a
local process pool and streams each result back as it ends; :class:`DaskExecutor`
sends runs to a Dask cluster. All yield ``(item, result or exception)`` as runs end,
so :func:`sim.experiment.run_experiment` stores every run the moment it finishes.

The interface and the executors on this machine (serial, process pool) are in
:mod:`sim.executors_local`, re-exported here; this module holds the Dask executor
and :func:`make_executor`, which picks one for the command-line options.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from typing import Any

from sim.executors_local import Executor, ProcessExecutor, SerialExecutor

__all__ = ["DaskExecutor", "Executor", "ProcessExecutor", "SerialExecutor", "make_executor"]


def _ignore_sigint() -> None:
    """Run on each Dask worker of a LocalCluster: leave Ctrl-C to the parent."""
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


class DaskExecutor(Executor):
    """Dask distributed: a running scheduler, or a LocalCluster bound to 127.0.0.1.

    Args:
        scheduler: Address such as ``tcp://127.0.0.1:8786``; None starts a LocalCluster.
        workers: Worker processes of the LocalCluster (default: the number of CPUs).
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None):
        super().__init__()
        self.scheduler = scheduler
        self.local = not scheduler
        self.workers = workers or os.cpu_count() or 1
        self._client = None
        self._cluster = None
        self._futures: list[Any] = []

    def __enter__(self) -> DaskExecutor:
        import logging

        from distributed import Client, LocalCluster

        if self.scheduler:
            self._client = Client(self.scheduler, timeout="30s")
        else:
            self._cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.WARNING,
            )
            self._client = Client(self._cluster)
            # Ctrl-C reaches the whole process group: the parent decides what it means
            # (keep finished runs, stop the cluster); the workers must not die noisily.
            # (Distributed already ends a worker whose parent process died.)
            self._client.run(_ignore_sigint)
        self.started = True
        return self

    def terminate(self) -> None:
        """Stop at once: cancel what is queued, close quietly (runs in progress are redone)."""
        import logging

        for name in ("distributed", "tornado", "asyncio"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.cancel(list(self._futures), force=True)
        self._futures = []
        self.close()

    def close(self) -> None:
        """Disconnect; a LocalCluster we started is shut down, a remote one left running."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        self.started = False

    def describe(self) -> dict[str, Any]:
        """Executor, scheduler address and worker count, for the manifest."""
        n = len(self._client.scheduler_info().get("workers", {})) if self._client else None
        return {
            "executor": self.name,
            "scheduler": self.scheduler or "LocalCluster 127.0.0.1",
            "workers": n,
        }

    def map_unordered(
        self, fn: Callable[[Any], Any], items: list[Any]
    ) -> Iterator[tuple[Any, Any]]:
        """Submit every item to the cluster; yield results as they complete."""
        from distributed import as_completed as dask_completed

        if self._client is None:
            self.__enter__()
        futures = [self._client.submit(fn, item, pure=False) for item in items]
        self._futures = futures
        by_key = {f.key: item for f, item in zip(futures, items, strict=True)}
        for future in dask_completed(futures):
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker; reported per item
                result = exc
            yield by_key.pop(future.key), result
            future.release()


def make_executor(
    workers: int | None = None, scheduler: str | None = None, dask_local: bool = False
) -> Executor:
    """Pick the executor for the command-line options.

    Args:
        workers: Local processes (1 = serial, in this process).
        scheduler: A Dask scheduler address.
        dask_local: Start a Dask LocalCluster on 127.0.0.1.

    Returns:
        An executor (not yet started).
    """
    if scheduler:
        return DaskExecutor(scheduler=scheduler)
    if dask_local:
        return DaskExecutor(workers=workers)
    if workers == 1:
        return SerialExecutor()
    return ProcessExecutor(workers)
