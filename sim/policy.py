"""PolicyState: the per-state settings that reform levers write and the daily stages read.

A lever changes the world in one of two ways: through the world's own
attributes (treaties, bloc membership, legal distance, platform, technology,
contact points, confidentiality, cultural distance, relations, sovereignty) or
through the settings gathered here. Every field is read by a stage of the model;
nothing else is written by reforms except through the model's services (an
agency's capacity cut, :mod:`sim.model_services`) and the submodels' own methods
(a negotiation opened, an operation started, a budget given to the coordinating
body, more meetings a round). ``tests/test_contracts.py`` checks that no effect sets
an attribute of anything by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.scenario import Scenario


@dataclass
class PolicyState:
    """Per-state lever settings, indexed by state.

    Attributes:
        procedure_clarity: Share of clarification rounds (and of the spread of review
            times) that clear procedures avoid on security requests involving the state.
        formal_channel: The state sends and receives treaty-less requests through its
            central authority instead of diplomatic channels.
        urgent_threshold: Severity from which the state's requests count as urgent
            (they go through 24/7 contact points where both ends have one).
        court_transparency: Transparency of the state's national security court (0-1).
        court_safeguards: Defendants' safeguards before that court (0-1).
        demand_growth: Yearly growth of the state's case arrivals.
        demand_start_day: Day from which that growth runs.
        e_evidence: The state is under the e-evidence regime: it issues production
            orders, and providers based there receive them.
        team_threshold_shift: Fall in the severity a case from the state needs for a
            joint team (joint task forces).
        team_cost_factor: Share of a team's cost the originating state still pays (the
            rest is funded centrally).
        team_trust_shift: Fall in the trust the originating state needs to agree to a
            team (model agreements).
        diplomatic_engagement: The state is engaged by diplomacy: its pairs weigh more
            when meetings are chosen (1) or not (0).
        in_force_since: Lever name -> the day the lever took effect in each state, -1
            where no reform has applied it (a state may hold its instrument from the
            start, as a member of the bloc). An imposed lever takes effect in all its
            targets on its start day, an adoptable one in each adopter on the day it
            adopts (:mod:`sim.adoption` reads these days).
    """

    procedure_clarity: np.ndarray
    formal_channel: np.ndarray
    urgent_threshold: np.ndarray
    court_transparency: np.ndarray
    court_safeguards: np.ndarray
    demand_growth: np.ndarray
    demand_start_day: np.ndarray
    e_evidence: np.ndarray
    team_threshold_shift: np.ndarray
    team_cost_factor: np.ndarray
    team_trust_shift: np.ndarray
    diplomatic_engagement: np.ndarray
    in_force_since: dict[str, np.ndarray] = field(default_factory=dict)

    def put_in_force(self, lever: str, states: np.ndarray, day: int) -> None:
        """Record that ``lever`` takes effect in ``states`` on ``day``."""
        self.in_force(lever)[states] = day

    def in_force(self, lever: str) -> np.ndarray:
        """The day ``lever`` took effect in each state (-1: not in force); the record itself."""
        n = self.procedure_clarity.size
        return self.in_force_since.setdefault(lever, np.full(n, -1, dtype=np.int64))

    @classmethod
    def initial(cls, scenario: Scenario, has_security_court: np.ndarray) -> PolicyState:
        """The settings before any reform: the scenario's defaults for every state.

        Args:
            scenario: The scenario in force.
            has_security_court: Which states already have a national security court.
        """
        n = len(has_security_court)
        j = scenario.judicial
        court = np.asarray(has_security_court, dtype=bool)
        return cls(
            procedure_clarity=np.zeros(n),
            formal_channel=np.zeros(n, dtype=bool),
            urgent_threshold=np.full(n, scenario.communication.urgent_severity),
            court_transparency=np.where(court, j.nsc_transparency, 0.0),
            court_safeguards=np.where(court, j.nsc_safeguards, 0.0),
            demand_growth=np.zeros(n),
            demand_start_day=np.zeros(n),
            e_evidence=np.zeros(n, dtype=bool),
            team_threshold_shift=np.zeros(n),
            team_cost_factor=np.ones(n),
            team_trust_shift=np.zeros(n),
            diplomatic_engagement=np.zeros(n),
        )
