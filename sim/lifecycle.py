"""A request's passage between stages: scheduling, queueing, closing, and its case.

The rules themselves are compiled (:mod:`sim.kernel_lifecycle`, the stage handlers in
:mod:`sim.kernel_stages`); this part of the model packs its arrays for them, calls
them, and files what they leave behind: calendar entries, queue arrivals, and the
cases whose joint teams dissolve.
"""

from __future__ import annotations

from operator import attrgetter, is_not

import numpy as np

from sim import frictions
from sim.agents import QUEUE_ROLES, ROLE_CODES
from sim.kernel_lifecycle import end_cases, stage_until
from sim.kernel_state import (
    K_BACKLOG,
    K_CLARIFICATION_ROUNDS,
    K_OPEN,
    O_CAL,
    O_CLOSED,
    O_SEGMENTS,
    O_TODAY,
    OUTCOME_COUNTERS,
    P_OPERATION_ON,
    WORLD_FIELDS,
    AgencyArrays,
    CaseArrays,
    DraftingArrays,
    KernelState,
    LedgerArrays,
    Outbox,
    WorldArrays,
    new_state,
    outbox,
)
from sim.requests import CaseStatus, Stage

# The struct's arrays, group by group in its field order, each read from its owner.
_LEDGER = attrgetter(*LedgerArrays._fields)
# The case book's attribute behind each CaseArrays field.
_CASE_BOOK_NAMES = {"type": "case_type", "first": "_first", "count": "_count"}
_CASES = attrgetter(*(_CASE_BOOK_NAMES.get(name, name) for name in CaseArrays._fields))
# WorldArrays: the world's own fields, the model's tables, then the policy's arrays and
# the running operation's (the last two, read in _kernel_arrays).
_WORLD = attrgetter(*WORLD_FIELDS)
_POLICY_FIELDS = ("procedure_clarity", "court_transparency", "court_safeguards")
_MODEL_NAMES = {
    "listed_type": "_listed_type",
    "is_civil": "_is_civil",
    "channel_days": "_channel_days",
}
_MODEL_TABLES = attrgetter(
    *(
        _MODEL_NAMES.get(name, name)
        for name in WorldArrays._fields[len(WORLD_FIELDS) : -len(_POLICY_FIELDS) - 2]
    )
)
_POLICY = attrgetter(*_POLICY_FIELDS)
_AGENCIES = attrgetter(*AgencyArrays._fields)
# DraftingArrays: the world's (skill under its own name), the policy's, then the
# model's security_type and traffic (read in _kernel_arrays).
_DRAFTING_WORLD = attrgetter(
    *(name.replace("drafting_", "") for name in DraftingArrays._fields[:6])
)
_DRAFTING_POLICY = attrgetter(*DraftingArrays._fields[6:8])


class RequestLifecycle:
    """Part of :class:`~sim.model.CooperationModel`: moving requests and closing them once."""

    # ------------------------------------------------------------------ counters
    @property
    def _open(self) -> int:
        """Cases open now."""
        return int(self.counters[K_OPEN])

    @_open.setter
    def _open(self, value: int) -> None:
        self.counters[K_OPEN] = value

    @property
    def clarification_rounds(self) -> int:
        """Clarification rounds asked for over the run."""
        return int(self.counters[K_CLARIFICATION_ROUNDS])

    @property
    def backlog_by_role(self) -> dict[str, int]:
        """Requests waiting in each queue family now."""
        return {role: int(self.counters[K_BACKLOG + ROLE_CODES[role]]) for role in QUEUE_ROLES}

    def outcome_count(self, name: str) -> int:
        """Requests issued, or closed with an outcome (``executed``, ``refused``, ...), so far."""
        return int(self.counters[OUTCOME_COUNTERS.index(name)])

    # ------------------------------------------------------------------ the kernels' view
    def kernel_state(self, size: int) -> tuple[KernelState, Outbox]:
        """The struct of arrays the compiled rules read and write, and its emptied outbox.

        The struct (:mod:`sim.kernel_state`) is kept between calls and built again only
        when one of its arrays was replaced (the ledger or the case book grew, a reform
        or a meeting stored a new array); the outbox grows to hold ``size`` entries.
        """
        out = self._outbox
        if out is None or out.today.size < size:
            grown = max(size, 2 * out.today.size) if out is not None else size
            out = self._outbox = outbox(grown)
        else:
            out.filed[:] = 0
            out.filed[O_TODAY] = -1
        arrays = self._kernel_arrays(out)
        cached = self._state_arrays
        if cached is None or any(map(is_not, arrays, cached)):
            self._state = new_state(*arrays)
            self._state_arrays = arrays
        return self._state, out

    def _kernel_arrays(self, out: Outbox) -> tuple:
        """Every array of the struct, in its field order (:data:`sim.kernel_state.FIELDS`).

        Read with getters made once (:data:`_LEDGER` and the like): this runs before
        every kernel call, several times a day.
        """
        op = self.operations.running()
        prioritise = op is not None and op.params.prioritise_requests
        self._parameters[P_OPERATION_ON] = float(prioritise)
        return (
            *_LEDGER(self.ledger),
            *_CASES(self.cases),
            *_WORLD(self.world),
            *_MODEL_TABLES(self),
            *_POLICY(self.policy),
            op.participant if prioritise else self._no_states,
            op.targeted if prioritise else self._no_types,
            *_DRAFTING_WORLD(self.world),
            *_DRAFTING_POLICY(self.policy),
            self.security_type,
            self.traffic,
            *self.trust.arrays(),
            *_AGENCIES(self.agency_table),
            *self.pool.arrays(self.ledger.capacity),
            *out,
            self._parameters,
            self.counters,
        )

    def _file(self, out) -> None:
        """File what a compiled call left: calendar entries and the cases that ended."""
        filed = out.filed
        ended = out.ended_cases[: filed[O_CLOSED]]
        self.cases.t_closed[ended] = self.day  # resolved, cold or failed today
        n = filed[O_CAL]
        if n:
            self._due.add(out.filed_ids[:n], out.filed_days[:n])
        if filed[O_SEGMENTS] and self.teams.active:
            start = 0
            for end in out.ended_segments[: filed[O_SEGMENTS]].tolist():
                self.teams.cases_closed(out.ended_cases[start:end])
                start = end

    # ------------------------------------------------------------------ helpers
    def _schedule(self, ids: np.ndarray, stage: Stage, days: np.ndarray) -> None:
        """Put requests into ``stage`` until ``day + days``; closed ones stay closed."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if ids.size == 0:
            return
        # Writable, as the kernels pass it (a read-only view would compile stage_until again).
        days = np.require(np.broadcast_to(days, ids.shape), np.float64, ["C", "W"])
        led = self.ledger
        live, due = stage_until(led.outcome, led.stage, ids, int(stage), days, self.day)
        self._due.add(live, due)

    def _noisy(self, mean_days, sigma_factor=1.0) -> np.ndarray:
        return frictions.noisy_days(
            self.rng, mean_days, self.config.drafting.noise_sigma * sigma_factor
        )

    def _end_cases(self, case_ids, status: CaseStatus) -> None:
        """Close open cases; their requests still open lapse (cold) or are withdrawn."""
        case_ids = np.ascontiguousarray(np.atleast_1d(case_ids), dtype=np.int64)
        if case_ids.size == 0:
            return
        state, out = self.kernel_state(case_ids.size)
        end_cases(state, case_ids, int(status), self.day)
        self._file(out)
