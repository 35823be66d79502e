"""Diplomatic engagement and capacity building: slow, agent-level processes.

Both run on Mesa's event list (a round of meetings every ``interval_days``; a
yearly budget round whose transfers land after a lag), because they happen a
few times a year to a few agents, not to every request every day.

- Coordination meetings: each round, the pairs of states that exchange most
  requests (plus any pairs a reform singles out) meet. A meeting raises their
  relations, builds familiarity (fewer misunderstandings, so fewer
  clarification rounds) and slows the decay of the trust they have built.
- Capacity building: a coordinating body gives its yearly budget to the
  lowest-capacity states; after a lag their agencies gain capacity, and their
  technology and skill rise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np
from mesa.time import Schedule

from sim.units import DAYS_PER_YEAR

if TYPE_CHECKING:
    from sim.contracts import EngagementHost


def move_towards_one(value, rate):
    """Move ``value`` the share ``rate`` of the way to 1 (relations, familiarity)."""
    return value + rate * (1.0 - value)


def busiest_pairs(traffic: np.ndarray, k: int, boost: np.ndarray | None = None) -> np.ndarray:
    """The ``k`` unordered pairs with the most requests between them, as an (k, 2) array.

    Args:
        traffic: (n, n) count of requests from row to column state.
        k: Number of pairs.
        boost: Optional (n,) weights; pairs that involve boosted states come first.

    Returns:
        Array of (i, j) with i < j; ties broken by position, so the result is stable.
    """
    n = traffic.shape[0]
    if n < 2 or k <= 0:
        return np.zeros((0, 2), dtype=np.int64)
    rows, cols = np.triu_indices(n, 1)
    weight = (traffic + traffic.T)[rows, cols].astype(float)
    if boost is not None:
        weight = weight + 1e9 * np.maximum(boost[rows], boost[cols])
    k = min(k, rows.size)
    # Only pairs at least as heavy as the k-th heaviest can be among the first k: sort
    # those (in position order, so ties keep it) instead of all n(n-1)/2 pairs.
    threshold = np.partition(weight, rows.size - k)[rows.size - k]
    heavy = np.flatnonzero(weight >= threshold)
    order = heavy[np.argsort(-weight[heavy], kind="stable")[:k]]
    return np.stack([rows[order], cols[order]], axis=1)


class CoordinationMeetings:
    """Rounds of bilateral coordination meetings between the busiest pairs.

    Attributes:
        meetings: Number of meetings held.
        extra_pairs: Extra meetings per round for states a reform engages (per state).
    """

    def __init__(self, model: EngagementHost):
        self.model = model
        self.meetings = 0
        self.extra_pairs = 0
        cfg = model.config.diplomacy
        # A bound method of a live object: Mesa holds event callbacks weakly.
        self._generator = model.schedule_recurring(
            self.hold_round, Schedule(interval=cfg.interval_days, start=cfg.interval_days)
        )

    def hold_round(self) -> None:
        """Hold this round's meetings."""
        m = self.model
        cfg = m.config.diplomacy
        k = cfg.pairs_per_round + self.extra_pairs
        engaged = m.policy.diplomatic_engagement
        boost = engaged if engaged.any() else None
        pairs = busiest_pairs(m.traffic, k, boost)
        if pairs.size == 0:
            return
        i, j = pairs[:, 0], pairs[:, 1]
        w = m.world
        for a, b in ((i, j), (j, i)):
            w.relations[a, b] = move_towards_one(w.relations[a, b], cfg.relations_gain)
            m.familiarity[a, b] = move_towards_one(m.familiarity[a, b], cfg.familiarity_gain)
            m.trust.slow_decay(a, b, cfg.decay_relief, m.day)
        self.meetings += len(pairs)

    def add_pairs(self, pairs: int) -> None:
        """Hold ``pairs`` more meetings each round from now on (diplomatic engagement)."""
        self.extra_pairs += pairs


class CoordinatingBody(mesa.Agent):
    """A body with a yearly budget for capacity building in low-capacity states.

    Args:
        model: The model.
    """

    def __init__(self, model: EngagementHost):
        super().__init__(model)
        self.budget_per_year = model.config.capacity_building.budget_per_year
        self.recipients_per_year = model.config.capacity_building.recipients
        self.targets: np.ndarray | None = None  # named by the capacity-building lever
        self.pending: list[tuple[int, np.ndarray, float]] = []
        self.delivered = 0.0
        self.recipients_ever: set[int] = set()
        self._generator = model.schedule_recurring(
            self.fund_round, Schedule(interval=DAYS_PER_YEAR, start=1)
        )

    def fund(self, added_budget_per_year: float, targets: np.ndarray) -> None:
        """A reform adds budget and names the states it may go to (capacity building)."""
        self.budget_per_year += added_budget_per_year
        self.targets = targets

    def choose_recipients(self) -> np.ndarray:
        """The lowest-capacity states (among the targets, if a reform names them)."""
        capacity = self.model.world.capacity
        pool = np.arange(capacity.size) if self.targets is None else self.targets
        if pool.size == 0 or self.recipients_per_year <= 0:
            return np.zeros(0, dtype=np.int64)
        order = pool[np.argsort(capacity[pool], kind="stable")]
        return order[: self.recipients_per_year]

    def fund_round(self) -> None:
        """Commit this year's budget; it takes effect after the lag."""
        if self.budget_per_year <= 0:
            return
        recipients = self.choose_recipients()
        if recipients.size == 0:
            return
        m = self.model
        arrives = m.time + m.config.capacity_building.lag_days
        self.pending.append((len(self.pending), recipients, self.budget_per_year))
        m.schedule_event(self.deliver_next, at=arrives)

    def deliver_next(self) -> None:
        """Land the oldest pending transfer: capacity, technology and skill rise."""
        _, recipients, budget = self.pending.pop(0)
        m = self.model
        cfg = m.config.capacity_building
        share = budget / recipients.size
        for state in recipients.tolist():
            m.grow_state(
                state,
                capacity=share,
                technology=cfg.technology_gain * share,
                skill=cfg.skill_gain * share,
            )
            self.recipients_ever.add(state)
        self.delivered += budget
