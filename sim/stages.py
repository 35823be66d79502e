"""Processes 3-7: transmission, review and decision, judicial stage, execution, and queues."""

from __future__ import annotations

import numpy as np

from sim import frictions
from sim.agents import (
    QUEUE_ROLES,
    ROLE_CODES,
)
from sim.requests import (
    EXTRADITION_CODE as _EXTRADITION,
)
from sim.requests import (
    JIT_CODE as _JIT,
)
from sim.requests import (
    MUTUAL_RECOGNITION_CODE as _MUTUAL_RECOGNITION,
)
from sim.requests import (
    NO_GROUND_CODE as _NO_GROUND,
)
from sim.requests import (
    OPEN_CODE as _OPEN,
)
from sim.requests import (
    Outcome,
    RefusalGround,
    Stage,
    sorted_unique,
)


class Stages:
    """Part of :class:`~sim.model.CooperationModel`: the daily stages of a request, and service."""

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
