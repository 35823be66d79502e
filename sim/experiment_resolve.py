"""Resolving an experiment against the model: each policy's scenario, and parameter draws.

A policy names a scenario (shipped, or a file beside the experiment file) and lever
values; :func:`_resolve_model_policies` loads and checks each, so that a bad one
fails naming the experiment's key. Under parameter uncertainty the calibrated
parameters are drawn from the history-matching accepted set
(:func:`parameter_draws`), the same draw for every policy. :mod:`sim.experiment`
puts these together into an :class:`~sim.experiment.Experiment`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiment_plan import Policy, scenario_label
from sim.experiment_spec import SCENARIOS_LEVER, ExperimentSpec, did_you_mean
from sim.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    parameter_table,
    shipped_scenarios,
)
from sim.store_files import sha256_file


def resolve_scenario_ref(ref: str, base_dir: Path | None) -> str:
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
        ref = resolve_scenario_ref(str(policy.scenario), base_dir)
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
    from sim.accepted_set import ACCEPTED_FILE, load_accepted
    from sim.calibration import CALIBRATED_PARAMETERS

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
