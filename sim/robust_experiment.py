"""The plan of ``coopsim robust``: every reform package in every world, paired by seed.

A robustness file (``experiments/robust_packages.toml``) names the **worlds** (a
stress scenario, or the baseline; with ``calibrated_draws = N`` each is crossed with N
parameter vectors drawn from the history-matching accepted set) and the **packages**
(a package scenario, of which the changes it makes to the baseline are applied, or a
table of dotted parameter values). Package-in-world is the world's scenario with the
package's changes on top; the no-reform reference is the world as it is.

The result is an ordinary :class:`sim.experiment.Experiment` (one policy per world and
package, named ``world/package``, with ``world`` and ``package`` columns in the plan),
so it runs on the same executors, store, resume and progress bar as ``compare`` and
``sweep``; replication ``i`` has the same seed in every policy (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sim import levers
from sim.experiment import (
    Experiment,
    ModelTarget,
    Policy,
    check_outcome_patterns,
    did_you_mean,
    flatten_tables,
    model_outcome_names,
    parameter_draws,
    parse_spec,
    replication_seeds,
    resolve_experiment_path,
    resolve_scenario_ref,
)
from sim.experiment_spec import format_errors, is_scenario_file
from sim.robust import Threshold, ThresholdError, direction, parse_threshold
from sim.scenario import Scenario, ScenarioError, load_scenario, parameter_table, read_toml_file
from sim.store import sha256_file

# A package may not change the sections that make a world (the stress tests, read from
# the lever registry when a file is checked) or set the run.
IGNORED_KEYS = ("name", "description", "run")


class RobustSpec(BaseModel):
    """A validated robustness file (``coopsim robust``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = Field(description="Short name; results go to results/<name>/ by default.")
    description: str = Field("", description="One line saying what is asked.")
    replications: int = Field(6, ge=2, le=100_000, description="Replications per package-world.")
    base_seed: int = Field(1, ge=0, description="Seed from which replication seeds derive.")
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description="Confidence level of intervals.")
    reference: str = Field("no_reform", description="Name of the no-reform option.")
    outcomes: list[str] = Field(
        min_length=1, description="Outcomes for effects and regret (each higher or lower better)."
    )
    thresholds: list[str] = Field(
        default_factory=list, description='Satisficing criteria, e.g. "completion_rate>=0.6".'
    )
    calibrated_draws: int = Field(
        0, ge=0, le=1000, description="Cross each world with N calibrated parameter draws."
    )
    heatmap: Literal["regret", "effect"] = Field("regret", description="What the heat map shows.")
    worlds: dict[str, str] = Field(
        min_length=1, description="World name = scenario (shipped name or .toml file)."
    )
    packages: dict[str, str | dict[str, Any]] = Field(
        min_length=1,
        description="Package name = scenario (its changes to the baseline) or a table of "
        "dotted parameter values.",
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Parameter values for every run (run.years...)."
    )

    @field_validator("worlds", "packages")
    @classmethod
    def _plain_names(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name in v:
            if not name or any(c in name for c in "/@ \t\n"):
                raise ValueError(f"{name!r}: a name without '/', '@' or spaces, e.g. demand_surge")
        return v


@dataclass
class RobustExperiment(Experiment):
    """An :class:`~sim.experiment.Experiment` with its worlds, packages and thresholds."""

    robust: RobustSpec | None = None
    worlds: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)
    thresholds: list[Threshold] = field(default_factory=list)
    package_changes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def manifest(self) -> dict[str, Any]:
        """The experiment's manifest plus what ``coopsim robust`` needs to analyse it."""
        manifest = super().manifest()
        manifest["robust"] = {
            "worlds": self.worlds,
            "packages": self.packages,
            "reference": self.robust.reference,
            "outcomes": list(self.robust.outcomes),
            "thresholds": [str(t) for t in self.thresholds],
            "package_changes": self.package_changes,
            "calibrated_draws": self.robust.calibrated_draws,
        }
        return manifest


def package_changes(package: Scenario, baseline: Scenario) -> dict[str, Any]:
    """What a package scenario changes from the baseline, as dotted overrides.

    Name, description and the ``run`` section are left out (the robustness file sets
    the run for every world).

    Args:
        package: The resolved package scenario.
        baseline: The resolved baseline.

    Returns:
        ``{"nsc_law.enabled": True, ...}`` in schema order.
    """
    mine, base = (
        flatten_tables(package.model_dump(mode="json")),
        flatten_tables(baseline.model_dump(mode="json")),
    )
    return {
        k: v for k, v in mine.items() if v != base.get(k) and k.split(".", 1)[0] not in IGNORED_KEYS
    }


