"""Experiments: designs over uncertainties and levers, common random numbers, executors.

An experiment file (TOML, in ``experiments/``) speaks the vocabulary of exploratory
modelling: **uncertainties** are parameter ranges sampled by a **design** (grid,
Latin hypercube, Sobol/Saltelli, Morris); **levers** are the policies compared
(reform scenarios and/or lever parameter values, crossed); **outcomes** are the
quantities analysed. Every policy is run at every design point for every
replication, and replication ``i`` uses the same seed for every policy and design
point (common random numbers), so differences between policies are paired.

The "model" run at each point is a *target*: the coopsim model (default) or any
plain Python function ``f(params: dict, seed: int) -> dict | float`` (used to test
the pipeline on functions with known answers, e.g. Ishigami).

Runs are executed by an :class:`Executor` (serial, local process pool, Dask) and
streamed to an :class:`~sim.store.ExperimentStore`; a stable run id per (policy,
design point, replication) lets an interrupted experiment resume.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import os
import queue
import signal
import socket
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sim.processes import die_with_parent
from sim.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    parameter_table,
    read_toml_file,
    resolve_named_file,
    shipped_scenarios,
)
from sim.store import (
    ExperimentStore,
    Results,
    RunRecord,
    environment,
    now_iso,
    sha256_file,
    stable_hash,
)

DESIGNS = ("grid", "lhs", "sobol", "morris")
SCENARIOS_LEVER = "scenarios"
# Experiment fields that only change the analysis, not the runs: editing them keeps
# the plan (and so the finished runs) valid for resume.
ANALYSIS_ONLY = ("description", "outcomes", "reference", "confidence", "ci_method")
# Daily series an experiment can keep: the model's (one row a day, series.parquet) and
# each queueing agency's backlog (one row per agency and day, agency_series.parquet).
SERIES_KINDS = ("model", "agencies")


# ======================================================================== the file schema
class ParameterUncertainty(BaseModel):
    """Draw the calibrated parameters from a history matching's accepted set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seeds_per_draw: int = Field(
        2,
        ge=1,
        le=100_000,
        description="Seeds (replications) per parameter draw; replications = draws x this.",
    )
    accepted: str = Field(
        "shipped",
        description="accepted.csv of `coopsim calibrate` ('shipped': sim/data/calibration/).",
    )


