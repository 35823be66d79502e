"""INTERPOL's searches compiled: diffusions and reviews, circulation, arrests.

:class:`sim.interpol.InterpolSecretariat` owns its record (a
:class:`~sim.requests.ColumnTable`) and its two calendars; the kernels' struct holds
their arrays (:func:`notice_columns` reads the record's), and these kernels do the work:

- :func:`start_notices` (in case generation): the record's new rows for persons of
  unknown whereabouts, asked for by INTERPOL members, then :func:`start_searches`;
- :func:`start_searches`: new searches become a diffusion (sent straight to members)
  or a notice request (reviewed by the secretariat, faster for an INTERPOL
  operation's cases);
- :func:`review_notices`: the secretariat rejects a share of the notices under review
  (:func:`sim.interpol.rejection_probability`) and circulates the rest;
- :func:`circulate`: whether and when the member where the person is locates them;
- :func:`arrests`: today's arrests, for the cases still open.

Each kernel draws from the model's stream in the order the vectorised code drew
(``tests/test_hot_path_identity.py`` checks them against it, draw for draw). The
record's columns travel as one tuple, ``record``: ``(case, requesting, located_in,
diffusion, status, t_reviewed, t_located)``.
"""

from __future__ import annotations

import numpy as np

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels
from sim.kernel_calendar import file_all
from sim.kernel_draws import uniform
from sim.kernel_lifecycle import CASE_OPEN, noisy, whole_days

# sim.interpol.NoticeStatus (tests/test_kernels.py checks they agree)
REJECTED, CIRCULATING, LOCATED, NOT_LOCATED = 1, 2, 3, 4


@njit(cache=True)
def circulate(R, day, notices, record, member, numbers):
    """Send ``notices`` to members; which will locate the person, and on what day.

    One uniform per notice (a diffusion locates less often than a notice) decides,
    where the person is in a member state; then one lognormal duration per search that
    will succeed: the members' search, plus INTERPOL's channel out and back.

    Args:
        R: The model's streams.
        day: Today.
        notices: Rows of the record sent out today.
        record: The record's columns (see the module's docstring).
        member: INTERPOL members (per state).
        numbers: ``(locate_probability, diffusion_locate_probability, locate_days,
            interpol_days, noise_sigma)``.

    Returns:
        ``(ids, days)``: the searches that will locate, and the day each does.
    """
    case, requesting, located_in, diffusion, status, t_reviewed, t_located = record
    locate_p, diffusion_p, locate_days, interpol_days, sigma = numbers
    rng = R.model
    bits = rng.bit_generator  # draws one at a time (sim.kernel_draws)
    found = np.empty(notices.size, dtype=np.bool_)
    n_found = 0
    for k in range(notices.size):
        row = notices[k]
        p = diffusion_p if diffusion[row] else locate_p
        found[k] = member[located_in[row]] & (uniform(bits) < p)
        status[row] = CIRCULATING if found[k] else NOT_LOCATED
        n_found += found[k]
    if n_found == 0:  # most days at most scales: no arrays for nothing found
        none = np.empty(0, dtype=np.int64)
        return none, none
    ids = np.empty(n_found, dtype=np.int64)
    j = 0
    for k in range(notices.size):
        if found[k]:
            ids[j] = notices[k]
            j += 1
    days = noisy(rng, np.full(n_found, locate_days), np.full(n_found, sigma))
    due = np.empty(n_found, dtype=np.int64)
    for k in range(n_found):
        due[k] = day + whole_days(days[k] + 2.0 * interpol_days)
    return ids, due


@njit(cache=True)
def start_searches(R, day, notices, record, member, case_type, terms, numbers):
    """New searches (rows ``notices``, just added): diffusion or notice, then their calendars.

    One uniform per search decides a diffusion; then one lognormal review time per
    search (each is drawn, the diffusions' too), plus INTERPOL's channel. An INTERPOL
    operation's notice requests (a targeted case type, from a participant) are reviewed
    faster (:func:`sim.operations.shortened_review`, whose fractional day is dropped
    when it is filed). The diffusions then circulate at once (:func:`circulate`).

    Args:
        R: The model's streams.
        day: Today.
        notices: The record's new rows.
        record: The record's columns.
        member: INTERPOL members.
        case_type: The case book's types.
        terms: ``(op_participant, op_targeted, review_speedup)`` of an INTERPOL
            operation running today (all False when none).
        numbers: ``(diffusion_share, review_days)`` then :func:`circulate`'s numbers
            ``(locate_probability, diffusion_locate_probability, locate_days,
            interpol_days, noise_sigma)``.

    Returns:
        ``(review_ids, review_due, search_ids, search_due)``: the notices under review
        and the day each review ends; the diffusions that will locate, and when.
    """
    case, requesting, located_in, diffusion, status, t_reviewed, t_located = record
    share, review_days = numbers[0], numbers[1]
    interpol_days, sigma = numbers[5], numbers[6]
    op_participant, op_targeted, speedup = terms
    rng = R.model
    bits = rng.bit_generator  # draws one at a time (sim.kernel_draws)
    n = notices.size
    n_diffusions = 0
    for k in range(n):
        diffusion[notices[k]] = uniform(bits) < share
        n_diffusions += diffusion[notices[k]]
    review = noisy(rng, np.full(n, review_days), np.full(n, sigma))
    review_ids = np.empty(n - n_diffusions, dtype=np.int64)
    review_due = np.empty(n - n_diffusions, dtype=np.int64)
    diffusions = np.empty(n_diffusions, dtype=np.int64)
    i = j = 0
    for k in range(n):
        row = notices[k]
        if diffusion[row]:
            diffusions[j] = row
            j += 1
            continue
        days = whole_days(review[k] + interpol_days)
        if op_participant[requesting[row]] and op_targeted[case_type[case[row]]]:
            review_due[i] = np.int64(day + days * (1.0 - speedup))
        else:
            review_due[i] = day + days
        review_ids[i] = row
        i += 1
    search_ids, search_due = circulate(R, day, diffusions, record, member, numbers[2:])
    return review_ids, review_due, search_ids, search_due