def _load_ref(ref: str, where: str, base_dir: Path | None) -> Scenario:
    from sim.scenario import shipped_scenarios

    try:
        return load_scenario(resolve_scenario_ref(ref, base_dir))
    except ScenarioError as exc:
        hint = did_you_mean(Path(ref).stem, shipped_scenarios())
        raise ScenarioError(f"{where}: cannot use scenario {ref!r}: {exc}{hint}") from None


def _package_overrides(
    spec: RobustSpec, source: str, base_dir: Path | None
) -> dict[str, dict[str, Any]]:
    """Each package's changes as dotted overrides (the reference: none)."""
    baseline = load_scenario("baseline")
    changes: dict[str, dict[str, Any]] = {spec.reference: {}}
    for name, value in spec.packages.items():
        where = f"{source}: packages.{name}"
        if name == spec.reference:
            raise ScenarioError(f"{where}: the name of the no-reform reference; rename it")
        if isinstance(value, str):
            found = package_changes(_load_ref(value, where, base_dir), baseline)
        else:
            found = flatten_tables(value, leaf_is_dict=True)
        stress = [k for k in found if k.split(".", 1)[0] in levers.stress_test_names()]
        if stress:
            raise ScenarioError(
                f"{where}: changes {stress[0]}, a stress test; stress tests make worlds "
                f"(worlds = ...), packages hold reform levers"
            )
        try:  # the parameters exist and take these values
            baseline.with_overrides(found)
        except ScenarioError as exc:
            raise ScenarioError(f"{where}: {exc}") from None
        changes[name] = found
    return changes


def _world_scenarios(
    spec: RobustSpec, source: str, base_dir: Path | None
) -> tuple[dict[str, Scenario], dict[str, Any] | None, Any]:
    """Each world's scenario (run overrides applied; crossed with calibrated draws)."""
    worlds: dict[str, Scenario] = {}
    for name, ref in spec.worlds.items():
        where = f"{source}: worlds.{name}"
        scenario = _load_ref(ref, where, base_dir)
        try:
            worlds[name] = scenario.with_overrides(dict(spec.overrides))
        except ScenarioError as exc:
            raise ScenarioError(f"{source}: overrides: {exc}") from None
    if not spec.calibrated_draws:
        return worlds, None, None
    from sim.accepted_set import ACCEPTED_FILE, load_accepted
    from sim.calibration import CALIBRATED_PARAMETERS

    defaults = {f"{r['section']}.{r['key']}": r["default"] for r in parameter_table()}
    for name, scenario in worlds.items():
        values = flatten_tables(scenario.model_dump(mode="json"))
        for key in CALIBRATED_PARAMETERS:
            if values[key] != defaults[key]:
                raise ScenarioError(
                    f"{source}: worlds.{name}: sets the calibrated parameter {key} = "
                    f"{values[key]}, which calibrated_draws would overwrite; use its default "
                    f"({defaults[key]}) or calibrated_draws = 0"
                )
    try:
        accepted = load_accepted(ACCEPTED_FILE)
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: calibrated_draws: {exc}") from None
    draws = parameter_draws(accepted, spec.calibrated_draws, spec.base_seed)
    params = [c for c in draws.columns if c not in ("draw", "accepted_row")]
    crossed = {}
    for name, scenario in worlds.items():
        for row in draws.itertuples(index=False):
            values = {p: float(draws.loc[row.draw, p]) for p in params}
            crossed[f"{name}@draw{row.draw}"] = scenario.with_overrides(values)
    info = {
        "path": str(ACCEPTED_FILE),
        "sha256": sha256_file(ACCEPTED_FILE),
        "vectors": len(accepted),
        "draws": draws.to_dict("records"),
    }
    return crossed, info, draws


def check_outcomes(names: list[str], where: str) -> None:
    """Refuse an outcome that is unknown, a pattern, or has no better direction.

    Args:
        names: Outcome names (dotted).
        where: File and key, or the option, for messages.

    Raises:
        ScenarioError: Naming ``where``, the outcome and what is allowed.
    """
    available = model_outcome_names()
    check_outcome_patterns(names, available, where)
    for i, name in enumerate(names):
        if name not in available or direction(name) == 0:
            why = "a pattern" if name not in available else "an outcome with no better direction"
            raise ScenarioError(
                f"{where}[{i}]: {name!r} is {why}; regret needs outcome names where higher "
                "or lower is better (sim.outcomes.info(name).better says which)"
            )


def check_thresholds(thresholds: list[Threshold], where: str) -> None:
    """Refuse a threshold on an outcome that no run reports, suggesting a name."""
    available = model_outcome_names()
    for i, t in enumerate(thresholds):
        if t.outcome not in available:
            raise ScenarioError(
                f"{where}[{i}]: {str(t)!r}: {t.outcome!r} is not an outcome"
                f"{did_you_mean(t.outcome, available)}"
            )


