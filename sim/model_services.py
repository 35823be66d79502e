"""Services the model offers its submodels and reforms: the calls their contracts list.

A submodel never writes the model's tables itself: it asks (a lead extends a case's
deadline, a team borrows officers, capacity building grows a state, a reform gives
a state a national security court). See :mod:`sim.contracts` for who may call what.
"""

from __future__ import annotations

import numpy as np

from sim.agents import NationalSecurityCourt
from sim.requests import CaseStatus


class ModelServices:
    """Part of :class:`~sim.model.CooperationModel`: services to submodels and reforms."""

    def case_resolved_mask(self, case_ids: np.ndarray) -> np.ndarray:
        """Which of the given cases were resolved."""
        return self.cases.status[case_ids] == CaseStatus.RESOLVED

    def add_national_security_court(self, state: int) -> None:
        """Give a state a national security court (if it has none)."""
        if self.nsc_of[state] >= 0:
            return
        a, w = self.config.agencies, self.world
        court = NationalSecurityCourt(
            self,
            self.states[state],
            self._staffed_capacity(a.nsc_capacity, state),
            a.queue_discipline,
            w.skill[state],
            w.technology[state],
        )
        assert court.index == len(self.agency_list)
        self.agency_list.append(court)
        self.nsc_of[state] = court.index
        w.nsc[state] = True

    def cut_capacity(self, state: int, share: float) -> None:
        """Take a share of the capacity of every agency of a state (budget cuts)."""
        self._scale_capacity(state, 1.0 - share)

    def _scale_capacity(self, state: int, factor: float) -> None:
        """Multiply the capacity of every agency of a state by ``factor``."""
        for agency in self.states[state].agencies.values():
            agency.capacity_per_day *= factor

    def grow_state(
        self, state: int, capacity: float = 0.0, technology: float = 0.0, skill: float = 0.0
    ) -> None:
        """Raise a state's capacity, technology and skill (capacity building)."""
        w = self.world
        before = w.capacity[state]
        w.capacity[state] += capacity
        w.technology[state] = min(1.0, w.technology[state] + technology)
        w.skill[state] = min(1.0, w.skill[state] + skill)
        # A transfer buys staff: a budget 10% larger staffs every agency 10% more. (The
        # exponent of agents.staffed_capacity is how staffing differs across states.)
        self._scale_capacity(state, w.capacity[state] / before)
        for agency in self.states[state].agencies.values():
            agency.skill = w.skill[state]
            agency.technology = w.technology[state]
