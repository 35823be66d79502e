"""A request's passage between stages: scheduling, queueing, closing, and its case.

The rules themselves are compiled (:mod:`sim.kernel_lifecycle`, the stage handlers in
:mod:`sim.kernel_stages`); this part of the model packs its arrays for them, calls
them, and files what they leave behind: calendar entries, queue arrivals, and the
cases whose joint teams dissolve.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from operator import attrgetter, is_, is_not

import numpy as np
from numba import typeof

from sim import replaced_arrays
from sim.agents import QUEUE_ROLES, ROLE_CODES
from sim.kernel_day import reserved_room
from sim.kernel_state import (
    FIELDS,
    K_BACKLOG,
    K_CLARIFICATION_ROUNDS,
    K_OPEN,
    K_UNLOCATED,
    O_CLOSED,
    O_GIVEN,
    O_SEGMENTS,
    O_SLOTS,
    O_TEAMS_ENDED,
    O_TODAY,
    OUTCOME_COUNTERS,
    P_INTENSIFY,
    P_OPERATION_ON,
    P_RELATIONS_KNOWN,
    P_RELATIONS_MEAN,
    WORLD_FIELDS,
    AgencyArrays,
    LedgerArrays,
    Outbox,
)
from sim.kernel_struct import KernelState, KernelStateType, new_state

# The struct's arrays, group by group in its field order (sim.kernel_state.FIELDS), each
# read from its owner; tests/test_kernels.py checks every field against its array.
_LEDGER = attrgetter(*LedgerArrays._fields)
_CASES = attrgetter(  # CaseArrays
    "origin", "case_type", "needed", "received", "status", "_first", "_count",
    "extra_first", "extra_next", "extra_request", "severity", "political_sensitivity",
    "t_deadline", "extra_last", "extras_used", "t_created", "t_closed", "team_slot", "n_rows",
)  # fmt: skip
# WorldArrays: the world's fields, the model's tables, the policy's arrays, then the
# running operation's (chosen in _kernel_arrays).
_WORLD = attrgetter(*WORLD_FIELDS)
_MODEL_TABLES = attrgetter(
    "familiarity", "_listed_type", "_is_civil", "nsc_of", "ca_of", "court_of", "le_of",
    "_channel_days", "latest_case",
)  # fmt: skip
_POLICY = attrgetter("procedure_clarity", "court_transparency", "court_safeguards")
_DRAFTING_WORLD = attrgetter(  # DraftingArrays: the world's, the policy's, the model's
    "mr_bloc", "treaty_matrix", "convention", "platform", "contact_point", "skill"
)
_DRAFTING_POLICY = attrgetter("urgent_threshold", "formal_channel")
_AGENCIES = attrgetter(*AgencyArrays._fields)
# Where the struct's arrays hold the outbox's fill counts and today's operation.
_FILED, _PARTICIPANT, _TARGETED = map(FIELDS.index, ("filed", "op_participant", "op_targeted"))


def _raise_if_unnoted(arrays: tuple, cached: tuple) -> None:
    """Raise if an array of ``cached`` was replaced in ``arrays`` without a note.

    Today's operation's arrays are chosen by the day, and compared at every call.
    """
    if all(map(is_, arrays, cached)):  # as at most checks: nothing replaced
        return
    unnoted = [
        name
        for k, (name, a, b) in enumerate(zip(FIELDS, arrays, cached, strict=True))
        if a is not b and k not in (_PARTICIPANT, _TARGETED) and not replaced_arrays.was_noted(b)
    ]
    if unnoted:
        raise RuntimeError(
            f"arrays under the kernels' struct were replaced without a note: {unnoted}"
            " (call sim.replaced_arrays.note(old_arrays) where they are replaced)"
        )


def empty(out: Outbox) -> Outbox:
    """The outbox emptied for the next call (its buffers reused)."""
    out.filed[:] = 0
    out.filed[O_TODAY] = -1  # no pass running: what is due today goes to the calendar
    return out


def outbox(size: int) -> Outbox:
    """Empty buffers for a call that files at most ``size`` entries of each sort."""
    size = max(int(size), 1)
    buffers = (np.empty(size, dtype=np.int64) for _ in Outbox._fields[1:])
    return empty(Outbox(np.zeros(O_SLOTS, dtype=np.int64), *buffers))


class RequestLifecycle:
    """Part of :class:`~sim.model.CooperationModel`: moving requests and closing them once."""

    # ------------------------------------------------------------------ counters
    def _cases_opened(self, n: int) -> None:
        """Count ``n`` new open cases (the kernels count those that end)."""
        self.counters[K_OPEN] += n

    @property
    def fugitives_unlocated(self) -> int:
        """Persons sought whose whereabouts were unknown, over the run."""
        return int(self.counters[K_UNLOCATED])

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
    def kernel_state(
        self, size: int, links: int = 0, shares: int = 0
    ) -> tuple[KernelState, Outbox]:
        """The struct of arrays the compiled rules read and write, and its emptied outbox.

        The struct (:mod:`sim.kernel_state`) is kept between calls and built again only
        when one of its arrays was replaced (the ledger, the case book or a calendar
        grew, a reform or a meeting stored a new array); the outbox grows to hold
        ``size`` entries, and what the kernels add to makes room for as many: the
        calendars they file in, the ledger's rows and the case book's extras (the
        checks before each step of :func:`sim.kernel_day.run_day` assume it); case
        generation's call adds room for ``links`` new cases' links (cases, notices and
        their reviews) and ``shares`` items shared (shares and their deliveries).

        On the days a run steps itself the arrays are checked only after a replacement
        was noted (:mod:`sim.replaced_arrays`), and the reserves run only when a
        compiled check (:func:`sim.kernel_day.reserved_room`) finds one short.
        """
        out = self._outbox
        if out is None or out.today.size < size:
            grown = max(size, 2 * out.today.size) if out is not None else size
            if out is not None:
                replaced_arrays.note(*out)
            out = self._outbox = outbox(grown)
        else:
            empty(out)
        # The operation running today: its arrays are the struct's, chosen by the day.
        participant, targeted, prioritise = self.operations.queue_terms()
        self._parameters[P_OPERATION_ON] = float(prioritise)
        self._parameters[P_INTENSIFY] = float(self.operations.intensifies_searches())
        if not self._trusted_day:  # Python may have changed relations since the last call
            self.relations_changed()
        cached = self._state_arrays
        k = out.today.size
        if (
            self._trusted_day
            and replaced_arrays.count() == self._checked_at
            and out.filed is cached[_FILED]  # the outbox did not grow
            and participant is cached[_PARTICIPANT]
            and targeted is cached[_TARGETED]
            and reserved_room(self._state, k, links, shares)
        ):
            return self._state, out  # nothing replaced since the last check, nothing to grow
        self.reserve_room(k, links, shares)  # before the arrays are read: growing replaces them
        arrays = self._kernel_arrays(out, participant, targeted)
        if cached is None or any(map(is_not, arrays, cached)):
            if self._trusted_day and self._checked_at != -1:  # trusted since the last check
                _raise_if_unnoted(arrays, cached)
            self._state = new_state(*arrays)
            self._state_arrays = arrays
        self._checked_at = replaced_arrays.count()
        return self._state, out

    def relations_changed(self) -> None:
        """Say that ``world.relations`` was written inside a day: its mean is taken again.

        The daily series keeps the mean of relations through a run of days that
        :mod:`sim.stepping` steps (:func:`sim.kernel_day.relations_mean`). Mesa's events
        (meetings, reforms) fall between such runs and need not call this; code that
        writes relations from within a day (a subclass's ``step``) must, or the run
        raises after those days (:meth:`verify_kernel_state`).
        """
        self._parameters[P_RELATIONS_KNOWN] = 0.0

    def reserve_room(self, k: int, links: int = 0, shares: int = 0) -> None:
        """Room for what a kernel call may add (see :meth:`kernel_state`)."""
        self.cases.reserve(links)
        self.interpol.reserve(links)
        self.intelligence.reserve(shares)
        self._due.reserve(k)
        self._deadlines.reserve(k)
        self.interpol.searches.reserve(k)
        # Rows for the extraditions of the day's arrests, drafted inside the call.
        self.ledger.reserve(k)
        self.cases.reserve_extras(k)

    @contextmanager
    def trusted_days(self) -> Iterator[None]:
        """Days in which only the model's own code runs (:mod:`sim.stepping`).

        In them :meth:`kernel_state` checks the struct's arrays on its first call and
        then only after a replacement was noted (:mod:`sim.replaced_arrays`); at their
        end, unless one raised, every array is checked (:meth:`verify_kernel_state`).
        """
        self._checked_at, self._trusted_day = -1, True
        self.relations_changed()  # the mean is taken again on the first day
        try:
            yield
        finally:
            self._trusted_day = False
        self.verify_kernel_state()

    def verify_kernel_state(self) -> None:
        """Raise if an array under the struct was replaced without a note.

        Called at the end of :meth:`trusted_days`, where :meth:`kernel_state` trusted
        :mod:`sim.replaced_arrays`' count; each check it made in those days asked the
        same of the arrays it found replaced. The active teams are checked too: none
        may work on a case that has ended; and the mean of relations the daily series
        kept through those days (:func:`sim.kernel_day.relations_mean`) against the matrix.
        """
        if self._state_arrays is not None:
            _raise_if_unnoted(self.current_kernel_arrays(self._outbox), self._state_arrays)
        self.teams.check_active(self.cases.status)
        r = self.world.relations
        n = r.shape[0]
        if self._parameters[P_RELATIONS_KNOWN] and n >= 2:  # kept through the days: current?
            current = (r.sum() - np.trace(r)) / (n * (n - 1))  # as the kernel adds
            if current != self._parameters[P_RELATIONS_MEAN]:
                raise RuntimeError(
                    "relations changed in days the series kept their mean through: code "
                    "that writes world.relations within a day must call "
                    "model.relations_changed() (Mesa's events need not)"
                )

    def kernel_state_type(self) -> KernelStateType:
        """The numba type of the struct :meth:`kernel_state` builds, without building it."""
        arrays = self.current_kernel_arrays(outbox(1))
        return KernelStateType(tuple(zip(FIELDS, map(typeof, arrays), strict=True)))

    def current_kernel_arrays(self, out: Outbox) -> tuple:
        """The arrays a struct built now would hold, in field order, with outbox ``out``."""
        participant, targeted, _ = self.operations.queue_terms()
        return self._kernel_arrays(out, participant, targeted)

    def _kernel_arrays(self, out: Outbox, participant, targeted) -> tuple:
        """Every array of the struct, in its field order (:data:`sim.kernel_state.FIELDS`).

        Read with getters made once (:data:`_LEDGER` and the like): this runs before
        most kernel calls.
        """
        return (
            *_LEDGER(self.ledger),
            *_CASES(self.cases),
            *_WORLD(self.world),
            *_MODEL_TABLES(self),
            *_POLICY(self.policy),
            participant,
            targeted,
            *_DRAFTING_WORLD(self.world),
            *_DRAFTING_POLICY(self.policy),
            self.security_type,
            self.traffic,
            self._case_parameters,
            *self.trust.arrays(),
            *_AGENCIES(self.agency_table),
            *self.pool.arrays(self.ledger.capacity),
            *self._due.arrays(),
            *self._deadlines.arrays(),
            *self.intelligence.arrays(),
            *self.intelligence.deliveries.arrays(),
            *self.interpol.arrays(),
            *self.interpol.reviews.arrays(),
            *self.interpol.searches.arrays(),
            *self.teams.arrays(),
            *self.series_arrays(),
            *out,
            self._parameters,
            self.counters,
        )

    def _file(self, out) -> None:
        """File what a compiled call left: the cases that ended, and their teams' removal.

        The kernel gave the teams' members their capacity back already
        (:func:`sim.kernel_teams.give_back_capacity`); here the teams (Mesa agents) go.
        """
        filed = out.filed
        if filed[O_GIVEN] != filed[O_SEGMENTS]:
            raise RuntimeError("a kernel ended cases without giving their teams' capacity back")
        if not filed[O_CLOSED]:
            return
        ended = out.ended_cases[: filed[O_CLOSED]]
        self.cases.t_closed[ended] = self.day  # resolved, cold or failed today
        if filed[O_TEAMS_ENDED]:  # the teams of ended cases, counted by the kernel
            self.teams.dissolve_ended(int(filed[O_TEAMS_ENDED]))
