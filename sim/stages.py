"""Queue service: each agency takes the day's work its capacity allows.

The stage handlers of processes 3-7 (transmission, review and decision, the judicial
stage, execution) are compiled: :mod:`sim.kernel_stages`.
"""

from __future__ import annotations

import numpy as np

from sim import frictions
from sim.agents import (
    QUEUE_ROLES,
    ROLE_CODES,
)
from sim.kernel_state import K_BACKLOG
from sim.requests import (
    EXTRADITION_CODE as _EXTRADITION,
)
from sim.requests import (
    MUTUAL_RECOGNITION_CODE as _MUTUAL_RECOGNITION,
)
from sim.requests import (
    Stage,
)


class Stages:
    """Part of :class:`~sim.model.CooperationModel`: the daily stages of a request, and service."""

    def _procedure_clarity(self, ids: np.ndarray) -> np.ndarray:
        """Clarity of procedures on each request: security requests of a state with clear ones."""
        led, clarity = self.ledger, self.policy.procedure_clarity
        involved = np.maximum(clarity[led.requesting_state[ids]], clarity[led.requested_state[ids]])
        return np.where(led.security_case[ids], involved, 0.0)

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
            backlog = K_BACKLOG + ROLE_CODES[role]
            if not self.counters[backlog]:
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
            self.counters[backlog] -= ids.size
            led.queue_agency[ids] = -1
            days = self._service_days(role, ids, agencies)
            self._schedule(ids, next_stage[role], days)
