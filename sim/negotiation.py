"""Negotiated bilateral agreements: proposal, provisions or failure, ratification.

The ``bilateral_agreements`` lever does not hand out treaties; it lets pairs of
its target states negotiate them, as diplomatic strategies do:

1. **Proposal.** Every ``review_days`` (the first round when the lever starts),
   each pair of targets with neither a treaty nor mutual recognition between
   them, and no negotiation or ratification under way, counts its unmet needs
   over the last period (:func:`unmet_needs`: requests between them, either way,
   refused, lapsed, or answered later than ``trust.expected_response_days``, and
   those still waiting longer than that).
   Pairs whose needs reach ``need_threshold`` propose an agreement.
2. **Negotiation.** After ``negotiation_days`` the pair either finds provisions
   that meet each side's concerns (the agreement is concluded) or fails, with the
   probability :func:`conclusion_probability`: higher with good relations, lower
   with the larger of the two sovereignty sensitivities and with the gap between
   their rights standards (safeguards one side needs and the other will not
   write in). A pair that failed may propose again at a later round.
3. **Ratification.** A concluded agreement enters into force
   ``ratification_days`` later as a bilateral treaty between the pair (the
   world's treaty network), which instrument choice uses for new requests.

Draws come from a stream of their own, spawned from the model's generator
without advancing it, so a run without the lever is unchanged.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.frictions import logistic
from sim.requests import Outcome

if TYPE_CHECKING:
    from sim.contracts import DecisionHost
    from sim.scenario import BilateralAgreementsSection

SERIES = "agreements_in_force"


def unmet_needs(
    requesting: np.ndarray,
    requested: np.ndarray,
    t_issued: np.ndarray,
    t_closed: np.ndarray,
    outcome: np.ndarray,
    since: int,
    until: int,
    n_states: int,
    slow_days: float,
) -> np.ndarray:
    """Requests between each pair, either way, left unmet over ``[since, until)``.

    A request is an unmet need when in the period it was refused, lapsed, or
    answered (executed or refused) more than ``slow_days`` after it was sent, or
    when at ``until`` it is still waiting for an answer more than ``slow_days``
    after it was sent; each counts once.

    Returns:
        (n, n) symmetric counts, zero diagonal.
    """
    closed = (t_closed >= since) & (t_closed < until)
    answered = (outcome == Outcome.EXECUTED) | (outcome == Outcome.REFUSED)
    slow = answered & ((t_closed - t_issued) > slow_days)
    overdue = (outcome == Outcome.OPEN) & (t_issued >= 0) & (until - t_issued > slow_days)
    unmet = overdue | closed & ((outcome == Outcome.REFUSED) | (outcome == Outcome.LAPSED) | slow)
    needs = np.zeros((n_states, n_states), dtype=np.int64)
    np.add.at(needs, (requesting[unmet], requested[unmet]), 1)
    needs = needs + needs.T
    np.fill_diagonal(needs, 0)
    return needs


def proposing_pairs(needs: np.ndarray, eligible: np.ndarray, threshold: int) -> np.ndarray:
    """Eligible pairs whose unmet needs reach the threshold, as (k, 2) rows ``i < j``.

    A pair with no unmet need never proposes, whatever the threshold.
    """
    rows, cols = np.triu_indices(needs.shape[0], 1)
    keep = eligible[rows, cols] & (needs[rows, cols] >= threshold) & (needs[rows, cols] > 0)
    return np.stack([rows[keep], cols[keep]], axis=1)


def conclusion_probability(
    relations: np.ndarray | float,
    sovereignty_a: np.ndarray | float,
    sovereignty_b: np.ndarray | float,
    rights_gap: np.ndarray | float,
    p: BilateralAgreementsSection,
) -> np.ndarray:
    """Chance that a negotiation ends in provisions both sides accept.

    Args:
        relations: The pair's diplomatic relations (0-1).
        sovereignty_a: One side's sovereignty sensitivity (0-1).
        sovereignty_b: The other side's.
        rights_gap: Absolute gap between their rights standards (0-1).
        p: The lever's weights.
    """
    log_odds = (
        p.base_log_odds
        + p.relations_weight * np.asarray(relations, dtype=float)
        - p.sovereignty_weight * np.maximum(sovereignty_a, sovereignty_b)
        - p.rights_gap_weight * np.asarray(rights_gap, dtype=float)
    )
    return logistic(log_odds)


@dataclass
class Negotiation:
    """One proposed agreement and what became of it (days are -1 until they happen)."""

    a: int
    b: int
    proposed: int
    decided: int = -1
    concluded: bool = False
    in_force: int = -1


class BilateralNegotiation:
    """The negotiations of a run (none unless the ``bilateral_agreements`` lever is on).

    Attributes:
        negotiations: Every agreement proposed, in order.
    """

    def __init__(self, model: DecisionHost):
        self.model = model
        self.negotiations: list[Negotiation] = []
        self.targets = np.zeros(model.world.n_states, dtype=bool)
        self.busy = np.zeros((model.world.n_states,) * 2, dtype=bool)  # negotiating/ratifying
        self.params: BilateralAgreementsSection | None = None
        self.rng: np.random.Generator | None = None
        self._callbacks: list[Any] = []  # Mesa holds event callbacks weakly

    def open(self, targets: np.ndarray, p: BilateralAgreementsSection) -> None:
        """Start the rounds of proposals among the targets (when the lever takes effect)."""
        from mesa.time import Schedule

        m = self.model
        self.params = p
        self.targets[targets] = True
        if self.rng is None:
            self.rng = m.rng.spawn(1)[0]
        m.series[SERIES] = np.zeros(m.horizon_days)
        self.hold_round()
        callback = self.hold_round
        generator = m.schedule_recurring(
            callback, Schedule(interval=p.review_days, start=m.time + p.review_days)
        )
        self._callbacks.append(generator)

    def hold_round(self) -> list[Negotiation]:
        """Pairs with unmet needs propose agreements; returns the new negotiations."""
        m, p = self.model, self.params
        day = m.day
        if day >= m.horizon_days:
            return []
        w, led = m.world, m.ledger
        needs = unmet_needs(
            led.col("requesting_state"),
            led.col("requested_state"),
            led.col("t_issued"),
            led.col("t_closed"),
            led.col("outcome"),
            since=day - int(round(p.review_days)),
            until=day,
            n_states=w.n_states,
            slow_days=m.config.trust.expected_response_days,
        )
        eligible = (
            np.outer(self.targets, self.targets)
            & ~w.treaty_matrix
            & ~np.outer(w.mr_bloc, w.mr_bloc)
            & ~self.busy
        )
        new = []
        for a, b in proposing_pairs(needs, eligible, p.need_threshold).tolist():
            talks = Negotiation(a, b, proposed=day)
            self.negotiations.append(talks)
            self.busy[a, b] = self.busy[b, a] = True
            new.append(talks)
            self._after(p.negotiation_days, functools.partial(self.decide, talks))
        return new

    def decide(self, talks: Negotiation) -> None:
        """The negotiation ends: provisions that meet both sides' concerns, or a failure."""
        m, p, w = self.model, self.params, self.model.world
        a, b = talks.a, talks.b
        chance = conclusion_probability(
            w.relations[a, b],
            w.sovereignty[a],
            w.sovereignty[b],
            abs(w.rights_standard[a] - w.rights_standard[b]),
            p,
        )
        talks.decided = m.day
        talks.concluded = bool(self.rng.random() < chance)
        if talks.concluded:
            self._after(p.ratification_days, functools.partial(self.enter_into_force, talks))
        else:
            self.busy[a, b] = self.busy[b, a] = False

    def enter_into_force(self, talks: Negotiation) -> None:
        """The ratified agreement becomes a bilateral treaty between the pair."""
        m = self.model
        talks.in_force = m.day
        m.world.add_treaty(talks.a, talks.b, instrument="bilateral_agreement")
        if m.day < m.horizon_days:
            m.series[SERIES][m.day :] += 1

    def _after(self, days: float, callback) -> None:
        """Run ``callback`` ``days`` from now (now if 0), keeping it alive for Mesa."""
        if days <= 0:
            callback()
            return
        self._callbacks.append(callback)
        self.model.schedule_event(callback, after=days)

    # ------------------------------------------------------------------ outputs
    def outcomes(self, since: int = 0) -> dict[str, int]:
        """Agreements proposed, concluded and failed in the window; in force at the end."""
        end = self.model.day
        talks = self.negotiations
        return {
            "agreements_proposed": sum(since <= t.proposed < end for t in talks),
            "agreements_concluded": sum(t.concluded and since <= t.decided < end for t in talks),
            "agreements_failed": sum(
                not t.concluded and t.decided >= 0 and since <= t.decided < end for t in talks
            ),
            "agreements_in_force": sum(0 <= t.in_force < end for t in talks),
        }

    def frame(self) -> pd.DataFrame:
        """Every agreement proposed: the pair (codes) and the day of each step (-1: not yet).

        Columns: ``state_a``, ``state_b``, ``proposed``, ``decided``, ``concluded``
        (bool), ``in_force``.
        """
        codes = self.model.world.codes
        columns = ["state_a", "state_b", "proposed", "decided", "concluded", "in_force"]
        rows = [
            (codes[t.a], codes[t.b], t.proposed, t.decided, t.concluded, t.in_force)
            for t in self.negotiations
        ]
        return pd.DataFrame(rows, columns=columns)
