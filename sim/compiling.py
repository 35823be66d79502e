"""Compiling the model's kernels once per machine, on two cores when there are two.

numba compiles a kernel at its first call and caches the machine code
(:mod:`sim.kernel_cache`); every later process loads it. On an empty cache
:func:`compile_kernels` compiles every kernel a run calls by running a short model.
About half of that compile is one kernel, the day after case generation
(:func:`sim.kernel_day.run_day` with the stage handlers, queue service, intelligence's
delivery and INTERPOL's kernels it calls), so with a second core a helper process
compiles it, ahead of any call, while this one runs the short model without that
call, which still reaches every other kernel (case generation's call among them).
The short model then runs again, whole: it loads what the two processes cached and
compiles whatever is left.

The helper only fills the cache. If it fails, or its compile does not match the
types of the run (a bug, which a test guards against), the last run compiles what
is missing itself: slower, never wrong.

A few kernels only some scenarios call (:data:`OPTIONAL_KERNELS`: electronic
evidence's day), and the short baseline run does not reach them. A sweep whose
scenarios call them compiles them once, ahead of its workers
(:func:`ensure_compiled`), so that each worker loads them instead of compiling them
on its first run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import warnings
from contextlib import contextmanager
from unittest import mock

import numpy as np
from numba import typeof

import sim.stages
from sim.kernel_cache import active_cache_dir
from sim.kernel_day import PASSES, STEPS, record_series, run_day
from sim.kernel_eevidence import open_investigations
from sim.kernel_queues import stable_order
from sim.kernel_stages import advance_due
from sim.model import CooperationModel
from sim.scenario import load_scenario, shipped_dir

# The helper: this module run as a script compiles the day's kernel.
HELPER = ("-m", "sim.compiling")

#: Kernels only some scenarios call, which :func:`short_model` does not reach: for each
#: part of the model, whether a scenario calls them, the kernel whose cache entry says
#: this machine has compiled them, and the shipped scenario whose short run does.
OPTIONAL_KERNELS = {
    "electronic evidence": (
        lambda scenario: bool(scenario.electronic_evidence.enabled),
        open_investigations,
        "e_evidence",
    ),
}


def short_model(scenario: str = "baseline") -> CooperationModel:
    """The run that reaches every kernel ``scenario`` calls: 12 states, one year, no warm-up.

    The baseline's reaches all but :data:`OPTIONAL_KERNELS`.
    """
    # The shipped file itself: a file or folder of that name where the user runs from
    # must not stand in for it.
    config = load_scenario(shipped_dir("scenarios") / f"{scenario}.toml").with_overrides(
        {"world.n_states": 12, "run.years": 1.0, "run.warmup_years": 0.0}
    )
    return CooperationModel(config, rng=0)


def cache_is_cold(kernel=run_day) -> bool:
    """Whether ``kernel`` (by default the day's) has no entry in this source's cache yet."""
    name = f"{kernel.py_func.__module__.rpartition('.')[2]}.{kernel.py_func.__name__}-"
    directory = active_cache_dir()
    return not directory.is_dir() or not any(directory.glob(f"{name}*.nbi"))


def cold_optional_parts(scenarios=None) -> list[str]:
    """The parts of :data:`OPTIONAL_KERNELS` not compiled yet that ``scenarios`` call.

    Args:
        scenarios: Resolved scenarios (:class:`sim.scenario.Scenario`); None: every
            part, whatever calls it.
    """
    return [
        part
        for part, (calls, kernel, _) in OPTIONAL_KERNELS.items()
        if (scenarios is None or any(calls(s) for s in scenarios)) and cache_is_cold(kernel)
    ]


def compile_optional(parts) -> None:
    """Compile the kernels of these parts of :data:`OPTIONAL_KERNELS` with short runs."""
    for part in parts:
        short_model(OPTIONAL_KERNELS[part][2]).run()


def run_day_types(model: CooperationModel) -> tuple:
    """The numba types of the arguments :meth:`sim.stages.Stages._run_day` passes.

    The first step is a Python int, the steps a call resumes from are numpy's: both
    int64 to numba, like the day and the number of agencies.
    """
    scalars = (model.agency_table.size, model.day, PASSES)
    return (model.kernel_state_type(), typeof(model.streams), *map(typeof, scalars))


def compile_run_day() -> None:
    """Compile :func:`sim.kernel_day.run_day` for the model's types, without a call.

    Its largest callee, the passes (:func:`sim.kernel_stages.advance_due`), first, then
    ``run_day`` with the rest (queue service among it). Queue service was compiled by
    the other process, ahead, while that side was the shorter; since case generation's
    call is on that side, it is the longer, and queue service is compiled here
    (two interleaved rounds each: 24.2-24.8 s against 25.8-28.7 s).
    """
    types = run_day_types(short_model())
    advance_due.compile((types[0], types[1], types[3]))
    run_day.compile(types)


def stable_order_types(model: CooperationModel) -> tuple:
    """The numba types queue service passes to :func:`sim.kernel_queues.stable_order`.

    The pool's arrivals' groups and priorities, sliced to their count: C arrays of the
    struct's fields' types, as slices of them are.
    """
    fields = model.kernel_state_type().field_dict
    return fields["pool_new_group"], fields["pool_new_priority"]


def compile_for_helper(model: CooperationModel) -> None:
    """Compile, first, kernels the helper's call reaches last: the helper loads them.

    The day's record (:func:`sim.kernel_day.record_series`, with the mean trust and
    relations, about 1.5 s) is the day's last step, and queue service's sort (about
    0.9 s) comes after the passes (the helper's first 12-13 s): compiled here, before
    this side's run, both are in the cache when the helper's compile reaches them. The
    two sides then take about as long.
    """
    stable_order.compile(stable_order_types(model))
    record_series.compile(record_series_types(model))


def record_series_types(model: CooperationModel) -> tuple:
    """The numba types :func:`sim.kernel_day.run_day` calls the day's record with."""
    return model.kernel_state_type(), typeof(model.agency_table.size), typeof(model.day)


@contextmanager
def days_held():
    """The model's days without their call after case generation (``Stages._run_day``)."""

    def nothing_happens(S, R, n_agencies, day, first_step):
        return np.int64(STEPS), np.int64(0)

    with mock.patch.object(sim.stages, "run_day", nothing_happens):
        yield


def compile_kernels(parallel: bool | None = None) -> None:
    """Compile (or load from numba's cache) the kernels a run calls, with a short run.

    The first run on a machine compiles them once; later processes load the cached
    machine code. ``.ci/run``, the test session and the sweep executors call this
    before starting workers.

    Args:
        parallel: Compile the day's kernel in a helper process meanwhile; by
            default when the cache is cold and the machine has a second core.
    """
    if parallel is None:
        parallel = (os.cpu_count() or 1) > 1 and cache_is_cold()
    if parallel:
        # The helper's messages go to a file, not a pipe: a full pipe would stall it.
        with tempfile.TemporaryFile(mode="w+") as errors:
            helper = subprocess.Popen(
                [sys.executable, *HELPER], stdout=subprocess.DEVNULL, stderr=errors
            )
            try:
                model = short_model()
                compile_for_helper(model)
                with days_held():
                    model.run()
            except BaseException:
                helper.kill()
                helper.wait()
                raise
            if helper.wait():
                errors.seek(0)
                warnings.warn(
                    "compiling the day's kernel in a helper process failed; compiling it"
                    f" here instead:\n{errors.read()[-2000:]}",
                    RuntimeWarning,
                    stacklevel=2,
                )
    short_model().run()


def ensure_compiled(announce: bool = True, scenarios=()) -> None:
    """Compile the kernels now if this machine has not yet (on two cores when it can).

    Called before a sweep starts its workers and before a single run, so that the
    workers load the kernels instead of each compiling them, and the one compile
    uses a second core.

    Args:
        announce: Say on stderr why the first run waits.
        scenarios: The resolved scenarios about to run: the kernels only some
            scenarios call (:data:`OPTIONAL_KERNELS`) are compiled too if these call them.
    """
    if cache_is_cold():
        _say(announce, "the model's kernels", "about 20 s on two cores, 30 s on one")
        compile_kernels()
    parts = cold_optional_parts(list(scenarios))
    if parts:
        _say(announce, f"the kernels of {' and '.join(parts)}", "about ten seconds")
        compile_optional(parts)


def _say(announce: bool, what: str, how_long: str) -> None:
    if announce:
        print(
            f"coopsim: compiling {what} for this machine, once ({how_long})",
            file=sys.stderr,
            flush=True,
        )


if __name__ == "__main__":
    compile_run_day()
