"""How long requests take, counting the ones still open when a run ends.

A run stops on a fixed day, and the requests issued near its end are still open
then. A median over closed requests only leaves out exactly the slow ones, so it
is too low. Survival analysis keeps them in as *right-censored* observations: an
open request is known to have waited at least ``end_day - t_issued`` days, and
nothing more.

Two questions, two estimators:

* "After how many days has X happened to a quarter, half, three quarters of the
  requests?" Kaplan-Meier, :func:`km_quantiles`. The caller chooses X: which
  requests count as *observed* (X happened) and which as *censored* (we stopped
  watching before X). For "time to execution" with refusals, lapses and
  withdrawals marked censored, the result is the time to execution *if nothing
  else could end a request*, not a share of real requests: for that, use the
  next estimator.
* "What share of requests has been executed, refused, lapsed or withdrawn by day
  t?" Aalen-Johansen cumulative incidence of competing risks,
  :func:`cumulative_incidence` and :func:`incidence_curves`. Open requests are
  censored; each way of closing is a competing event.

:func:`naive_quantiles` gives the old completed-only figure for side-by-side
comparison, and :func:`request_durations` turns ledger columns into durations and
outcome codes (``Outcome.OPEN`` is 0, which is also the code for "censored").

Durations are whole days, so many requests end on the same day (ties). Both
estimators use the usual convention: everything that happens on one day happens
at once, and a request censored on day t was still at risk on day t.

Kaplan-Meier's curve is computed here, in :func:`_kaplan_meier`, with the
expression of :func:`scipy.stats.ecdf` (the same values to the last bit,
``tests/test_survival.py``); its confidence band comes from scipy. Every run computes
a dozen medians, and importing ``scipy.stats`` for them would cost each process
(every CLI command, sweep worker and Dask worker) about half a second, more than the
runs of a small sweep: scipy is imported only when a band is asked for. The
Aalen-Johansen estimate is computed here too, in :func:`_aalen_johansen` (a dozen
lines of numpy over the same curve), rather than with lifelines'
``AalenJohansenFitter``, for three reasons:

1. lifelines 0.30.3, its newest release, requires ``pandas<3``: depending on it
   would take the whole project from pandas 3.1 back to 2.3.
2. Its ``AalenJohansenFitter`` cannot handle tied times. It moves every event time
   by a random amount (up to 1e-4 day) and warns. The estimate then depends on the
   seed: an execution jittered from day 30 to day 30.00004 is missing from the
   incidence at day 30. Censored times are not moved, so an event moved past an
   open request of the same day also changes who is at risk. On the data of
   point 3, its share executed by day 30 was 0.2339 to 0.2343 depending on the seed,
   against 0.2363 here. Read just after the day, it was still about 3e-4 off. It
   draws the jitter from numpy's *global* random state, which it reseeds.
3. Speed. On 20,000 requests over a 365-day run (314 distinct durations, 16%
   still open, 4 ways of ending), lifelines took about 3 s for the four incidence
   curves with its default ``calculate_variance=True``, and 160 ms without. The
   function here takes 2 to 5 ms for all four, and :func:`km_quantiles` about as
   long.

On data without ties the two agree to 1e-12. ``tests/test_survival.py`` checks this
against reference values computed with lifelines 0.30.3, and against lifelines
itself when it is importable (``uv run --with "lifelines>=0.30" pytest
tests/test_survival.py``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np
import pandas as pd

from sim.requests import Outcome, label

#: Every way a request closes, by outcome code. This is the default set of
#: competing causes. Code 0 (``Outcome.OPEN``) is censoring.
CLOSING_CAUSES: Mapping[int, str] = MappingProxyType(
    {int(o): label(Outcome, o) for o in Outcome if o != Outcome.OPEN}
)

#: Quartiles: the default probabilities for :func:`km_quantiles` and :func:`naive_quantiles`.
QUARTILES = (0.25, 0.5, 0.75)

#: Column of :func:`incidence_curves` holding the share of requests not yet ended.
STILL_OPEN = "still_open"

# A Kaplan-Meier curve is a product of count ratios, so it misses values such as
# 0.5 by a few ulps (0.5000000000000001). Compared without a margin, a median could
# move one step later. No genuine gap is this small: that would take about 1e10
# requests.
_ROUNDING = 1e-10

# Largest value counted rather than sorted (days, or cause codes): a thousand years of days.
_LARGEST_COUNTED = 365_250


def request_durations(
    t_issued: np.ndarray, t_closed: np.ndarray, outcome: np.ndarray, end_day: int
) -> tuple[np.ndarray, np.ndarray]:
    """Days from issue to closing (or to ``end_day`` if open), and the outcome codes.

    Only pass requests that were issued (``t_issued >= 0``). A request withdrawn
    while still being drafted never waited for an answer.

    Args:
        t_issued: Day each request was issued (ledger column ``t_issued``).
        t_closed: Day each request closed, -1 while open (ledger column ``t_closed``).
        outcome: :class:`~sim.requests.Outcome` codes (ledger column ``outcome``).
        end_day: Last simulated day. Open requests are censored there.

    Returns:
        ``(durations, cause)``, integer arrays aligned with the input. ``cause`` is
        the outcome code: 0 (open) is censored, any other code is how the request
        ended. It can go straight to :func:`cumulative_incidence`. For
        :func:`km_quantiles`, pass a mask of the codes that count as the event,
        such as ``np.isin(cause, [Outcome.EXECUTED, Outcome.REFUSED])`` for "time to
        an answer".

    Raises:
        ValueError: If a request was not issued, a closed request has no closing
            day, or a duration is negative.
    """
    t_issued = np.asarray(t_issued, dtype=np.int64)
    t_closed = np.asarray(t_closed, dtype=np.int64)
    cause = np.asarray(outcome, dtype=np.int64)
    if np.any(t_issued < 0):
        raise ValueError("request_durations takes issued requests only (t_issued >= 0)")
    still_open = cause == Outcome.OPEN
    if np.any(~still_open & (t_closed < 0)):
        raise ValueError("a closed request has no closing day (t_closed < 0)")
    durations = np.where(still_open, end_day, t_closed) - t_issued
    if np.any(durations < 0):
        raise ValueError("a request closes before it is issued, or end_day is too early")
    return durations, cause


def km_quantiles(
    durations: Sequence[float] | np.ndarray,
    observed: Sequence[bool] | np.ndarray,
    probs: Sequence[float] = QUARTILES,
    confidence_level: float | None = None,
) -> dict[str, float]:
    """Kaplan-Meier quantiles of the time to an event, with censored observations.

    The q-quantile is the first time t at which the Kaplan-Meier survival S(t) is at
    most 1 - q. It is NaN when the curve never gets that low (too many requests
    still waiting); it is never extrapolated. With nothing censored it equals the
    sample quantile of the step-function kind (``np.quantile(..., method=
    "inverted_cdf")``): the median of 1, 2, 3, 4 is 2, not 2.5.

    Args:
        durations: Time (days) each request was followed: to its event, or to
            when observation stopped.
        observed: True where the event happened at that time, False where the
            request was censored (still waiting, or ended in a way the caller
            does not count as the event).
        probs: Probabilities in (0, 1) of the quantiles wanted.
        confidence_level: If given (such as 0.95), also return a confidence interval
            for each quantile. It is read off the pointwise "log-log" band of
            :meth:`scipy.stats._result_classes.EmpiricalDistributionFunction.confidence_interval`:
            the low end is where the lower band first gets to 1 - q, the high end
            is where the upper band does. NaN where the band never gets that low.

    Returns:
        ``{"q25": ..., "median": ..., "q75": ..., "n": ..., "events": ...}``: one key
        per probability (``"median"`` for 0.5, else ``"q"`` and the percentage,
        such as ``"q90"``), then the number of requests and of events. With
        ``confidence_level``, ``"median_low"``, ``"median_high"`` and so on follow.
        Empty input gives NaN quantiles and zero counts.

    Raises:
        ValueError: If the inputs differ in length, a duration is negative or not
            finite, or a probability is outside (0, 1).
    """
    durations = _as_durations(durations)
    observed = np.asarray(observed, dtype=bool).reshape(-1)
    _check_same_length(durations, observed)
    keys = [_quantile_key(p) for p in probs]
    result: dict[str, float] = dict.fromkeys(keys, math.nan)
    result["n"] = durations.size
    result["events"] = int(np.count_nonzero(observed))
    if confidence_level is not None:
        for key in keys:
            result[f"{key}_low"] = math.nan
            result[f"{key}_high"] = math.nan
    if result["events"] == 0:  # the curve stays at 1: no quantile is reached
        return result

    times, survival = _kaplan_meier(durations, observed)
    for key, p in zip(keys, probs, strict=True):
        result[key] = _first_time_at_or_below(times, survival, 1.0 - p)

    if confidence_level is not None:
        from scipy import stats  # only for the band (see the module's docstring)

        km = stats.ecdf(stats.CensoredData.right_censored(durations, censored=~observed)).sf
        with warnings.catch_warnings():
            # scipy warns that the log-log band is undefined where S is 0 or 1;
            # those points are filled in just below.
            warnings.simplefilter("ignore", RuntimeWarning)
            band = km.confidence_interval(confidence_level, method="log-log")
        # Where S(t) is exactly 1 or 0 the estimate has no variance: the band
        # closes onto it.
        settled = (survival == 1.0) | (survival == 0.0)
        lower = np.where(settled, survival, band.low.probabilities)
        upper = np.where(settled, survival, band.high.probabilities)
        for key, p in zip(keys, probs, strict=True):
            # The curve falls, so its lower band reaches 1 - q first.
            result[f"{key}_low"] = _first_time_at_or_below(times, lower, 1.0 - p)
            result[f"{key}_high"] = _first_time_at_or_below(times, upper, 1.0 - p)
    return result


def naive_quantiles(
    durations: Sequence[float] | np.ndarray, probs: Sequence[float] = QUARTILES
) -> dict[str, float]:
    """Quantiles of the durations given, ignoring censoring: the completed-only figure.

    Pass the durations of completed requests to reproduce the biased "median over
    completed requests" that :func:`km_quantiles` replaces, for side-by-side
    figures. It uses the same step-function definition as :func:`km_quantiles`
    (``method="inverted_cdf"``), so the two agree exactly when nothing is censored.
    ``sim.metrics.quantile`` interpolates instead: its median of 1, 2, 3, 4 is 2.5.

    Args:
        durations: Durations (days).
        probs: Probabilities in (0, 1) of the quantiles wanted.

    Returns:
        ``{"q25": ..., "median": ..., "q75": ..., "n": ...}``, keys as in
        :func:`km_quantiles`. NaN quantiles for empty input.

    Raises:
        ValueError: If a duration is negative or not finite, or a probability is
            outside (0, 1).
    """
    durations = _as_durations(durations)
    keys = [_quantile_key(p) for p in probs]
    if durations.size == 0:
        values = [math.nan] * len(keys)
    else:
        values = [float(v) for v in np.quantile(durations, probs, method="inverted_cdf")]
    result: dict[str, float] = dict(zip(keys, values, strict=True))
    result["n"] = durations.size
    return result


def cumulative_incidence(
    durations: Sequence[float] | np.ndarray,
    cause: Sequence[int] | np.ndarray,
    causes: Mapping[int, str] = CLOSING_CAUSES,
    horizon: float | None = None,
) -> dict[str, float]:
    """Share of requests that ended each way by a given day (Aalen-Johansen).

    The incidence of a cause at day t is the chance that a request has ended by
    that cause by day t. Requests still open are censored. The incidences of all
    causes plus the chance of being still open add up to 1.

    Args:
        durations: Days each request was followed: to its end, or to the end of the
            run if still open.
        cause: How each request ended, 0 if still open (censored). Ledger outcome
            codes fit as they are (``Outcome.OPEN`` is 0).
        causes: Code -> name of every cause that occurs in ``cause``. The default is
            :data:`CLOSING_CAUSES` (executed, refused, lapsed, withdrawn).
        horizon: Day at which to read the incidences. None means the last day
            observed. Before the first day the incidences are 0. After the last
            day they are NaN, unless every request had ended by then (the curves
            are then flat).

    Returns:
        ``{cause name: incidence}``, in the order of ``causes``. All NaN for empty
        input.

    Raises:
        ValueError: If the inputs differ in length, a duration is negative or not
            finite, or ``cause`` holds a code missing from ``causes``.
    """
    durations = _as_durations(durations)
    cause = np.asarray(cause, dtype=np.int64).reshape(-1)
    _check_same_length(durations, cause)
    names = _check_causes(cause, causes)
    if durations.size == 0 or (horizon is not None and math.isnan(horizon)):
        return dict.fromkeys(names, math.nan)

    times, incidence, still_open = _aalen_johansen(durations, cause, list(causes))
    if horizon is None:
        horizon = times[-1]
    if horizon < times[0]:
        values = np.zeros(len(names))
    elif horizon > times[-1] and still_open[-1] > 0:
        # Some requests were still open at the last day seen: what happens to
        # them after it is unknown.
        values = np.full(len(names), math.nan)
    else:
        row = np.searchsorted(times, horizon, side="right") - 1  # last day <= horizon
        values = incidence[row]
    return {name: float(v) for name, v in zip(names, values, strict=True)}


def incidence_curves(
    durations: Sequence[float] | np.ndarray,
    cause: Sequence[int] | np.ndarray,
    causes: Mapping[int, str] = CLOSING_CAUSES,
) -> pd.DataFrame:
    """Aalen-Johansen cumulative incidence of every cause over time, for figures.

    Args:
        durations: As for :func:`cumulative_incidence`.
        cause: As for :func:`cumulative_incidence`.
        causes: As for :func:`cumulative_incidence`.

    Returns:
        A frame with column ``time``, one column per cause (its incidence), and
        ``still_open`` (the Kaplan-Meier chance of not having ended by any cause).
        Each row holds from its time until the next row's time (draw it with
        ``drawstyle="steps-post"``). Row 0 is day 0, where nothing has ended
        unless some durations are 0. In every row the causes plus ``still_open``
        sum to 1. Empty input gives a frame with these columns and no rows.

    Raises:
        ValueError: As for :func:`cumulative_incidence`, or if a cause is named
            ``time`` or ``still_open``.
    """
    durations = _as_durations(durations)
    cause = np.asarray(cause, dtype=np.int64).reshape(-1)
    _check_same_length(durations, cause)
    names = _check_causes(cause, causes)
    if {"time", STILL_OPEN} & set(names):
        raise ValueError(f"a cause cannot be named 'time' or '{STILL_OPEN}'")
    if durations.size == 0:
        return pd.DataFrame(columns=["time", *names, STILL_OPEN], dtype=float)

    times, incidence, still_open = _aalen_johansen(durations, cause, list(causes))
    if times[0] > 0:  # start the curves at day 0, before anything has happened
        times = np.concatenate(([0.0], times))
        incidence = np.vstack((np.zeros(len(names)), incidence))
        still_open = np.concatenate(([1.0], still_open))
    frame = pd.DataFrame(incidence, columns=names)
    frame.insert(0, "time", times)
    frame[STILL_OPEN] = still_open
    return frame


def _aalen_johansen(
    durations: np.ndarray, cause: np.ndarray, codes: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Aalen-Johansen estimate at each distinct time, ties handled exactly.

    With d_k(t) requests ending by cause k at time t, n(t) requests still at risk
    at t (durations >= t, so a request censored at t counts), and S the all-cause
    Kaplan-Meier curve, the incidence of cause k is

        F_k(t) = sum over times u <= t of S(u-) * d_k(u) / n(u),

    where S(u-) is the value just before u. Summed over k the increments are
    S(u-) - S(u), so the incidences plus S are 1 at every time. This is the value
    lifelines' AalenJohansenFitter computes when there are no ties.

    Args:
        durations: Non-negative durations, at least one.
        cause: Cause code of each duration, 0 for censored.
        codes: The cause codes to estimate, in column order.

    Returns:
        ``(times, incidence, still_open)``: sorted distinct times, an array of shape
        ``(len(times), len(codes))``, and S at each time.
    """
    times, day, at_risk, still_open = _kaplan_meier_steps(durations, cause != 0)
    ends = _ends_by_cause(day, cause, codes, times.size)
    return times, _incidence_from_counts(at_risk, still_open, ends), still_open


