"""The plan of an experiment: policies, design points, seeds, and the target each run calls.

A *policy* is one combination of levers; a *design point* is one draw of the
uncertainties; replication ``i`` uses the same seed in every policy and point (common
random numbers). A run's *target* is the coopsim model (:class:`ModelTarget`) or a plain
function (:class:`FunctionTarget`), and :func:`execute_run` runs one attempt on a worker
without ever raising.
"""

from __future__ import annotations

import itertools
import os
import socket
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiment_spec import (
    SCENARIOS_LEVER,
    ExperimentSpec,
)
from sim.scenario import (
    Scenario,
)
from sim.store import (
    RunRecord,
    now_iso,
)


# ======================================================================== policies and plan
@dataclass(frozen=True)
class Policy:
    """One combination of levers: a scenario and/or lever parameter values."""

    index: int
    name: str
    scenario: str | None
    levers: dict[str, Any]


@dataclass(frozen=True)
class RunSpec:
    """One planned run: what the target needs to compute it."""

    run_id: str
    policy: str
    point: int
    replication: int
    seed: int
    params: dict[str, float]
    draw: int = -1  # parameter draw (parameter uncertainty), -1 without


def run_id(policy_index: int, point: int, replication: int) -> str:
    """The stable identity of a run: (policy, design point, replication)."""
    return f"p{policy_index:03d}-d{point:06d}-r{replication:04d}"


def replication_seeds(base_seed: int, replications: int) -> list[int]:
    """Seeds of replications 0..n-1, derived from the base seed (prefix-stable).

    Replication ``i`` gets the same seed in every policy and design point (common
    random numbers); asking for more replications later keeps the earlier seeds.

    Args:
        base_seed: The experiment's base seed.
        replications: How many seeds.

    Returns:
        One non-negative 32-bit seed per replication.
    """
    children = np.random.SeedSequence(base_seed).spawn(replications)
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]


def scenario_label(ref: str) -> str:
    """The policy name of a scenario reference: the stem of a path, or the shipped name."""
    return Path(ref).stem if ref.endswith(".toml") else ref


def build_policies(spec: ExperimentSpec, model_target: bool) -> list[Policy]:
    """Cross the scenarios lever with the lever parameters into named policies.

    Args:
        spec: The experiment.
        model_target: True for the coopsim model (a scenario per policy).

    Returns:
        Policies in a fixed order: scenarios first, then lever values as listed.
    """
    scenarios = spec.levers.get(SCENARIOS_LEVER, ["baseline"] if model_target else [None])
    params = {k: v for k, v in spec.levers.items() if k != SCENARIOS_LEVER}
    policies = []
    combos = list(itertools.product(*params.values())) if params else [()]
    for scenario in scenarios:
        for combo in combos:
            levers = dict(zip(params, combo, strict=True))
            parts = [f"{key.rsplit('.', 1)[-1]}={value}" for key, value in levers.items()]
            # The scenario is part of the name only when scenarios are a lever.
            named = SCENARIOS_LEVER in spec.levers or not parts
            label = scenario_label(str(scenario)) if scenario is not None and named else ""
            name = " ".join(p for p in [label, ",".join(parts)] if p) or "default"
            policies.append(Policy(len(policies), name, scenario, levers))
    return policies


def design_matrix(spec: ExperimentSpec) -> np.ndarray:
    """Sample the uncertainties: one row per design point, one column per uncertainty.

    Args:
        spec: The experiment (design, sample size, levels, base seed).

    Returns:
        The design points in parameter units (a single empty row if there are no
        uncertainties).
    """
    bounds = np.array(list(spec.uncertainties.values()), dtype=float).reshape(-1, 2)
    dims = len(bounds)
    if dims == 0:
        return np.zeros((1, 0))
    if spec.design == "grid":
        axes = [np.linspace(lo, hi, spec.levels) for lo, hi in bounds]
        return np.array(list(itertools.product(*axes)), dtype=float)
    if spec.design == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=dims, seed=spec.base_seed).random(spec.sample_size)
        return qmc.scale(unit, bounds[:, 0], bounds[:, 1])
    problem = salib_problem(spec)
    if spec.design == "sobol":
        from SALib.sample import sobol

        return sobol.sample(
            problem, spec.sample_size, calc_second_order=spec.second_order, seed=spec.base_seed
        )
    from SALib.sample import morris

    return morris.sample(problem, spec.sample_size, num_levels=spec.levels, seed=spec.base_seed)


