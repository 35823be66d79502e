"""A request's passage between stages: scheduling, queueing, closing, and its case."""

from __future__ import annotations

import numpy as np

from sim import frictions
from sim.agents import (
    QUEUE_ROLES,
    queue_priority,
)
from sim.requests import (
    CASE_OPEN_CODE as _CASE_OPEN,
)
from sim.requests import (
    CONTACT_POINT_CODE as _CONTACT_POINT,
)
from sim.requests import (
    JIT_CODE as _JIT,
)
from sim.requests import (
    MUTUAL_RECOGNITION_CODE as _MUTUAL_RECOGNITION,
)
from sim.requests import (
    OPEN_CODE as _OPEN,
)
from sim.requests import (
    CaseStatus,
    Outcome,
    RefusalGround,
    Stage,
    sorted_unique,
)


class RequestLifecycle:
    """Part of :class:`~sim.model.CooperationModel`: moving requests and closing them once."""

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