def _incidence_from_counts(at_risk: np.ndarray, still_open: np.ndarray, ends) -> np.ndarray:
    """Each cause's incidence at each distinct time: shape ``(times, causes)``.

    ``ends`` holds, cause by cause, how many durations end by it at each time; the
    incidence adds ``S(u-) * d_k(u) / n(u)`` over the times (see :func:`_aalen_johansen`).
    """
    open_before = np.concatenate(([1.0], still_open[:-1]))
    incidence = np.empty((still_open.size, len(ends)))
    for column, ended_by_cause in enumerate(ends):
        incidence[:, column] = np.cumsum(open_before * ended_by_cause / at_risk)
    return incidence


def _ends_by_cause(day: np.ndarray, cause: np.ndarray, codes: list[int], n_times: int):
    """Row k: how many durations end by cause ``codes[k]`` at each time index, in one count."""
    if not codes:
        return np.zeros((0, n_times), dtype=np.int64)
    if min(codes) < 0 or max(codes) > _LARGEST_COUNTED:
        return np.array([np.bincount(day[cause == code], minlength=n_times) for code in codes])
    column = np.full(max(codes) + 1, len(codes))  # censored (0) goes to a last row
    column[codes] = np.arange(len(codes))
    ends = np.bincount(column[cause] * n_times + day, minlength=(len(codes) + 1) * n_times)
    return ends.reshape(len(codes) + 1, n_times)[: len(codes)]


