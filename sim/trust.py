"""Directed trust between states and its dynamics (design process 9).

``trust[i, j]`` is how much state ``i`` trusts state ``j`` (0-1). It moves with
every closed request that ``i`` sent to ``j``: up a little after an executed
request, down more after a refusal or an unanswered lapse (losses weigh more
than gains). Between interactions it relaxes towards its initial level.

Relaxation is applied lazily, when a pair is read or written, so that a
simulated day costs nothing per pair of states.
"""

from __future__ import annotations

import numpy as np

from sim.scenario import DAYS_PER_YEAR


def gain(trust, rate):
    """Trust after a good exchange: move ``rate`` of the way towards 1."""
    return trust + rate * (1.0 - trust)


def loss(trust, rate):
    """Trust after a bad exchange: lose the share ``rate`` of what there is."""
    return trust * (1.0 - rate)


def relax(trust, baseline, days, rate_per_year):
    """Trust after ``days`` without interaction: the gap to ``baseline`` shrinks.

    The gap closes exponentially: ``rate_per_year`` (scalar or per pair) is the
    share of the gap closed in 365 days.
    """
    years = np.asarray(days, dtype=float) / DAYS_PER_YEAR
    keep = (1.0 - np.asarray(rate_per_year, dtype=float)) ** years
    return baseline + (trust - baseline) * keep


def exchanges_to_recover(rate_gain: float, rate_loss: float, start: float = 0.5) -> int:
    """Number of successful exchanges needed to undo one bad one, from ``start``.

    Used in the docs and tests to show that trust is quick to lose and slow to build.
    """
    after_loss = loss(start, rate_loss)
    trust, n = after_loss, 0
    while trust < start and n < 10_000:
        trust = gain(trust, rate_gain)
        n += 1
    return n


