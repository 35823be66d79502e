"""The estimators of :mod:`sim.survival` for several groups of one sample at once.

A run's outcomes ask the same question of many groups of its requests: the share
executed by instrument, by kind and by capacity group, the median time to an
answer for each. Asked group by group, each estimate passes over the whole sample
again (the mask, the durations' days, their counts): at world scale, about sixty
passes over a million requests, most of the time the outcomes take. Here one count
of (group, label, day) triples serves every group, and each group's curve is
computed from its own counts, with the same expressions as :mod:`sim.survival` on
the group's requests alone: the results are the same to the last bit
(``tests/test_survival_groups.py`` compares them on samples with ties, censoring,
empty groups and groups without an event).

Two levels. :func:`km_quantiles_by_group` and :func:`cumulative_incidence_by_group`
take durations, events and groups as :mod:`sim.survival` does. Below them, a caller
that asks several questions of the same rows (:func:`sim.metrics.compute_outcomes`)
counts the rows by (group, label, day) for each grouping at once
(:func:`counts_by_groupings`) and reads the estimates off the counts
(:func:`incidences_from_counts`, :func:`km_from_counts`).

A row's group is a code in ``0..n_groups - 1``; a negative code puts it in no group
(a request never sent has no time to an answer). Durations that are not whole days,
or longer than :data:`sim.survival._LARGEST_COUNTED`, and cause codes out of that
range, are estimated group by group with :mod:`sim.survival` itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

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
    return km_from_counts(counts, [1], probs)


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
    return incidences_from_counts(counts, dict(enumerate(names, start=1)))


def followed_days(still_open, t_closed, end: int, since) -> np.ndarray:
    """Days each row was followed from day ``since``: to its closing day, or to ``end``.

    Args:
        still_open: True for the rows still open at ``end`` (censored there).
        t_closed: Each row's closing day (any value where still open).
        end: The last day followed.
        since: Each row's first day (its creation, its sending).
    """
    days = np.where(still_open, end, t_closed)
    days -= since
    return days


def counts_by_groupings(
    days: np.ndarray, label: np.ndarray, n_labels: int, groupings: Mapping[str, tuple]
) -> dict[str, np.ndarray]:
    """Rows by (group, label, day) for each grouping of the same rows: one count each.

    Each row's cell in the counts is computed once, in the memory of ``days``, which
    it overwrites: at world scale each million-row array is fresh memory for the
    system to fault in and zero, a visible part of a run's first outcomes.

    Args:
        days: Each row's duration, whole days (integers, at least 0). Overwritten.
        label: Each row's label, integers ``0..n_labels - 1`` (0: censored).
        n_labels: Number of labels.
        groupings: Name -> ``(group, n_groups)``: each row's group, integers
            ``0..n_groups - 1`` (None puts every row in one), and their number.

    Returns:
        Name -> counts of shape ``(n_groups, n_labels, n_days)``, with ``n_days`` the
        longest duration plus one.

    Raises:
        ValueError: If a duration is negative, a label out of range, or a group code
            ``n_groups`` or more.
    """
    if days.size and days.min() < 0:
        raise ValueError("durations must be >= 0")
    if label.size and not 0 <= label.min() <= label.max() < n_labels:
        raise ValueError(f"labels must be in 0..{n_labels - 1}")  # else a cell of another day
    n_days = int(days.max()) + 1 if days.size else 1
    cells = _day_cells(days, label, n_days, n_labels)
    return {
        name: _counts_by_group(cells, n_labels, n_days, group, n_groups)
        for name, (group, n_groups) in groupings.items()
    }


def sample_of_counts(counts: np.ndarray) -> np.ndarray:
    """The days counted as a sample of floats, sorted: day t repeated ``counts[t]`` times.

    The same values as the durations counted, so the same quantiles, and the same
    mean to the bit (whole days, whose partial sums are exact in any order below
    2**53); and numpy partitions a sorted sample several times faster.
    """
    return np.repeat(np.arange(counts.size, dtype=float), counts)


def incidences_from_counts(counts: np.ndarray, causes: Mapping[int, str]) -> list[dict[str, float]]:
    """:func:`sim.survival.cumulative_incidence` of each group, read at its last day.

    Args:
        counts: Rows by (group, label, day), as :func:`counts_by_groupings` gives; label 0
            is censored, every other label is a way of ending.
        causes: Label -> name of the causes wanted: all of them or only some (each
            cause's incidence depends on its own counts and on those of every end).

    Returns:
        ``{name: incidence}`` for each group, in the order of ``causes``; all NaN for a
        group with no row.
    """
    leaving = counts.sum(axis=1)
    ended = leaving - counts[:, 0]
    results = []
    for g in range(len(counts)):
        days = np.flatnonzero(leaving[g])
        if not days.size:
            results.append(dict.fromkeys(causes.values(), math.nan))
            continue
        at_risk, curve = _survival_from_counts(
            int(leaving[g].sum()), leaving[g][days], ended[g][days]
        )
        ends = [counts[g, label][days] for label in causes]
        values = _incidence_from_counts(at_risk, curve, ends)[-1]  # at the group's last day
        results.append({name: float(v) for name, v in zip(causes.values(), values, strict=True)})
    return results


def km_from_counts(
    counts: np.ndarray, events: Sequence[int], probs=QUARTILES
) -> list[dict[str, float]]:
    """:func:`sim.survival.km_quantiles` of each group (no confidence band).

    Args:
        counts: Rows by (group, label, day), as :func:`counts_by_groupings` gives.
        events: The labels that are the event; every other label is censored.
        probs: Probabilities of the quantiles wanted.

    Returns:
        What ``km_quantiles`` gives for each group's rows, in order.
    """
    leaving, ended = counts.sum(axis=1), counts[:, events].sum(axis=1)
    keys = [_quantile_key(p) for p in probs]
    results = []
    for g in range(len(counts)):
        result: dict[str, float] = dict.fromkeys(keys, math.nan)
        result["n"] = int(leaving[g].sum())
        result["events"] = int(ended[g].sum())
        if result["events"]:
            days = np.flatnonzero(leaving[g])
            times = days.astype(float)
            _, curve = _survival_from_counts(result["n"], leaving[g][days], ended[g][days])
            for key, p in zip(keys, probs, strict=True):
                result[key] = _first_time_at_or_below(times, curve, 1.0 - p)
        results.append(result)
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


def _day_cells(days: np.ndarray, label: np.ndarray, n_days: int, n_labels: int) -> np.ndarray:
    """Each row's cell in a count by (day, label), ``days * n_labels + label``, in ``days``.

    In the memory of ``days`` (overwritten) when its integer type holds every cell.
    """
    if n_days * n_labels > np.iinfo(days.dtype).max:
        days = days.astype(np.int64)
    days *= n_labels
    days += label
    return days


def _counts_by_group(cells, n_labels: int, n_days: int, group, n_groups: int) -> np.ndarray:
    """Rows by (group, label, day) from their cells, in one count (see :func:`_day_cells`).

    Returns:
        Counts of shape ``(n_groups, n_labels, n_days)``: a view of one laid out by
        group, day and label, as the cells are.

    Raises:
        ValueError: If a group code is ``n_groups`` or more.
    """
    n_cells = n_labels * n_days
    key = cells
    if group is not None:
        # group * n_cells + cells in one int64 temporary (bincount counts int64 only).
        key = np.multiply(group, n_cells, dtype=np.int64)
        key += cells
    counts = np.bincount(key, minlength=n_groups * n_cells)
    if counts.size > n_groups * n_cells:
        raise ValueError(f"group codes must be below n_groups={n_groups}")
    return counts.reshape(n_groups, n_days, n_labels).transpose(0, 2, 1)


def _day_counts(durations, group, n_groups, label, n_labels):
    """Requests by (group, label, day) in one count; None if the days are not countable.

    Every request is in a group (``0..n_groups - 1``) and has a label
    (``0..n_labels - 1``: censored or not, or the column of its cause).

    Returns:
        Counts of shape ``(n_groups, n_labels, days)``, as :func:`_counts_by_group`.
    """
    if group.size and group.max() >= n_groups:
        raise ValueError(f"group codes must be below n_groups={n_groups}")
    if durations.size and durations.max() > _LARGEST_COUNTED:
        return None
    whole = durations.astype(np.int64)  # a copy: its memory becomes the cells
    if durations.dtype.kind == "f" and not np.array_equal(whole, durations):
        return None
    n_days = int(whole.max()) + 1 if durations.size else 1
    cells = _day_cells(whole, label, n_days, n_labels)
    return _counts_by_group(cells, n_labels, n_days, group, n_groups)