class ExperimentSpec(BaseModel):
    """A validated experiment file (before it is resolved against a model)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = Field(description="Short name; results go to results/<name>/ by default.")
    description: str = Field("", description="One line saying what the experiment asks.")
    replications: int = Field(10, ge=1, le=1_000_000, description="Replications per point.")
    base_seed: int = Field(1, ge=0, description="Seed from which replication seeds derive.")
    design: Literal["grid", "lhs", "sobol", "morris"] = Field(
        "grid", description="How the uncertainties are sampled."
    )
    sample_size: int = Field(
        1,
        ge=1,
        le=10_000_000,
        description="lhs: points; sobol: base samples N (power of 2); morris: trajectories.",
    )
    levels: int = Field(
        3, ge=2, le=1000, description="grid: levels per uncertainty; morris: levels p (default 4)."
    )
    second_order: bool = Field(False, description="sobol: also estimate second-order indices.")
    reference: str | None = Field(None, description="Policy the others are compared with.")
    outcomes: list[str] = Field(
        default_factory=list, description="Outcomes to analyse (dotted names, * patterns)."
    )
    uncertainties: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="Parameter ranges [low, high] sampled by the design."
    )
    levers: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="'scenarios' (reform scenarios) and/or lever parameters with their values.",
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Parameter values applied to every run (run.years...)."
    )
    series: bool | tuple[Literal["model", "agencies"], ...] = Field(
        False,
        description=(
            "Daily series to keep: true (the model's daily series), false, or a list of "
            '"model" (model-level daily series) and "agencies" (each queueing agency\'s '
            'daily backlog), e.g. ["model", "agencies"].'
        ),
    )
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description="Confidence level of intervals.")
    ci_method: Literal["t", "bootstrap"] = Field("t", description="Confidence interval method.")
    parameter_uncertainty: ParameterUncertainty | None = Field(
        None,
        description=(
            "Draw the calibrated parameters of each replication from the accepted set of "
            "history matching (the same draw for every policy): replications = draws x "
            "seeds_per_draw, e.g. {seeds_per_draw = 2}."
        ),
    )

    @field_validator("name")
    @classmethod
    def _folder_name(cls, v: str) -> str:
        # The name is the default results folder: it must be one plain folder name.
        if not v.strip() or v.strip() in (".", "..") or any(c in v for c in "/\\\x00"):
            raise ValueError(
                "expected a plain folder name (not empty, no '/', '\\' or NUL), e.g. "
                '"sweep_capacity"'
            )
        if len(v.encode()) > 120:
            raise ValueError("a name longer than 120 bytes; use a short name")
        return v

    @field_validator("series", mode="before")
    @classmethod
    def _series_kinds(cls, v: Any) -> bool | tuple[str, ...]:
        # Canonical form: true/false for "the model series"/"none" (as before, so the plan
        # of an older experiment is unchanged), a tuple otherwise.
        if isinstance(v, bool):
            return v
        values = [v] if isinstance(v, str) else v
        allowed = 'expected true, false, or a list of "model" and/or "agencies"'
        if not isinstance(values, list | tuple):
            raise ValueError(allowed)
        for k in values:
            if not isinstance(k, str) or k not in SERIES_KINDS:
                raise ValueError(f"{allowed}; {k!r} is not one of them")
        kinds = tuple(k for k in SERIES_KINDS if k in values)
        if not kinds:
            return False
        return True if kinds == ("model",) else kinds

    @property
    def series_kinds(self) -> tuple[str, ...]:
        """The daily series every run keeps: ``"model"`` and/or ``"agencies"``."""
        if isinstance(self.series, bool):
            return ("model",) if self.series else ()
        return tuple(self.series)

    @field_validator("uncertainties")
    @classmethod
    def _ordered_ranges(cls, v: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for name, (low, high) in v.items():
            if not low < high:
                raise ValueError(
                    f"{name}: expected [low, high] with low < high, found {[low, high]}"
                )
        return v

    @field_validator("levers")
    @classmethod
    def _non_empty_levers(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for name, values in v.items():
            if not values:
                raise ValueError(f"{name}: needs at least one value")
            if len(set(map(repr, values))) != len(values):
                raise ValueError(f"{name}: values repeat: {values}")
        return v


def _flatten_tables(table: Mapping[str, Any], leaf_is_dict: bool = False) -> dict[str, Any]:
    """Turn ``[uncertainties.agencies] x = ...`` into ``{"agencies.x": ...}`` (one level).

    Args:
        table: The TOML table.
        leaf_is_dict: Values may themselves be dicts (overrides of share mixes), so only
            keys without a dot are treated as sections.
    """
    flat: dict[str, Any] = {}
    for key, value in table.items():
        is_section = isinstance(value, dict) and (not leaf_is_dict or "." not in key)
        if is_section:
            for sub, sub_value in value.items():
                flat[f"{key}.{sub}"] = sub_value
        else:
            flat[key] = value
    return flat


def _format_errors(exc: ValidationError, source: str) -> str:
    """Pydantic errors as lines naming the file, the key and what is allowed."""
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        top = str(err["loc"][0]) if err["loc"] else ""
        if err["type"] == "extra_forbidden":
            fields = ExperimentSpec.model_fields
            if top == "parameter_uncertainty" and len(err["loc"]) > 1:
                fields = ParameterUncertainty.model_fields
            allowed = ", ".join(fields)
            hint = did_you_mean(str(err["loc"][-1]), fields)
            lines.append(f"{source}: {key}: unknown key{hint}; allowed keys: {allowed}")
            continue
        field_info = ExperimentSpec.model_fields.get(top)
        meaning = f"; {top}: {field_info.description}" if field_info else ""
        shown = repr(err.get("input"))
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{source}: {key}: {msg} (found {shown}){meaning}")
    return "\n".join(lines)


def is_robustness_file(data: Mapping[str, Any]) -> bool:
    """Whether experiment-file content is a ``coopsim robust`` file (worlds and packages)."""
    return "worlds" in data and "packages" in data


def parse_spec(data: Mapping[str, Any], source: str = "<dict>") -> ExperimentSpec:
    """Validate experiment content (as read from TOML).

    Args:
        data: The file's content.
        source: File name for error messages.

    Returns:
        The validated spec.

    Raises:
        ScenarioError: Naming the file, the key and what is allowed.
    """
    data = dict(data)
    if is_robustness_file(data):
        raise ScenarioError(
            f"{source}: worlds, packages: a robustness file (reform packages across worlds); "
            "run it with `coopsim robust FILE`"
        )
    for key, leaf_is_dict in (("uncertainties", False), ("levers", False), ("overrides", True)):
        if isinstance(data.get(key), dict):
            data[key] = _flatten_tables(data[key], leaf_is_dict=leaf_is_dict)
    if data.get("design") == "morris" and "levels" not in data:
        data["levels"] = 4  # Morris wants an even number of levels; 4 is the usual choice
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format_errors(exc, source)) from None
    if spec.design == "sobol" and spec.sample_size & (spec.sample_size - 1):
        raise ScenarioError(
            f"{source}: sample_size: a sobol design needs a power of 2 (e.g. 64, 128, 256), "
            f"found {spec.sample_size}"
        )
    both = sorted(set(spec.uncertainties) & set(spec.levers))
    if both:
        raise ScenarioError(
            f"{source}: levers.{both[0]}: also an uncertainty; a parameter is either sampled "
            "(uncertainties) or set by policy (levers), not both"
        )
    if spec.design in ("sobol", "morris") and not spec.uncertainties:
        raise ScenarioError(
            f"{source}: uncertainties: a {spec.design} design needs at least one uncertainty"
        )
    return spec


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


# ======================================================================== the experiment
@dataclass
class Experiment:
    """An experiment resolved against its target: policies, design, seeds, plan.

    Build it with :func:`load_experiment` (a file) or :func:`experiment_from_dict`.
    """

    spec: ExperimentSpec
    source: str
    policies: list[Policy]
    reference: str
    design: np.ndarray
    seeds: list[int]
    target: Callable[[RunSpec], tuple[dict, Any]]
    resolved: dict[str, Any] = field(default_factory=dict)
    file_hash: str | None = None
    # Parameter uncertainty: one row per draw (``draw``, ``accepted_row``, the calibrated
    # parameters); replication r uses draw r // seeds_per_draw in every policy.
    draws: pd.DataFrame | None = None
    seeds_per_draw: int = 1
    accepted_source: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self.spec.name

    def draw_of(self, replication: int) -> tuple[int, dict[str, float]]:
        """The parameter draw of a replication and its values (``(-1, {})`` without)."""
        if self.draws is None:
            return -1, {}
        draw = replication // self.seeds_per_draw
        row = self.draws.iloc[draw]
        names = [c for c in self.draws.columns if c not in ("draw", "accepted_row")]
        return draw, {n: float(row[n]) for n in names}

    def run_specs(self) -> list[RunSpec]:
        """Every planned run, replication-major so interrupted work leaves complete pairs.

        With parameter uncertainty, replication ``r`` runs parameter draw
        ``r // seeds_per_draw`` in every policy and design point, so pairs stay paired.
        """
        names = list(self.spec.uncertainties)
        specs = []
        for rep, seed in enumerate(self.seeds):
            draw, drawn = self.draw_of(rep)
            for point, row in enumerate(self.design):
                params = {n: float(v) for n, v in zip(names, row, strict=True)} | drawn
                for policy in self.policies:
                    specs.append(
                        RunSpec(
                            run_id(policy.index, point, rep),
                            policy.name,
                            point,
                            rep,
                            seed,
                            params,
                            draw,
                        )
                    )
        return specs

    def plan_frame(self) -> pd.DataFrame:
        """The plan as a table: ids, policy, point, replication, seed, inputs."""
        by_name = {p.name: p for p in self.policies}
        rows = []
        for s in self.run_specs():
            policy = by_name[s.policy]
            draw = {}
            if self.draws is not None:  # which draw, and which accepted vector it is
                draw = {"draw": s.draw, "accepted_row": int(self.draws["accepted_row"][s.draw])}
            rows.append(
                {
                    "run_id": s.run_id,
                    "policy": s.policy,
                    "policy_index": policy.index,
                    "point": s.point,
                    "replication": s.replication,
                    "seed": s.seed,
                    **draw,
                    **s.params,
                    **policy.levers,
                }
            )
        df = pd.DataFrame(rows).sort_values(["policy_index", "point", "replication"])
        for col in df.columns:  # lever values of mixed types are stored as text
            if df[col].dtype == object and len({type(v) for v in df[col]}) > 1:
                df[col] = df[col].astype(str)
        return df.reset_index(drop=True)

    def plan_hash(self) -> str:
        """Identity of what would be run; resume only continues an identical plan."""
        spec = self.spec.model_dump(mode="json", exclude=set(ANALYSIS_ONLY))
        identity = {
            "spec": spec,
            "target": getattr(self.target, "name", repr(self.target)),
            "resolved": self.resolved,
            "design": self.design.tolist(),
            "seeds": self.seeds,
        }
        if spec.get("parameter_uncertainty") is None:
            spec.pop("parameter_uncertainty", None)  # the plans made before it keep their hash
        else:
            identity["parameter_draws"] = self.draws.to_dict("list")
        return stable_hash(identity)

    def manifest(self) -> dict[str, Any]:
        """Provenance of the experiment for the results folder."""
        return {
            "kind": "experiment",
            "name": self.name,
            "experiment_file": self.source,
            "experiment_file_sha256": self.file_hash,
            "experiment": self.spec.model_dump(mode="json"),
            "reference": self.reference,
            "policies": [p.name for p in self.policies],
            "resolved_parameters": self.resolved,
            "problem": salib_problem(self.spec),
            "seeds": self.seeds,
            "target": getattr(self.target, "name", repr(self.target)),
            "n_runs": len(self.policies) * len(self.design) * len(self.seeds),
            **(
                {
                    "parameter_draws": self.draws.to_dict("records"),
                    "accepted_set": self.accepted_source,
                }
                if self.draws is not None
                else {}
            ),
            "plan_hash": self.plan_hash(),
            "created": now_iso(),
            **environment(),
        }


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices`` to ``word``, or ``""``."""
    import difflib

    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=2, cutoff=0.6)
    if not close:  # a dotted name whose last part is right: "agencies.capacity_court"
        tail = word.rsplit(".", 1)[-1]
        close = [c for c in choices if c.rsplit(".", 1)[-1] == tail][:2]
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?" if close else ""