class TrustNetwork:
    """Directed trust matrix with lazy relaxation towards its initial values.

    Args:
        initial: (n, n) matrix of initial trust.
        decay_per_year: Share of the gap to the initial value closed per year.
    """

    def __init__(self, initial: np.ndarray, decay_per_year: float):
        self.baseline = np.array(initial, dtype=float)
        self._value = self.baseline.copy()
        self._last = np.zeros(self.baseline.shape, dtype=float)
        self.decay = np.full(self.baseline.shape, float(decay_per_year))
        # Running sums behind mean(), so a day does not cost a pass over every pair:
        # pairs that keep the common decay relax by the same factor each day, so their
        # summed gap to baseline shrinks by that factor; the few pairs with their own
        # decay (slowed by meetings) are summed exactly each time.
        self._decay0 = float(decay_per_year)
        self._sum_day: float | None = None  # day the sums hold for; None: rebuild
        self._gap_sum = 0.0  # sum of relaxed gaps of off-diagonal common-decay pairs
        self._base_sum = 0.0  # sum of off-diagonal baselines
        self._own_decay = np.zeros(self.baseline.shape, dtype=bool)
        self._own_decay_flat = np.zeros(0, dtype=np.int64)

    def get(self, i, j, day: float):
        """Current trust of ``i`` in ``j`` (arrays of indices allowed)."""
        return relax(
            self._value[i, j], self.baseline[i, j], day - self._last[i, j], self.decay[i, j]
        )

    def get_one(self, i: int, j: int, day: float) -> float:
        """Current trust of ``i`` in ``j`` for one pair, as a Python float.

        Gives exactly what :meth:`get` gives for scalar indices (the same
        operations on scalars), without the overhead of numpy scalars.
        """
        keep = (1.0 - self.decay.item(i, j)) ** ((day - self._last.item(i, j)) / DAYS_PER_YEAR)
        base = self.baseline.item(i, j)
        return base + (self._value.item(i, j) - base) * keep

    def _store(self, i, j, values, day: float) -> None:
        # Rare writes (reforms, meetings, crises): mean() rebuilds its sums afterwards.
        self._value[i, j] = np.clip(values, 0.0, 1.0)
        self._last[i, j] = day
        self._sum_day = None

    def _sums_at(self, day: float) -> bool:
        """Bring the running sums to ``day``; False if they must be rebuilt."""
        if self._sum_day is None or day < self._sum_day:
            self._sum_day = None
            return False
        if day > self._sum_day:
            self._gap_sum *= (1.0 - self._decay0) ** ((day - self._sum_day) / DAYS_PER_YEAR)
            self._sum_day = day
        return True

    def _rebuild_sums(self, day: float) -> None:
        """Recompute the running sums from the whole matrix (after a rare write)."""
        off = ~np.eye(self._value.shape[0], dtype=bool)
        self._own_decay = off & (self.decay != self._decay0)
        self._own_decay_flat = np.flatnonzero(self._own_decay)
        gap = self.snapshot(day) - self.baseline
        self._gap_sum = float(gap[off & ~self._own_decay].sum())
        self._base_sum = float(self.baseline[off].sum())
        self._sum_day = day

    def reward(self, i, j, rate, day: float) -> None:
        """Apply :func:`gain` to pairs (i, j); ``rate`` is one value or one per pair.

        Repeated pairs compound: each occurrence applies its own rate in turn.
        """
        self._apply(i, j, day, rate, towards_one=True)

    def penalise(self, i, j, rate, day: float) -> None:
        """Apply :func:`loss` to pairs (i, j); ``rate`` is one value or one per pair."""
        self._apply(i, j, day, rate, towards_one=False)

    def _apply(self, i, j, day, rate, towards_one: bool) -> None:
        i = np.atleast_1d(i)
        j = np.atleast_1d(j)
        if i.size == 0:
            return
        rule = gain if towards_one else loss
        value, last = self._value, self._last
        if i.size == 1:
            a, b = int(i[0]), int(j[0])
            r = min(max(float(np.asarray(rate).reshape(-1)[0]), 0.0), 1.0)
            old = self.get_one(a, b, day)
            value[a, b] = new = min(max(rule(old, r), 0.0), 1.0)
            last[a, b] = day
            if self._sums_at(day) and a != b and not self._own_decay[a, b]:
                self._gap_sum += new - old
            return
        # Both rules scale a distance by (1 - rate): the gap to 1 for a gain, the
        # trust itself for a loss. Applied k times in turn that is the product of
        # the k factors, so repeated pairs in one batch compound exactly.
        n = value.shape[1]
        key = i.astype(np.int64) * n + j
        pair, where = np.unique(key, return_inverse=True)
        keep = np.ones(pair.size)
        rate = np.broadcast_to(np.clip(np.asarray(rate, dtype=float), 0.0, 1.0), key.shape)
        np.multiply.at(keep, where, 1.0 - rate)
        a, b = pair // n, pair % n
        old = self.get(a, b, day)
        trust = (1.0 - (1.0 - old) * keep) if towards_one else old * keep
        trust = trust.clip(0.0, 1.0)
        value[a, b] = trust
        last[a, b] = day
        if self._sums_at(day):
            # The gap to baseline moves by what the value moved (baselines unchanged).
            common = (a != b) & ~self._own_decay[a, b]
            self._gap_sum += float((trust - old)[common].sum())

    def snapshot(self, day: float) -> np.ndarray:
        """Full matrix of current trust (costs n^2: for outputs, not for the hot path)."""
        return relax(self._value, self.baseline, day - self._last, self.decay)

    def mean(self, day: float) -> float:
        """Mean trust over ordered pairs of distinct states.

        The off-diagonal mean of :meth:`snapshot`, from running sums (it is read
        every day): cost per call is the few pairs with their own decay, not n^2.
        """
        n = self._value.shape[0]
        if n < 2:
            return float("nan")
        if not self._sums_at(day):
            self._rebuild_sums(day)
        total = self._base_sum + self._gap_sum
        own = self._own_decay_flat
        if own.size:
            value, base = self._value.ravel()[own], self.baseline.ravel()[own]
            relaxed = relax(value, base, day - self._last.ravel()[own], self.decay.ravel()[own])
            total += float((relaxed - base).sum())
        return total / (n * (n - 1))

    def slow_decay(self, i, j, relief: float, day: float) -> None:
        """Slow the relaxation of pairs (i, j) by the share ``relief`` (e.g. after a meeting)."""
        self._store(i, j, self.get(i, j, day), day)
        self.decay[i, j] = self.decay[i, j] * (1.0 - relief)
