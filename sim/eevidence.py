"""Electronic evidence: domestic investigations and the data they need from service providers.

Most evidence today is data held by service providers, many of them based in a
few hub states. Each day every state opens domestic investigations (Poisson, at
``electronic_evidence.investigations_per_state_per_year`` scaled by threat level
and population like transnational cases). An investigation of a given type needs
provider data with ``electronic_share_by_type``; it needs ``1 + Poisson`` providers,
each a local one with ``local_provider_share`` or else drawn from the world market,
where a state's share grows with openness x (economic size x technology) **
``provider_concentration``. A provider abroad makes the investigation cross-border:
its data is asked for by one e-evidence request, which takes one route:

1. **production order** when the requesting state is under the ``e_evidence``
   regime and the provider is too (based in a regime state, or elsewhere with a
   legal representative there). A provider that complies answers in its handling
   time, by the deadline at the latest (10 days; 8 hours when urgent); one that
   does not is enforced through its state's authority: at the deadline the request
   goes the formal route.
2. **direct request** otherwise: a voluntary request the provider answers or
   declines by its state's disclosure policy and the request's quality (drafting
   skill, legal distance, data-protection gap); a declined one goes the formal route.
3. **formal route** (MLA fallback): a case of its own in the request pipeline of
   :mod:`sim.model`, one MLA evidence request needing a court order.

Every e-evidence request ends exactly once at the provider: answered there, or sent
to the formal route (whose request then ends in the ledger). Investigations and
provider decisions draw from their own random stream, drawn the same way whatever
the route, so scenarios compared with a seed face the same investigations, and the
transnational pipeline is untouched while the mechanism is off. Transnational
cases count as investigations with a cross-border request (they all send one);
purely domestic investigations are only counted, not simulated one by one.

The rules (where providers are, the route, the chance of an answer, how an order
ends) are pure functions in :mod:`sim.eevidence_rules`, re-exported here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from sim import survival
from sim.durations import lognormal_days
from sim.eevidence_rules import (  # re-exported: the rules are imported from here too
    ANSWERED,
    DIRECT_REQUEST,
    FALLBACK,
    PRODUCTION_ORDER,
    ROUTES,
    choose_route,
    disclosure_probability,
    order_outcome,
    provider_market_shares,
    provider_states,
)
from sim.kernel_calendar import DayCalendar
from sim.kernel_eevidence import open_investigations
from sim.requests import ColumnTable, Outcome
from sim.scenario import CASE_TYPES, DAYS_PER_YEAR

if TYPE_CHECKING:
    from sim.contracts import ElectronicEvidenceHost

__all__ = [
    "ANSWERED",
    "DIRECT_REQUEST",
    "FALLBACK",
    "HOURS_PER_DAY",
    "PRODUCTION_ORDER",
    "ROUTES",
    "ElectronicEvidence",
    "choose_route",
    "disclosure_probability",
    "lognormal_days",
    "order_outcome",
    "provider_market_shares",
    "provider_states",
]

HOURS_PER_DAY = 24.0
# Ends of the whole chain (provider, then the formal route), for the incidence of success.
_OBTAINED, _REFUSED, _NO_ANSWER = 1, 2, 3
_CHAIN_ENDS = {_OBTAINED: "obtained", _REFUSED: "refused", _NO_ANSWER: "no_answer"}


# ------------------------------------------------------------------ the process
class ElectronicEvidence:
    """Domestic investigations and their e-evidence requests (a no-op when switched off).

    Args:
        model: The model; read for the world, the policy and the day, and asked to
            open formal-route requests.
        rng: This process's own random stream.
    """

    def __init__(self, model: ElectronicEvidenceHost, rng: np.random.Generator):
        self.model = model
        self.rng = rng
        cfg = model.config.electronic_evidence
        self.cfg = cfg
        self.enabled = cfg.enabled
        w, c = model.world, model.config.cases
        self._daily_rate = (
            cfg.investigations_per_state_per_year
            / DAYS_PER_YEAR
            * w.threat_level
            * w.population**c.arrivals_population_exponent
        )
        type_p = np.array([c.type_shares.get(t, 0.0) for t in CASE_TYPES])
        self._type_cdf = type_p.cumsum() / type_p.sum()
        self._sensitivity = np.array([c.political_sensitivity_by_type[t] for t in CASE_TYPES])
        self._electronic = np.array([cfg.electronic_share_by_type.get(t, 0.0) for t in CASE_TYPES])
        self.market_share = provider_market_shares(
            w.economic_size, w.technology, w.openness, cfg.provider_concentration
        )
        self._market_cdf = self.market_share.cumsum()
        days = model.horizon_days
        self.opened = np.zeros(days, dtype=np.int64)  # domestic investigations, by day
        self.cross_border = np.zeros(days, dtype=np.int64)  # ... needing a provider abroad
        self.formal_cases = np.zeros(days, dtype=np.int64)  # cases opened for the formal route
        self.book = ColumnTable(
            {
                "requesting_state": (np.int16, 0),
                "provider_state": (np.int16, 0),
                "case_type": (np.int8, 0),
                "severity": (np.float32, 0),
                "political_sensitivity": (np.float32, 0),
                "t_deadline": (np.int32, 0),  # when the investigation goes cold
                "route": (np.int8, 0),
                "urgent": (bool, False),
                "t_created": (np.int32, 0),
                "t_end": (np.float64, 0),  # when it ends at the provider (day, fractional)
                "end": (np.int8, 0),
                "mla_request": (np.int64, -1),  # its formal-route request, once sent
            },
            initial_capacity=1024,
        )
        # Requests to send by the formal route, by day.
        self._fallback = DayCalendar(model.horizon_days)
        if self.enabled:
            k = cfg.disclosure_propensity_concentration
            m = cfg.disclosure_propensity_mean
            self.propensity = rng.beta(k * m, k * (1.0 - m), size=w.n_states)
        else:
            self.propensity = np.zeros(w.n_states)

    def disclosure_matrix(self) -> np.ndarray:
        """Chance a voluntary request from state i is answered by a provider of state j."""
        w, cfg = self.model.world, self.cfg
        protection = np.maximum(w.data_protection, w.confidentiality)
        return disclosure_probability(
            self.propensity[None, :],
            w.skill[:, None],
            w.legal_distance,
            w.data_protection[None, :] - protection[:, None],
            skill_weight=cfg.skill_weight,
            distance_weight=cfg.legal_distance_weight,
            gap_weight=cfg.data_protection_weight,
        )

    def expected_formal_per_day(self) -> np.ndarray:
        """Formal-route requests a day each state can expect, before any regime.

        Its central authority is staffed for these too (as for transnational
        requests): investigations of each state, the share needing provider data,
        the providers abroad in each state, the share those decline.
        """
        n = self.model.world.n_states
        if not self.enabled:
            return np.zeros(n)
        cfg = self.cfg
        type_p = np.diff(self._type_cdf, prepend=0.0)
        needs = self._daily_rate * float(type_p @ self._electronic) * cfg.mean_providers
        abroad = (1.0 - cfg.local_provider_share) * np.broadcast_to(self.market_share, (n, n))
        declined = abroad * (1.0 - self.disclosure_matrix())
        np.fill_diagonal(declined, 0.0)
        return needs @ declined

    def daily(self) -> None:
        """Open today's investigations, send their requests, and send today's fallbacks."""
        if not self.enabled:
            return
        self._open_investigations()
        if self._fallback.due_on(self.model.day):
            self._send_formal(self._fallback.pop(self.model.day))

    def _open_investigations(self) -> None:
        """Today's investigations and their requests, decided at the provider (compiled).

        :func:`sim.kernel_eevidence.open_investigations` draws and decides; the requests
        go to the book here, and those the provider declined (or let lapse) are filed
        for the formal route on the day that comes.
        """
        model, cfg = self.model, self.cfg
        w, day, cases = model.world, model.day, model.config.cases
        lever, policy = model.config.e_evidence, model.policy
        investigation = (
            self._type_cdf,
            self._electronic,
            float(cfg.mean_providers),
            self._market_cdf,
            float(cfg.local_provider_share),
            float(cases.severity_shape),
            float(cases.severity_shape_b),
            self._sensitivity,
            float(cases.sensitivity_concentration),
            float(cases.deadline_shape),
            cases.deadline_days_mean / cases.deadline_shape,
        )
        request = (
            np.ascontiguousarray(policy.e_evidence, dtype=np.bool_),
            np.ascontiguousarray(policy.urgent_threshold, dtype=np.float64),
            float(lever.legal_representative_share),
            float(model.config.drafting.noise_sigma),
            cfg.emergency_response_hours / HOURS_PER_DAY,
            float(lever.provider_handling_days),
            lever.emergency_deadline_hours / HOURS_PER_DAY,
            float(lever.deadline_days),
            float(lever.compliance_rate),
            float(cfg.voluntary_response_days),
            float(cfg.skill_weight),
            float(cfg.legal_distance_weight),
            float(cfg.data_protection_weight),
        )
        # Read from today's world: reforms may have moved legal distance or protections.
        world = (self.propensity, w.skill, w.legal_distance, w.data_protection, w.confidentiality)
        opened, cross, requests = open_investigations(
            self.rng, day, self._daily_rate, investigation, request, world
        )
        self.opened[day] = opened
        self.cross_border[day] = cross
        a, b, case_type, severity, sensitivity, deadline, route, urgent, days, end = requests
        if a.size == 0:
            return
        ids = self.book.append(
            requesting_state=a,
            provider_state=b,
            case_type=case_type,
            severity=severity,
            political_sensitivity=sensitivity,
            t_deadline=deadline,
            route=route,
            urgent=urgent,
            t_created=day,
            t_end=day + days,
            end=end,
        )
        back = end == FALLBACK
        # The formal route starts on the day the provider's refusal (or the deadline) comes.
        self._fallback.file(ids[back], np.ceil(day + days[back]))

    def _send_formal(self, ids: np.ndarray) -> None:
        """Requests the provider declined (or ignored) go the formal route, a case each."""
        book, day = self.book, self.model.day
        live = book.t_deadline[ids] > day  # an investigation gone cold asks no more
        ids = ids[live]
        if ids.size == 0:
            return
        book.mla_request[ids] = self.model.open_formal_requests(
            book.requesting_state[ids].astype(np.int64),
            book.provider_state[ids].astype(np.int64),
            book.case_type[ids].astype(np.int64),
            book.severity[ids],
            book.political_sensitivity[ids],
            book.t_deadline[ids].astype(np.int64),
        )
        self.formal_cases[day] += ids.size

    # ------------------------------------------------------------------ outcomes
    def chain(self, end_day: int) -> dict[str, np.ndarray]:
        """How each e-evidence request's whole chain ends by ``end_day``.

        Returns:
            ``days`` followed (to the end of the chain, or to ``end_day`` if open),
            ``cause`` (0 open or censored, else obtained, refused, no answer) and
            ``answered`` (the provider or the formal route answered).
        """
        book, led = self.book, self.model.ledger
        t0 = book.col("t_created").astype(float)
        t_end, end = book.col("t_end"), book.col("end")
        mla = book.col("mla_request")
        days = np.full(t0.size, end_day - t0)
        cause = np.zeros(t0.size, dtype=np.int64)
        by_provider = (end == ANSWERED) & (t_end <= end_day)
        days[by_provider] = (t_end - t0)[by_provider]
        cause[by_provider] = _OBTAINED
        formal = mla >= 0
        outcome = np.zeros(t0.size, dtype=np.int64)
        closed = np.full(t0.size, -1, dtype=np.int64)
        outcome[formal] = led.col("outcome")[mla[formal]]
        closed[formal] = led.col("t_closed")[mla[formal]]
        done = formal & (outcome != Outcome.OPEN)
        days[done] = (closed - t0)[done]
        cause[done & (outcome == Outcome.EXECUTED)] = _OBTAINED
        cause[done & (outcome == Outcome.REFUSED)] = _REFUSED
        cause[done & (outcome != Outcome.EXECUTED) & (outcome != Outcome.REFUSED)] = _NO_ANSWER
        # Due for the formal route on a day already run but never sent: the investigation
        # had gone cold by then, so it ended without an answer.
        fallback_day = np.ceil(t_end)
        dropped = (end == FALLBACK) & ~formal & (fallback_day < end_day)
        cold = np.minimum(book.col("t_deadline"), fallback_day)
        days[dropped] = (cold - t0)[dropped]
        cause[dropped] = _NO_ANSWER
        answered = (cause == _OBTAINED) | (cause == _REFUSED)
        return {"days": np.maximum(days, 0.0), "cause": cause, "answered": answered}

    def outcomes(self, since: int) -> dict[str, Any]:
        """Outcomes over the window from day ``since``; see docs/ODD.md."""
        model, book = self.model, self.book
        window = slice(since, model.day)
        domestic = int(self.opened[window].sum())
        cross = int(self.cross_border[window].sum())
        cases = model.cases
        transnational = int(np.count_nonzero(cases.col("t_created") >= since)) - int(
            self.formal_cases[window].sum()
        )
        cohort = book.col("t_created") >= since
        route = book.col("route")[cohort]
        by_route = {name: int(np.count_nonzero(route == code)) for code, name in enumerate(ROUTES)}
        by_route["mla_fallback"] = int(np.count_nonzero(book.col("mla_request")[cohort] >= 0))
        ch = self.chain(model.day)
        days, cause, answered = ch["days"][cohort], ch["cause"][cohort], ch["answered"][cohort]
        success = survival.cumulative_incidence(days, cause, _CHAIN_ENDS)["obtained"]
        return {
            "domestic_investigations": domestic,
            "cross_border_share": (
                (cross + transnational) / (domestic + transnational)
                if self.enabled and domestic + transnational
                else math.nan
            ),
            "eevidence_requests_by_route": by_route,
            "eevidence_response_days": survival.km_quantiles(days, answered)["median"],
            "eevidence_response_days_by_route": {
                name: survival.km_quantiles(days[route == code], answered[route == code])["median"]
                for code, name in enumerate(ROUTES)
            },
            "eevidence_success_share": success,
        }

    def production_order_mean_days(self, follow_up_days: int) -> float:
        """Mean days from a production order to the provider's answer (stylized fact F6).

        Orders sent from the window's start to ``follow_up_days`` before the end, answered
        by the provider (the deadline is what the figure states, so orders enforced by
        the formal route are left out).
        """
        model, book = self.model, self.book
        t0 = book.col("t_created")
        last = max(model.window_start + 1, model.day - follow_up_days)
        mine = (
            (t0 >= model.window_start)
            & (t0 < last)
            & (book.col("route") == PRODUCTION_ORDER)
            & (book.col("end") == ANSWERED)
        )
        days = (book.col("t_end") - t0)[mine]
        return float(days.mean()) if days.size else math.nan