@functools.cache
def model_outcome_names() -> tuple[str, ...]:
    """The numeric outcomes every coopsim run reports (flattened, dotted names).

    Found by running the smallest model for a few days (once per process, ~20 ms after
    the model is imported): the outcomes of a run are the same for every scenario.
    """
    from sim.metrics import flatten
    from sim.model import run

    probe = load_scenario("baseline", {"world.n_states": 3, "run.years": 0.01})
    flat = flatten(run(probe, seed=1).outcomes)
    return tuple(
        k
        for k, v in flat.items()
        if isinstance(v, int | float | np.number) and not isinstance(v, bool)
    )


def check_outcome_patterns(patterns: Iterable[str], available: Iterable[str], where: str) -> None:
    """Refuse an outcome name or ``*`` pattern that matches no outcome, suggesting names.

    Args:
        patterns: Names or fnmatch patterns as the user wrote them.
        available: The outcomes there are.
        where: The file and key (or option) for the message.

    Raises:
        ScenarioError: For the first name that matches nothing.
    """
    import fnmatch

    available = list(available)
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(name, pattern) for name in available):
            groups = sorted({name.split(".", 1)[0] for name in available})
            raise ScenarioError(
                f"{where}: {pattern!r} matches no outcome{did_you_mean(pattern, available)} "
                f"(outcomes: {', '.join(groups)}; a group's parts as group.part, or "
                "patterns like 'median_response_days.*')"
            )


