"""Directed trust between states and its dynamics (design process 9).

``trust[i, j]`` is how much state ``i`` trusts state ``j`` (0-1). It moves with
every closed request that ``i`` sent to ``j``: up a little after an executed
request, down more after a refusal or an unanswered lapse (losses weigh more
than gains). Between interactions it relaxes towards its initial level.

Relaxation is applied lazily, when a pair is read or written, so that a
simulated day costs nothing per pair of states.
"""

from __future__ import annotations

import math

import numpy as np

from sim import replaced_arrays
from sim.kernel_state import (
    KEEP_DAYS,
    T_BASE,
    T_DAY,
    T_DECAY0,
    T_GAP,
    T_KEEP_FOR,
    T_SLOTS,
    T_VALID,
    TrustArrays,
)
from sim.kernel_trust import mean_trust, trust_apply
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
        # ``sums`` holds, at the offsets of sim.kernel_state: the summed relaxed gaps of
        # the off-diagonal common-decay pairs, the day they hold for, whether they are
        # valid (0: rebuild before use), the common decay and the sum of the off-diagonal
        # baselines.
        self.sums = np.zeros(T_SLOTS)
        self.sums[T_DECAY0] = float(decay_per_year)
        # The share of a gap left after each whole number of days at the common decay,
        # for the kernels (sim.kernel_trust.trust_get): by math.pow, the C library's pow
        # that the kernels call too, so a kept share is the computed one to the bit
        # (numpy's vectorised power may differ in the last place). A decay above 1 has
        # no real share: math.pow raises.
        keep_for = float(decay_per_year)
        self.sums[T_KEEP_FOR] = keep_for
        shares = [math.pow(1.0 - keep_for, d / DAYS_PER_YEAR) for d in range(KEEP_DAYS)]
        self.keep = np.array(shares)
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
        self.sums[T_VALID] = 0.0

    def rebuild_sums(self, day: float) -> None:
        """Recompute the running sums from the whole matrix (after a rare write)."""
        off = ~np.eye(self._value.shape[0], dtype=bool)
        replaced_arrays.note(self._own_decay, self._own_decay_flat)
        self._own_decay = off & (self.decay != self.sums[T_DECAY0])
        self._own_decay_flat = np.flatnonzero(self._own_decay)
        gap = self.snapshot(day) - self.baseline
        self.sums[T_GAP] = float(gap[off & ~self._own_decay].sum())
        self.sums[T_BASE] = float(self.baseline[off].sum())
        self.sums[T_DAY] = day
        self.sums[T_VALID] = 1.0

    def arrays(self) -> TrustArrays:
        """The arrays the compiled rules read and write (:mod:`sim.kernel_trust`)."""
        return TrustArrays(
            self._value,
            self._last,
            self.decay,
            self.baseline,
            self._own_decay,
            self.sums,
            self.keep,
        )

    def reward(self, i, j, rate, day: float) -> None:
        """Apply :func:`gain` to pairs (i, j); ``rate`` is one value or one per pair.

        Repeated pairs compound: each occurrence applies its own rate in turn.
        """
        self._apply(i, j, day, rate, towards_one=True)

    def penalise(self, i, j, rate, day: float) -> None:
        """Apply :func:`loss` to pairs (i, j); ``rate`` is one value or one per pair."""
        self._apply(i, j, day, rate, towards_one=False)

    def _apply(self, i, j, day, rate, towards_one: bool) -> None:
        i = np.atleast_1d(np.asarray(i, dtype=np.int64))
        if i.size == 0:
            return
        j = np.atleast_1d(np.asarray(j, dtype=np.int64))
        # Writable and contiguous, as the kernels pass it: a read-only broadcast view
        # would be another array type, and numba would compile trust_apply again.
        rate = np.require(np.broadcast_to(rate, i.shape), np.float64, ["C", "W"])
        trust_apply(self.arrays(), i, j, rate, _whole_day(day), towards_one)

    def snapshot(self, day: float) -> np.ndarray:
        """Full matrix of current trust (costs n^2: for outputs, not for the hot path)."""
        return relax(self._value, self.baseline, day - self._last, self.decay)

    def mean(self, day: float) -> float:
        """Mean trust over ordered pairs of distinct states.

        The off-diagonal mean of :meth:`snapshot`, from running sums (it is read
        every day): cost per call is the few pairs with their own decay, not n^2.
        """
        if self._value.shape[0] < 2:
            return float("nan")
        day = _whole_day(day)
        valid, mean = mean_trust(self.arrays(), *self.mean_terms(), day)
        if not valid:
            self.rebuild_sums(day)
            valid, mean = mean_trust(self.arrays(), *self.mean_terms(), day)
        return mean

    def mean_terms(self) -> tuple:
        """What :func:`sim.kernel_trust.mean_trust` reads besides the arrays.

        The pairs with their own decay (flat indices) and the sum of the off-diagonal
        baselines, as of the last rebuild of the running sums (:meth:`rebuild_sums`).
        """
        return self._own_decay_flat, float(self.sums[T_BASE])

    def slow_decay(self, i, j, relief: float, day: float) -> None:
        """Slow the relaxation of pairs (i, j) by the share ``relief`` (e.g. after a meeting)."""
        self._store(i, j, self.get(i, j, day), day)
        self.decay[i, j] = self.decay[i, j] * (1.0 - relief)


def _whole_day(day) -> int:
    """The day as the kernels take it (one compiled version): a whole simulated day."""
    if int(day) != day:
        raise ValueError(f"trust is updated and read on whole days, not on day {day!r}")
    return int(day)