def applied_design(design: np.ndarray, spec: ExperimentSpec, ints: set[str]) -> np.ndarray:
    """The design as the runs apply it: integer parameters rounded (the model rounds them).

    So the plan, the outcomes table and their figures show the values that ran. Not for
    Morris, whose elementary effects divide by the design's own steps (the runs still
    round; the plan keeps the levels).
    """
    if not ints or spec.design == "morris":
        return design
    design = design.copy()
    for k, name in enumerate(spec.uncertainties):
        if name in ints:
            design[:, k] = np.round(design[:, k])
    return design


def salib_problem(spec: ExperimentSpec) -> dict[str, Any]:
    """The SALib problem definition of the experiment's uncertainties."""
    return {
        "num_vars": len(spec.uncertainties),
        "names": list(spec.uncertainties),
        "bounds": [list(b) for b in spec.uncertainties.values()],
    }


# ======================================================================== targets
class ModelTarget:
    """Runs the coopsim model: the policy's scenario with the design point applied.

    Args:
        scenarios: Resolved scenario of each policy (overrides and levers applied).
        int_params: Uncertainties of integer type (rounded when applied).
        keep_series: Return the model's daily series too.
        keep_agency_series: Return every queueing agency's daily backlog too
            (``CooperationModel.agency_series_frame``).
    """

    name = "coopsim"

    def __init__(
        self,
        scenarios: dict[str, Scenario],
        int_params: Iterable[str] = (),
        keep_series: bool = False,
        keep_agency_series: bool = False,
    ):
        self.scenarios = scenarios
        self.int_params = frozenset(int_params)
        self.keep_series = keep_series
        self.keep_agency_series = keep_agency_series

    def __call__(
        self, spec: RunSpec
    ) -> tuple[dict[str, Any], pd.DataFrame | None, pd.DataFrame | None]:
        """Run the model for one planned run; return flat outcomes and the kept series."""
        from sim.metrics import flatten
        from sim.model import run

        scenario = self.scenarios[spec.policy]
        params = {k: (round(v) if k in self.int_params else v) for k, v in spec.params.items()}
        if params:
            scenario = scenario.with_overrides(params)
        result = run(scenario, seed=spec.seed)
        return (
            flatten(result.outcomes),
            result.series if self.keep_series else None,
            result.model.agency_series_frame() if self.keep_agency_series else None,
        )


class FunctionTarget:
    """Runs a plain function ``fn(params, seed) -> dict | float`` as the model.

    Args:
        fn: A picklable (module-level) function.
        levers: Lever values of each policy, merged into the params.
        constants: Values from the experiment's ``overrides``, merged first.
    """

    def __init__(
        self,
        fn: Callable[[dict[str, Any], int], Any],
        levers: dict[str, dict[str, Any]],
        constants: dict[str, Any],
    ):
        self.fn = fn
        self.levers = levers
        self.constants = constants
        self.name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)}"

    def __call__(self, spec: RunSpec) -> tuple[dict[str, Any], None]:
        """Call the function for one planned run; a bare number becomes outcome ``y``."""
        params = {**self.constants, **self.levers[spec.policy], **spec.params}
        value = self.fn(params, spec.seed)
        if isinstance(value, Mapping):
            return {str(k): v for k, v in value.items()}, None
        return {"y": float(value)}, None


def execute_run(
    target: Callable[[RunSpec], tuple[dict, Any]], item: tuple[RunSpec, int]
) -> RunRecord:
    """Run one attempt of one planned run on a worker, never raising.

    Args:
        target: The model or function target: returns ``(outcomes, series)`` or
            ``(outcomes, series, agency_series)`` (frames or None).
        item: The run and the attempt number.

    Returns:
        A record with the outcomes, or with status ``failed`` and the error.
    """
    spec, attempt = item
    start = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        outcomes, series, *more = target(spec)
        agency_series = more[0] if more else None
    except Exception as exc:  # noqa: BLE001 - every failure is recorded, never dropped
        detail = traceback.format_exc(limit=8)
        return RunRecord(
            spec.run_id,
            "failed",
            attempt,
            error=f"{exc!r}\n{detail}",
            elapsed_s=time.perf_counter() - start,
            finished_at=now_iso(),
            worker=worker,
        )
    return RunRecord(
        spec.run_id,
        "ok",
        attempt,
        outcomes=outcomes,
        series=series,
        agency_series=agency_series,
        elapsed_s=time.perf_counter() - start,
        finished_at=now_iso(),
        worker=worker,
    )
