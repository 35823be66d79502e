"""Process 1: new cases, the foreign links each needs, and the partner states (gravity rule)."""

from __future__ import annotations

import numpy as np

from sim.kernel_casegen import open_requests, record_cases, record_shares
from sim.kernel_cases import draw_cases
from sim.requests import spans
from sim.scenario import DAYS_PER_YEAR


class CaseGeneration:
    """Part of :class:`~sim.model.CooperationModel`: case generation and partner choice."""

    # ------------------------------------------------------------------ process 1: cases
    def _generate_cases(self) -> None:
        w = self.world
        if w.n_states < 2:
            return
        rate = self._daily_rate
        policy = self.policy
        if policy.demand_growth.any():
            years = np.maximum(0.0, self.day - policy.demand_start_day) / DAYS_PER_YEAR
            rate = rate * (1.0 + policy.demand_growth) ** years
        # Every draw of the day's cases, compiled (sim.kernel_cases), in the order the
        # vectorised code drew them.
        drawn = draw_cases(
            self.streams,
            np.ascontiguousarray(rate, dtype=np.float64),
            self._type_cdf,
            self._type_sensitivity,
            self._gravity_cum,
            w.mr_bloc,
            w.rights_standard,
            self._case_parameters,
            self.day,
        )
        n, k = drawn.origin.size, drawn.requested.size
        if n == 0:
            return
        # Room for what the next two calls write: the cases, then for each link a
        # ledger row, or a notice and its calendar entries; the shares as many as the
        # most a day has shared so far (a day that shares more is recorded after a
        # second call, below).
        self.cases.reserve(n)
        self.interpol.reserve(k)
        self.intelligence.reserve(self._share_room)
        state, out = self.kernel_state(k)
        case_ids, candidates = record_cases(
            state,
            self.day,
            drawn,
            self._team_numbers,
            policy.team_threshold_shift,
            policy.team_trust_shift,
            self.operations.team_terms(),
        )
        in_team = self._form_teams(case_ids, drawn.links, candidates)
        if candidates[0].size:  # forming a team may have replaced the teams' arrays
            state, out = self.kernel_state(k)
        shares, recorded = open_requests(
            state,
            self.streams,
            self.day,
            case_ids,
            drawn,
            in_team,
            self.interpol.search_arguments(),
            self.intelligence.offer_arguments(),
        )
        self._file(out)
        if not recorded:  # more shares than the room reserved: make room, record them
            self._share_room = 2 * shares[0].size
            self.intelligence.reserve(shares[0].size)
            state, out = self.kernel_state(1)
            record_shares(state, self.day, shares, self.intel_of)

    def _form_teams(self, case_ids, links, candidates) -> np.ndarray:
        """Form the joint teams proposed; returns, per link, whether it is in a team.

        The size and severity test, on an operation's or an agreement's easier terms,
        and the members' trust test are compiled
        (:func:`sim.kernel_teams.team_candidates`, in :func:`sim.kernel_casegen.record_cases`);
        only the few cases that pass go on to the members' capacity and agreement, here
        in Python (the teams are Mesa agents).
        """
        in_team = np.zeros(int(links.sum()), dtype=bool)
        positions, members, sizes, lowest, needed = candidates
        if positions.size == 0:
            return in_team
        formed = self.teams.consider(case_ids[positions], members, sizes, lowest, needed)
        starts = links.cumsum() - links
        chosen = positions[formed]
        in_team[spans(starts[chosen], links[chosen])] = True
        return in_team


def category_cdf(p: np.ndarray) -> np.ndarray:
    """The cumulative distribution ``Generator.choice`` builds from probabilities ``p``."""
    cdf = np.asarray(p, dtype=np.float64).cumsum()
    cdf /= cdf[-1]
    return cdf
