"""Process 1: new cases, the foreign links each needs, and the partner states (gravity rule)."""

from __future__ import annotations

import numpy as np

from sim.kernel_cases import draw_cases
from sim.kernel_teams import team_candidates
from sim.requests import (
    EXTRADITION_CODE as _EXTRADITION,
)
from sim.requests import (
    spans,
)
from sim.scenario import (
    DAYS_PER_YEAR,
)


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
        in_team = self._propose_teams(case_ids, links, requested)
        links_drafted = (
            case_of_link,
            requesting,
            requested,
            kind,
            drawn.coercive,
            drawn.consent,
            drawn.national,
            in_team & ~extradition,
        )
        # A person of unknown whereabouts needs a search first, not a request.
        sought = np.count_nonzero(hidden)
        if sought:
            known = ~hidden
            links_drafted = tuple(column[known] for column in links_drafted)
        self._create_requests(*links_drafted)
        if sought:
            self.fugitives_unlocated += sought
            self.interpol.search(case_of_link[hidden], requesting[hidden], requested[hidden])
        self.intelligence.produce(case_ids)
        self._cases_opened(case_ids.size)
        self._file_deadlines(case_ids, drawn.deadline)

    def _file_deadlines(self, case_ids: np.ndarray, deadline: np.ndarray) -> None:
        """File cases under their deadline day (taken by :func:`sim.kernel_day.expire_cases`)."""
        self._deadlines.file(case_ids, deadline)

    def _propose_teams(self, case_ids, links, requested) -> np.ndarray:
        """Form joint teams for qualifying cases; returns, per link, whether it is in a team."""
        in_team = np.zeros(requested.size, dtype=bool)
        # Compiled (sim.kernel_teams): the size and severity test, on an operation's or
        # an agreement's easier terms, and the members' trust test; only the few cases
        # that pass go on to the members' capacity and agreement, here in Python.
        positions, members, sizes, lowest, needed = team_candidates(
            self.trust.arrays(),
            self.day,
            case_ids,
            links,
            requested,
            self.cases.origin,
            self.cases.case_type,
            self.cases.severity,
            self._team_numbers,
            self.policy.team_threshold_shift,
            self.policy.team_trust_shift,
            self.operations.team_terms(),
        )
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
