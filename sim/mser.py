"""MSER-5 truncation and Welch's replication average: the statistics of the warm-up.

Pure functions of daily series (numpy arrays), with no model in sight, so they are
tested on synthetic series with known answers; :mod:`sim.warmup` runs a scenario
and applies them to choose its warm-up.

References:
    White, K. P., Jr. (1997). An effective truncation heuristic for bias reduction
    in simulation output. *Simulation* 69(6), 323-334.

    White, K. P., Jr., Cobb, M. J. and Spratt, S. C. (2000). A comparison of five
    steady-state truncation heuristics for simulation. *Proceedings of the 2000
    Winter Simulation Conference*, 755-760.

    Welch, P. D. (1983). The statistical analysis of simulation results. In
    S. S. Lavenberg (ed.), *The Computer Performance Modeling Handbook*, 268-328.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BATCH_SIZE = 5  # MSER-5: batch means of five observations (White et al. 2000)
# MSER's statistic drops towards 0 over the last few batches whenever they happen to
# be close in value (one batch left has no variance at all): a known artefact, so the
# last batches are never candidate cuts.
IGNORE_END_BATCHES = 5


@dataclass(frozen=True)
class MserResult:
    """What MSER found on one series.

    Attributes:
        cut_day: The truncation in days (the first day kept): the start of the
            batch where the statistic is smallest.
        steady: Whether that minimum lies in the first half of the series. A
            minimum in the second half means no steady state was detected: the
            series is still moving, or too short.
        days: First day of each candidate batch (the batches with data).
        statistic: MSER statistic for a cut at each of ``days`` (NaN for the last
            batches, which are not candidates).
        n_days: Length of the series analysed, in days.
        batch_size: Observations per batch.
    """

    cut_day: int
    steady: bool
    days: np.ndarray
    statistic: np.ndarray
    n_days: int
    batch_size: int = BATCH_SIZE

    @property
    def minimum(self) -> float:
        """The statistic at the cut."""
        return float(np.nanmin(self.statistic))


def batch_means(
    series: np.ndarray, batch_size: int = BATCH_SIZE, weights: np.ndarray | None = None
) -> np.ndarray:
    """Means of consecutive, non-overlapping batches; an incomplete last batch is dropped.

    Args:
        series: Daily values (NaN where a day has none).
        batch_size: Observations per batch.
        weights: Per-day weights (e.g. requests answered that day), for a batch mean
            that pools the batch's observations; None = equal weights.

    Returns:
        One mean per batch (``len(series) // batch_size`` of them); NaN for a batch
        with no weight.
    """
    values = np.asarray(series, dtype=float)
    w = np.ones_like(values) if weights is None else np.asarray(weights, dtype=float)
    w = np.where(np.isfinite(values), w, 0.0)
    m = values.size // batch_size
    shape = (m, batch_size)
    total = (np.where(w > 0, values, 0.0) * w)[: m * batch_size].reshape(shape).sum(axis=1)
    weight = w[: m * batch_size].reshape(shape).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 0, total / weight, math.nan)


def mser_statistic(z: np.ndarray) -> np.ndarray:
    """MSER statistic of every truncation ``d`` of a series (White 1997).

    ``MSER(d) = 1 / (m - d)^2 * sum_{j > d} (z_j - mean_{j > d} z)^2`` for
    ``d = 0 .. m - 1``: the squared marginal standard error of the mean of what is
    left after dropping the first ``d`` values. It falls while dropping biased
    early values removes more squared deviation than the smaller sample costs.

    Args:
        z: The values (MSER-5 uses batch means of five).

    Returns:
        ``MSER(d)`` for each ``d`` (length ``len(z)``).
    """
    z = np.asarray(z, dtype=float)
    z = z - z.mean()  # centring keeps the running sums free of cancellation
    left = np.arange(z.size, 0, -1, dtype=float)  # m - d values remain
    tail_sum = np.cumsum(z[::-1])[::-1]
    tail_sq = np.cumsum((z * z)[::-1])[::-1]
    squares = np.maximum(tail_sq - tail_sum**2 / left, 0.0)
    return squares / left**2


def mser(
    series: np.ndarray,
    batch_size: int = BATCH_SIZE,
    weights: np.ndarray | None = None,
    ignore_end: int = IGNORE_END_BATCHES,
) -> MserResult:
    """MSER-5 truncation of a daily series (White 1997; White, Cobb and Spratt 2000).

    The series is cut into batches of ``batch_size`` days; the statistic of
    :func:`mser_statistic` is computed on the batch means and the truncation is
    the batch where it is smallest (the first, on ties). White et al. accept a
    truncation only in the first half of the data: a minimum in the second half
    means the series has not settled (``steady`` is False) and is reported, not
    replaced by a first-half minimum. The last ``ignore_end`` batches are not
    candidates (the statistic falls spuriously there). Batches without data
    (NaN, or zero weight) are left out; leading ones thus fall in the warm-up.

    Args:
        series: Daily values, day 0 first.
        batch_size: Days per batch (5 for MSER-5).
        weights: Per-day weights for the batch means (see :func:`batch_means`).
        ignore_end: Final batches that are not candidate cuts.

    Returns:
        An :class:`MserResult`.

    Raises:
        ValueError: When fewer than ``ignore_end + 2`` batches hold data.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, found {batch_size}")
    values = np.asarray(series, dtype=float)
    z = batch_means(values, batch_size, weights)
    filled = np.flatnonzero(np.isfinite(z))
    if filled.size < ignore_end + 2:
        raise ValueError(
            f"MSER needs at least {ignore_end + 2} batches of {batch_size} days with data, "
            f"found {filled.size} (in {values.size} days)"
        )
    statistic = mser_statistic(z[filled])
    if ignore_end:
        statistic[-ignore_end:] = math.nan
    best = int(np.nanargmin(statistic))
    cut_day = int(filled[best]) * batch_size
    return MserResult(
        cut_day=cut_day,
        steady=cut_day <= values.size / 2,
        days=filled * batch_size,
        statistic=statistic,
        n_days=int(values.size),
        batch_size=batch_size,
    )


def ensemble_mean(values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Welch's replication average: the mean over replications of each day's value.

    Args:
        values: One row per replication, one column per day (NaN = no value).
        weights: Same shape; e.g. requests answered that day, so the average pools
            every replication's requests. None = equal weights.

    Returns:
        The mean of each day (NaN where no replication has a value).
    """
    values = np.atleast_2d(np.asarray(values, dtype=float))
    w = np.ones_like(values) if weights is None else np.asarray(weights, dtype=float)
    w = np.where(np.isfinite(values), w, 0.0)
    total = (np.where(w > 0, values, 0.0) * w).sum(axis=0)
    weight = w.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 0, total / weight, math.nan)
