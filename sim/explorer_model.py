"""The explorer's model and its controls: flat parameters mapped to scenario keys.

SolaraViz rebuilds a model from flat keyword parameters (one per slider or
checkbox); :class:`ExplorerModel` maps them onto a scenario file
(``legal_distance_days=40`` -> ``drafting.legal_distance_days``,
``nsc_law_enabled=True`` -> ``nsc_law.enabled``) and runs the file as it stands
beside it, for reference. :func:`model_params` gives the controls, initialised from
the file. Needs no viz extra: the page is :mod:`sim.explorer`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim import levers
from sim.model import CooperationModel
from sim.scenario import Scenario, ScenarioError, load_scenario

# Flat parameter name -> (dotted scenario key, label, slider min, slider max, slider step).
FRICTIONS: dict[str, tuple[str, str, float, float, float]] = {
    "legal_distance_days": (
        "drafting.legal_distance_days",
        "Legal distance: extra drafting days",
        0.0,
        120.0,
        1.0,
    ),
    "clarification_per_legal_distance": (
        "review.clarification_per_legal_distance",
        "Legal distance: clarification chance",
        0.0,
        1.0,
        0.05,
    ),
    "sovereignty_sensitivity_mean": (
        "world.sovereignty_sensitivity_mean",
        "Sovereignty sensitivity (mean)",
        0.0,
        1.0,
        0.05,
    ),
    "central_authority_capacity": (
        "agencies.central_authority_capacity",
        "Central authority capacity",
        0.05,
        3.0,
        0.05,
    ),
}

LEVER_LABELS: dict[str, str] = {
    "nsc_law": "NSC law",
    "legal_harmonization": "Legal harmonization",
    "treaty_expansion": "Treaty expansion",
    "mutual_recognition": "Mutual recognition",
    "secure_platform": "Secure platform",
    "rapid_channels": "Rapid 24/7 channels",
    "joint_task_forces": "Joint task forces",
    "capacity_building": "Capacity building",
    "diplomatic_engagement": "Diplomatic engagement",
    "confidentiality_standards": "Confidentiality standards",
    "e_evidence": "E-evidence production orders",
    "geopolitical_tension": "Stress: geopolitical tension",
    "demand_surge": "Stress: demand surge",
    "budget_cuts": "Stress: budget cuts",
}

DEFAULT_DAYS_PER_STEP = 30


def lever_names() -> tuple[str, ...]:
    """Every registered reform lever and stress test, reforms first."""
    names = [lever.name for lever in levers.registered()]
    ordered = [n for n in LEVER_LABELS if n in names]
    return tuple(ordered + [n for n in names if n not in LEVER_LABELS])


def lever_label(name: str) -> str:
    """Readable label of a lever."""
    return LEVER_LABELS.get(name, name.replace("_", " ").capitalize())


def parameter_keys() -> dict[str, str]:
    """Map every flat explorer parameter to its dotted scenario key."""
    keys = {name: spec[0] for name, spec in FRICTIONS.items()}
    for lever in lever_names():
        keys[f"{lever}_enabled"] = f"{lever}.enabled"
        keys[f"{lever}_start_year"] = f"{lever}.start_year"
    return keys


def params_from_scenario(scenario: Scenario) -> dict[str, Any]:
    """Flat explorer parameters holding the values a scenario states.

    Args:
        scenario: A validated scenario.

    Returns:
        ``{flat name: value}`` for every friction and lever parameter.
    """
    data = scenario.model_dump()
    out = {}
    for flat, dotted in parameter_keys().items():
        section, key = dotted.split(".")
        out[flat] = data[section][key]
    return out


def overrides_from_params(params: dict[str, Any]) -> dict[str, Any]:
    """Dotted scenario overrides from flat explorer parameters.

    Args:
        params: ``{flat name: value}``, e.g. ``{"nsc_law_enabled": True}``.

    Returns:
        ``{"nsc_law.enabled": True}`` and the like.

    Raises:
        ScenarioError: If a name is not an explorer parameter (a ValueError).
    """
    keys = parameter_keys()
    unknown = sorted(set(params) - set(keys))
    if unknown:
        raise ScenarioError(f"unknown explorer parameters {unknown}; allowed: {sorted(keys)}")
    out: dict[str, Any] = {}
    for flat, value in params.items():
        if isinstance(value, np.generic):
            value = value.item()
        if flat.endswith("_enabled"):
            value = bool(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        out[keys[flat]] = value
    return out


class ExplorerModel(CooperationModel):
    """A CooperationModel built from flat keyword parameters, stepping many days at once.

    SolaraViz rebuilds the model with ``type(model)(**params)``; this class maps the
    flat parameters onto a scenario file and keeps, when they change it, a
    reference run of the file as it stands (same seed) that advances alongside.

    Args:
        scenario_path: The starting scenario (file or shipped name).
        seed: Random seed of both runs.
        days_per_step: Simulated days per :meth:`step` (one click on Step).
        **params: Flat explorer parameters (see :func:`parameter_keys`); missing ones
            keep the file's value.
    """

    def __init__(
        self,
        scenario_path: str = "baseline",
        seed: int = 1,
        days_per_step: int = DEFAULT_DAYS_PER_STEP,
        **params: Any,
    ):
        # SolaraViz's Reset also passes Mesa's own (empty) experiment scenario
        # object; the coopsim scenario comes from the file and the parameters.
        params.pop("scenario", None)
        self.scenario_path = str(scenario_path)
        self.seed = int(seed)
        self.days_per_step = max(1, int(days_per_step))
        self.base_scenario = load_scenario(scenario_path)
        self.overrides = overrides_from_params(params)
        scenario = (
            load_scenario(scenario_path, self.overrides) if self.overrides else self.base_scenario
        )
        super().__init__(scenario, rng=self.seed)
        self.changes = _changes(self.base_scenario, scenario)
        self.reference = (
            CooperationModel(self.base_scenario, rng=self.seed) if self.changes else None
        )
        # Mesa's step() advances time by one unit (one day); one explorer step runs
        # `days_per_step` days through Mesa's event list, so reforms still take
        # effect on their day.
        self.step = self._step_days

    def _step_days(self) -> None:
        days = min(self.days_per_step, self.horizon_days - self.day)
        if days <= 0:
            self.running = False
            return
        self.run_for(days)
        if self.reference is not None:
            self.reference.run_for(days)
        if self.day >= self.horizon_days:
            self.running = False


def _changes(base: Scenario, scenario: Scenario) -> list[tuple[str, Any, Any]]:
    """The explorer parameters whose value differs from the starting scenario."""
    old, new = params_from_scenario(base), params_from_scenario(scenario)
    return [(k, old[k], new[k]) for k in old if old[k] != new[k]]


def model_params(scenario_path: str = "baseline", seed: int = 1) -> dict[str, Any]:
    """The SolaraViz ``model_params``: controls initialised from the scenario file.

    Args:
        scenario_path: The starting scenario (file or shipped name).
        seed: Initial seed.

    Returns:
        Mesa user-parameter dicts (sliders and checkboxes) plus the fixed scenario path.
    """
    scenario = load_scenario(scenario_path)
    values = params_from_scenario(scenario)
    years = scenario.run.years
    out: dict[str, Any] = {
        "scenario_path": str(scenario_path),
        "days_per_step": {
            "type": "SliderInt",
            "value": DEFAULT_DAYS_PER_STEP,
            "min": 1,
            "max": 365,
            "step": 1,
            "label": "Days per step",
        },
        "seed": {"type": "SliderInt", "value": seed, "min": 1, "max": 100, "step": 1},
    }
    out["seed"]["label"] = "Seed"
    for name, (_, label, lo, hi, step) in FRICTIONS.items():
        value = float(values[name])
        out[name] = {
            "type": "SliderFloat",
            "value": value,
            "min": min(lo, value),
            "max": max(hi, value),
            "step": step,
            "label": label,
        }
    for lever in lever_names():
        label = lever_label(lever)
        out[f"{lever}_enabled"] = {
            "type": "Checkbox",
            "value": bool(values[f"{lever}_enabled"]),
            "label": f"{label}: on",
        }
        start = float(values[f"{lever}_start_year"])
        out[f"{lever}_start_year"] = {
            "type": "SliderFloat",
            "value": start,
            "min": 0.0,
            "max": max(float(years), start),
            "step": 0.25,
            "label": f"{label}: start year",
        }
    return out
