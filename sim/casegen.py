"""Process 1: new cases, the foreign links each needs, and the partner states (gravity rule)."""

from __future__ import annotations

import numpy as np

from sim.kernel_cases import draw_cases
from sim.requests import (
    EXTRADITION_CODE as _EXTRADITION,
)
from sim.requests import (
    spans,
)
from sim.scenario import (
    DAYS_PER_YEAR,
)
from sim.teams import team_is_proposed


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
        origin, case_type, links, requested = (
            drawn.origin,
            drawn.case_type,
            drawn.links,
            drawn.requested,
        )
        kind, hidden = drawn.kind, drawn.hidden
        if origin.size == 0:
            return
        case_ids = self.cases.append(
            origin=origin,
            case_type=case_type,
            severity=drawn.severity,
            political_sensitivity=drawn.sensitivity,
            t_created=self.day,
            t_deadline=drawn.deadline,
            needed=links,
        )
        self.latest_case[origin, case_type] = case_ids
        case_of_link = case_ids.repeat(links)
        requesting = origin.repeat(links)
        extradition = kind == _EXTRADITION
        in_team = self._propose_teams(case_ids, case_of_link, requested, links)
        known = ~hidden
        self._create_requests(
            case_of_link[known],
            requesting[known],
            requested[known],
            kind[known],
            drawn.coercive[known],
            drawn.consent[known],
            drawn.national[known],
            in_team[known] & ~extradition[known],
        )
        self.fugitives_unlocated += np.count_nonzero(hidden)
        self.interpol.search(case_of_link[hidden], requesting[hidden], requested[hidden])
        self.intelligence.produce(case_ids)
        self._open += case_ids.size
        self._file_deadlines(case_ids, drawn.deadline)

    def _file_deadlines(self, case_ids: np.ndarray, deadline: np.ndarray) -> None:
        """File cases under their deadline day."""
        self._case_deadlines.add(case_ids, deadline)

    def _propose_teams(self, case_ids, case_of_link, requested, links) -> np.ndarray:
        """Form joint teams for qualifying cases; returns, per link, whether it is in a team."""
        cfg = self.config.jit
        in_team = np.zeros(case_of_link.size, dtype=bool)
        # The size and severity test for all new cases at once; only the few cases
        # that pass it go on to the members' agreement (trust, capacity, chance).
        origin = self.cases.origin[case_ids]
        shift = self.policy.team_threshold_shift[origin]
        threshold = np.maximum(0.0, cfg.severity_threshold - shift)
        min_states, relief = cfg.min_states, None
        # An operation's or an agreement's joint work: teams on easier terms.
        terms = self.operations.team_terms(case_ids, requested, links, cfg.min_states, threshold)
        if terms is not None:
            min_states, threshold, relief = terms
        proposed = team_is_proposed(
            links + 1,
            self.cases.severity[case_ids],
            min_states=min_states,
            severity_threshold=threshold,
        )
        candidates = proposed.nonzero()[0]
        if candidates.size == 0:
            return in_team
        # Members of each candidate: its origin, then its partners.
        starts = links.cumsum() - links
        sizes = links[candidates] + 1
        member_start = sizes.cumsum() - sizes
        members = np.empty(int(sizes.sum()), dtype=np.int64)
        members[member_start] = origin[candidates]
        slot = np.ones(members.size, dtype=bool)
        slot[member_start] = False
        members[slot] = requested[spans(starts[candidates], links[candidates])]
        formed = self.teams.consider(
            case_ids[candidates], members, sizes, None if relief is None else relief[candidates]
        )
        in_team[spans(starts[candidates[formed]], links[candidates[formed]])] = True
        return in_team


def category_cdf(p: np.ndarray) -> np.ndarray:
    """The cumulative distribution ``Generator.choice`` builds from probabilities ``p``."""
    cdf = np.asarray(p, dtype=np.float64).cumsum()
    cdf /= cdf[-1]
    return cdf
