"""The experiment file: its schema, its reader and the checks that need no model run.

An experiment file (TOML, in ``experiments/``) speaks the vocabulary of exploratory
modelling: **uncertainties** are parameter ranges sampled by a **design**; **levers**
are the policies compared; **outcomes** are the quantities analysed. This module
validates such a file into an :class:`ExperimentSpec` with messages that name the file
and the key; :mod:`sim.experiment` resolves it against the model into runs. The
schema itself is :mod:`sim.experiment_schema`, re-exported here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from sim import levers
from sim.experiment_schema import (  # re-exported: the schema is imported from here
    ANALYSIS_ONLY,
    DESIGNS,
    SCENARIOS_LEVER,
    SERIES_KINDS,
    ExperimentSpec,
    ParameterUncertainty,
)
from sim.scenario import (
    ScenarioError,
    did_you_mean,
    load_scenario,
    parameter_table,
    read_toml_file,
    resolve_named_file,
    scenario_sections,
)

__all__ = [
    "ANALYSIS_ONLY",
    "DESIGNS",
    "ExperimentSpec",
    "MAX_PLANNED_RUNS",
    "ParameterUncertainty",
    "SCENARIOS_LEVER",
    "SERIES_KINDS",
    "check_model_names",
    "check_outcome_patterns",
    "check_plan_size",
    "did_you_mean",
    "flatten_tables",
    "format_errors",
    "is_robustness_file",
    "model_outcome_names",
    "parse_spec",
    "planned_size",
    "read_experiment_file",
    "resolve_experiment_path",
    "shipped_experiments",
    "shipped_experiments_dir",
]


def flatten_tables(table: Mapping[str, Any], leaf_is_dict: bool = False) -> dict[str, Any]:
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


def format_errors(
    exc: ValidationError,
    source: str,
    spec: type[BaseModel] | None = None,
    nested: Mapping[str, type[BaseModel]] | None = None,
) -> str:
    """Pydantic errors as lines naming the file, the key and what is allowed.

    Args:
        exc: The validation error.
        source: The file, for messages.
        spec: The model validated (an experiment file by default).
        nested: Sub-tables validated by their own model, by key (their allowed keys
            are listed for an unknown key inside them).
    """
    spec = spec or ExperimentSpec
    if nested is None and spec is ExperimentSpec:
        nested = {"parameter_uncertainty": ParameterUncertainty}
    nested = nested or {}
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        top = str(err["loc"][0]) if err["loc"] else ""
        if err["type"] == "extra_forbidden":
            fields = spec.model_fields
            if top in nested and len(err["loc"]) > 1:
                fields = nested[top].model_fields
            allowed = ", ".join(fields)
            hint = did_you_mean(str(err["loc"][-1]), fields)
            lines.append(f"{source}: {key}: unknown key{hint}; allowed keys: {allowed}")
            continue
        field_info = spec.model_fields.get(top)
        meaning = f"; {top}: {field_info.description}" if field_info else ""
        shown = repr(err.get("input"))
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        msg = err["msg"].removeprefix("Value error, ")
        # Some of the spec's own checks say what they found themselves.
        found = "" if "found" in msg else f" (found {shown})"
        lines.append(f"{source}: {key}: {msg}{found}{meaning}")
    return "\n".join(lines)


def is_robustness_file(data: Mapping[str, Any]) -> bool:
    """Whether experiment-file content is a ``coopsim robust`` file (worlds and packages)."""
    return "worlds" in data and "packages" in data


def is_scenario_file(data: Mapping[str, Any]) -> bool:
    """Whether experiment-file content is a scenario's (``extends``, or its sections only)."""
    own = set(ExperimentSpec.model_fields) - {"name", "description"}
    return "extends" in data or (bool(set(scenario_sections()) & set(data)) and not own & set(data))


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
    if not isinstance(data, Mapping):
        raise ScenarioError(
            f"{source}: an experiment is a table of keys (a dict: name, replications, "
            f"levers, ...), found {type(data).__name__}"
        )
    data = dict(data)
    if is_robustness_file(data):
        raise ScenarioError(
            f"{source}: worlds, packages: a robustness file (reform packages across worlds); "
            "run it with `coopsim robust FILE`"
        )
    if is_scenario_file(data):
        raise ScenarioError(
            f"{source}: a scenario file, not an experiment file; run it with `coopsim run "
            "FILE`, or compare it with `coopsim compare FILE`, or name it in an experiment's "
            "levers.scenarios"
        )
    for key, leaf_is_dict in (("uncertainties", False), ("levers", False), ("overrides", True)):
        if isinstance(data.get(key), dict):
            data[key] = flatten_tables(data[key], leaf_is_dict=leaf_is_dict)
    if data.get("design") == "morris" and "levels" not in data:
        data["levels"] = 4  # Morris wants an even number of levels; 4 is the usual choice
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_errors(exc, source)) from None
    if spec.design == "sobol" and spec.sample_size & (spec.sample_size - 1):
        raise ScenarioError(
            f"{source}: sample_size: a sobol design needs a power of 2 (e.g. 64, 128, 256), "
            f"found {spec.sample_size}"
        )
    fixed = sorted(set(spec.uncertainties) & set(spec.overrides))
    if fixed:
        raise ScenarioError(
            f"{source}: overrides.{fixed[0]}: also an uncertainty; a parameter is either "
            "sampled (uncertainties) or fixed (overrides), not both"
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


@functools.cache
def model_outcome_names() -> tuple[str, ...]:
    """The numeric outcomes every coopsim run reports (flattened, dotted names).

    Found by running the smallest model for a few days (once per process, ~20 ms after
    the model is imported and its kernels compiled): the outcomes of a run are the same
    for every scenario.
    """
    from sim.compiling import ensure_compiled
    from sim.metrics import flatten
    from sim.model import run

    # On a machine that has not compiled the kernels yet, this probe is the first run:
    # compile them here on two cores, not serially inside the probe.
    ensure_compiled()
    probe = load_scenario(
        "baseline", {"world.n_states": 3, "run.years": 0.01, "run.warmup_years": 0.0}
    )
    flat = flatten(run(probe, seed=1).outcomes)
    return tuple(
        k
        for k, v in flat.items()
        if isinstance(v, int | float | np.number) and not isinstance(v, bool)
    )


# A lever registered later (an adoptable one adds its adoption outcomes): probe again.
levers.on_change(model_outcome_names.cache_clear)


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


def check_model_names(spec: ExperimentSpec, source: str) -> set[str]:
    """Check uncertainties against the scenario schema; return the integer ones."""
    params = {f"{r['section']}.{r['key']}": r for r in parameter_table()}
    numeric = {"float", "int"}
    ints = set()
    for name, (low, high) in spec.uncertainties.items():
        row = params.get(name) or _table_value_row(name, params)
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


def _table_value_row(name: str, params: dict[str, dict]) -> dict | None:
    """The row of one value of a table of numbers (``world.legal_family_distance.common-civil``).

    A table's values (a share mix, the legal distances) can be uncertain one by one:
    each is a float with the table's range, set through its dotted name.
    """
    table, _, key = name.rpartition(".")
    row = params.get(table)
    if row is None or not isinstance(row["default"], dict) or key not in row["default"]:
        return None
    return {**row, "key": f"{row['key']}.{key}", "type": "float", "default": row["default"][key]}


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


def check_plan_size(spec: ExperimentSpec, source: str) -> None:
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
