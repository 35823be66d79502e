"""The lever registry: every reform lever and stress test, declared in one place.

A lever is a scenario section (a :class:`~sim.schema_base.LeverSection`
subclass: ``enabled``, ``start_year``, ``applies_to`` and its own parameters)
and an effect, a function ``effect(model, targets, params)`` that changes the
model on the day the lever takes effect (:mod:`sim.lever_effects`). Registering
the two together is all a new lever needs besides a scenario that enables it::

    class MyLeverSection(LeverSection):
        '''Lever: what it represents (this line heads its parameter table).'''

        strength: float = P(0.5, 0.0, 1.0, "share", "What it changes, by how much.")

    def apply_my_lever(model, targets, p):
        model.policy.procedure_clarity[targets] += p.strength

    register_lever("my_lever", MyLeverSection, apply_my_lever)

From then on :class:`sim.scenario.Scenario` validates a ``[my_lever]`` table
(same strict rules, errors naming the file and key), the parameter tables and
``coopsim describe`` list it, and :func:`sim.reforms.enabled_reforms` schedules
it. A section that subclasses :class:`~sim.schema_base.AdoptableLeverSection`
makes the lever adoptable (``adoption = "endogenous"``, :mod:`sim.adoption`).
Tests register a lever for their own duration with :func:`temporary_lever`.

Order matters: reforms taking effect the same day apply in registry order,
reform levers (in the order registered) before stress tests. The built-in
levers are registered at the bottom of this module in the order every stored
result was produced with; keep it, or runs stop being bit-identical.

A lever registered at run time exists in the process that registered it. Sweep
workers are spawned: declare the lever in an importable module that registers it
when imported (not in a notebook's cells), and a scenario that has its section
imports that module in the worker before it is validated there
(:meth:`sim.scenario.ScenarioBase.__reduce__`).

``LEVERS``, ``STRESS_TESTS``, ``ADOPTABLE_LEVERS`` (names) and ``EFFECTS`` (name
-> effect) are read from the registry: ``EFFECTS`` is a live view, the tuples
are computed when read (``from sim.levers import LEVERS`` takes the levers
registered at that moment; code that must see later ones calls
:func:`lever_names` and friends).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim import lever_effects as fx
from sim.schema_agreements import (
    BilateralAgreementsSection,
    CoordinatedOperationSection,
    CounterterrorismAgreementSection,
)
from sim.schema_base import AdoptableLeverSection, LeverSection
from sim.schema_levers import (
    BudgetCutsSection,
    CapacityBuildingSection,
    ConfidentialityStandardsSection,
    DemandSurgeSection,
    DiplomaticEngagementSection,
    EEvidenceSection,
    GeopoliticalTensionSection,
    JointTaskForcesSection,
    LegalHarmonizationSection,
    MutualRecognitionSection,
    NscLawSection,
    RapidChannelsSection,
    SecurePlatformSection,
    TreatyExpansionSection,
)

if TYPE_CHECKING:
    import numpy as np

    from sim.model import CooperationModel

Effect = Callable[["CooperationModel", "np.ndarray", Any], None]


@dataclass(frozen=True)
class Lever:
    """One registered lever: its scenario section and its effect.

    Attributes:
        name: The scenario section's name (``[name]`` in a scenario file).
        section: The section class (validated parameters; ``enabled`` and so on).
        effect: ``effect(model, targets, params)``, applied when the lever takes effect.
        stress_test: A stress test (applied after the reform levers of the same day).
        builtin: Registered by this module; cannot be unregistered.
    """

    name: str
    section: type[LeverSection]
    effect: Effect
    stress_test: bool = False
    builtin: bool = False

    @property
    def adoptable(self) -> bool:
        """Whether states may adopt it by choice (its section is adoptable)."""
        return issubclass(self.section, AdoptableLeverSection)


_REGISTRY: dict[str, Lever] = {}
# Called after every change; sim.scenario rebuilds its Scenario class from the registry.
_LISTENERS: list[Callable[[], None]] = []
_LOADING_BUILTINS = True  # False once the built-in levers below are registered


def _check_new(name: str, section: Any, effect: Any, stress_test: bool) -> None:
    """Refuse a lever that the schema or the model could not use, before registering it."""
    if not (isinstance(name, str) and name.isidentifier() and name.islower()):
        raise ValueError(f"lever name {name!r}: use a lower-case identifier (a TOML table name)")
    if name.startswith("_"):
        raise ValueError(f"lever name {name!r}: must not start with an underscore")
    if name in _REGISTRY:
        raise ValueError(f"lever {name!r} is already registered")
    if not (isinstance(section, type) and issubclass(section, LeverSection)):
        raise TypeError(f"lever {name!r}: the section must be a LeverSection subclass")
    if not callable(effect):
        raise TypeError(f"lever {name!r}: the effect must be callable")
    if stress_test and issubclass(section, AdoptableLeverSection):
        raise TypeError(f"lever {name!r}: a stress test cannot be adopted by choice")
    try:
        section()  # the scenario's default: every parameter needs a default
    except Exception as exc:  # any error here means the section has no usable default
        raise TypeError(f"lever {name!r}: its section has no valid default: {exc}") from None


def _notify() -> None:
    for listener in _LISTENERS:
        listener()


def register_lever(
    name: str, section: type[LeverSection], effect: Effect, *, stress_test: bool = False
) -> Lever:
    """Declare a lever: its scenario section and its effect, together.

    Args:
        name: Section name in scenario files and overrides (``"my_lever.enabled"``).
        section: A :class:`~sim.schema_base.LeverSection` subclass whose fields all
            have defaults (declared with :func:`~sim.schema_base.P`); an
            :class:`~sim.schema_base.AdoptableLeverSection` makes the lever adoptable.
        effect: ``effect(model, targets, params)``: changes the model for the
            target state indices, with the validated section as ``params``.
        stress_test: Whether it is a stress test (applied after reform levers).

    Returns:
        The registered :class:`Lever`.

    Raises:
        ValueError: If the name is taken or cannot be a section name.
        TypeError: If the section or effect cannot be used.
    """
    _check_new(name, section, effect, stress_test)
    lever = Lever(name, section, effect, stress_test, builtin=_LOADING_BUILTINS)
    _REGISTRY[name] = lever
    try:
        _notify()
    except Exception:
        # The schema refused it (e.g. a name taken by a section): leave no trace.
        del _REGISTRY[name]
        _notify()
        raise
    return lever


def unregister_lever(name: str) -> None:
    """Remove a lever registered at run time (tests clean up with this).

    Raises:
        KeyError: If no such lever is registered.
        ValueError: For a built-in lever.
    """
    lever = _REGISTRY[name]
    if lever.builtin:
        raise ValueError(f"lever {name!r} is built in and cannot be unregistered")
    del _REGISTRY[name]
    _notify()


@contextmanager
def temporary_lever(
    name: str, section: type[LeverSection], effect: Effect, *, stress_test: bool = False
) -> Iterator[Lever]:
    """Register a lever for the duration of a ``with`` block (a test fixture's).

    Yields:
        The registered :class:`Lever`; it is unregistered on leaving the block.
    """
    lever = register_lever(name, section, effect, stress_test=stress_test)
    try:
        yield lever
    finally:
        unregister_lever(name)


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener()`` after every registration and unregistration."""
    _LISTENERS.append(listener)


def registered() -> tuple[Lever, ...]:
    """Every lever in application order: reform levers, then stress tests, each as registered."""
    levers = list(_REGISTRY.values())
    return tuple(
        [lever for lever in levers if not lever.stress_test]
        + [lever for lever in levers if lever.stress_test]
    )


def get_lever(name: str) -> Lever:
    """The registered lever of that name.

    Raises:
        KeyError: If there is none.
    """
    return _REGISTRY[name]


def lever_names() -> tuple[str, ...]:
    """Names of the reform levers (not stress tests), in application order."""
    return tuple(lever.name for lever in registered() if not lever.stress_test)


def stress_test_names() -> tuple[str, ...]:
    """Names of the stress tests, in application order."""
    return tuple(lever.name for lever in registered() if lever.stress_test)


def adoptable_lever_names() -> tuple[str, ...]:
    """Names of the levers states may adopt by choice, in application order."""
    return tuple(lever.name for lever in registered() if lever.adoptable)


class _Effects(Mapping[str, Effect]):
    """Lever name -> effect, read from the registry at every access."""

    def __getitem__(self, name: str) -> Effect:
        return _REGISTRY[name].effect

    def __iter__(self) -> Iterator[str]:
        return (lever.name for lever in registered())

    def __len__(self) -> int:
        return len(_REGISTRY)

    def __repr__(self) -> str:
        return f"EFFECTS({dict(self)!r})"


EFFECTS: Mapping[str, Effect] = _Effects()

_DERIVED = {
    "LEVERS": lever_names,
    "STRESS_TESTS": stress_test_names,
    "ADOPTABLE_LEVERS": adoptable_lever_names,
}


def __getattr__(name: str) -> tuple[str, ...]:
    """``LEVERS``, ``STRESS_TESTS`` and ``ADOPTABLE_LEVERS``, computed when read (PEP 562)."""
    derive = _DERIVED.get(name)
    if derive is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return derive()


def reexport(module: str, *names: str) -> Callable[[str], tuple[str, ...]]:
    """A module ``__getattr__`` that serves some of the names above, read when accessed.

    For modules where older code imports them (``from sim.scenario import LEVERS``):
    ``__getattr__ = levers.reexport(__name__, "LEVERS", "STRESS_TESTS")``.
    """

    def module_getattr(name: str) -> tuple[str, ...]:
        if name in names:
            return _DERIVED[name]()
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return module_getattr


# --------------------------------------------------------------------------------------
# The built-in levers. Their order is the order reforms of the same day apply in.
# --------------------------------------------------------------------------------------

register_lever("nsc_law", NscLawSection, fx.apply_nsc_law)
register_lever("legal_harmonization", LegalHarmonizationSection, fx.apply_legal_harmonization)
register_lever("treaty_expansion", TreatyExpansionSection, fx.apply_treaty_expansion)
register_lever("mutual_recognition", MutualRecognitionSection, fx.apply_mutual_recognition)
register_lever("secure_platform", SecurePlatformSection, fx.apply_secure_platform)
register_lever("rapid_channels", RapidChannelsSection, fx.apply_rapid_channels)
register_lever("joint_task_forces", JointTaskForcesSection, fx.apply_joint_task_forces)
register_lever("capacity_building", CapacityBuildingSection, fx.apply_capacity_building)
register_lever("diplomatic_engagement", DiplomaticEngagementSection, fx.apply_diplomatic_engagement)
register_lever(
    "confidentiality_standards",
    ConfidentialityStandardsSection,
    fx.apply_confidentiality_standards,
)
register_lever("bilateral_agreements", BilateralAgreementsSection, fx.apply_bilateral_agreements)
register_lever("e_evidence", EEvidenceSection, fx.apply_e_evidence)
register_lever("coordinated_operation", CoordinatedOperationSection, fx.apply_coordinated_operation)
register_lever(
    "counterterrorism_agreement",
    CounterterrorismAgreementSection,
    fx.apply_counterterrorism_agreement,
)
register_lever(
    "geopolitical_tension",
    GeopoliticalTensionSection,
    fx.apply_geopolitical_tension,
    stress_test=True,
)
register_lever("demand_surge", DemandSurgeSection, fx.apply_demand_surge, stress_test=True)
register_lever("budget_cuts", BudgetCutsSection, fx.apply_budget_cuts, stress_test=True)
_LOADING_BUILTINS = False
