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

from sim import replaced_arrays
from sim.kernel_state import TeamArrays
from sim.requests import CaseStatus
from sim.survival import cumulative_incidence, km_quantiles
from sim.survival_groups import followed_days

if TYPE_CHECKING:
    from sim.contracts import TeamsHost


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
        members: State indices of the members (the originating state first), an array.
        cost_per_day: Law-enforcement capacity each member gives the team.
    """

    def __init__(self, model: TeamsHost, case: int, members: np.ndarray, cost_per_day: float):
        super().__init__(model)
        self.case = case
        self.members = members
        self.cost_per_day = cost_per_day
        self.formed_day = model.day
        self.slot = -1  # its row in TeamFormation's arrays

    def dissolve(self) -> float:
        """Leave the model; returns the work units the team used.

        The members got their capacity back in the kernel call that ended the case
        (:func:`sim.kernel_teams.give_back_capacity`).
        """
        self.remove()
        return self.cost_per_day * len(self.members) * max(1, self.model.day - self.formed_day)


class TeamFormation:
    """Decides on teams for new cases and keeps the active ones.

    Attributes:
        formed: Number of teams formed.
        team_cases: Ids of cases that had a team.
        team_members: Member states of each of those teams (the originating state first).
        team_days: Day each of those teams formed.
    """

    def __init__(self, model: TeamsHost):
        self.model = model
        self.active: dict[int, JointInvestigationTeam] = {}
        self._in_slot: dict[int, JointInvestigationTeam] = {}  # the active teams by slot
        self.formed = 0
        self.team_cases: list[int] = []
        # Arrays, not lists: a run keeps one per team formed, and lists are containers
        # the garbage collector tracks (tens of thousands of them made full collections
        # of the whole heap, numba's objects included, come about once in two runs).
        self.team_members: list[np.ndarray] = []
        self.team_days: list[int] = []
        self.effort = 0.0
        # Law-enforcement capacity each state keeps for its own queue, whatever teams ask.
        staffed = model.agency_table.capacity[model.le_of]
        self.reserve = (1.0 - model.config.jit.lendable_share) * staffed
        # The active teams as the kernels see them (sim.kernel_state.TeamArrays): a slot
        # each, taken at formation and freed at dissolution.
        self.slot_case = np.full(8, -1, dtype=np.int64)
        self.slot_cost = np.zeros(8)
        self.slot_size = np.zeros(8, dtype=np.int64)
        # Member states by slot (int16: a world has at most a few hundred states; a
        # slot's row is as wide as the world, and most of it is never written).
        if model.le_of.size > np.iinfo(np.int16).max:
            raise ValueError(f"teams keep member states as int16: {model.le_of.size} states")
        self.slot_members = np.zeros((8, max(1, model.le_of.size)), dtype=np.int16)
        # The slots of the teams the last case generation formed (their number apart),
        # and of the teams a kernel call ended, in the order they ended.
        self.slot_formed = np.zeros(8, dtype=np.int64)
        self.n_formed = np.zeros(1, dtype=np.int64)
        self.slot_ended = np.zeros(8, dtype=np.int64)

    def arrays(self) -> TeamArrays:
        """The struct's fields ``team_case``, ``team_cost``, ... ``team_ended``."""
        return TeamArrays(
            self.slot_case,
            self.slot_cost,
            self.slot_size,
            self.slot_members,
            self.slot_formed,
            self.n_formed,
            self.slot_ended,
        )

    def reserve_slots(self, n: int) -> None:
        """Make room for ``n`` new teams: the slot arrays double until ``n`` are free."""
        while int((self.slot_case == -1).sum()) < n:
            self._add_slots(self.slot_case.size)

    def _add_slots(self, extra: int) -> None:
        """``extra`` more free slots at the end of the slot arrays."""
        replaced_arrays.note(
            self.slot_case,
            self.slot_cost,
            self.slot_size,
            self.slot_members,
            self.slot_formed,
            self.slot_ended,
        )
        self.slot_case = np.concatenate([self.slot_case, np.full(extra, -1, dtype=np.int64)])
        self.slot_cost = np.concatenate([self.slot_cost, np.zeros(extra)])
        self.slot_size = np.concatenate([self.slot_size, np.zeros(extra, dtype=np.int64)])
        width = self.slot_members.shape[1]
        self.slot_members = np.concatenate(
            [self.slot_members, np.zeros((extra, width), dtype=self.slot_members.dtype)]
        )
        self.slot_formed = np.zeros(self.slot_case.size, dtype=np.int64)
        # Kept: teams a call ended wait here until Python dissolves them.
        self.slot_ended = np.concatenate([self.slot_ended, np.zeros(extra, dtype=np.int64)])

    def formation_rules(self) -> tuple:
        """What :func:`sim.kernel_teams.form_teams` reads besides the struct, today."""
        m = self.model
        cfg = m.config.jit
        return (
            m.policy.team_cost_factor,
            self.reserve,
            float(cfg.cost_per_day),
            float(cfg.agreement_probability),
        )

    def adopt_formed(self) -> None:
        """Make the agents of the teams the last case generation formed, in order.

        The kernel (:func:`sim.kernel_teams.form_teams`) decided them, took their slots
        and their members' capacity.
        """
        n = int(self.n_formed[0])
        if n == 0:
            return
        m = self.model
        day = m.day
        slots = self.slot_formed[:n]
        # Each column read once for the day's teams: a run forms tens of thousands.
        rows = zip(
            slots.tolist(),
            self.slot_case[slots].tolist(),
            self.slot_size[slots].tolist(),
            self.slot_cost[slots].tolist(),
            strict=True,
        )
        for slot, case, size, cost in rows:
            members = self.slot_members[slot, :size].astype(np.int64)
            team = JointInvestigationTeam(m, case, members, cost)
            team.slot = slot
            self.active[case] = team
            self._in_slot[slot] = team
            self.team_cases.append(case)
            self.team_members.append(members)
            self.team_days.append(day)
        self.formed += n
        self.n_formed[0] = 0

    def dissolve_ended(self, count: int) -> None:
        """Dissolve the ``count`` teams whose members a kernel call gave their capacity back.

        :func:`sim.kernel_teams.give_back_capacity` listed their slots in ``slot_ended``
        and marked each ``-2 - k`` for the call's ``k``-th team ended (by the segment its
        case ended in, then by case id): they go in that order, as their capacity went
        back.
        """
        slots = self.slot_ended[:count]
        rank = (-2 - self.slot_case[slots]).tolist()
        if rank != list(range(count)):
            raise RuntimeError(f"teams marked to dissolve {rank}, the kernel counted {count}")
        for slot in slots.tolist():
            team = self._in_slot.pop(slot)
            if team.slot != slot:
                raise RuntimeError(f"case {team.case}'s team is in slot {team.slot}, not {slot}")
            del self.active[team.case]
            self.effort += team.dissolve()
        self.slot_case[slots] = -1  # free for new teams

    def check_active(self, case_status: np.ndarray) -> None:
        """Raise if an active team's case has ended: its capacity was never given back.

        :meth:`dissolve_ended` dissolves the teams the kernels marked; this catches one
        they should have marked and did not (run at the end of the days a run steps).
        """
        # The slots hold the active teams' cases (adopt_formed and dissolve_ended keep
        # them and ``active`` in step): read there, not from the dict, a team at a time.
        if np.any(self.slot_case <= -2):  # marked by a kernel, never dissolved
            marked = np.flatnonzero(self.slot_case <= -2).tolist()
            raise RuntimeError(f"teams in slots {marked[:5]} ended and were never dissolved")
        cases = self.slot_case[self.slot_case >= 0]
        if cases.size != len(self.active):
            raise RuntimeError(
                f"{len(self.active)} active teams, {cases.size} slots holding a case"
            )
        ended = cases[case_status[cases] != CaseStatus.OPEN]
        if ended.size:
            raise RuntimeError(
                f"the teams of ended cases {ended[:5].tolist()} were never dissolved"
            )

    def outcomes(self, since: int = 0) -> dict:
        """Team counts and the effort they took; resolution over teams formed from ``since``.

        The running counts (formed, effort) cover the whole run; the model subtracts
        their values at the window's start.
        """
        m = self.model
        cases = np.asarray(self.team_cases, dtype=np.int64)
        cases = cases[m.cases.t_created[cases] >= since]
        # Teams still at work at the end are censored (Aalen-Johansen, Kaplan-Meier).
        status = m.cases.status[cases]
        still_open = status == CaseStatus.OPEN
        days = followed_days(still_open, m.cases.t_closed[cases], m.day, m.cases.t_created[cases])
        ends = {int(c): c.name.lower() for c in CaseStatus if c != CaseStatus.OPEN}
        return {
            "jits_formed": int(self.formed),
            "jits_active": len(self.active),
            "jit_case_resolution_rate": cumulative_incidence(days, status, ends)["resolved"],
            "jit_median_case_days": km_quantiles(days, status == CaseStatus.RESOLVED)["median"],
            "jit_effort": self.effort_so_far(),
        }

    def effort_so_far(self) -> float:
        """Work units spent by joint teams: dissolved ones, and active ones up to today."""
        day = self.model.day
        active = sum(
            t.cost_per_day * len(t.members) * max(1, day - t.formed_day)
            for t in self.active.values()
        )
        return float(self.effort + active)
