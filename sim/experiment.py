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

The file's schema and reader are in :mod:`sim.experiment_spec`, the plan of runs in
:mod:`sim.experiment_plan`, the policies' scenarios and the parameter draws in
:mod:`sim.experiment_resolve`, the executors (serial, local process pool, Dask) in
:mod:`sim.executors`, and running with resume in :mod:`sim.experiment_run`; this module
resolves a file into an :class:`Experiment` and re-exports the names users need, so
``from sim.experiment import load_experiment, run_experiment, ProcessExecutor`` works.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.executors import (  # re-exported: experiments are run with these
    DaskExecutor,
    Executor,
    ProcessExecutor,
    SerialExecutor,
    make_executor,
)
from sim.experiment_plan import (  # re-exported: the plan of runs and their targets
    FunctionTarget,
    ModelTarget,
    Policy,
    RunSpec,
    applied_design,
    build_policies,
    design_matrix,
    execute_run,
    replication_seeds,
    run_id,
    salib_problem,
    scenario_label,
)
from sim.experiment_resolve import (  # re-exported: the policies' scenarios, parameter draws
    DRAW_STREAM,
    _resolve_model_policies,
    _resolve_parameter_uncertainty,
    parameter_draws,
    resolve_scenario_ref,
)
from sim.experiment_run import Interrupted, run_experiment  # re-exported
from sim.experiment_spec import (  # re-exported: the file's schema and reader
    ANALYSIS_ONLY,
    DESIGNS,
    SCENARIOS_LEVER,
    SERIES_KINDS,
    ExperimentSpec,
    ParameterUncertainty,
    check_model_names,
    check_outcome_patterns,
    check_plan_size,
    did_you_mean,
    flatten_tables,
    is_robustness_file,
    model_outcome_names,
    parse_spec,
    planned_size,
    read_experiment_file,
    resolve_experiment_path,
    shipped_experiments,
    shipped_experiments_dir,
)
from sim.scenario import ScenarioError
from sim.store import (
    environment,
    now_iso,
    sha256_file,
    stable_hash,
)

__all__ = [
    "ANALYSIS_ONLY",
    "DESIGNS",
    "DRAW_STREAM",
    "DaskExecutor",
    "Executor",
    "Experiment",
    "ExperimentSpec",
    "FunctionTarget",
    "Interrupted",
    "ModelTarget",
    "ParameterUncertainty",
    "Policy",
    "ProcessExecutor",
    "RunSpec",
    "SCENARIOS_LEVER",
    "SERIES_KINDS",
    "SerialExecutor",
    "build_policies",
    "check_outcome_patterns",
    "design_matrix",
    "did_you_mean",
    "execute_run",
    "experiment_from_dict",
    "is_robustness_file",
    "load_experiment",
    "make_executor",
    "model_outcome_names",
    "parameter_draws",
    "parse_spec",
    "planned_size",
    "read_experiment_file",
    "replication_seeds",
    "resolve_scenario_ref",
    "resolve_experiment_path",
    "run_experiment",
    "run_id",
    "salib_problem",
    "scenario_label",
    "shipped_experiments",
    "shipped_experiments_dir",
]


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

    @property
    def scenarios(self) -> list:
        """The policies' resolved scenarios (none when the target is a function)."""
        if isinstance(self.target, ModelTarget):
            return list(self.target.scenarios.values())
        return []

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


# Largest plan an experiment may have: a bigger one would exhaust memory while the
# plan is being built (before the first run), not fail cleanly.
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
    check_plan_size(spec, source)
    draws, accepted_source = None, None
    ints: set[str] = set()
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
        ints = check_model_names(spec, source)
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
        design=applied_design(design_matrix(spec), spec, ints),
        seeds=replication_seeds(spec.base_seed, spec.replications),
        target=runner,
        resolved=resolved,
        draws=draws,
        seeds_per_draw=spec.parameter_uncertainty.seeds_per_draw if draws is not None else 1,
        accepted_source=accepted_source,
    )


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
            data[key] = {**flatten_tables(data[key], leaf_is_dict=True), **value}
        else:
            data[key] = value
    experiment = experiment_from_dict(
        data, str(resolved_path), target, base_dir=resolved_path.resolve().parent
    )
    experiment.file_hash = sha256_file(resolved_path)
    return experiment
