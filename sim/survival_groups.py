"""The estimators of :mod:`sim.survival` for several groups of one sample at once.

A run's outcomes ask the same question of many groups of its requests: the share
executed by instrument, by kind and by capacity group, the median time to an
answer for each. Asked group by group, each estimate passes over the whole sample
again (the mask, the durations' days, their counts): at world scale, about sixty
passes over a million requests, most of the time the outcomes take. Here one count
of (group, day) pairs serves every group, and each group's curve is computed from
its own counts, with the same expressions as :mod:`sim.survival` on the group's
requests alone: the results are the same to the last bit
(``tests/test_survival_groups.py`` compares them on samples with ties, censoring,
empty groups and groups without an event).

A row's group is a code in ``0..n_groups - 1``; a negative code puts it in no group
(a request never sent has no time to an answer). Durations that are not whole days,
or longer than :data:`sim.survival._LARGEST_COUNTED`, and cause codes out of that
range, are estimated group by group with :mod:`sim.survival` itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from sim import survival
from sim.survival import (
    _LARGEST_COUNTED,
    CLOSING_CAUSES,
    QUARTILES,
    _as_durations,
    _check_causes,
    _check_same_length,
    _first_time_at_or_below,
    _incidence_from_counts,
    _quantile_key,
    _survival_from_counts,
)


def km_quantiles_by_group(
    durations: np.ndarray,
    observed: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    probs=QUARTILES,
) -> list[dict[str, float]]:
    """:func:`sim.survival.km_quantiles` of each group's durations: one dict per group.

    Args:
        durations: Days each request was followed (as for ``km_quantiles``).
        observed: True where the event happened (as for ``km_quantiles``).
        group: Each request's group, ``0..n_groups - 1``; negative for none.
        n_groups: Number of groups.
        probs: Probabilities of the quantiles wanted.

    Returns:
        ``km_quantiles(durations[group == g], observed[group == g], probs)`` for each
        ``g`` in order.
    """
    group = _group_codes(group)
    _check_group_length(durations, group)
    member = _members(group)
    durations = _member_durations(durations, member)
    observed = _keep(np.asarray(observed, dtype=bool).reshape(-1), member)
    group = _keep(group, member)
    _check_same_length(durations, observed)
    counts = _day_counts(durations, group, n_groups, observed, 2)
    if counts is None:
        return [
            survival.km_quantiles(durations[group == g], observed[group == g], probs)
            for g in range(n_groups)
        ]
    leaving, (_, ended) = counts
    keys = [_quantile_key(p) for p in probs]
    results = []
    for g in range(n_groups):
        days = np.flatnonzero(leaving[g])
        result: dict[str, float] = dict.fromkeys(keys, math.nan)
        result["n"] = int(leaving[g].sum())
        result["events"] = int(ended[g].sum())
        if result["events"]:
            times = days.astype(float)
            _, curve = _survival_from_counts(result["n"], leaving[g][days], ended[g][days])
            for key, p in zip(keys, probs, strict=True):
                result[key] = _first_time_at_or_below(times, curve, 1.0 - p)
        results.append(result)
    return results


def cumulative_incidence_by_group(
    durations: np.ndarray,
    cause: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    causes: Mapping[int, str] = CLOSING_CAUSES,
) -> list[dict[str, float]]:
    """:func:`sim.survival.cumulative_incidence` of each group, read at its last day.

    Args:
        durations: Days each request was followed (as for ``cumulative_incidence``).
        cause: How each request ended, 0 if still open.
        group: Each request's group, ``0..n_groups - 1``; negative for none.
        n_groups: Number of groups.
        causes: Code -> name of every cause that occurs in the groups' ``cause``.

    Returns:
        ``cumulative_incidence(durations[group == g], cause[group == g], causes)``
        for each ``g`` in order.

    Raises:
        ValueError: As ``cumulative_incidence`` would for a group.
    """
    group = _group_codes(group)
    _check_group_length(durations, group)
    member = _members(group)
    durations = _member_durations(durations, member)
    cause = _keep(np.asarray(cause).reshape(-1), member)
    if cause.dtype.kind not in "iu":
        cause = cause.astype(np.int64)  # as survival.cumulative_incidence takes them
    group = _keep(group, member)
    _check_same_length(durations, cause)
    names = _check_causes(cause, causes)
    codes = list(causes)
    counts = None
    if not codes or (min(codes) >= 0 and max(codes) <= _LARGEST_COUNTED):
        # censored: 0; the labels as small integers, as each row gets one
        column = np.zeros(max(codes, default=0) + 1, dtype=np.min_scalar_type(len(codes)))
        column[codes] = np.arange(1, len(codes) + 1)
        counts = _day_counts(durations, group, n_groups, column[cause], len(codes) + 1)
    if counts is None:
        return [
            survival.cumulative_incidence(durations[group == g], cause[group == g], causes)
            for g in range(n_groups)
        ]
    leaving, (_, *ended_by_cause) = counts
    results = []
    for g in range(n_groups):
        days = np.flatnonzero(leaving[g])
        if not days.size:
            results.append(dict.fromkeys(names, math.nan))
            continue
        ends = [ended[g][days] for ended in ended_by_cause]
        ended = np.sum(ends, axis=0) if ends else np.zeros(days.size, dtype=np.int64)
        at_risk, curve = _survival_from_counts(int(leaving[g].sum()), leaving[g][days], ended)
        values = _incidence_from_counts(at_risk, curve, ends)[-1]  # at the group's last day
        results.append({name: float(v) for name, v in zip(names, values, strict=True)})
    return results


def _group_codes(group) -> np.ndarray:
    """The group codes as int64, refused if they are not integers."""
    group = np.asarray(group).reshape(-1)
    if group.size and group.dtype.kind not in "iub":
        raise ValueError(f"group codes must be integers, got {group.dtype}")
    return group.astype(np.int64, copy=False)


def _check_group_length(durations, group: np.ndarray) -> None:
    """A group code for every duration, checked before a group of every row skips the mask."""
    n = np.asarray(durations).size
    if group.size != n:
        raise ValueError(f"durations has {n} values but group has {group.size}")


def _members(group: np.ndarray) -> np.ndarray | None:
    """Which rows are in a group (a mask), or None when every row is."""
    member = group >= 0
    return None if member.all() else member


def _keep(values: np.ndarray, member: np.ndarray | None) -> np.ndarray:
    """The rows of ``values`` in a group: ``values`` itself when every row is (no copy)."""
    return values if member is None else values[member]


def _member_durations(durations, member: np.ndarray | None) -> np.ndarray:
    """The durations of the requests in a group, checked: whole days stay integers."""
    values = _keep(np.asarray(durations).reshape(-1), member)
    if values.dtype.kind not in "iu" or (values.size and values.max() > _LARGEST_COUNTED):
        return _as_durations(values)  # as floats, estimated group by group if not counted
    if values.size and values.min() < 0:
        raise ValueError("durations must be >= 0")
    return values.astype(np.int64, copy=False)


def _day_counts(durations, group, n_groups, label, n_labels):
    """Requests by (label, group, day) in one count; None if the days are not countable.

    Every request is in a group (``0..n_groups - 1``) and has a label
    (``0..n_labels - 1``: censored or not, or the column of its cause).

    Returns:
        ``(leaving, labelled)``: how many requests of each group were followed exactly
        that many days (shape ``(n_groups, days)``), and as many of each label (shape
        ``(n_labels, n_groups, days)``).
    """
    if group.size and group.max() >= n_groups:
        raise ValueError(f"group codes must be below n_groups={n_groups}")
    if durations.size and durations.max() > _LARGEST_COUNTED:
        return None
    whole = durations.astype(np.int64, copy=False)
    if durations.dtype.kind == "f" and not np.array_equal(whole, durations):
        return None
    n_days = int(whole.max()) + 1 if durations.size else 1
    # (label * n_groups + group) * n_days + whole, in one array: a million-row
    # temporary is fresh pages for the system to fault in and zero, each time.
    cell = label.astype(np.int64)
    cell *= n_groups
    cell += group
    cell *= n_days
    cell += whole
    labelled = np.bincount(cell, minlength=n_labels * n_groups * n_days)
    labelled = labelled.reshape(n_labels, n_groups, n_days)
    return labelled.sum(axis=0), labelled
