"""What each submodel may read and call on the model: one narrow contract each.

The submodels (intelligence, INTERPOL, joint teams, meetings, e-evidence, operations,
adoption, negotiation) are given the model, but each is typed against a
:class:`typing.Protocol` below that lists the members it uses, and nothing else.
``tests/test_contracts.py`` reads every submodel's source and fails when it touches a
member of the model its contract does not list, so a new dependency is a visible
change here rather than a silent reach into the model. :class:`CooperationModel`
satisfies every contract (the same test checks that it has every member).

Lever effects are not submodels: an effect changes the model on the day its lever
takes effect, through the arrays of :class:`~sim.policy.PolicyState` and the world,
the services the model offers (:mod:`sim.model_services`) and the submodels' own
methods, never by setting an attribute (``tests/test_contracts.py``), and is given the
whole model. So is the adoption process when it applies a lever's effect to an adopter.

Reading a contract tells what a submodel depends on: the INTERPOL secretariat, for
example, needs the day, the world, the case book and the operations (for their
searches); the extraditions its arrests start are drafted inside the day's kernel
call (:mod:`sim.kernel_day`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

    from sim.agents import AgencyTable
    from sim.policy import PolicyState
    from sim.requests import CaseBook, Ledger
    from sim.scenario import Scenario
    from sim.trust import TrustNetwork
    from sim.world import World


class Clock(Protocol):
    """The simulated day and the measurement window."""

    day: int
    window_start: int
    horizon_days: int


class Scheduler(Protocol):
    """Mesa's event list (for things that happen on a date, not every day)."""

    time: float

    def schedule_event(self, function: Callable, *, at: Any = None, after: Any = None) -> Any:
        """Call ``function`` once, at a time or after a delay."""

    def schedule_recurring(self, function: Callable, schedule: Any, **kwargs: Any) -> Any:
        """Call ``function`` on a recurring schedule."""


class IntelligenceHost(Clock, Protocol):
    """What :class:`sim.intelligence.IntelligenceSharing` uses."""

    config: Scenario
    world: World
    intel_of: np.ndarray  # each state's intelligence service (agency index)
    operations: Any  # sim.operations.Operations: an operation's shared intelligence


class InterpolHost(Clock, Protocol):
    """What :class:`sim.interpol.InterpolSecretariat` uses."""

    config: Scenario
    operations: Any  # an operation's coordinated searches and faster reviews


class TeamsHost(Protocol):
    """What :class:`sim.teams.TeamFormation` and its teams use."""

    day: int
    config: Scenario
    cases: CaseBook
    policy: PolicyState
    agency_table: AgencyTable
    le_of: np.ndarray  # each state's law-enforcement agency (agency index)


class EngagementHost(Scheduler, Protocol):
    """What coordination meetings and the coordinating body use (:mod:`sim.engagement`)."""

    day: int
    config: Scenario
    world: World
    trust: TrustNetwork
    policy: PolicyState
    familiarity: np.ndarray  # (n, n) familiarity built by meetings
    traffic: np.ndarray  # (n, n) requests sent, row -> column

    def grow_state(
        self, state: int, capacity: float = 0.0, technology: float = 0.0, skill: float = 0.0
    ) -> None:
        """Raise a state's capacity, technology and skill (capacity building)."""


class ElectronicEvidenceHost(Clock, Protocol):
    """What :class:`sim.eevidence.ElectronicEvidence` uses."""

    config: Scenario
    world: World
    cases: CaseBook
    ledger: Ledger
    policy: PolicyState

    def open_formal_requests(
        self, requesting, requested, case_type, severity, sensitivity, deadline
    ) -> np.ndarray:
        """Open a case with one formal MLA request for each declined data request."""


class OperationsHost(Clock, Protocol):
    """What :class:`sim.operations.Operations` uses."""

    world: World
    rng: np.random.Generator
    cases: CaseBook
    ledger: Ledger
    interpol: Any  # sim.interpol.InterpolSecretariat: searches an operation starts


class DecisionHost(Clock, Scheduler, Protocol):
    """What adoption by choice and bilateral negotiation use.

    :mod:`sim.adoption` and :mod:`sim.negotiation` read the states' experience of
    cooperation (requests sent, the ledger) and act on dates through the calendar.
    """

    config: Scenario
    world: World
    rng: np.random.Generator
    ledger: Ledger
    policy: PolicyState  # adoption records the day each adopter's lever takes effect
    traffic: np.ndarray  # (n, n) requests sent, row -> column
    series: dict[str, np.ndarray]  # daily series (they add their own)


# Module -> the contract its submodels are typed against (checked by tests/test_contracts.py).
CONTRACTS: dict[str, type] = {
    "intelligence": IntelligenceHost,
    "interpol": InterpolHost,
    "teams": TeamsHost,
    "engagement": EngagementHost,
    "eevidence": ElectronicEvidenceHost,
    "operations": OperationsHost,
    "adoption": DecisionHost,
    "negotiation": DecisionHost,
}


def members(contract: type) -> set[str]:
    """Every attribute and method a contract (with the contracts it extends) lists."""
    names: set[str] = set()
    for cls in contract.__mro__:
        if cls in (Protocol, object) or not getattr(cls, "_is_protocol", False):
            continue
        names |= set(getattr(cls, "__annotations__", {}))
        names |= {n for n, v in vars(cls).items() if callable(v) and not n.startswith("_")}
    return names
