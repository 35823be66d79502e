"""Running an experiment: every planned run, streamed to the store as it ends.

:func:`run_experiment` sends the runs not yet in the store to an executor, stores each
result the moment it arrives, retries failures, and on Ctrl-C or SIGTERM keeps what
finished (:class:`Interrupted`) so the next call resumes.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from sim.executors import (
    Executor,
    SerialExecutor,
)
from sim.experiment_plan import RunSpec, execute_run
from sim.memory import huge_pages_kept
from sim.store import (
    ExperimentStore,
    Results,
    RunRecord,
    now_iso,
)

if TYPE_CHECKING:
    from sim.experiment import Experiment


# ======================================================================== running
class Interrupted(KeyboardInterrupt):
    """An experiment stopped by Ctrl-C, SIGINT or SIGTERM; its finished runs are stored.

    Attributes:
        folder: The results folder (manifest status ``"interrupted"``).
        kept: Successful runs stored, this session and earlier ones.
        planned: Runs in the plan.
        signum: The signal that stopped it (``SIGINT`` for Ctrl-C).
    """

    def __init__(self, folder: Path, kept: int, planned: int, signum: int = signal.SIGINT):
        super().__init__(f"interrupted: {kept} of {planned} runs stored in {folder}")
        self.folder = folder
        self.kept = kept
        self.planned = planned
        self.signum = signum


class _Signalled(KeyboardInterrupt):
    """Raised in the main thread by the SIGTERM handler of :func:`stop_on_signals`."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM into an interrupt like Ctrl-C while the block runs (main thread only)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise _Signalled(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Ignore SIGINT and SIGTERM while finished work is being saved (main thread only)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _failure(spec: RunSpec, attempt: int, exc: BaseException) -> RunRecord:
    return RunRecord(
        spec.run_id, "failed", attempt, error=f"{exc!r} (on the executor)", finished_at=now_iso()
    )


def run_experiment(
    experiment: Experiment,
    out: str | Path,
    executor: Executor | None = None,
    resume: bool = True,
    progress: bool = True,
    flush_seconds: float = 0.5,
) -> Results:
    """Run every planned run not yet done, streaming results to ``out``.

    A failed run is recorded with its error and retried once at the end of the pass;
    if it fails again it stays recorded as failed (and a later resume retries it).

    Ctrl-C, SIGINT or SIGTERM stop the experiment within a few seconds: the workers
    are stopped, every run that finished is stored, the manifest says
    ``"interrupted"``, and :class:`Interrupted` is raised. Running it again resumes.

    Args:
        experiment: The resolved experiment.
        out: Results folder.
        executor: Where runs execute (default: serial, in this process). Started
            and closed here unless the caller already entered it; stopped here after
            an interrupt in either case.
        resume: Keep the finished runs of an earlier, interrupted session. Without it
            (or for another plan's folder, which resuming refuses), an experiment's
            earlier results are moved aside to ``NAME.replaced-<time>``, with a warning.
        progress: Show a progress bar with ETA on stderr (it advances run by run).
        flush_seconds: Longest time a finished run waits before it is written.

    Returns:
        The consolidated :class:`~sim.store.Results`.

    Raises:
        sim.store.StoreError: When resuming into a folder of a different experiment.
        Interrupted: When stopped by a signal (a ``KeyboardInterrupt``).
    """
    from tqdm import tqdm

    from sim.compiling import ensure_compiled

    huge_pages_kept()  # a bad COOPSIM_HUGE_PAGES stops here, before anything is written
    executor = executor or SerialExecutor()
    specs = experiment.run_specs()
    manifest = experiment.manifest()
    store = ExperimentStore(Path(out), flush_seconds=flush_seconds)
    own_executor = not executor.started
    started = time.perf_counter()
    counts = {"ran": 0, "failed_attempts": 0}
    stopped: KeyboardInterrupt | None = None

    def record_of(spec: RunSpec, attempt: int, result: Any) -> RunRecord:
        return result if isinstance(result, RunRecord) else _failure(spec, attempt, result)

    with store, stop_on_signals():
        # Each session keeps its own code version: a resumed sweep may run newer code.
        manifest["session"] = {
            "executor": executor.describe(),
            "git_commit": manifest["git_commit"],
            "package_version": manifest["package_version"],
        }
        done = store.start(manifest, experiment.plan_frame(), resume=resume)
        if store.replaced is not None:
            warnings.warn(
                f"{store.folder}: starting over; its earlier results are moved to {store.replaced}",
                stacklevel=2,
            )
        # Resumed: it kept runs of an earlier session (stored with the session's end).
        store.manifest["sessions"][-1].update(resumed=bool(done), kept=len(done))
        pending = [s for s in specs if s.run_id not in done]
        work = functools.partial(execute_run, experiment.target)
        bar = tqdm(
            total=len(specs),
            initial=len(done),
            unit="run",
            desc=experiment.name,
            disable=not progress,
            mininterval=0.5,
            smoothing=0.05,
            dynamic_ncols=True,
        )
        try:
            if pending and executor.local:
                # Before the workers need the kernels (those its scenarios call too).
                ensure_compiled(announce=progress, scenarios=experiment.scenarios)
            if own_executor and pending:
                executor.__enter__()
            for attempt in (1, 2):
                retry = []
                for (spec, _), result in executor.map_unordered(
                    work, [(s, attempt) for s in pending]
                ):
                    record = record_of(spec, attempt, result)
                    store.add(record)
                    counts["ran"] += 1
                    if record.status == "ok" or attempt == 2:
                        bar.update()
                    if record.status != "ok":
                        counts["failed_attempts"] += 1
                        retry.append(spec)
                pending = retry
                if not pending:
                    break
            # The last shard, written before the handlers change (a signal waits for it).
            with shielded():
                store.flush()
        except KeyboardInterrupt as exc:  # Ctrl-C, SIGINT, or SIGTERM via stop_on_signals
            stopped = exc
            with shielded():
                executor.terminate()
                for (spec, attempt), result in executor.drain():
                    record = record_of(spec, attempt, result)
                    store.add(record)
                    counts["ran"] += 1
        finally:
            bar.close()
            if own_executor or stopped is not None:
                executor.close()
        if stopped is not None:
            _stop(
                store,
                {**counts, "wall_s": round(time.perf_counter() - started, 3)},
                stopped,
                len(done | store.stored_ok),
                len(specs),
            )
    summary = {**counts, "wall_s": round(time.perf_counter() - started, 3)}
    try:
        with stop_on_signals():
            return store.finish(summary)
    except KeyboardInterrupt as exc:  # while consolidating: every run is stored already
        _stop(store, summary, exc, len(done | store.stored_ok), len(specs))


def _stop(
    store: ExperimentStore, summary: dict, stopped: KeyboardInterrupt, kept: int, planned: int
) -> NoReturn:
    """Mark the store interrupted (signals held meanwhile) and raise :class:`Interrupted`."""
    with shielded():
        store.interrupt(summary)
    signum = getattr(stopped, "signum", signal.SIGINT)
    raise Interrupted(store.folder, kept, planned, signum) from None
