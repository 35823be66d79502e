"""Executors on this machine: serial, in this process, and a local pool of worker processes.

:class:`Executor` is the interface every executor has (the Dask one too, in
:mod:`sim.executors`): it runs a function over items and yields ``(item, result or
exception)`` as each ends. :class:`ProcessExecutor` sends chunks of items to spawned
workers and streams each result back on a queue the moment it is ready, so a long
chunk does not hold back the runs it has finished.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any

from sim.held_signals import held_signals
from sim.processes import die_with_parent


class Executor:
    """Runs a function over items, yielding ``(item, result or exception)`` as each ends.

    The serial executor runs in this process. Executors are context managers: the
    block owns the worker processes or cluster connection and releases them.
    """

    name = "serial"

    def __init__(self) -> None:
        self.workers = 1
        self.started = False
        # Whether the runs execute on this machine (and share its compiled kernels).
        self.local = True

    def __enter__(self) -> Executor:
        self.started = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release workers (nothing to do for the serial executor)."""
        self.started = False

    def terminate(self) -> None:
        """Stop at once (after an interrupt): runs in progress are abandoned, to be redone."""
        self.close()

    def drain(self, seconds: float = 0.5) -> Iterator[tuple[Any, Any]]:
        """Finished results not yet yielded by :meth:`map_unordered` (none here)."""
        return iter(())

    def describe(self) -> dict[str, Any]:
        """What ran the experiment, for the manifest."""
        return {"executor": self.name, "workers": self.workers}

    def map_unordered(
        self, fn: Callable[[Any], Any], items: list[Any]
    ) -> Iterator[tuple[Any, Any]]:
        """Apply ``fn`` to every item; yield each item with its result as it finishes.

        Args:
            fn: A picklable function.
            items: Its arguments.

        Yields:
            ``(item, result)``, or ``(item, exception)`` when the infrastructure failed.
        """
        for item in items:
            try:
                # An interrupt lands between simulated days or after the run, never
                # inside a kernel call (sim.held_signals).
                with held_signals():
                    result = fn(item)
            except Exception as exc:  # noqa: BLE001 - reported per item, like the others
                result = exc
            yield item, result


class SerialExecutor(Executor):
    """Runs everything in this process, in plan order."""


# ------------------------------------------------------------------ worker lifetime
_RESULTS_QUEUE: Any = None  # set in each pool worker by _init_worker


def _init_worker(results_queue: Any, parent_pid: int) -> None:
    """Pool initializer: die with the parent, leave Ctrl-C to it, import the model once."""
    global _RESULTS_QUEUE
    die_with_parent(parent_pid)
    # The parent decides what an interrupt means (keep finished runs, stop the workers).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _RESULTS_QUEUE = results_queue
    _warm_worker()


def _warm_worker() -> None:
    """Import the model once per worker, before the first run arrives."""
    import sim.metrics  # noqa: F401
    import sim.model  # noqa: F401


def _run_chunk(fn: Callable[[Any], Any], chunk_id: int, chunk: list[Any]) -> int:
    """Run a chunk of items on a worker, sending each result to the parent as it finishes.

    Each result travels as ``(chunk_id, index, ok, result or exception)`` on the
    pool's results queue, so the parent stores (and counts) every run as it ends, not
    when its whole chunk ends.

    Returns:
        The number of items run.
    """
    for index, item in enumerate(chunk):
        try:
            message = (chunk_id, index, True, fn(item))
        except Exception as exc:  # noqa: BLE001 - reported per item, like the others
            message = (chunk_id, index, False, exc)
        # A result that cannot be sent never arrives: the parent then counts the run as
        # failed once its chunk has ended (ProcessExecutor.lost_result_seconds).
        _RESULTS_QUEUE.put(message)
    return len(chunk)