def _check_model_names(spec: ExperimentSpec, source: str) -> set[str]:
    """Check uncertainties against the scenario schema; return the integer ones."""
    params = {f"{r['section']}.{r['key']}": r for r in parameter_table()}
    numeric = {"float", "int"}
    ints = set()
    for name, (low, high) in spec.uncertainties.items():
        row = params.get(name)
        if row is None:
            hint = did_you_mean(name, params) or "; see 'coopsim describe baseline'"
            raise ScenarioError(f"{source}: uncertainties.{name}: unknown parameter{hint}")
        if row["type"] not in numeric:
            raise ScenarioError(
                f"{source}: uncertainties.{name}: only numeric parameters can be uncertain "
                f"(this one is {row['type']}); make it a lever with a list of values instead"
            )
        lo = -math.inf if row["min"] is None else row["min"]
        hi = math.inf if row["max"] is None else row["max"]
        if low < lo or high > hi:
            raise ScenarioError(
                f"{source}: uncertainties.{name}: range [{low}, {high}] leaves the allowed "
                f"range [{row['min']}, {row['max']}] ({row['unit']})"
            )
        if row["type"] == "int":
            ints.add(name)
    return ints


def _resolve_scenario_ref(ref: str, base_dir: Path | None) -> str:
    """A scenario named in an experiment file: shipped name, or path relative to the file."""
    if ref.endswith(".toml") and base_dir is not None and not Path(ref).is_absolute():
        candidate = base_dir / ref
        if candidate.is_file():
            return str(candidate)
    return ref