@njit(cache=True)
def review_notices(R, day, ids, record, political_sensitivity, death_penalty, member, numbers):
    """The secretariat's decisions on the notices whose review ends today.

    One uniform per notice against :func:`sim.interpol.rejection_probability` of the
    case's political sensitivity and the requesting state's death penalty; the rest
    circulate (:func:`circulate`).

    Args:
        R: The model's streams.
        day: Today.
        ids: The notices whose review ends today.
        record: The record's columns.
        political_sensitivity: The case book's column.
        death_penalty: Each state's death penalty.
        member: INTERPOL members.
        numbers: ``(rejection_base, rejection_political, rejection_human_rights,
            locate_probability, diffusion_locate_probability, locate_days,
            interpol_days, noise_sigma)``.

    Returns:
        ``(ids, days)`` of the searches that will locate (:func:`circulate`).
    """
    case, requesting, located_in, diffusion, status, t_reviewed, t_located = record
    base, political, human_rights = numbers[0], numbers[1], numbers[2]
    rng = R.model
    bits = rng.bit_generator  # draws one at a time (sim.kernel_draws)
    n_rejected = 0
    rejected = np.empty(ids.size, dtype=np.bool_)
    for k in range(ids.size):
        row = ids[k]
        # float32 where the vectorised rule had it: a float32 column times a float
        sensitive = np.float32(base) + np.float32(political) * political_sensitivity[case[row]]
        p = np.float64(sensitive) + human_rights * (1.0 if death_penalty[requesting[row]] else 0.0)
        rejected[k] = uniform(bits) < min(max(p, 0.0), 1.0)
        t_reviewed[row] = day
        if rejected[k]:
            status[row] = REJECTED
            n_rejected += 1
    accepted = np.empty(ids.size - n_rejected, dtype=np.int64)
    j = 0
    for k in range(ids.size):
        if not rejected[k]:
            accepted[j] = ids[k]
            j += 1
    return circulate(R, day, accepted, record, member, numbers[3:])


@njit(cache=True)
def arrests(day, ids, record, case_status):
    """Today's arrests among the searches ``ids`` that end today.

    A search both scheduled and found by an operation is reported once, the first
    time (then its status is no longer circulating), also when both copies come due
    the same day: the vectorised code checked the status before any change, so it
    arrested such a person twice and drafted two extraditions (corrected here; see
    docs/performance.md). A person found after the case went cold is of no use to it:
    the search ends not located.

    Returns:
        The searches that end in an arrest (the case continues as an extradition).
    """
    case, requesting, located_in, diffusion, status, t_reviewed, t_located = record
    found = np.empty(ids.size, dtype=np.int64)
    n = 0
    for k in range(ids.size):
        row = ids[k]
        if status[row] != CIRCULATING:
            continue
        if case_status[case[row]] == CASE_OPEN:
            status[row] = LOCATED
            t_located[row] = day
            found[n] = row
            n += 1
        else:
            status[row] = NOT_LOCATED
    return found[:n]


@njit(cache=True)
def notice_columns(S):
    """INTERPOL's record as :mod:`sim.kernel_interpol` takes it."""
    return (
        S.notice_case,
        S.notice_requesting,
        S.notice_located_in,
        S.notice_diffusion,
        S.notice_status,
        S.notice_t_reviewed,
        S.notice_t_located,
    )


@njit(cache=True)
def start_notices(S, R, day, cases, requesting, located_in, terms, numbers):
    """Ask INTERPOL to search for persons of unknown whereabouts.

    States outside INTERPOL cannot ask (a person in a non-member state can be asked
    for, but never found this way). New rows in INTERPOL's record, then
    :func:`sim.kernel_interpol.start_searches` and their calendars.
    """
    member = S.interpol_member
    n = 0
    for k in range(cases.size):
        n += member[requesting[k]]
    if n == 0:
        return
    first = S.notice_n_rows[0]
    if first + n > S.notice_case.size:
        raise IndexError("INTERPOL's record has too little room reserved for this call")
    r = first
    for k in range(cases.size):
        if member[requesting[k]]:
            S.notice_case[r] = cases[k]
            S.notice_requesting[r] = requesting[k]
            S.notice_located_in[r] = located_in[k]
            S.notice_t_requested[r] = day
            r += 1
    S.notice_n_rows[0] = first + n
    review_ids, review_due, search_ids, search_due = start_searches(
        R, day, np.arange(first, first + n), notice_columns(S), member, S.case_type, terms, numbers
    )
    file_all(S.search_ids, S.search_links, S.search_meta, S.search_count, search_ids, search_due)
    file_all(S.review_ids, S.review_links, S.review_meta, S.review_count, review_ids, review_due)
