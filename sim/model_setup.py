"""Building a run: agents staffed for expected demand, and the tables the day reads."""

from __future__ import annotations

import numpy as np

from sim.agents import (
    Agency,
    CentralAuthority,
    Court,
    IntelligenceService,
    InterpolBureau,
    LawEnforcement,
    NationalSecurityCourt,
    State,
    staffed_capacity,
)
from sim.casegen import category_cdf
from sim.requests import (
    Channel,
)
from sim.scenario import (
    CASE_TYPES,
    DAYS_PER_YEAR,
    LISTED_OFFENCE_TYPES,
    SECURITY_CASE_TYPES,
)

#: Rows the ledger and the case book start with, per request and case expected: room
#: for demand above its mean and for the requests that come after a case's own (see
#: ``ModelSetup._ledger_rows``).
_ROOM = 1.2


def daily_case_rate(cases, world) -> np.ndarray:
    """Expected new cases a day in each state: demand follows threat and population.

    Args:
        cases: The scenario's ``cases`` section.
        world: The world (its states' threat level and population).
    """
    return (
        cases.arrivals_per_state_per_year
        / DAYS_PER_YEAR
        * world.threat_level
        * world.population**cases.arrivals_population_exponent
    )


class ModelSetup:
    """Part of :class:`~sim.model.CooperationModel`: building the agents and precomputed tables."""

    # ------------------------------------------------------------------ setup
    def _ledger_rows(self) -> int:
        """Rows to allocate the ledger for, so that most runs never grow it.

        The links of the cases expected over the whole horizon, warm-up included, with
        room (:data:`_ROOM`): at constant demand the shipped scenarios record about 0.93
        requests per link expected, later ones (an extradition after an arrest,
        e-evidence's formal route...) included. A run that needs more (its demand grows)
        grows the ledger. Columns whose fill is zero cost nothing until used
        (:func:`sim.columns.filled`); the -1 columns (the times and the queue, 32 of
        59 bytes a row) are written in full when allocated.
        """
        return int(_ROOM * self._expected_cases() * self.config.cases.mean_foreign_links)

    def _case_book_rows(self) -> int:
        """Rows to allocate the case book for: the cases expected, with room."""
        return int(_ROOM * self._expected_cases())

    def _expected_cases(self) -> float:
        """The cases expected over the whole horizon, warm-up included, at today's demand."""
        return float(daily_case_rate(self.config.cases, self.world).sum()) * self.horizon_days

    def _build_agents(self) -> None:
        w, a = self.world, self.config.agencies
        self.states: list[State] = []
        self.agency_list: list[Agency] = []
        self.ca_of = np.zeros(w.n_states, dtype=np.int64)
        self.le_of = np.zeros(w.n_states, dtype=np.int64)
        self.court_of = np.zeros(w.n_states, dtype=np.int64)
        self.nsc_of = np.full(w.n_states, -1, dtype=np.int64)
        self.intel_of = np.zeros(w.n_states, dtype=np.int64)
        for i, code in enumerate(w.codes):
            state = State(self, i, code)
            self.states.append(state)

            def add(cls, staffing, state=state, i=i):
                agency = cls(
                    self,
                    state,
                    self._staffed_capacity(staffing, i),
                    a.queue_discipline,
                    w.skill[i],
                    w.technology[i],
                )
                assert agency.index == len(self.agency_list)
                self.agency_list.append(agency)
                return agency.index

            self.ca_of[i] = add(CentralAuthority, a.central_authority_capacity)
            self.le_of[i] = add(LawEnforcement, a.law_enforcement_capacity)
            self.court_of[i] = add(Court, a.court_capacity)
            if w.nsc[i]:
                self.nsc_of[i] = add(NationalSecurityCourt, a.nsc_capacity)
            self.intel_of[i] = add(IntelligenceService, a.law_enforcement_capacity)
            add(InterpolBureau, a.law_enforcement_capacity)

    def _staffed_capacity(self, staffing: float, state: int) -> float:
        """Capacity of one of a state's agencies, staffed for the requests it expects."""
        a = self.config.agencies
        budget = self.world.capacity[state] / self.config.world.capacity_median
        return float(
            staffed_capacity(
                self.expected_incoming[state],
                budget,
                staffing,
                a.staffing_budget_exponent,
                a.capacity_floor,
            )
        )

    def _precompute(self) -> None:
        """Per-state and per-pair quantities that the daily pipeline reads."""
        w, c = self.world, self.config.cases
        type_p = np.array([c.type_shares.get(t, 0.0) for t in CASE_TYPES])
        self._type_p = type_p / type_p.sum() if type_p.sum() > 0 else np.full(5, 0.2)
        self._type_cdf = category_cdf(self._type_p)
        self._type_sensitivity = np.array([c.political_sensitivity_by_type[t] for t in CASE_TYPES])
        self.security_type = np.array([t in SECURITY_CASE_TYPES for t in CASE_TYPES])
        self._listed_type = np.array([t in LISTED_OFFENCE_TYPES for t in CASE_TYPES])
        # Demand follows population; agencies' capacity follows economic size (world.py).
        self._daily_rate = daily_case_rate(c, w)
        # Gravity rule: partners that share language, legal family and bloc, larger
        # economies and open hubs are more often where evidence and suspects are.
        affinity = (w.language[:, None] == w.language[None, :]).astype(float) + (
            w.legal_family[:, None] == w.legal_family[None, :]
        )
        bloc = (w.mr_bloc[:, None] & w.mr_bloc[None, :]) | (
            w.alliance[:, None] & w.alliance[None, :]
        )
        gravity = (
            (1.0 + c.gravity_affinity_weight * affinity)
            * (1.0 + c.gravity_bloc_weight * bloc)
            * (w.economic_size[None, :] ** c.gravity_capacity_exponent * w.openness[None, :])
        )
        np.fill_diagonal(gravity, 0.0)
        totals = gravity.sum(axis=1, keepdims=True)
        partner_p = np.divide(gravity, totals, out=np.zeros_like(gravity), where=totals > 0)
        self._gravity_cum = np.cumsum(partner_p, axis=1)
        # What the case draws read (sim.kernel_cases.draw_cases), as the day's call takes it.
        self._draw_tables = (self._type_cdf, self._type_sensitivity, self._gravity_cum)
        # Requests a day each state can expect to receive, which its central authority
        # is staffed for (clarification rounds and unlocated persons aside).
        self.expected_incoming = (self._daily_rate * c.mean_foreign_links) @ partner_p
        # ... and the e-evidence requests providers decline, which come by the formal route.
        self.expected_incoming += self.eevidence.expected_formal_per_day()
        t = self.config.transmission
        self._channel_days = np.zeros(len(Channel))
        self._channel_days[Channel.DIPLOMATIC] = t.diplomatic_days
        self._channel_days[Channel.CENTRAL_AUTHORITY] = t.central_authority_days
        self._channel_days[Channel.DIRECT] = t.direct_days
        self._channel_days[Channel.INTERPOL] = t.interpol_days
        self._channel_days[Channel.SECURE_PLATFORM] = t.secure_platform_days
        self._channel_days[Channel.JIT] = 0.0
        self._channel_days[Channel.CONTACT_POINT_24_7] = self.config.communication.rapid_days
        self._is_civil = np.isin(w.legal_family, [1, 4])  # civil and socialist bar nationals