class ProcessExecutor(Executor):
    """A local pool of worker processes (spawned, so it behaves alike on every OS).

    The workers start (and import the model) when the executor is entered and
    live until it closes, or until this process dies, however it dies (see
    :func:`die_with_parent`). Runs go to them in chunks, so that each worker makes
    few round trips; the chunks shrink towards the end of the plan
    (:meth:`chunks`), so that the workers finish together. Each run's result comes
    back on its own as soon as it finishes (not with its chunk), so progress and
    storage advance run by run and an interrupt loses no finished run.

    Args:
        workers: Number of processes (default: the number of CPUs).
        chunks_per_worker: Each chunk is the runs not yet handed out over
            ``workers * chunks_per_worker``: larger values give smaller chunks.
        max_chunk: Largest chunk.
        lost_result_seconds: How long after its chunk ended a run's result may still
            be on its way before the run counts as failed (and is retried).
    """

    name = "processes"

    def __init__(
        self,
        workers: int | None = None,
        chunks_per_worker: int = 4,
        max_chunk: int = 16,
        lost_result_seconds: float = 30.0,
    ):
        super().__init__()
        self.workers = workers or os.cpu_count() or 1
        self.chunks_per_worker = max(1, chunks_per_worker)
        self.max_chunk = max(1, max_chunk)
        self.lost_result_seconds = lost_result_seconds
        self._pool: ProcessPoolExecutor | None = None
        self._queue: Any = None
        self._unclaimed: dict[int, list[Any]] = {}  # chunks whose results may still arrive
        self._received: dict[int, set[int]] = {}

    def __enter__(self) -> ProcessExecutor:
        context = get_context("spawn")
        self._queue = context.Queue()
        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(self._queue, os.getpid()),
        )
        # Start every worker now: their imports overlap with the parent's planning.
        for _ in range(self.workers):
            self._pool.submit(int)
        self.started = True
        return self

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for tests and diagnostics)."""
        processes = getattr(self._pool, "_processes", None) or {}
        return [p.pid for p in list(processes.values()) if p.is_alive()]

    def close(self) -> None:
        """Stop the worker processes, cancelling work not yet started."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._close_queue()
        self.started = False

    def terminate(self) -> None:
        """Stop now: kill the workers (their runs in progress are lost, to be redone)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            processes = list((getattr(pool, "_processes", None) or {}).values())
            for process in processes:
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    process.kill()
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                with contextlib.suppress(OSError, ValueError, AssertionError, AttributeError):
                    process.join(timeout=2)
        self._close_queue()
        self.started = False

    def _close_queue(self) -> None:
        if self._queue is not None:
            self._queue.close()
            self._queue.cancel_join_thread()
            self._queue = None
        self._unclaimed.clear()
        self._received.clear()

    def drain(self, seconds: float = 0.5) -> Iterator[tuple[Any, Any]]:
        """Results already sent by the workers but not yet yielded (after an interrupt)."""
        deadline = time.monotonic() + seconds
        while self._queue is not None and self._unclaimed and time.monotonic() < deadline:
            try:
                payload = self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
            except (OSError, EOFError, ValueError):
                return
            found = self._accept(payload)
            if found is not None:
                yield found

    def _accept(self, message: tuple) -> tuple[Any, Any] | None:
        """The item and result of one message; None if no chunk still waits for it."""
        chunk_id, index, _, result = message
        chunk = self._unclaimed.get(chunk_id)
        if chunk is None or index in self._received[chunk_id]:
            return None
        self._received[chunk_id].add(index)
        return chunk[index], result

    def chunks(self, items: list[Any]) -> list[list[Any]]:
        """Split items into consecutive chunks that shrink towards the end.

        Guided self-scheduling: each chunk takes the items left over
        ``workers * chunks_per_worker`` (at least 1, at most ``max_chunk``). Early
        chunks are large, so round trips are few; the last ones are single runs,
        so no worker sits idle while another works through a large final chunk.
        """
        out: list[list[Any]] = []
        divisor = self.workers * self.chunks_per_worker
        start = 0
        while start < len(items):
            size = max(1, min(self.max_chunk, math.ceil((len(items) - start) / divisor)))
            out.append(items[start : start + size])
            start += size
        return out

    def map_unordered(
        self, fn: Callable[[Any], Any], items: list[Any]
    ) -> Iterator[tuple[Any, Any]]:
        """Submit the items in chunks; yield each item's result as soon as it finishes."""
        if self._pool is None:
            self.__enter__()
        chunks = self.chunks(items)
        first = max(self._unclaimed, default=-1) + 1
        futures = {}
        for offset, chunk in enumerate(chunks):
            chunk_id = first + offset
            self._unclaimed[chunk_id] = chunk
            self._received[chunk_id] = set()
            futures[self._pool.submit(_run_chunk, fn, chunk_id, chunk)] = chunk_id
        ended: dict[int, tuple[float, BaseException | None]] = {}  # chunk -> (when, error)
        broken = False
        while self._unclaimed:
            try:
                payload = self._queue.get(timeout=0.1)
            except queue.Empty:
                payload = None
            if payload is not None:
                found = self._accept(payload)
                if found is not None:
                    yield found
            for future in [f for f in futures if f.done()]:
                chunk_id = futures.pop(future)
                error = None if future.cancelled() else future.exception()
                broken = broken or isinstance(error, BrokenProcessPool)
                ended[chunk_id] = (time.monotonic(), error)
            now = time.monotonic()
            for chunk_id, (when, error) in list(ended.items()):
                chunk, got = self._unclaimed[chunk_id], self._received[chunk_id]
                # A chunk that failed (a worker died) gives its other runs a moment to
                # arrive; one that ended normally sent them all, so they are on their way.
                patience = 1.0 if error is not None else self.lost_result_seconds
                if len(got) < len(chunk) and now - when < patience:
                    continue
                for index, item in enumerate(chunk):
                    if index not in got:
                        yield item, error or RuntimeError("the run's result was lost in transit")
                del ended[chunk_id], self._unclaimed[chunk_id], self._received[chunk_id]
        if broken:  # start a fresh pool so a retry can succeed
            self.close()
            self.__enter__()
