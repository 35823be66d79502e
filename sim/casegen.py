"""Process 1: new cases, the foreign links each needs, and the partner states (gravity rule)."""

from __future__ import annotations

import numpy as np

from sim.kernel_casegen import (
    DRAW,
    FORM,
    NEED_ROOM,
    RECORD,
    SHARES_ROOM,
    TEAM_ROOM,
    case_work,
    generate_cases,
    record_shares,
)
from sim.scenario import DAYS_PER_YEAR


class CaseGeneration:
    """Part of :class:`~sim.model.CooperationModel`: case generation and partner choice."""

    # ------------------------------------------------------------------ process 1: cases
    def _generate_cases(self):
        """The day's new cases, their teams, requests, searches and intelligence.

        Returns:
            The struct and outbox of the day's last kernel call, for the day's call to
            reuse: no array of the struct was replaced since (None when no call ran).
        """
        w = self.world
        if w.n_states < 2:
            return None
        rate = self._daily_rate
        policy = self.policy
        if np.count_nonzero(policy.demand_growth):  # .any() costs four times as much, daily
            years = np.maximum(0.0, self.day - policy.demand_start_day) / DAYS_PER_YEAR
            rate = rate * (1.0 + policy.demand_growth) ** years
        # Compiled (sim.kernel_casegen), in room reserved for a day with up to the most
        # links a day has had so far; the call stops only for more room.
        room = self._link_room
        state, out = self.kernel_state(room, links=room, shares=self._share_room)
        work = self._case_work
        team_args = (
            self._team_numbers,
            policy.team_threshold_shift,
            policy.team_trust_shift,
            self.operations.team_terms(),
            self.teams.formation_rules(),
        )
        search_args = self.interpol.search_arguments()
        intelligence_args = self.intelligence.offer_arguments()
        rate = np.ascontiguousarray(rate, dtype=np.float64)
        arguments = (rate, self._draw_tables, team_args, search_args, intelligence_args)
        stop = generate_cases(state, self.streams, work, self.day, DRAW, *arguments)
        if stop == NEED_ROOM:
            drawn = case_work(work)[0]
            k = drawn.requested.size
            self._link_room = 2 * k
            state, out = self.kernel_state(k, links=k)
            stop = generate_cases(state, self.streams, work, self.day, RECORD, *arguments)
        if stop == TEAM_ROOM:  # more teams proposed than free slots
            drawn, _, candidates, _ = case_work(work)
            self.teams.reserve_slots(candidates[0].size)
            state, out = self.kernel_state(drawn.requested.size)
            stop = generate_cases(state, self.streams, work, self.day, FORM, *arguments)
        self.teams.adopt_formed()
        self._file(out)
        if stop == SHARES_ROOM:
            shares = case_work(work)[3]
            self._share_room = 2 * shares[0].size
            state, out = self.kernel_state(1, shares=shares[0].size)
            record_shares(state, self.day, shares, self.intel_of)
        return state, out


def category_cdf(p: np.ndarray) -> np.ndarray:
    """The cumulative distribution ``Generator.choice`` builds from probabilities ``p``."""
    cdf = np.asarray(p, dtype=np.float64).cumsum()
    cdf /= cdf[-1]
    return cdf
