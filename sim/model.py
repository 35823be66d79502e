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

Requests in a timed stage wait in a calendar the kernels file and take
(:mod:`sim.kernel_calendar`, each day's ids in chunks of their own) or in agency
queues, so a day costs what arrives and what leaves plus one cheap pass over what
waits in the queues, and no work per pair of states. The stage handlers, queue service, closing,
trust updates and the case draws run compiled (numba kernels over the model's
arrays, ``sim/kernel_*.py``). Mesa's event list is kept for agent-level happenings
(reforms taking effect), not for requests.

The model's work is grouped by process in mixins, one module each, so that a change
to one stage is read in one place: :mod:`sim.model_setup` (agents staffed for demand,
precomputed tables), :mod:`sim.casegen` (process 1: cases and partners),
:mod:`sim.drafting` (process 2), :mod:`sim.stages` (processes 3-7 and queue service),
:mod:`sim.lifecycle` (scheduling, queueing and closing requests), :mod:`sim.model_services`
(the calls submodels and reforms make, :mod:`sim.contracts`), :mod:`sim.model_outputs`
(outcomes and frames) and :mod:`sim.stepping` (Mesa's time, the days between its events
stepped in a loop). This module holds the construction and the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim import metrics, replaced_arrays
from sim.adoption import AdoptionProcess
from sim.agents import (  # noqa: F401  (NationalSecurityCourt re-exported)
    QUEUE_ROLES,
    ROLE_CODES,
    AgencyTable,
    NationalSecurityCourt,
    QueuePool,
)
from sim.casegen import CaseGeneration
from sim.drafting import Drafting
from sim.eevidence import ElectronicEvidence
from sim.engagement import CoordinatingBody, CoordinationMeetings
from sim.held_signals import held_signals
from sim.intelligence import IntelligenceSharing
from sim.interpol import InterpolSecretariat
from sim.kernel_calendar import DayCalendar
from sim.kernel_casegen import new_case_work
from sim.kernel_cases import case_parameters
from sim.kernel_state import (
    K_BACKLOG,
    K_ISSUED,
    K_OPEN,
    K_SLOTS,
    OUTCOME_COUNTERS,
    SeriesArrays,
    parameters,
)
from sim.kernel_struct import new_streams
from sim.lifecycle import RequestLifecycle
from sim.memory import collector_paused, ordinary_pages
from sim.model_outputs import ModelOutputs
from sim.model_services import ModelServices
from sim.model_setup import ModelSetup
from sim.negotiation import BilateralNegotiation
from sim.operations import Operations
from sim.policy import PolicyState
from sim.reforms import enabled_reforms
from sim.requests import (
    CaseBook,
    Ledger,
)
from sim.scenario import (
    CASE_TYPES,
    DAYS_PER_YEAR,
    Scenario,
    ScenarioBase,
    load_scenario,
    warmup_days,
)
from sim.stages import Stages
from sim.stepping import DirectSteps
from sim.teams import TeamFormation
from sim.trust import TrustNetwork
from sim.world import build_world

# A run advances Mesa's time a block of days at a time (a month at most), and signals
# held meanwhile are delivered between blocks: Ctrl-C waits for at most a block.
_BLOCK_DAYS = 30

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
# The series that copy a counter of the kernels (sim.kernel_state), and those counters:
# recorded every day in one gather.
_COUNTED_SERIES = {
    "cases_open": K_OPEN,
    "requests_issued": K_ISSUED,
    **{
        name: OUTCOME_COUNTERS.index(name)
        for name in ("executed", "refused", "lapsed", "withdrawn")
    },
    **{f"backlog_{role}": K_BACKLOG + ROLE_CODES[role] for role in QUEUE_ROLES},
}
_COUNTED_ROWS = np.array([SERIES_COLUMNS.index(name) for name in _COUNTED_SERIES])
_COUNTER_SLOTS = np.array(list(_COUNTED_SERIES.values()))
# The rest, in the order sim.kernel_day.record_series writes them.
_LAYOUT_ROWS = np.array(
    [
        SERIES_COLUMNS.index(name)
        for name in (
            "cases_opened",
            "mean_trust",
            "mean_relations",
            "intel_shared",
            "leaks",
            "jits_active",
        )
    ]
)


class CooperationModel(
    ModelSetup,
    RequestLifecycle,
    CaseGeneration,
    Drafting,
    Stages,
    ModelServices,
    ModelOutputs,
    DirectSteps,
    mesa.Model,
):
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
        # Signals wait for the end of the setup (sim.held_signals): it calls kernels. Its
        # tables, reserved for the whole run, go in ordinary pages, and the garbage
        # collector waits while numba loads the kernels' lasting objects (sim.memory).
        with held_signals(), ordinary_pages(), collector_paused():
            # ScenarioBase, not Scenario: the name imported above may be a class rebuilt
            # for a lever registered since then (sim.levers).
            if not isinstance(scenario, ScenarioBase):
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
            # Both streams as the kernels take them, converted once (sim.kernel_state).
            self.streams = new_streams(self.rng, self.case_rng)
            self.trust = TrustNetwork(self.world.initial_trust, scenario.trust.decay_per_year)
            n = self.world.n_states
            self.traffic = np.zeros((n, n), dtype=np.int64)  # requests sent, row -> column
            self.familiarity = np.zeros((n, n))  # built by coordination meetings
            self.latest_case = np.full((n, len(CASE_TYPES)), -1, dtype=np.int64)
            # Per-state settings that reforms change and stages read.
            self.policy = PolicyState.initial(scenario, self.world.nsc)
            # Links and shares a day's cases may add in the room reserved before the call
            # (sim.casegen), and where the call leaves its draws when it stops.
            self._link_room = self._share_room = 64
            self._case_work = new_case_work()
            # Outcome counts, clarification rounds, open cases and backlogs, at the offsets of
            # sim.kernel_state (the compiled rules update them in place).
            self.counters = np.zeros(K_SLOTS, dtype=np.int64)
            self._parameters = parameters(scenario, self.window_start)
            self._case_parameters = case_parameters(scenario)
            jit = scenario.jit  # team proposals' numbers (sim.kernel_teams.team_candidates)
            self._team_numbers = (
                int(jit.min_states),
                float(jit.severity_threshold),
                float(jit.agreement_trust),
            )
            # The kernels' struct, the arrays it was built over, and its outbox (reused).
            self._state = self._state_arrays = self._outbox = None
            # The count of sim.replaced_arrays at the struct's last check, and whether a
            # kernel call may trust it (on the days a run steps itself, sim.stepping).
            self._checked_at, self._trusted_day = -1, False
            self.ledger = Ledger(initial_capacity=self._ledger_rows())
            self.cases = CaseBook(initial_capacity=self._case_book_rows())
            # Requests in a timed stage, by the day it ends: filed and taken by the kernels.
            self._due = DayCalendar(self.horizon_days)
            self._deadlines = DayCalendar(self.horizon_days)  # open cases, by deadline day
            # Every agency's capacity, credit, effort and queue length as arrays; the waiting
            # requests of every agency in one ordered pool (served all at once each day).
            self.agency_table = AgencyTable(6 * self.config.world.n_states + 8)
            self.pool = QueuePool(self.ledger.capacity)
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
            # One row a series (the dict's arrays are its rows), so that the counters'
            # series are recorded in one gather a day.
            self._series_rows = np.zeros((len(SERIES_COLUMNS), self.horizon_days))
            self.series = dict(zip(SERIES_COLUMNS, self._series_rows, strict=True))
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

        # ------------------------------------------------------------------ the day

    def series_arrays(self) -> SeriesArrays:
        """What the day's record writes and reads (:func:`sim.kernel_day.record_series`).

        The last step of the day's call: the series, each agency's backlog and, in the
        window, its capacity-days. Before the day, the backlog grows when agencies were
        added (:meth:`_room_for_agencies`).
        """
        return SeriesArrays(
            self._series_rows,
            _LAYOUT_ROWS,
            _COUNTED_ROWS,
            _COUNTER_SLOTS,
            self.agency_backlog,
            self.agency_table.capacity_days,
            self.trust.mean_terms()[0],
        )

    def _room_for_agencies(self) -> bool:
        """Widen the backlog record for agencies added since (a reform's); whether it grew."""
        table = self.agency_table
        if table.size <= self.agency_backlog.shape[1]:
            return False
        grown = np.zeros((self.horizon_days, table.capacity.size), dtype=np.int32)
        grown[:, : self.agency_backlog.shape[1]] = self.agency_backlog
        replaced_arrays.note(self.agency_backlog)
        self.agency_backlog = grown
        return True

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
        held = self._generate_cases()
        if self.eevidence.enabled:  # its day may grow the case book and the ledger
            self.eevidence.daily()
            held = None
        # Stages that end today, queue service, again; intelligence; INTERPOL's reviews
        # and arrests; the extraditions of today's arrests; cases past their deadline; the
        # day's series.
        self._run_day(held)
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
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=self.horizon_days - self.day, desc=self.config.name, unit="day")
        with held_signals() as held:
            while self.day < self.horizon_days:
                start = self.day
                # The block's days and the events due among them, in Mesa's order: the
                # days between events stepped in a loop (sim.stepping), the rest by Mesa.
                self._advance_time(self.time + min(_BLOCK_DAYS, self.horizon_days - start))
                held.deliver()  # Ctrl-C and SIGTERM land here, between blocks
                if bar is not None:
                    bar.update(self.day - start)
        if bar is not None:
            bar.close()
        return self


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
    if not isinstance(scenario, ScenarioBase):
        scenario = load_scenario(scenario)
    if years is not None:
        scenario = scenario.with_overrides({"run.years": years})
    model = CooperationModel(scenario, rng=seed).run(progress=progress)
    return RunResult(outcomes=model.outcomes(), series=model.series_frame(), model=model)