def _resolve_model_policies(
    spec: ExperimentSpec, policies: list[Policy], source: str, base_dir: Path | None
) -> dict[str, Scenario]:
    """Load and validate each policy's scenario; errors name the experiment key."""
    scenarios: dict[str, Scenario] = {}
    for policy in policies:
        ref = _resolve_scenario_ref(str(policy.scenario), base_dir)
        index = spec.levers.get(SCENARIOS_LEVER, ["baseline"]).index(policy.scenario)
        try:
            scenario = load_scenario(ref)
        except ScenarioError as exc:
            shipped = shipped_scenarios()
            known = ", ".join(shipped) or "(none)"
            hint = did_you_mean(scenario_label(str(policy.scenario)), shipped)
            raise ScenarioError(
                f"{source}: levers.scenarios[{index}]: cannot use scenario {policy.scenario!r}: "
                f"{exc}{hint}\n  shipped scenarios: {known}"
            ) from None
        for key, value in {**spec.overrides, **policy.levers}.items():
            where = "overrides" if key not in policy.levers else "levers"
            try:
                scenario = scenario.with_overrides({key: value})
            except ScenarioError as exc:
                raise ScenarioError(f"{source}: {where}.{key}: {exc}") from None
        scenarios[policy.name] = scenario
    return scenarios


# Keeps the generator of the parameter draws apart from the replication seeds.
DRAW_STREAM = 0x0D5A


def parameter_draws(accepted: pd.DataFrame, draws: int, base_seed: int) -> pd.DataFrame:
    """Which accepted parameter vector each draw uses.

    Draw ``g`` takes the ``g``-th vector of a permutation of the accepted set seeded by
    the experiment's base seed (so draws are distinct while there are enough vectors,
    and asking for more draws later keeps the earlier ones); past the set's size the
    permutation repeats.

    Args:
        accepted: The accepted set (one row per vector, parameter columns).
        draws: How many draws.
        base_seed: The experiment's base seed.

    Returns:
        One row per draw: ``draw``, ``accepted_row`` (row of the accepted set) and the
        parameter values.
    """
    rng = np.random.default_rng(np.random.SeedSequence([base_seed, DRAW_STREAM]))
    order = rng.permutation(len(accepted))
    rows = order[np.arange(draws) % len(accepted)]
    table = accepted.iloc[rows].reset_index(drop=True)
    table.insert(0, "accepted_row", rows.astype(int))
    table.insert(0, "draw", np.arange(draws))
    return table


