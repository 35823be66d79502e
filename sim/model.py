"""CooperationModel: builds the world from a scenario and runs the day-by-day pipeline.

One step is one day. Each day the model
1. draws new cases, drafts the requests they need, proposes joint teams, starts
   INTERPOL searches for persons of unknown whereabouts and shares intelligence,
2. moves every request whose current stage ends today to its next stage
   (drafting -> transmission -> review queue -> review -> judicial queue -> ...),
3. lets each agency with waiting work take as many requests as its capacity allows,
4. delivers intelligence and handles INTERPOL reviews and arrests,
5. closes cases whose deadline passed (their open requests lapse),
6. records the daily series.

Case generation draws from its own random stream, so every scenario compared
with the same seed faces the same cases (common random numbers).

Requests in a timed stage wait in a :class:`~sim.requests.Calendar` (one vectorised
scan of the waiting ids a day) or in agency queues, so a day costs what arrives
and what leaves plus one cheap pass over what waits, and no work per pair of
states. Stage rules are the pure functions of :mod:`sim.frictions` applied to
whole batches. Mesa's event list is
kept for agent-level happenings (reforms taking effect), not for requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim import frictions, metrics
from sim.adoption import AdoptionProcess
from sim.agents import (
    ROLE_CODES,
    Agency,
    AgencyTable,
    CentralAuthority,
    Court,
    IntelligenceService,
    InterpolBureau,
    LawEnforcement,
    NationalSecurityCourt,
    QueuePool,
    State,
    queue_priority,
    staffed_capacity,
)
from sim.eevidence import ElectronicEvidence
from sim.engagement import CoordinatingBody, CoordinationMeetings
from sim.intelligence import IntelligenceSharing
from sim.interpol import InterpolSecretariat
from sim.negotiation import BilateralNegotiation
from sim.operations import Operations
from sim.policy import PolicyState
from sim.reforms import enabled_reforms
from sim.requests import (
    Calendar,
    CaseBook,
    CaseStatus,
    Channel,
    Instrument,
    Kind,
    Ledger,
    Outcome,
    RefusalGround,
    Stage,
    sorted_unique,
    spans,
)
from sim.scenario import (
    CASE_TYPES,
    DAYS_PER_YEAR,
    LISTED_OFFENCE_TYPES,
    SECURITY_CASE_TYPES,
    Scenario,
    load_scenario,
    warmup_days,
)
from sim.teams import TeamFormation, team_is_proposed
from sim.trust import TrustNetwork
from sim.world import build_world

QUEUE_ROLES = ("central_authority", "court", "law_enforcement")
SERIES_COLUMNS = (
    "cases_opened",
    "cases_open",
    "requests_issued",
    "executed",
    "refused",
    "lapsed",
    "withdrawn",
    "backlog_central_authority",
    "backlog_court",
    "backlog_law_enforcement",
    "mean_trust",
    "mean_relations",
    "intel_shared",
    "leaks",
    "jits_active",
)

# Codes the daily pipeline compares whole arrays with, as plain ints: numpy compares
# an array with a plain int about twice as fast as with an IntEnum member.
_OPEN = int(Outcome.OPEN)
_CASE_OPEN = int(CaseStatus.OPEN)
_EXTRADITION = int(Kind.EXTRADITION)
_MUTUAL_RECOGNITION = int(Instrument.MUTUAL_RECOGNITION)
_JIT = int(Channel.JIT)
_CONTACT_POINT = int(Channel.CONTACT_POINT_24_7)
_NO_GROUND = int(RefusalGround.NONE)


class CooperationModel(mesa.Model):
    """States and agencies processing cross-border security requests.

    Args:
        scenario: A validated :class:`~sim.scenario.Scenario`, a scenario file, or
            the name of a shipped scenario.
        rng: Seed or numpy Generator; the same seed gives the same run.

    Attributes:
        config: The scenario in force.
        world: States' attributes and relations (:class:`~sim.world.World`).
        ledger: Every request of the run (:class:`~sim.requests.Ledger`).
        cases: Every case of the run (:class:`~sim.requests.CaseBook`).
        trust: Directed trust between states (:class:`~sim.trust.TrustNetwork`).
        day: The current simulated day (0-based).
    """

    def __init__(self, scenario: Scenario | str | Path, rng: Any = None):
        super().__init__(rng=rng)
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        # Mesa's Model already owns an attribute called `scenario`; ours is `config`.
        self.config = scenario
        # A warm-up, then the measurement window every outcome is computed over.
        self.window_start = warmup_days(scenario)
        self.horizon_days = self.window_start + max(
            1, int(round(scenario.run.years * DAYS_PER_YEAR))
        )
        self.day = 0
        # Separate streams: the world and the cases must not depend on how the
        # processes (which reforms change) consume random numbers.
        world_seed, case_seed = self.rng.integers(2**63, size=2)
        self.world = build_world(scenario, np.random.default_rng(world_seed))
        self.case_rng = np.random.default_rng(case_seed)
        self.trust = TrustNetwork(self.world.initial_trust, scenario.trust.decay_per_year)
        n = self.world.n_states
        self.traffic = np.zeros((n, n), dtype=np.int64)  # requests sent, row -> column
        self.familiarity = np.zeros((n, n))  # built by coordination meetings
        self.latest_case = np.full((n, len(CASE_TYPES)), -1, dtype=np.int64)
        # Per-state settings that reforms change and stages read.
        self.policy = PolicyState.initial(scenario, self.world.nsc)
        self.fugitives_unlocated = 0  # persons sought whose whereabouts were unknown
        self.clarification_rounds = 0  # rounds asked for over the run
        self.ledger = Ledger(initial_capacity=self._expected_requests())
        self.cases = CaseBook()
        self._due = Calendar()  # requests in a timed stage, by the day it ends
        self._case_deadlines = Calendar()  # open cases, by deadline day
        self._open = 0  # cases open now
        # Every agency's capacity, credit, effort and queue length as arrays; the waiting
        # requests of each queue family in one ordered pool (served all at once each day).
        self.agency_table = AgencyTable(6 * self.config.world.n_states + 8)
        self.pools = {role: QueuePool() for role in QUEUE_ROLES}
        self.backlog_by_role = dict.fromkeys(QUEUE_ROLES, 0)
        self._counts = dict.fromkeys(("issued", "executed", "refused", "lapsed", "withdrawn"), 0)
        # Domestic investigations and e-evidence requests: a stream of their own, derived
        # from the case seed without drawing from the model's (off, nothing else moves).
        self.eevidence = ElectronicEvidence(self, np.random.default_rng([int(case_seed), 0xE]))
        self._precompute()  # the agencies are staffed for the demand it expects
        self._build_agents()
        self.intelligence = IntelligenceSharing(self)
        self.interpol = InterpolSecretariat(self)
        self.teams = TeamFormation(self)
        self.operations = Operations(self)  # coordinated operations, bilateral agreements
        self.meetings = CoordinationMeetings(self)
        self.coordinating_body = CoordinatingBody(self)
        self.series = {name: np.zeros(self.horizon_days) for name in SERIES_COLUMNS}
        # Each agency's queue length at the end of every day (room for agencies added later).
        self.agency_backlog = np.zeros(
            (self.horizon_days, self.agency_table.capacity.size), dtype=np.int32
        )
        # Counters at the start of the measurement window (zero until it starts).
        self.window_counts = dict.fromkeys(self.running_counts(), 0)
        # States deciding on endogenous levers; pairs negotiating agreements (idle unless a
        # lever opens them).
        self.adoption = AdoptionProcess(self)
        self.negotiation = BilateralNegotiation(self)
        self.reforms = enabled_reforms(scenario, self.world)
        for reform in self.reforms:
            reform.model = self
            if reform.start_day <= 0:
                reform.take_effect()
            else:
                # Mesa time T is the end of day T - 1: the reform is in force from day T.
                self.schedule_event(reform.take_effect, at=reform.start_day)

    # ------------------------------------------------------------------ setup
    def _expected_requests(self) -> int:
        c = self.config.cases
        n = self.config.world.n_states
        return int(n * c.arrivals_per_state_per_year * self.config.run.years * c.mean_foreign_links)

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
        self._type_sensitivity = np.array(
            [c.political_sensitivity_by_type.get(t, 0.3) for t in CASE_TYPES]
        )
        self.security_type = np.array([t in SECURITY_CASE_TYPES for t in CASE_TYPES])
        self._listed_type = np.array([t in LISTED_OFFENCE_TYPES for t in CASE_TYPES])
        # Demand follows population; agencies' capacity follows economic size (world.py).
        self._daily_rate = (
            c.arrivals_per_state_per_year
            / DAYS_PER_YEAR
            * w.threat_level
            * w.population**c.arrivals_population_exponent
        )
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

    # ------------------------------------------------------------------ helpers
    def _schedule(self, ids: np.ndarray, stage: Stage, days: np.ndarray) -> None:
        """Put requests into ``stage`` until ``day + days``; closed ones stay closed."""
        if ids.size == 0:
            return
        # A batch may hold requests that closed earlier in the same decision (a refusal
        # withdraws the rest of its case): those keep their final stage.
        live = self.ledger.outcome[ids] == _OPEN
        if not live.all():
            ids = ids[live]
            days = np.asarray(days)[live] if np.ndim(days) else days
            if ids.size == 0:
                return
        self.ledger.stage[ids] = stage
        self._due.add(ids, self.day + frictions.to_whole_days(days))

    def _noisy(self, mean_days, sigma_factor=1.0) -> np.ndarray:
        return frictions.noisy_days(
            self.rng, mean_days, self.config.drafting.noise_sigma * sigma_factor
        )

    def _enqueue(self, ids: np.ndarray, agencies: np.ndarray, stage: Stage, role: str) -> None:
        """Put requests in the queues of the given agencies (closed ones are left out)."""
        led = self.ledger
        live = led.outcome[ids] == _OPEN
        if not live.all():
            ids, agencies = ids[live], agencies[live]
        if ids.size == 0:
            return
        led.stage[ids] = stage
        led.queue_agency[ids] = agencies
        # Requests under a deadline (mutual recognition), urgent ones (24/7 contact
        # points) and work inside a joint team go before the rest.
        channel = led.channel[ids]
        deadline_class = ~(
            (led.instrument[ids] == _MUTUAL_RECOGNITION)
            | (channel == _CONTACT_POINT)
            | (channel == _JIT)
        )  # False (0) is served first
        operation_work = self.operations.first_in_queue(ids)
        if operation_work is not None:
            deadline_class &= ~operation_work
        discipline = self.config.agencies.queue_discipline
        if discipline == "reciprocity":
            partner_trust = self.trust.get(
                led.requested_state[ids], led.requesting_state[ids], self.day
            )
        else:
            partner_trust = 0.0
        # Agency.priority, for every request at once (all agencies share the discipline).
        priority = queue_priority(
            discipline, led.severity[ids].astype(np.float64), partner_trust, self.day
        )
        # Among the requests served first, the earliest deadline goes first (urgent and
        # team requests count from today).
        first = ~deadline_class
        if first.any():
            priority = np.where(first, self._deadline_day(ids, role), priority)
        self.pools[role].push(ids, agencies, deadline_class, priority)
        np.add.at(self.agency_table.waiting, agencies, 1)
        if self.day >= self.window_start:
            np.add.at(self.agency_table.arrived, agencies, 1)
        self.backlog_by_role[role] += ids.size

    def _deadline_day(self, ids: np.ndarray, role: str) -> np.ndarray:
        """Day by which a queued request is due: its mutual-recognition deadline, else today.

        Central authorities and courts decide within the decision deadline (a
        warrant's surrender decision within its own, shorter with consent); law
        enforcement executes within the execution deadline of the decision.
        """
        led, mrc = self.ledger, self.config.mutual_recognition
        if role == "law_enforcement":
            due = led.t_decided[ids] + mrc.execution_deadline_days
        else:
            due = led.t_received[ids] + frictions.decision_deadline_days(
                led.kind[ids], led.consent[ids], mrc
            )
        mr = led.instrument[ids] == _MUTUAL_RECOGNITION
        return np.where(mr, due, self.day).astype(np.float64)

    def _close(
        self, ids: np.ndarray, outcome: Outcome, ground: RefusalGround = RefusalGround.NONE
    ) -> None:
        """Give requests their one final outcome and apply its consequences."""
        led = self.ledger
        ids = ids[led.outcome[ids] == _OPEN]
        if ids.size == 0:
            return
        queue_agency = led.queue_agency[ids]
        queued = queue_agency[queue_agency >= 0]
        if queued.size:
            # Closed in place: the pool drops them at its next service.
            table = self.agency_table
            np.subtract.at(table.waiting, queued, 1)
            per_role = np.bincount(table.role[queued], minlength=len(QUEUE_ROLES)).tolist()
            for role, count in zip(QUEUE_ROLES, per_role, strict=False):
                if count:
                    self.backlog_by_role[role] -= count
                    self.pools[role].dirty = True
        led.queue_agency[ids] = -1
        led.outcome[ids] = outcome
        led.refusal_ground[ids] = ground
        led.stage[ids] = Stage.CLOSED
        led.t_closed[ids] = self.day
        self._counts[outcome.name.lower()] += ids.size
        requesting, requested = led.requesting_state[ids], led.requested_state[ids]
        tr = self.config.trust
        if outcome == Outcome.EXECUTED:
            # Faster (and steadier) answers build more trust than slow ones.
            timeliness = frictions.timeliness_factor(
                self.day - led.t_issued[ids], tr.expected_response_days, tr.timeliness_weight
            )
            self.trust.reward(requesting, requested, tr.gain_on_success * timeliness, self.day)
            self._case_progress(led.case[ids])
        elif outcome == Outcome.REFUSED:
            self.trust.penalise(requesting, requested, tr.loss_on_refusal, self.day)
            self._end_cases(led.case[ids], CaseStatus.FAILED)
        elif outcome == Outcome.LAPSED:
            # Only a partner that had the request and had not yet answered it is blamed.
            reached = (led.t_received[ids] >= 0) & (led.t_executed[ids] < 0)
            self.trust.penalise(requesting[reached], requested[reached], tr.loss_on_lapse, self.day)

    def _case_progress(self, case_ids: np.ndarray) -> None:
        cases = self.cases
        np.add.at(cases.received, case_ids, 1)
        unique = sorted_unique(case_ids)
        ready = cases.received[unique] >= cases.needed[unique]
        done = unique[(cases.status[unique] == _CASE_OPEN) & ready]
        if done.size:
            cases.status[done] = CaseStatus.RESOLVED
            cases.t_closed[done] = self.day
            self._open -= done.size
            self.teams.cases_closed(done)

    def _end_cases(self, case_ids, status: CaseStatus) -> None:
        """Close open cases; their requests still open lapse (cold) or are withdrawn."""
        cases = self.cases
        outcome = Outcome.LAPSED if status == CaseStatus.COLD else Outcome.WITHDRAWN
        case_ids = sorted_unique(np.atleast_1d(case_ids))
        case_ids = case_ids[cases.status[case_ids] == _CASE_OPEN]
        if case_ids.size == 0:
            return
        cases.status[case_ids] = status
        cases.t_closed[case_ids] = self.day
        self._open -= case_ids.size
        self.teams.cases_closed(case_ids)
        self._close(cases.request_ids(case_ids), outcome)

    # ------------------------------------------------------------------ process 1: cases
    def _generate_cases(self) -> None:
        w, c, rng = self.world, self.config.cases, self.case_rng
        if w.n_states < 2:
            return
        rate = self._daily_rate
        policy = self.policy
        if policy.demand_growth.any():
            years = np.maximum(0.0, self.day - policy.demand_start_day) / DAYS_PER_YEAR
            rate = rate * (1.0 + policy.demand_growth) ** years
        counts = rng.poisson(rate)
        n = int(counts.sum())
        if n == 0:
            return
        origin = np.arange(w.n_states).repeat(counts)
        case_type = draw_categories(rng, self._type_cdf, n)
        severity = rng.beta(c.severity_shape, c.severity_shape_b, size=n)
        mean_sens = self._type_sensitivity[case_type].clip(0.02, 0.98)
        k = c.sensitivity_concentration
        sensitivity = rng.beta(k * mean_sens, k * (1 - mean_sens))
        deadline = (
            self.day
            + 1
            + frictions.to_whole_days(
                rng.gamma(c.deadline_shape, c.deadline_days_mean / c.deadline_shape, size=n)
            )
        )
        links = np.minimum(1 + rng.poisson(c.mean_foreign_links - 1.0, size=n), w.n_states - 1)
        case_ids = self.cases.append(
            origin=origin,
            case_type=case_type,
            severity=severity,
            political_sensitivity=sensitivity,
            t_created=self.day,
            t_deadline=deadline,
            needed=links,
        )
        self.latest_case[origin, case_type] = case_ids
        requested = self._gravity_partners(origin, links)
        case_of_link = case_ids.repeat(links)
        requesting = origin.repeat(links)
        # What each foreign link needs: evidence, or a person (whose whereabouts may be unknown).
        k = case_of_link.size
        kind = np.where(rng.random(k) < c.extradition_share, Kind.EXTRADITION, Kind.MLA_EVIDENCE)
        extradition = kind == _EXTRADITION
        hidden = extradition & (rng.random(k) < self.config.interpol.location_unknown_share)
        coercive = ~extradition & (rng.random(k) < c.coercive_share)
        national = extradition & (rng.random(k) < c.national_share)
        consent = extradition & self._consents(rng, requesting, requested, national)
        in_team = self._propose_teams(case_ids, case_of_link, requested, links)
        known = ~hidden
        self._create_requests(
            case_of_link[known],
            requesting[known],
            requested[known],
            kind[known],
            coercive[known],
            consent[known],
            national[known],
            in_team[known] & ~extradition[known],
        )
        self.fugitives_unlocated += np.count_nonzero(hidden)
        self.interpol.search(case_of_link[hidden], requesting[hidden], requested[hidden])
        self.intelligence.produce(case_ids)
        self._open += case_ids.size
        self._file_deadlines(case_ids, deadline)

    def _consents(self, rng, requesting, requested, national) -> np.ndarray:
        """Whether each person sought would consent to surrender (drawn once, at the request).

        The person weighs the strength of the case against them, whether they are a
        national of the state holding them, conditions in the requesting state and
        how long contesting would take there (a warrant hearing in the bloc, a full
        extradition hearing elsewhere).
        """
        w, j = self.world, self.config.judicial
        strength = rng.random(requesting.size)
        mr = w.mr_bloc[requesting] & w.mr_bloc[requested]
        contest_days = np.where(mr, self.config.mutual_recognition.hearing_days, j.extradition_days)
        p = frictions.consent_probability(
            strength, national, w.rights_standard[requesting], contest_days / DAYS_PER_YEAR, j
        )
        return rng.random(requesting.size) < p

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
        threshold = np.maximum(0.0, cfg.severity_threshold - self.teams.threshold_shift[origin])
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

    def _gravity_partners(self, origin: np.ndarray, links: np.ndarray) -> np.ndarray:
        """Draw ``links[k]`` distinct partner states for each case by the gravity rule.

        Each case draws ``links[k]`` uniforms at a time until it has that many
        distinct partners other than its origin. Almost every case succeeds with its
        first draws, so those are made for all cases at once; at the first case that
        needs more, the generator is rewound to that case, which is drawn on its own
        (:meth:`_gravity_partners_one`), and the batch resumes after it. The random
        stream is consumed exactly as case-by-case drawing would consume it.
        """
        rng, cum = self.case_rng, self._gravity_cum  # partners are part of the case
        last = cum.shape[1] - 1
        origin = np.asarray(origin, dtype=np.int64)
        links = np.asarray(links, dtype=np.int64)
        parts: list[np.ndarray] = []
        first = 0
        while first < origin.size:
            o, k = origin[first:], links[first:]
            state = rng.bit_generator.state
            u = rng.random(int(k.sum()))
            owner = np.arange(o.size).repeat(k)
            origin_of_draw = o[owner]
            x = u * cum[origin_of_draw, last]
            # searchsorted(row, x, side="right"), row by row.
            p = np.minimum(count_at_most(cum, origin_of_draw, x), last)
            bad = p == o[owner]
            if k.max(initial=1) > 1:
                key = owner * (last + 1) + p
                order = np.argsort(key, kind="stable")
                repeated = (key[order][1:] == key[order][:-1]).nonzero()[0]
                bad[order[repeated + 1]] = True
            if not bad.any():
                parts.append(p)
                break
            stop = int(owner[np.argmax(bad)])  # the first case that needs more draws
            done = int(k[:stop].sum())
            parts.append(p[:done])
            rng.bit_generator.state = state
            if done:
                rng.random(done)
            parts.append(self._gravity_partners_one(int(o[stop]), int(k[stop])))
            first += stop + 1
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate(parts).astype(np.int64, copy=False)

    def _gravity_partners_one(self, o: int, k: int) -> np.ndarray:
        """Partners of one case, drawing ``k`` uniforms at a time until ``k`` are distinct."""
        row = self._gravity_cum[o]
        chosen: list[int] = []
        while len(chosen) < k:
            u = self.case_rng.random(k)
            for p in np.searchsorted(row, u * row[-1], side="right").tolist():
                p = min(p, len(row) - 1)
                if p != o and p not in chosen and len(chosen) < k:
                    chosen.append(p)
        return np.asarray(chosen, dtype=np.int64)

    # ------------------------------------------------------------------ process 2: drafting
    def _create_requests(
        self, case_ids, requesting, requested, kind, coercive, consent, national, in_team
    ) -> np.ndarray:
        """Draft the requests of new case links: instrument, channel and drafting time."""
        if np.size(case_ids) == 0:
            return np.empty(0, dtype=np.int64)
        w, cases = self.world, self.cases
        mr = w.mr_bloc[requesting] & w.mr_bloc[requested]
        treaty = w.treaty_matrix[requesting, requested]
        convention = w.convention[requesting] & w.convention[requested]
        instrument = frictions.choose_instrument(mr, treaty, convention)
        severity = cases.severity[case_ids]
        policy = self.policy
        channel = frictions.choose_channel(
            instrument,
            platform=w.platform[requesting] & w.platform[requested],
            urgent_contact=(severity >= policy.urgent_threshold[requesting])
            & w.contact_point[requesting]
            & w.contact_point[requested],
            in_team=in_team,
            formal=policy.formal_channel[requesting] | policy.formal_channel[requested],
        )
        case_type = cases.case_type[case_ids]
        ids = self.ledger.append(
            case=case_ids,
            kind=kind,
            requesting_state=requesting,
            requested_state=requested,
            instrument=instrument,
            channel=channel,
            security_case=self.security_type[case_type],
            coercive=coercive,
            consent=consent,
            national=national,
            severity=severity,
            political_sensitivity=cases.political_sensitivity[case_ids],
            stage=Stage.DRAFTING,
            t_created=self.day,
        )
        cases.add_requests(case_ids, ids)
        np.add.at(self.traffic, (requesting, requested), 1)
        d, j = self.config.drafting, self.config.jit
        mean = frictions.drafting_days(
            d.base_days,
            d.language_days,
            d.legal_distance_days,
            w.different_language[requesting, requested],
            w.legal_distance[requesting, requested],
            w.skill[requesting],
        )
        # Inside a team there is no formal request to draft: evidence moves once it is set up.
        mean = np.where(in_team, j.formation_days + j.exchange_days, mean)
        self._schedule(ids, Stage.DRAFTING, self._noisy(mean))
        return ids

    def open_formal_requests(
        self, requesting, requested, case_type, severity, sensitivity, deadline
    ) -> np.ndarray:
        """Data a provider did not give goes the formal route: a case and an MLA request each.

        The request asks the provider's state for the data; a court orders the
        provider to produce it (a coercive measure). The case goes cold at the
        investigation's deadline, like any other.

        Returns:
            The ledger ids of the new requests.
        """
        n = requesting.size
        no = np.zeros(n, dtype=bool)
        case_ids = self.cases.append(
            origin=requesting,
            case_type=case_type,
            severity=severity,
            political_sensitivity=sensitivity,
            t_created=self.day,
            t_deadline=deadline,
            needed=1,
        )
        ids = self._create_requests(
            case_ids,
            requesting,
            requested,
            np.full(n, Kind.MLA_EVIDENCE),
            np.ones(n, dtype=bool),
            no,
            no,
            no,
        )
        self._open += n
        self._file_deadlines(case_ids, deadline)
        return ids

    def request_extradition_after_arrest(self, case_ids, requesting, requested) -> None:
        """A member located a person sought by a notice: the formal extradition follows."""
        c = self.config.cases
        requesting, requested = np.asarray(requesting), np.asarray(requested)
        n = requesting.size
        national = self.rng.random(n) < c.national_share
        consent = self._consents(self.rng, requesting, requested, national)
        self._create_requests(
            np.asarray(case_ids),
            requesting,
            requested,
            np.full(n, Kind.EXTRADITION),
            np.zeros(n, dtype=bool),
            consent,
            national,
            np.zeros(n, dtype=bool),
        )

    # ------------------------------------------------------------------ processes 3-7
    def _transmit(self, ids: np.ndarray) -> None:
        led = self.ledger
        first = ids[led.t_issued[ids] < 0]
        led.t_issued[first] = self.day
        self._counts["issued"] += first.size
        team = led.channel[ids] == _JIT
        if team.any():
            # Evidence moves inside the team: no central authority, no review.
            direct = ids[team]
            led.t_received[direct] = self.day
            led.t_decided[direct] = self.day
            self._enqueue(
                direct,
                self.le_of[led.requested_state[direct]],
                Stage.EXECUTION_QUEUE,
                "law_enforcement",
            )
            ids = ids[~team]
        days = frictions.transmission_days(led.channel[ids], self._channel_days)
        self._schedule(ids, Stage.TRANSMISSION, self._noisy(days))

    def _arrive(self, ids: np.ndarray) -> None:
        led = self.ledger
        first = ids[led.t_received[ids] < 0]
        led.t_received[first] = self.day
        # A mutual-recognition warrant goes straight to the executing judicial authority
        # (as the European Arrest Warrant does): no central-authority review.
        warrant = (led.instrument[ids] == _MUTUAL_RECOGNITION) & (led.kind[ids] == _EXTRADITION)
        if warrant.any():
            self._route_after_review(ids[warrant])
            ids = ids[~warrant]
        self._enqueue(
            ids, self.ca_of[led.requested_state[ids]], Stage.REVIEW_QUEUE, "central_authority"
        )

    def _review_decision(self, ids: np.ndarray) -> None:
        """Process 4: clarification, the legal grounds, then the sovereignty check."""
        w, r, rng, led = self.world, self.config.review, self.rng, self.ledger
        a, b = led.requesting_state[ids], led.requested_state[ids]
        mr = led.instrument[ids] == _MUTUAL_RECOGNITION
        legal_distance = w.legal_distance[a, b]
        # Clarification rounds: misunderstandings grow with legal, language and cultural
        # distance; familiarity, standard forms and clear procedures avoid some.
        comm = self.config.communication
        p_clarify = frictions.clarification_probability(
            legal_distance,
            w.different_language[a, b],
            r.clarification_base,
            r.clarification_per_legal_distance,
            language_factor=comm.language_misunderstanding,
            cultural_distance=w.cultural_distance[a, b],
            cultural_weight=comm.organisational_distance_weight,
            familiarity=self.familiarity[a, b],
            familiarity_effect=comm.familiarity_effect,
            standard_form=mr,
            standard_form_clarity=self.config.mutual_recognition.standard_form_clarity,
            procedure_clarity=self._procedure_clarity(ids),
        )
        clarify = rng.random(ids.size) < p_clarify
        # A misunderstanding costs the requesting state's trust in its partner a little.
        self.trust.penalise(
            a[clarify], b[clarify], self.config.trust.loss_on_clarification, self.day
        )
        exhausted = clarify & (led.clarification_rounds[ids] >= r.max_clarification_rounds)
        self._close(ids[exhausted], Outcome.REFUSED, RefusalGround.FORM_DEFECT)
        back = ids[clarify & ~exhausted]
        led.clarification_rounds[back] += 1
        self.clarification_rounds += back.size
        self._schedule(
            back,
            Stage.CLARIFICATION,
            self._noisy(r.clarification_days + self._channel_days[led.channel[back]]),
        )
        rest = ~clarify
        ids, a, b, mr = ids[rest], a[rest], b[rest], mr[rest]
        probabilities = self._refusal_probabilities(ids, a, b, mr)
        ground = frictions.first_ground(probabilities, rng.random((ids.size, len(probabilities))))
        for code in sorted_unique(ground[ground != _NO_GROUND]).tolist():
            self._close(ids[ground == code], Outcome.REFUSED, RefusalGround(code))
        keep = ground == _NO_GROUND
        ids, a, b, mr = ids[keep], a[keep], b[keep], mr[keep]
        # Sovereignty: no political review under mutual recognition.
        score = (
            frictions.sovereignty_score(
                led.political_sensitivity[ids],
                w.sovereignty[b],
                self.trust.get(b, a, self.day),
                w.relations[a, b],
            )
            * ~mr
        )
        u = rng.random(ids.size)
        refuse = u < r.sovereignty_refusal * score
        self._close(ids[refuse], Outcome.REFUSED, RefusalGround.SOVEREIGNTY)
        delay = ~refuse & (rng.random(ids.size) < r.sovereignty_delay * score)
        led.t_decided[ids[~refuse]] = self.day
        self._schedule(
            ids[delay],
            Stage.DELIBERATE_DELAY,
            self._noisy(np.full(int(delay.sum()), r.sovereignty_delay_days)),
        )
        self._route_after_review(ids[~refuse & ~delay])

    def _procedure_clarity(self, ids: np.ndarray) -> np.ndarray:
        """Clarity of procedures on each request: security requests of a state with clear ones."""
        led, clarity = self.ledger, self.policy.procedure_clarity
        involved = np.maximum(clarity[led.requesting_state[ids]], clarity[led.requested_state[ids]])
        return np.where(led.security_case[ids], involved, 0.0)

    def _rights_gap(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        w = self.world
        return frictions.rights_gap(
            w.death_penalty[a],
            w.death_penalty[b],
            w.rights_standard[a],
            w.rights_standard[b],
            self.config.review.rights_gap_tolerance,
        )

    def _refusal_probabilities(self, ids, a, b, mr) -> dict:
        """Chance of each legal refusal ground, from the case and the two states."""
        w, led, cases, policy = self.world, self.ledger, self.cases, self.policy
        case = led.case[ids]
        security = led.security_case[ids]
        # Evidence or a person for a trial before the requesting state's special court.
        special_court = security & (self.nsc_of[a] >= 0)
        # Legal protections for partners (confidentiality standards) close data gaps.
        protection = np.maximum(w.data_protection[a], w.confidentiality[a])
        return frictions.legal_refusal_probabilities(
            kind=led.kind[ids],
            listed_offence=self._listed_type[cases.case_type[case]],
            legal_distance=w.legal_distance[a, b],
            political_sensitivity=led.political_sensitivity[ids],
            national=led.national[ids],
            requested_is_civil=self._is_civil[b],
            other_states=cases.needed[case] - 1,
            rights_gap=self._rights_gap(a, b),
            fair_trial_exposure=frictions.fair_trial_exposure(
                special_court,
                w.rights_standard[b],
                policy.court_transparency[a],
                policy.court_safeguards[a],
            ),
            severity=led.severity[ids],
            data_protection_gap=w.data_protection[b] - protection,
            mutual_recognition=mr,
            review=self.config.review,
            nationality_residence_refusal=(
                self.config.mutual_recognition.nationality_residence_refusal
            ),
        )

    def _route_after_review(self, ids: np.ndarray) -> None:
        """Extraditions and coercive measures go to a court; the rest to law enforcement."""
        led = self.ledger
        judicial = (led.kind[ids] == _EXTRADITION) | led.coercive[ids]
        to_court = ids[judicial]
        b = led.requested_state[to_court]
        nsc = self.nsc_of[b]
        use_nsc = led.security_case[to_court] & (nsc >= 0)
        self._enqueue(
            to_court, np.where(use_nsc, nsc, self.court_of[b]), Stage.JUDICIAL_QUEUE, "court"
        )
        rest = ids[~judicial]
        self._enqueue(
            rest, self.le_of[led.requested_state[rest]], Stage.EXECUTION_QUEUE, "law_enforcement"
        )

    def _judicial_decision(self, ids: np.ndarray) -> None:
        """Process 5: the court's decision.

        A mutual-recognition warrant reaches the executing court directly, so the
        court checks the non-execution grounds the instrument keeps (the central
        authority's review does so for every other request). For the rest, the
        court may refuse an extradition on human-rights grounds.
        """
        led, j = self.ledger, self.config.judicial
        a, b = led.requesting_state[ids], led.requested_state[ids]
        warrant = (led.instrument[ids] == _MUTUAL_RECOGNITION) & (led.kind[ids] == _EXTRADITION)
        if warrant.any():
            w_ids = ids[warrant]
            probabilities = self._refusal_probabilities(
                w_ids, a[warrant], b[warrant], np.ones(w_ids.size, dtype=bool)
            )
            u = self.rng.random((w_ids.size, len(probabilities)))
            ground = frictions.first_ground(probabilities, u)
            for code in sorted_unique(ground[ground != _NO_GROUND]).tolist():
                self._close(w_ids[ground == code], Outcome.REFUSED, RefusalGround(code))
        p = frictions.court_refusal_probability(
            j.human_rights_refusal, led.kind[ids], self._rights_gap(a, b)
        )
        refuse = ~warrant & (self.rng.random(ids.size) < p)
        self._close(ids[refuse], Outcome.REFUSED, RefusalGround.HUMAN_RIGHTS)
        ids = ids[~refuse & (led.outcome[ids] == _OPEN)]
        led.t_judicial[ids] = self.day
        undecided = ids[led.t_decided[ids] < 0]  # warrants: the court's decision is the decision
        led.t_decided[undecided] = self.day
        self._enqueue(
            ids, self.le_of[led.requested_state[ids]], Stage.EXECUTION_QUEUE, "law_enforcement"
        )

    def _respond(self, ids: np.ndarray) -> None:
        led = self.ledger
        led.t_executed[ids] = self.day
        days = frictions.transmission_days(led.channel[ids], self._channel_days)
        self._schedule(ids, Stage.RESPONSE, self._noisy(days))

    # ------------------------------------------------------------------ queues
    def _service_days(self, role: str, ids: np.ndarray, agencies: np.ndarray) -> np.ndarray:
        """How long a request occupies the agency that just took it."""
        led, cfg = self.ledger, self.config
        mr = led.instrument[ids] == _MUTUAL_RECOGNITION
        skill = self.agency_table.skill[agencies]
        # At the default effect (1) an office of skill 1 takes half the mean time and one
        # of skill 0 one and a half times it.
        effect = cfg.agencies.skill_speed_effect
        slowness = (1.0 + 0.5 * effect) - effect * skill
        mrc = cfg.mutual_recognition
        if role == "central_authority":
            mean = np.where(mr, mrc.review_days, cfg.review.service_days) * slowness
            # Clear procedures make the review of security requests more consistent.
            return self._noisy(mean, 1.0 - self._procedure_clarity(ids))
        if role == "court":
            j = cfg.judicial
            nsc = self.agency_table.nsc[agencies]
            mean = frictions.judicial_days(
                led.kind[ids],
                led.consent[ids],
                led.security_case[ids],
                nsc,
                extradition_days=j.extradition_days,
                coercive_order_days=j.coercive_order_days,
                consent_factor=j.consent_factor,
                nsc_speed_factor=j.nsc_speed_factor,
            )
            # Under mutual recognition the hearing is the recognition of a warrant.
            warrant = mr & (led.kind[ids] == _EXTRADITION)
            hearing = mrc.hearing_days * np.where(led.consent[ids], j.consent_factor, 1.0)
            mean = np.where(warrant, hearing, mean)
            return self._noisy(mean * slowness, np.where(nsc, j.nsc_noise_factor, 1.0))
        ex = cfg.execution
        extradition = led.kind[ids] == _EXTRADITION
        surrender = np.where(mr, mrc.surrender_days, ex.surrender_days)
        mean = np.where(extradition, surrender, ex.evidence_days) * slowness
        return self._noisy(mean)

    def _serve_queues(self) -> None:
        """Every agency with waiting work takes as many requests as its capacity allows.

        The rule of :meth:`sim.agents.Agency.take_today`, for all agencies of a queue
        family at once: capacity accumulates as credit (only the fraction of a
        request left over carries to the next day, an idle agency banks nothing),
        and each agency takes the first live requests of its queue.
        """
        table, led = self.agency_table, self.ledger
        next_stage = {
            "central_authority": Stage.REVIEW,
            "court": Stage.JUDICIAL,
            "law_enforcement": Stage.EXECUTION,
        }
        waiting_all = table.waiting[: table.size]
        role_all = table.role[: table.size]
        for role in QUEUE_ROLES:
            if not self.backlog_by_role[role]:
                continue
            pool = self.pools[role]
            pool.merge()
            if pool.dirty:
                pool.purge(led.outcome)
            busy = ((waiting_all > 0) & (role_all == ROLE_CODES[role])).nonzero()[0]
            credit = table.credit[busy] % 1.0 + table.capacity[busy]
            counts = np.minimum(np.floor(credit).astype(np.int64), table.waiting[busy])
            table.credit[busy] = credit - counts
            table.effort[busy] += counts
            table.waiting[busy] -= counts
            if not counts.any():
                continue
            ids, agencies = pool.take(busy, counts)
            self.backlog_by_role[role] -= ids.size
            led.queue_agency[ids] = -1
            days = self._service_days(role, ids, agencies)
            self._schedule(ids, next_stage[role], days)

    # ------------------------------------------------------------------ the day
    def _advance_due(self) -> None:
        """Move every request whose stage ends today, stage by stage in a fixed order."""
        led = self.ledger
        handlers = (
            (Stage.DRAFTING, self._transmit),
            (Stage.CLARIFICATION, self._transmit),
            (Stage.TRANSMISSION, self._arrive),
            (Stage.REVIEW, self._review_decision),
            (Stage.DELIBERATE_DELAY, self._route_after_review),
            (Stage.JUDICIAL, self._judicial_decision),
            (Stage.EXECUTION, self._respond),
            (Stage.RESPONSE, lambda ids: self._close(ids, Outcome.EXECUTED)),
        )
        # Zero-day stages put requests back into today's bucket: loop until it is empty.
        while (ids := self._due.pop(self.day)) is not None:
            ids = ids[led.outcome[ids] == _OPEN]
            stage = led.stage[ids]
            # Group by stage once (stable, so each group keeps its order); every group
            # is taken from this snapshot, as if selected by ``stage == code``.
            order = np.argsort(stage, kind="stable")
            grouped = ids[order]
            counts = np.bincount(stage, minlength=len(Stage)).tolist()
            starts = [0]
            for c in counts:
                starts.append(starts[-1] + c)
            for code, handler in handlers:
                if counts[code]:
                    handler(grouped[starts[code] : starts[code + 1]])

    def _expire_cases(self) -> None:
        cases = self._case_deadlines.pop(self.day)
        if cases is None:
            return
        cases = cases[self.cases.status[cases] == _CASE_OPEN]
        # Intelligence may have moved a deadline later since it was filed here.
        deadline = self.cases.t_deadline[cases]
        later = deadline > self.day
        if later.any():
            self._file_deadlines(cases[later], deadline[later].astype(np.int64))
        self._end_cases(cases[~later], CaseStatus.COLD)

    def _record(self) -> None:
        d, s = self.day, self.series
        s["cases_opened"][d] = self.cases.size
        s["cases_open"][d] = self._open_cases()
        s["requests_issued"][d] = self._counts["issued"]
        for key in ("executed", "refused", "lapsed", "withdrawn"):
            s[key][d] = self._counts[key]
        for role in QUEUE_ROLES:
            s[f"backlog_{role}"][d] = self.backlog_by_role[role]
        s["mean_trust"][d] = self.trust.mean(d)
        s["mean_relations"][d] = _off_diagonal_mean(self.world.relations)
        s["intel_shared"][d] = len(self.intelligence.shares["item"])
        s["leaks"][d] = self.intelligence.leaks
        s["jits_active"][d] = len(self.teams.active)
        table = self.agency_table
        if table.size > self.agency_backlog.shape[1]:
            grown = np.zeros((self.horizon_days, table.capacity.size), dtype=np.int32)
            grown[:, : self.agency_backlog.shape[1]] = self.agency_backlog
            self.agency_backlog = grown
        self.agency_backlog[d, : table.size] = table.waiting[: table.size]
        if d >= self.window_start:
            table.capacity_days[: table.size] += table.capacity[: table.size]

    def _open_cases(self) -> int:
        return self._open

    def running_counts(self) -> dict[str, float]:
        """Counters that run over the whole run, for outcomes that count from the window."""
        return {
            "intel_items": self.intelligence.items,
            "incidents_prevented": self.intelligence.incidents_prevented,
            "cases_helped_by_intel": self.intelligence.cases_helped,
            "jits_formed": self.teams.formed,
            "jit_effort": self.teams.effort_so_far(),
            "effort": float(self.agency_table.effort.sum()),
            "persons_sought_unlocated": self.fugitives_unlocated,
            "coordination_meetings": self.meetings.meetings,
            "capacity_building_delivered": self.coordinating_body.delivered,
            "clarification_rounds": self.clarification_rounds,
        }

    def step(self) -> None:
        """Advance one simulated day."""
        if self.day >= self.horizon_days:
            self.running = False
            return
        if self.day == self.window_start and self.window_start > 0:
            self.window_counts = self.running_counts()
        self._generate_cases()
        self.eevidence.daily()
        self._advance_due()
        self._serve_queues()
        self._advance_due()
        self.intelligence.deliver()
        self.interpol.daily()
        self._advance_due()  # extraditions after today's arrests start drafting
        self._expire_cases()
        self._record()
        self.day += 1
        if self.day >= self.horizon_days:
            self.running = False

    def run(self, progress: bool = False) -> CooperationModel:
        """Run to the scenario's horizon.

        Args:
            progress: Show a progress bar (for long runs).

        Returns:
            The model itself, for chaining.
        """
        days = range(self.day, self.horizon_days)
        if progress:
            from tqdm import tqdm

            days = tqdm(days, desc=self.config.name, unit="day")
        for _ in days:
            self.step()
        return self

    # ------------------------------------------------------------------ services to submodels
    def case_resolved_mask(self, case_ids: np.ndarray) -> np.ndarray:
        """Which of the given cases were resolved."""
        return self.cases.status[case_ids] == CaseStatus.RESOLVED

    def extend_related_cases(self, states: np.ndarray, case_types: np.ndarray, days: float) -> int:
        """Move the deadline of each state's latest open case of a type later (new leads).

        Args:
            states: States that received a lead, one entry per lead.
            case_types: The case type of each lead.
            days: Days each lead adds (a case with several leads gets each).

        Returns:
            How many leads found an open case to extend.
        """
        case = self.latest_case[states, case_types]
        case = case[case >= 0]
        case = case[self.cases.status[case] == _CASE_OPEN]
        np.add.at(self.cases.t_deadline, case, int(round(days)))
        return int(case.size)

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

    def capacity_of(self, role: str, state: int) -> float:
        """Current capacity (work units a day) of a state's agency."""
        return self.states[state].agencies[role].capacity_per_day

    def adjust_capacity(self, role: str, state: int, delta: float) -> None:
        """Add ``delta`` work units a day to a state's agency (never below zero)."""
        agency = self.states[state].agencies[role]
        agency.capacity_per_day = max(0.0, agency.capacity_per_day + delta)

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
        growth = w.capacity[state] / before
        for agency in self.states[state].agencies.values():
            agency.capacity_per_day *= growth
            agency.skill = w.skill[state]
            agency.technology = w.technology[state]

    # ------------------------------------------------------------------ outputs
    def outcomes(self) -> dict[str, Any]:
        """Outcomes of the run so far (see :func:`sim.metrics.compute_outcomes`)."""
        return metrics.compute_outcomes(self)

    def series_frame(self) -> pd.DataFrame:
        """Daily series of the days simulated so far."""
        df = pd.DataFrame({k: v[: self.day] for k, v in self.series.items()})
        df.insert(0, "day", np.arange(self.day))
        return df

    def agency_series_frame(self) -> pd.DataFrame:
        """Daily queue length of every queueing agency, one row per agency and day.

        Columns: day, agency (its index), state (code), role, backlog (live requests
        waiting at the end of the day). Agencies added during the run (a national
        security court) have backlog 0 before they exist.
        """
        queueing = [a for a in self.agency_list if a.queue_family]
        index = np.asarray([a.index for a in queueing], dtype=np.int64)
        days = np.arange(self.day)
        codes = np.asarray(self.world.codes)
        return pd.DataFrame(
            {
                "day": np.repeat(days, index.size).astype(np.int32),
                "agency": np.tile(index, days.size).astype(np.int32),
                "state": pd.Categorical(
                    np.tile(codes[[a.state.index for a in queueing]], days.size)
                ),
                "role": pd.Categorical(np.tile([a.role for a in queueing], days.size)),
                "backlog": self.agency_backlog[: self.day][:, index].reshape(-1),
            }
        )

    def ledger_frame(self) -> pd.DataFrame:
        """The request ledger with readable labels and state codes."""
        df = self.ledger.to_dataframe()
        codes = np.asarray(self.world.codes)
        for col in ("requesting_state", "requested_state"):
            df[col] = codes[df[col].to_numpy()]
        return df


def category_cdf(p: np.ndarray) -> np.ndarray:
    """The cumulative distribution ``Generator.choice`` builds from probabilities ``p``."""
    cdf = np.asarray(p, dtype=np.float64).cumsum()
    cdf /= cdf[-1]
    return cdf


def draw_categories(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    """``rng.choice(len(cdf), size=n, p=p)`` with ``cdf = category_cdf(p)``, draw for draw.

    The same uniforms and the same lookup as ``Generator.choice``, without its
    per-call checks of ``p`` (about 30 us, paid every simulated day).
    """
    return cdf.searchsorted(rng.random(n), side="right")


# Below this many row entries (draws x states) comparing whole rows beats a binary search.
_DENSE_LOOKUP_LIMIT = 65_536


def count_at_most(cum: np.ndarray, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
    """For each ``i``, how many entries of ``cum[rows[i]]`` are ``<= x[i]``.

    ``cum`` has non-decreasing rows (cumulative weights), so this equals
    ``np.searchsorted(cum[rows[i]], x[i], side="right")`` row by row. Small
    batches compare whole rows at once; large ones binary-search every row at
    once, so the work grows with ``len(rows) * log(n)`` instead of
    ``len(rows) * n`` (a day of a world-scale run draws thousands of partners
    among hundreds of states).

    Args:
        cum: Matrix whose rows are non-decreasing.
        rows: Row of each query.
        x: Value of each query.

    Returns:
        Counts in ``[0, cum.shape[1]]``, int64.
    """
    n = cum.shape[1]
    if rows.size * n <= _DENSE_LOOKUP_LIMIT:
        return np.count_nonzero(cum[rows] <= x[:, None], axis=1).astype(np.int64)
    flat = cum.ravel()
    before_row = rows * n - 1  # flat index of entry j of row r is before_row + j + 1
    count = np.zeros(rows.size, dtype=np.int64)
    step = 1 << (n.bit_length() - 1)  # the largest power of two <= n
    # Binary lifting: grow each count by `step` while the entry it would include is <= x.
    while step:
        candidate = count + step
        fits = (flat[before_row + np.minimum(candidate, n)] <= x) & (candidate <= n)
        count += step * fits
        step >>= 1
    return count


def _off_diagonal_mean(matrix: np.ndarray) -> float:
    n = matrix.shape[0]
    if n < 2:
        return float("nan")
    return float((matrix.sum() - np.trace(matrix)) / (n * (n - 1)))


@dataclass
class RunResult:
    """What one run gives back: outcomes, daily series and the model itself."""

    outcomes: dict[str, Any]
    series: pd.DataFrame
    model: CooperationModel

    @property
    def durations(self) -> pd.DataFrame:
        """Kaplan-Meier and Aalen-Johansen durations by group (:func:`metrics.duration_table`)."""
        return metrics.duration_table(self.model)


def run(
    scenario: Scenario | str | Path,
    seed: int = 0,
    years: float | None = None,
    progress: bool = False,
) -> RunResult:
    """Run one scenario with one seed: a pure function of (scenario, seed).

    Args:
        scenario: Scenario, scenario file or shipped scenario name.
        seed: Random seed.
        years: Override the scenario's run length.
        progress: Show a progress bar.

    Returns:
        A :class:`RunResult`.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if years is not None:
        scenario = scenario.with_overrides({"run.years": years})
    model = CooperationModel(scenario, rng=seed).run(progress=progress)
    return RunResult(outcomes=model.outcomes(), series=model.series_frame(), model=model)