def robust_from_dict(
    data: dict[str, Any], source: str = "<dict>", base_dir: Path | None = None
) -> RobustExperiment:
    """Validate robustness-file content and build its experiment.

    Args:
        data: The content, as in a TOML file.
        source: File name for messages and the manifest.
        base_dir: Folder against which relative scenario files are resolved.

    Returns:
        The experiment: one policy per (world, package), the reference first in each world.

    Raises:
        ScenarioError: Naming the file and the key, for any invalid content.
    """
    data = dict(data)
    if isinstance(data.get("overrides"), dict):
        data["overrides"] = flatten_tables(data["overrides"], leaf_is_dict=True)
    try:
        spec = RobustSpec.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_errors(exc, source, RobustSpec)) from None
    try:
        thresholds = [
            parse_threshold(t, f"{source}: thresholds[{i}]") for i, t in enumerate(spec.thresholds)
        ]
    except ThresholdError as exc:
        raise ScenarioError(str(exc)) from None
    check_outcomes(spec.outcomes, f"{source}: outcomes")
    check_thresholds(thresholds, f"{source}: thresholds")
    changes = _package_overrides(spec, source, base_dir)
    worlds, accepted_info, draws = _world_scenarios(spec, source, base_dir)
    base = parse_spec(
        {
            "name": spec.name,
            "description": spec.description,
            "replications": spec.replications,
            "base_seed": spec.base_seed,
            "confidence": spec.confidence,
            "outcomes": list(spec.outcomes),
            "overrides": dict(spec.overrides),
        },
        source,
    )
    policies, scenarios = [], {}
    for world, scenario in worlds.items():
        for package, overrides in changes.items():
            name = f"{world}/{package}"
            try:
                scenarios[name] = scenario.with_overrides(overrides)
            except ScenarioError as exc:
                raise ScenarioError(
                    f"{source}: packages.{package} in world {world}: {exc}"
                ) from None
            policies.append(Policy(len(policies), name, None, {"world": world, "package": package}))
    resolved = {name: s.model_dump(mode="json") for name, s in scenarios.items()}
    return RobustExperiment(
        spec=base,
        source=source,
        policies=policies,
        reference=policies[0].name,
        design=np.zeros((1, 0)),
        seeds=replication_seeds(spec.base_seed, spec.replications),
        target=ModelTarget(scenarios),
        resolved=resolved,
        accepted_source=accepted_info,
        robust=spec,
        worlds=list(worlds),
        packages=list(changes),
        thresholds=thresholds,
        package_changes=changes,
    )


def _select(table: Any, chosen: list[str] | None, option: str, source: str) -> Any:
    """The entries of a worlds/packages table named by a CLI option (all when None)."""
    if not chosen or not isinstance(table, dict):
        return table
    for name in chosen:
        if name not in table:
            raise ScenarioError(
                f"{option}: {name!r} is not in {source}{did_you_mean(name, table)}; "
                f"choose from: {', '.join(table)}"
            )
    return {name: table[name] for name in dict.fromkeys(chosen)}


def load_robust(
    path: str | Path,
    changes: dict[str, Any] | None = None,
    worlds: list[str] | None = None,
    packages: list[str] | None = None,
) -> RobustExperiment:
    """Load a robustness file (or the shipped one by name), with top-level changes.

    Args:
        path: A file, or the name of a shipped one (``"robust_packages"``).
        changes: Values replacing the file's (``overrides`` merge key by key).
        worlds: Only these worlds of the file (``--worlds``).
        packages: Only these packages of the file (``--packages``).

    Returns:
        The experiment.

    Raises:
        ScenarioError: Naming the file and key.
    """
    resolved = resolve_experiment_path(path)
    data = read_toml_file(resolved, "experiment")
    if is_scenario_file(data):
        raise ScenarioError(
            f"{resolved}: a scenario file, not a robustness file; name it in a robustness "
            "file's [packages] or [worlds], or run it with `coopsim run FILE`"
        )
    for key, value in (changes or {}).items():
        if key == "overrides" and isinstance(data.get(key), dict):
            data[key] = {**flatten_tables(data[key], leaf_is_dict=True), **value}
        else:
            data[key] = value
    data["worlds"] = _select(data.get("worlds"), worlds, "--worlds", f"{resolved} [worlds]")
    data["packages"] = _select(
        data.get("packages"), packages, "--packages", f"{resolved} [packages]"
    )
    experiment = robust_from_dict(data, str(resolved), base_dir=resolved.resolve().parent)
    experiment.file_hash = sha256_file(resolved)
    return experiment