def _kaplan_meier(durations: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier survival S(t) at each distinct time: ``(times, S)``, as scipy.stats.ecdf."""
    times, _, _, survival = _kaplan_meier_steps(durations, observed)
    return times, survival


def _kaplan_meier_steps(durations: np.ndarray, observed: np.ndarray) -> tuple:
    """Distinct times, each duration's time index, the number at risk and S at each time.

    n(t) counts the requests with durations >= t (one censored at t was still at risk),
    d(t) the events at t, and S(t) = prod over u <= t of (n(u) - d(u)) / n(u): the
    expression of :func:`scipy.stats.ecdf`, so both give the same S to the last bit.
    """
    times, day = _distinct_times(durations)
    leaving = np.bincount(day, minlength=times.size)  # followed up to this time, no longer
    ended = np.bincount(day[observed], minlength=times.size)
    return times, day, *_survival_from_counts(durations.size, leaving, ended)


def _survival_from_counts(n: int, leaving: np.ndarray, ended: np.ndarray) -> tuple:
    """``(at_risk, S)`` at each distinct time of ``n`` durations, from counts at each.

    ``leaving``: how many durations are exactly that time; ``ended``: how many of them
    are events.
    """
    at_risk = n - np.cumsum(leaving) + leaving
    return at_risk, np.cumprod((at_risk - ended) / at_risk)


def _distinct_times(durations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(durations, return_inverse=True)``, by counting when durations are whole days.

    Counting is linear where sorting is not: the outcomes of a world-scale run take
    about sixty of these over a million requests. Same result, to the bit.
    """
    if not durations.size or durations.max() > _LARGEST_COUNTED:  # checked before the cast
        return _sorted_distinct(durations)
    whole = durations.astype(np.int64, copy=False)
    if durations.dtype == np.int64 or np.array_equal(whole, durations):
        present = np.bincount(whole) > 0
        rank = np.cumsum(present) - 1  # index among the distinct times of each day
        return np.flatnonzero(present).astype(float), rank[whole]
    return _sorted_distinct(durations)


def _sorted_distinct(durations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(durations, return_inverse=True)``, the times as floats whatever the input."""
    times, day = np.unique(durations, return_inverse=True)
    return times.astype(float, copy=False), day


def _first_time_at_or_below(times: np.ndarray, curve: np.ndarray, level: float) -> float:
    """First time at which a non-increasing step curve is at or below ``level``; NaN if never."""
    # NaN points of a confidence band compare False: they never count as reached.
    reached = np.flatnonzero(curve <= level + _ROUNDING)
    return float(times[reached[0]]) if reached.size else math.nan


def _quantile_key(p: float) -> str:
    """Result key of a probability: ``"median"`` for 0.5, else ``"q25"``, ``"q90"``..."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"quantile probabilities must be in (0, 1), got {p}")
    return "median" if p == 0.5 else f"q{100 * p:g}"


def _as_durations(durations: Sequence[float] | np.ndarray) -> np.ndarray:
    """Durations as a flat array, checked finite and non-negative.

    Whole days given as an integer array (signed, or unsigned below 64 bits) stay
    integers, as int64: the estimators count them as they are, where floats would be
    converted, checked finite and compared back (a world-scale run's outcomes pass a
    million durations a dozen times). Every other input becomes floats.
    """
    values = np.asarray(durations)
    if values.dtype.kind == "i" or (values.dtype.kind == "u" and values.dtype.itemsize < 8):
        values = values.reshape(-1).astype(np.int64, copy=False)
        if values.size and values.min() < 0:
            raise ValueError("durations must be >= 0")
        return values
    values = np.asarray(values, dtype=float).reshape(-1)
    if not np.all(np.isfinite(values)):
        raise ValueError("durations must be finite (no NaN or infinity)")
    if np.any(values < 0):
        raise ValueError("durations must be >= 0")
    return values


def _check_same_length(durations: np.ndarray, other: np.ndarray) -> None:
    if other.size != durations.size:
        raise ValueError(
            f"durations has {durations.size} values but the event column has {other.size}"
        )


def _check_causes(cause: np.ndarray, causes: Mapping[int, str]) -> list[str]:
    """Names of ``causes``, after checking that they cover every code in ``cause``."""
    if 0 in causes:
        raise ValueError("code 0 means censored (still open); it cannot be a cause")
    names = list(causes.values())
    if len(set(names)) != len(names):
        raise ValueError(f"cause names must differ: {names}")
    unknown = set(_distinct_codes(cause).tolist()) - set(causes) - {0}
    if unknown:
        raise ValueError(
            f"cause codes {sorted(unknown)} are not in causes {dict(causes)}; name every "
            "way a request can end, or recode it as 0 (censored)"
        )
    return names


def _distinct_codes(codes: np.ndarray) -> np.ndarray:
    """The distinct values of integer ``codes``: counted when small and not negative."""
    if codes.size and 0 <= codes.min() and codes.max() <= _LARGEST_COUNTED:
        return np.flatnonzero(np.bincount(codes))
    return np.unique(codes)
