"""Joint investigation teams (JITs) and joint task forces for multi-state cases.

A team is proposed for a case that involves at least ``jit.min_states`` states
and is severe enough. The states agree when they trust one another enough (the
lowest trust between any two members) and their law enforcement has capacity to
spare; then, with ``jit.agreement_probability``, the team forms after
``jit.formation_days``. Inside the team evidence moves directly between members'
law enforcement, without formal requests, central-authority review or
sovereignty checks; each member pays for it in law-enforcement capacity while
the team is active. The team dissolves when its case ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from sim.model import CooperationModel


def team_is_proposed(n_states, severity, *, min_states, severity_threshold):
    """Whether a case qualifies for a joint team (size and severity)."""
    return (np.asarray(n_states) >= min_states) & (np.asarray(severity) >= severity_threshold)


def members_agree(lowest_mutual_trust, spare_capacity, *, agreement_trust, cost_per_day):
    """Whether the states of a case would agree to a team: trust and capacity."""
    return (lowest_mutual_trust >= agreement_trust) & (spare_capacity >= cost_per_day)


class JointInvestigationTeam(mesa.Agent):
    """A team formed for one case; it holds members' capacity until the case ends.

    Args:
        model: The model.
        case: The case the team works on.
        members: State indices of the members (the originating state first).
        cost_per_day: Law-enforcement capacity each member gives the team.
    """

    def __init__(self, model: CooperationModel, case: int, members: list[int], cost_per_day: float):
        super().__init__(model)
        self.case = case
        self.members = members
        self.cost_per_day = cost_per_day
        self.formed_day = model.day
        for state in members:
            model.adjust_capacity("law_enforcement", state, -cost_per_day)

    def dissolve(self) -> float:
        """Give the members their capacity back; returns the work units the team used."""
        for state in self.members:
            self.model.adjust_capacity("law_enforcement", state, self.cost_per_day)
        self.remove()
        return self.cost_per_day * len(self.members) * max(1, self.model.day - self.formed_day)


class TeamFormation:
    """Decides on teams for new cases and keeps the active ones.

    Attributes:
        formed: Number of teams formed.
        team_cases: Ids of cases that had a team.
    """

    def __init__(self, model: CooperationModel):
        self.model = model
        self.active: dict[int, JointInvestigationTeam] = {}
        self.formed = 0
        self.team_cases: list[int] = []
        self.effort = 0.0
        self.threshold_shift = np.zeros(model.world.n_states)  # set by reforms
        self.cost_factor = np.ones(model.world.n_states)  # set by reforms
        self.trust_shift = np.zeros(model.world.n_states)  # set by reforms

    def consider(self, case: int, members: list[int]) -> bool:
        """Decide whether a team forms for a new case; form it if so."""
        m = self.model
        cfg = m.config.jit
        origin = members[0]
        threshold = max(0.0, cfg.severity_threshold - self.threshold_shift[origin])
        if not team_is_proposed(
            len(members),
            m.cases.severity[case],
            min_states=cfg.min_states,
            severity_threshold=threshold,
        ):
            return False
        idx = np.asarray(members)
        trust = m.trust.get(idx[:, None], idx[None, :], m.day)
        lowest = float(np.min(trust + np.eye(idx.size)))  # ignore self-trust
        cost = cfg.cost_per_day * float(self.cost_factor[origin])
        spare = min(m.capacity_of("law_enforcement", s) for s in members)
        if not members_agree(lowest, spare, agreement_trust=cfg.agreement_trust, cost_per_day=cost):
            return False
        if m.rng.random() >= cfg.agreement_probability:
            return False
        self.active[case] = JointInvestigationTeam(m, case, members, cost)
        self.formed += 1
        self.team_cases.append(case)
        return True

    def case_closed(self, case: int) -> None:
        """Dissolve the team of a case that has ended."""
        team = self.active.pop(case, None)
        if team is not None:
            self.effort += team.dissolve()

    def cases_closed(self, case_ids: np.ndarray) -> None:
        """Dissolve the teams of cases that have ended (cases without a team cost nothing)."""
        if not self.active:
            return
        for case in sorted(self.active.keys() & set(case_ids.tolist())):
            self.case_closed(case)

    def outcomes(self) -> dict:
        """Team counts and the effort they took."""
        m = self.model
        cases = np.asarray(self.team_cases, dtype=np.int64)
        resolved = m.case_resolved_mask(cases)
        days = (m.cases.t_closed[cases] - m.cases.t_created[cases])[resolved]
        return {
            "jits_formed": int(self.formed),
            "jits_active": len(self.active),
            "jit_case_resolution_rate": (float(resolved.mean()) if cases.size else float("nan")),
            "jit_median_case_days": float(np.median(days)) if days.size else float("nan"),
            "jit_effort": float(
                self.effort
                + sum(
                    t.cost_per_day * len(t.members) * max(1, m.day - t.formed_day)
                    for t in self.active.values()
                )
            ),
        }