def _resolve_parameter_uncertainty(
    spec: ExperimentSpec,
    scenarios: dict[str, Scenario],
    source: str,
    base_dir: Path | None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Check an experiment with parameter uncertainty and draw its parameters."""
    from sim.calibration import CALIBRATED_PARAMETERS
    from sim.history_matching import ACCEPTED_FILE, load_accepted

    pu = spec.parameter_uncertainty
    if spec.replications % pu.seeds_per_draw:
        up = -(-spec.replications // pu.seeds_per_draw) * pu.seeds_per_draw
        raise ScenarioError(
            f"{source}: replications: {spec.replications} is not a multiple of "
            f"parameter_uncertainty.seeds_per_draw = {pu.seeds_per_draw} (every parameter "
            f"draw gets the same number of seeds); use e.g. {up}"
        )
    for where, keys in (
        ("uncertainties", spec.uncertainties),
        ("levers", spec.levers),
        ("overrides", spec.overrides),
    ):
        for name in keys:
            if name in CALIBRATED_PARAMETERS:
                raise ScenarioError(
                    f"{source}: {where}.{name}: a calibrated parameter, drawn from the "
                    "accepted set under parameter_uncertainty; set it in one place only"
                )
    defaults = {f"{r['section']}.{r['key']}": r["default"] for r in parameter_table()}
    for policy, scenario in scenarios.items():
        data = scenario.model_dump()
        for name in CALIBRATED_PARAMETERS:
            section, key = name.split(".")
            if data[section][key] != defaults[name]:
                raise ScenarioError(
                    f"{source}: policy {policy!r} sets {name} = {data[section][key]} (the "
                    f"calibrated default is {defaults[name]}); parameter uncertainty draws it "
                    "from the accepted set and would overwrite the policy's value"
                )
    if pu.accepted == "shipped":
        path = ACCEPTED_FILE
    else:
        path = Path(pu.accepted)
        if not path.is_absolute() and base_dir is not None and (base_dir / path).is_file():
            path = base_dir / path
    try:
        accepted = load_accepted(path)
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: parameter_uncertainty.accepted: {exc}") from None
    draws = parameter_draws(accepted, spec.replications // pu.seeds_per_draw, spec.base_seed)
    info = {"path": str(path), "sha256": sha256_file(path), "vectors": len(accepted)}
    return draws, info


# Largest plan an experiment may have: a bigger one would exhaust memory while the
# plan is being built (before the first run), not fail cleanly.
MAX_PLANNED_RUNS = 2_000_000


def planned_size(spec: ExperimentSpec) -> tuple[int, int, int]:
    """Policies, design points and replications a spec asks for, without building them.

    Args:
        spec: The experiment.

    Returns:
        ``(policies, points, replications)``.
    """
    scenarios = len(spec.levers.get(SCENARIOS_LEVER, [None]))
    policies = scenarios * math.prod(len(v) for k, v in spec.levers.items() if k != SCENARIOS_LEVER)
    dims = len(spec.uncertainties)
    if dims == 0:
        points = 1
    elif spec.design == "grid":
        points = spec.levels**dims
    elif spec.design == "lhs":
        points = spec.sample_size
    elif spec.design == "sobol":
        points = spec.sample_size * (2 * dims + 2 if spec.second_order else dims + 2)
    else:  # morris
        points = spec.sample_size * (dims + 1)
    return policies, points, spec.replications


def _check_plan_size(spec: ExperimentSpec, source: str) -> None:
    """Refuse a plan too large to build, naming what makes it large."""
    policies, points, reps = planned_size(spec)
    total = policies * points * reps
    if total > MAX_PLANNED_RUNS:
        raise ScenarioError(
            f"{source}: replications: the plan has {total:,} runs ({policies:,} policies x "
            f"{points:,} design points ({spec.design}) x {reps:,} replications); at most "
            f"{MAX_PLANNED_RUNS:,} are allowed. Lower replications, sample_size or levels, "
            "or split the experiment"
        )


def experiment_from_dict(
    data: Mapping[str, Any],
    source: str = "<dict>",
    target: Callable[[dict[str, Any], int], Any] | None = None,
    base_dir: Path | None = None,
) -> Experiment:
    """Validate experiment content and resolve it against its target.

    Args:
        data: Experiment content, as in a TOML file.
        source: Name for error messages and the manifest.
        target: A plain function ``f(params, seed)`` to run instead of the coopsim model.
        base_dir: Folder against which relative scenario paths are resolved.

    Returns:
        The resolved :class:`Experiment`.

    Raises:
        ScenarioError: On any invalid content, naming the source and key.
    """
    spec = parse_spec(data, source)
    model_target = target is None
    _check_plan_size(spec, source)
    draws, accepted_source = None, None
    if not model_target and SCENARIOS_LEVER in spec.levers:
        raise ScenarioError(f"{source}: levers.scenarios: only the coopsim model has scenarios")
    policies = build_policies(spec, model_target)
    names = [p.name for p in policies]
    if len(set(names)) != len(names):
        raise ScenarioError(f"{source}: levers: two policies share a name: {names}")
    reference = spec.reference or names[0]
    if reference not in names:
        raise ScenarioError(
            f"{source}: reference: {reference!r} is not a policy{did_you_mean(reference, names)}"
            f"; policies: {names}"
        )
    if model_target:
        ints = _check_model_names(spec, source)
        if spec.outcomes:
            check_outcome_patterns(spec.outcomes, model_outcome_names(), f"{source}: outcomes")
        scenarios = _resolve_model_policies(spec, policies, source, base_dir)
        runner: Callable = ModelTarget(
            scenarios,
            ints,
            keep_series="model" in spec.series_kinds,
            keep_agency_series="agencies" in spec.series_kinds,
        )
        resolved = {name: s.model_dump(mode="json") for name, s in scenarios.items()}
        if spec.parameter_uncertainty is not None:
            draws, accepted_source = _resolve_parameter_uncertainty(
                spec, scenarios, source, base_dir
            )
    else:
        if spec.parameter_uncertainty is not None:
            raise ScenarioError(
                f"{source}: parameter_uncertainty: only the coopsim model has calibrated "
                "parameters to draw"
            )
        runner = FunctionTarget(target, {p.name: p.levers for p in policies}, dict(spec.overrides))
        resolved = {p.name: {**spec.overrides, **p.levers} for p in policies}
    return Experiment(
        spec=spec,
        source=source,
        policies=policies,
        reference=reference,
        design=design_matrix(spec),
        seeds=replication_seeds(spec.base_seed, spec.replications),
        target=runner,
        resolved=resolved,
        draws=draws,
        seeds_per_draw=spec.parameter_uncertainty.seeds_per_draw if draws is not None else 1,
        accepted_source=accepted_source,
    )


def shipped_experiments_dir() -> Path:
    """The folder holding the shipped experiment files (in a clone or an installed wheel)."""
    from sim.scenario import shipped_dir

    return shipped_dir("experiments")


def shipped_experiments() -> dict[str, Path]:
    """Map the name of each shipped experiment to its file."""
    return {p.stem: p for p in sorted(shipped_experiments_dir().glob("*.toml"))}


def resolve_experiment_path(path: str | Path) -> Path:
    """Accept a path, or the bare name of a shipped experiment."""
    return resolve_named_file(path, shipped_experiments_dir())


def read_experiment_file(path: str | Path) -> dict[str, Any]:
    """Read an experiment TOML file (data only; nothing in it is executed)."""
    return read_toml_file(resolve_experiment_path(path), "experiment")


def load_experiment(
    path: str | Path,
    changes: Mapping[str, Any] | None = None,
    target: Callable[[dict[str, Any], int], Any] | None = None,
) -> Experiment:
    """Load, validate and resolve an experiment file.

    Args:
        path: An experiment file, or the name of a shipped one (``"compare_packages"``).
        changes: Top-level values replacing the file's (e.g. ``{"replications": 5}``);
            ``overrides`` merge key by key.
        target: A plain function to run instead of the coopsim model.

    Returns:
        The resolved :class:`Experiment`.

    Raises:
        ScenarioError: Naming the file and key, for any invalid content.
    """
    resolved_path = resolve_experiment_path(path)
    data = read_experiment_file(resolved_path)
    for key, value in (changes or {}).items():
        if key == "overrides" and isinstance(data.get(key), dict):
            data[key] = {**_flatten_tables(data[key], leaf_is_dict=True), **value}
        else:
            data[key] = value
    experiment = experiment_from_dict(
        data, str(resolved_path), target, base_dir=resolved_path.resolve().parent
    )
    experiment.file_hash = sha256_file(resolved_path)
    return experiment


# ======================================================================== executors
class Executor:
    """Runs a function over items, yielding ``(item, result or exception)`` as each ends.

    The serial executor runs in this process. Executors are context managers: the
    block owns the worker processes or cluster connection and releases them.
    """

    name = "serial"

    def __init__(self) -> None:
        self.workers = 1
        self.started = False

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
                yield item, fn(item)
            except Exception as exc:  # noqa: BLE001 - reported per item, like the others
                yield item, exc


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
    """Raised in the main thread by the SIGTERM handler of :func:`_stop_on_signals`."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
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
def _shielded() -> Iterator[None]:
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
        resume: Keep the finished runs of an earlier, interrupted session.
        progress: Show a progress bar with ETA on stderr (it advances run by run).
        flush_seconds: Longest time a finished run waits before it is written.

    Returns:
        The consolidated :class:`~sim.store.Results`.

    Raises:
        sim.store.StoreError: When resuming into a folder of a different experiment.
        Interrupted: When stopped by a signal (a ``KeyboardInterrupt``).
    """
    from tqdm import tqdm

    executor = executor or SerialExecutor()
    specs = experiment.run_specs()
    manifest = experiment.manifest()
    store = ExperimentStore(Path(out), flush_seconds=flush_seconds)
    own_executor = not executor.started
    started = time.perf_counter()
    counts = {"ran": 0, "failed_attempts": 0}
    ok_runs = 0
    stopped: KeyboardInterrupt | None = None

    def record_of(spec: RunSpec, attempt: int, result: Any) -> RunRecord:
        return result if isinstance(result, RunRecord) else _failure(spec, attempt, result)

    with store, _stop_on_signals():
        # Each session keeps its own code version: a resumed sweep may run newer code.
        manifest["session"] = {
            "executor": executor.describe(),
            "resumed": resume,
            "git_commit": manifest["git_commit"],
            "package_version": manifest["package_version"],
        }
        done = store.start(manifest, experiment.plan_frame(), resume=resume)
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
                    ok_runs += record.status == "ok"
                    if record.status == "ok" or attempt == 2:
                        bar.update()
                    if record.status != "ok":
                        counts["failed_attempts"] += 1
                        retry.append(spec)
                pending = retry
                if not pending:
                    break
        except KeyboardInterrupt as exc:  # Ctrl-C, SIGINT, or SIGTERM via _stop_on_signals
            stopped = exc
            with _shielded():
                executor.terminate()
                for (spec, attempt), result in executor.drain():
                    record = record_of(spec, attempt, result)
                    store.add(record)
                    counts["ran"] += 1
                    ok_runs += record.status == "ok"
        finally:
            bar.close()
            if own_executor or stopped is not None:
                executor.close()
        if stopped is not None:
            with _shielded():
                summary = {**counts, "wall_s": round(time.perf_counter() - started, 3)}
                store.interrupt(summary)
            signum = getattr(stopped, "signum", signal.SIGINT)
            raise Interrupted(store.folder, len(done) + ok_runs, len(specs), signum) from None
    summary = {**counts, "wall_s": round(time.perf_counter() - started, 3)}
    return store.finish(summary)
