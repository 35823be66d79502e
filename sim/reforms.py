"""Reforms: the enabled levers (and stress tests) of a scenario, dated and targeted.

A lever is a scenario section with ``enabled``, ``start_year`` and
``applies_to`` and an effect, registered together in :mod:`sim.levers` (the
built-in effects are in :mod:`sim.lever_effects`). :func:`enabled_reforms`
turns a scenario's enabled levers into :class:`Reform` objects, in registry
order (the order reforms of the same day apply in); at ``start_year`` each
applies its effect to its target states (:func:`resolve_targets`). A lever with
``adoption = "endogenous"`` is not applied to every target at once: its targets
decide one by one (:mod:`sim.adoption`), each adopter getting the same effect on
the day it adopts.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from sim import levers
from sim.lever_effects import (  # noqa: F401  (re-exported: the effects were defined here)
    apply_bilateral_agreements,
    apply_budget_cuts,
    apply_capacity_building,
    apply_confidentiality_standards,
    apply_coordinated_operation,
    apply_counterterrorism_agreement,
    apply_demand_surge,
    apply_diplomatic_engagement,
    apply_e_evidence,
    apply_geopolitical_tension,
    apply_joint_task_forces,
    apply_legal_harmonization,
    apply_mutual_recognition,
    apply_nsc_law,
    apply_rapid_channels,
    apply_secure_platform,
    apply_treaty_expansion,
)
from sim.levers import EFFECTS
from sim.scenario import (
    DAYS_PER_YEAR,
    Scenario,
    ScenarioError,
    warmup_days,
)
from sim.world import CAPACITY_GROUPS, World

if TYPE_CHECKING:
    from sim.model import CooperationModel

# Re-exported: the registry's effects by lever name and the built-in effects (tests and
# older code read them here); LEVERS and STRESS_TESTS come from the registry when read.
__all__ = [
    "EFFECTS",
    "Reform",
    "enabled_reforms",
    "resolve_targets",
    *sorted(n for n in dir() if n.startswith("apply_")),
]


__getattr__ = levers.reexport(__name__, "LEVERS", "STRESS_TESTS")


def resolve_targets(applies_to: str | list[str], world: World, key: str, source: str) -> np.ndarray:
    """State indices a lever applies to.

    Args:
        applies_to: ``"all"``, a bloc or capacity-group name, or a list of state codes.
        world: The world (codes, blocs, capacity groups).
        key: Scenario key, for error messages (e.g. ``"nsc_law.applies_to"``).
        source: Scenario file, for error messages.

    Returns:
        Sorted array of state indices.

    Raises:
        ScenarioError: If a listed state code is not in the world.
    """
    n = world.n_states
    if isinstance(applies_to, list):
        index = {code: i for i, code in enumerate(world.codes)}
        unknown = [code for code in applies_to if code not in index]
        if unknown:
            sample = ", ".join(world.codes[:5])
            raise ScenarioError(
                f"{source}: {key}: unknown state code(s) {unknown}; this world's states are "
                f"codes like {sample} (see `coopsim describe` or the world data file)"
            )
        return np.array(sorted({index[c] for c in applies_to}), dtype=np.int64)
    masks = {
        "all": np.ones(n, dtype=bool),
        "mr_bloc": world.mr_bloc,
        "non_mr_bloc": ~world.mr_bloc,
        "alliance": world.alliance,
        "non_alliance": ~world.alliance,
    }
    for g, name in enumerate(CAPACITY_GROUPS):
        masks[f"{name}_capacity"] = world.capacity_group == g
    return np.flatnonzero(masks[applies_to])


class Reform:
    """One enabled lever of a scenario, waiting for its start.

    Args:
        name: Lever name (a scenario section).
        params: The validated lever section.
        targets: State indices it applies to.
        window_start_day: First day of the measurement window (the warm-up's length).
    """

    def __init__(self, name: str, params: Any, targets: np.ndarray, window_start_day: int = 0):
        self.name = name
        self.params = params
        self.targets = targets
        # start_year counts from the start of the measurement window, after the warm-up.
        self.start_day = window_start_day + int(round(params.start_year * DAYS_PER_YEAR))
        self.applied_day: int | None = None
        self.model: CooperationModel | None = None  # set by the model that schedules it

    @property
    def endogenous(self) -> bool:
        """Whether the targets choose to adopt the lever (``adoption = "endogenous"``)."""
        return getattr(self.params, "adoption", "imposed") == "endogenous"

    def take_effect(self) -> None:
        """Apply the lever to its model now (a Mesa event callback: no arguments).

        An endogenous lever is not applied: its targets start deciding whether to
        adopt it (:class:`sim.adoption.AdoptionProcess`).
        """
        self.applied_day = self.model.day
        if self.endogenous:
            self.model.adoption.open(self)
        else:
            self.model.policy.put_in_force(self.name, self.targets, self.model.day)
            EFFECTS[self.name](self.model, self.targets, self.params)


def enabled_reforms(scenario: Scenario, world: World) -> list[Reform]:
    """The scenario's enabled levers and stress tests, with their target states resolved."""
    reforms = []
    for lever in levers.registered():
        name = lever.name
        # None: the scenario was validated before this lever was registered.
        params = getattr(scenario, name, None)
        if params is None or not params.enabled:
            continue
        source = scenario.source or "<scenario>"
        targets = resolve_targets(params.applies_to, world, f"{name}.applies_to", source)
        if targets.size == 0:
            # Enabled, yet in force nowhere: a comparison would read "no effect".
            warnings.warn(
                f"{source}: {name}.applies_to = {params.applies_to!r} names no state of this "
                f"{world.n_states}-state world: {name} changes nothing here",
                stacklevel=2,
            )
        reforms.append(Reform(name, params, targets, warmup_days(scenario)))
    return reforms
