"""The day after case generation in one kernel call, with Python's turns in it.

:func:`run_day` runs the day's steps in order: the passes over the requests whose
stage ends today (:func:`sim.kernel_stages.advance_due`), every agency's queue service
(:func:`sim.kernel_queues.serve_queues`), the passes again (for what queue service
finished today), the intelligence items due today (:func:`deliver_today`), INTERPOL's
reviews of notices (:func:`review_today`), the arrests its searches report and the
extraditions they start (:func:`arrest_today`), the passes a third time (for those
extraditions' zero-day stages), the cases whose deadline is today
(:func:`expire_cases`) and, last, the day's series (:func:`record_series`).

One step is Python's: a running INTERPOL operation's own searches (``INTENSIFIED``,
between the reviews and the arrests, drawing from the model's stream in Python). The
call stops before it only on the days an operation searches, so other days are one
call. The record stops, rarely, when trust's running sums must be rebuilt first (after
a write to trust from Python); Python rebuilds them and resumes it.

The outbox (the buffers the call leaves for Python) is sized by Python before the
call, but how much the later steps move is known only inside it. So before each step
the call checks that the outbox and the calendars have room for that step's bound,
and if not it stops there and returns the step and the room it needs; Python files
what the call left, grows the outbox and calls again from that step. A step that
moves nothing is skipped, as the model skipped its call.
"""

from __future__ import annotations

import numpy as np

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels
from sim.kernel_calendar import file_all, file_entry, room_for, take
from sim.kernel_cases import C_NATIONAL_SHARE, consents
from sim.kernel_drafting import draft
from sim.kernel_draws import uniform
from sim.kernel_intelligence import deliver_items
from sim.kernel_interpol import arrests, notice_columns, review_notices
from sim.kernel_lifecycle import CASE_OPEN, COLD, EXTRADITION, end_cases, trust_arrays
from sim.kernel_queues import serve_queues
from sim.kernel_stages import advance_due
from sim.kernel_state import (
    K_BACKLOG,
    O_CLOSED,
    P_INTENSIFY,
    P_RELATIONS_KNOWN,
    P_RELATIONS_MEAN,
    P_WINDOW_START,
    S_HELPED,
    S_LEAD_DAYS,
    S_LEAKS,
    S_PREVENTED,
    S_SECURITY_WEIGHT,
    T_BASE,
)
from sim.kernel_teams import give_back_capacity
from sim.kernel_trust import mean_trust, off_diagonal_mean

(
    PASSES,
    QUEUES,
    PASSES_AGAIN,
    INTELLIGENCE,
    REVIEWS,
    INTENSIFIED,  # Python's
    ARRESTS,
    PASSES_LAST,
    DEADLINES,
    RECORD,
) = range(10)
STEPS = 10
PYTHON_TURN = -1  # returned as the room: the step is Python's, resume after it
REBUILD_TRUST = -2  # returned as the room: trust's sums must be rebuilt, then resume here


@njit(cache=True)
def step_bound(S, step, day):
    """Entries a step may leave in any one buffer; 0 when it has nothing to move.

    Queue service takes at most what waits. A pass files each of its requests at most
    once, and a request passes through at most a few zero-day stages a day. The
    reviews, the arrests and the deadlines file or report at most what is due today.
    """
    if step == QUEUES:
        return S.counters[K_BACKLOG] + S.counters[K_BACKLOG + 1] + S.counters[K_BACKLOG + 2]
    if step == DEADLINES:
        return S.deadline_count[day]
    if step == REVIEWS:
        return S.review_count[day]
    if step == ARRESTS:
        return S.search_count[day]
    due = S.cal_count[day]
    return 8 * due + 64 if due > 0 else np.int64(0)


@njit(cache=True)
def has_room(S, needed):
    """Whether the outbox and the calendars the kernels file in can take ``needed`` more.

    The outbox's buffers have one size (:func:`sim.lifecycle.outbox`); the buffers
    each step refills (today's pass, the requests taken) start empty, and a segment of
    ended cases holds at least one case, so the ended cases are the one that fills up.
    The arrests' extraditions add ledger rows and, for cases that have requests
    already, extras.
    """
    return (
        S.filed[O_CLOSED] + needed <= S.ended_cases.size
        and S.n_rows[0] + needed <= S.case.size
        and S.case_extras_used[0] + needed <= S.case_extra_next.size
        and room_for(S.cal_meta, S.cal_count, needed)
        and room_for(S.deadline_meta, S.deadline_count, needed)
        and room_for(S.search_meta, S.search_count, needed)
    )


@njit(cache=True, entry=True)
def reserved_room(S, k, links, shares):
    """Whether Python's reserves before a call would find room everywhere already.

    :meth:`sim.lifecycle.RequestLifecycle.kernel_state` reserves ``k`` more entries
    (the outbox's size) in the ledger, the case book's extras, the requests' calendar,
    the cases' deadlines and INTERPOL's searches; ``links`` more cases, notices and
    reviews (a day's case generation); ``shares`` more shares and deliveries. Each
    condition is its reserve's own: when all hold, no reserve would grow anything.
    """
    return (
        S.n_rows[0] + k <= S.case.size
        and S.case_extras_used[0] + k <= S.case_extra_next.size
        and room_for(S.cal_meta, S.cal_count, k)
        and room_for(S.deadline_meta, S.deadline_count, k)
        and room_for(S.search_meta, S.search_count, max(k, links))
        and S.case_n_rows[0] + links <= S.case_origin.size
        and S.notice_n_rows[0] + links <= S.notice_case.size
        and room_for(S.review_meta, S.review_count, links)
        and S.share_n_rows[0] + shares <= S.share_case.size
        and room_for(S.delivery_meta, S.delivery_count, shares)
    )


@njit(cache=True, inline="always")
def deliver_today(S, R, day):
    """Deliver the intelligence items due today; useful ones keep related cases warm.

    The draws, the share record and trust are :func:`sim.kernel_intelligence.deliver_items`'.
    A useful item moves the deadline of the recipient's latest open case of the item's
    type later by ``lead_days`` (a case with several such leads gets each).
    """
    ids = take(S.delivery_ids, S.delivery_links, S.delivery_meta, S.delivery_count, day)
    if ids.size == 0:
        return
    numbers = S.share_numbers
    weight = numbers[S_SECURITY_WEIGHT]  # of technology in each state's data security
    security = weight * S.technology + (1.0 - weight) * S.data_protection
    leaks, prevented, useful = deliver_items(
        R,
        trust_arrays(S),
        day,
        ids,
        (S.share_sharer, S.share_recipient, S.share_platform, S.share_t_delivered, S.share_leaked),
        security,
        S.confidentiality,
        (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4], numbers[5]),
    )
    lead = np.int64(np.round(numbers[S_LEAD_DAYS]))
    helped = 0
    for k in useful:
        item = ids[k]
        case = S.latest_case[S.share_recipient[item], S.case_type[S.share_case[item]]]
        if case >= 0 and S.case_status[case] == CASE_OPEN:
            S.case_deadline[case] += lead
            helped += 1
    S.share_counts[S_LEAKS] += leaks
    S.share_counts[S_PREVENTED] += prevented
    S.share_counts[S_HELPED] += helped


@njit(cache=True, inline="always")
def review_today(S, R, day):
    """The secretariat's decisions on today's notices; the searches that will locate are filed."""
    ids = take(S.review_ids, S.review_links, S.review_meta, S.review_count, day)
    n = S.notice_numbers
    search_ids, search_due = review_notices(
        R,
        day,
        ids,
        notice_columns(S),
        S.case_political_sensitivity,
        S.death_penalty,
        S.interpol_member,
        (n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]),
    )
    file_all(S.search_ids, S.search_links, S.search_meta, S.search_count, search_ids, search_due)


@njit(cache=True, inline="always")
def arrest_today(S, R, day):
    """Today's arrests (:func:`sim.kernel_interpol.arrests`); the formal extraditions follow.

    For each arrest, in order: whether the person is a national of the requested state
    (one draw each), then whether they consent to surrender
    (:func:`sim.kernel_cases.consents`), then the extradition requests are drafted
    (:func:`sim.kernel_drafting.draft`) into new ledger rows; all from ``R.model``.
    """
    ids = take(S.search_ids, S.search_links, S.search_meta, S.search_count, day)
    found = arrests(
        day,
        ids,
        notice_columns(S),
        S.case_status,
    )
    n = found.size
    if n == 0:
        return
    cases = np.empty(n, dtype=np.int64)
    requesting = np.empty(n, dtype=np.int64)
    requested = np.empty(n, dtype=np.int64)
    national = np.empty(n, dtype=np.bool_)
    rng, cp = R.model, S.case_numbers
    bits = rng.bit_generator  # draws one at a time (sim.kernel_draws)
    for k in range(n):
        cases[k] = S.notice_case[found[k]]
        requesting[k] = S.notice_requesting[found[k]]
        requested[k] = S.notice_located_in[found[k]]
    for k in range(n):
        national[k] = uniform(bits) < cp[C_NATIONAL_SHARE]
    consent = consents(rng, requesting, requested, national, S.mr_bloc, S.rights_standard, cp)
    first = S.n_rows[0]
    if first + n > S.case.size:
        raise IndexError("the ledger has too little room reserved for this call")
    S.n_rows[0] = first + n
    no = np.zeros(n, dtype=np.bool_)
    kind = np.full(n, np.int64(EXTRADITION))
    draft(S, R, first, cases, requesting, requested, kind, no, consent, national, no, day)


@njit(cache=True, inline="always")
def expire_cases(S, day):
    """The open cases whose deadline is today go cold; their open requests lapse.

    Intelligence may have moved a case's deadline later since it was filed: such a
    case is filed again under its new deadline.
    """
    due = take(S.deadline_ids, S.deadline_links, S.deadline_meta, S.deadline_count, day)
    cold = np.empty(due.size, dtype=np.int64)
    n = 0
    for case in due:
        if S.case_status[case] != CASE_OPEN:
            continue
        deadline = np.int64(S.case_deadline[case])
        if deadline > day:
            file_entry(
                S.deadline_ids, S.deadline_links, S.deadline_meta, S.deadline_count, case, deadline
            )
        else:
            cold[n] = case
            n += 1
    if n:
        end_cases(S, cold[:n], np.int64(COLD), day)
        give_back_capacity(S)


@njit(cache=True, entry=True)
def run_day(S, R, n_agencies, day, first_step):
    """Run the day's steps from ``first_step``.

    Returns:
        ``(step, room)``: the step to run next and the room it needs; ``room`` is
        :data:`PYTHON_TURN` when the step is Python's (resume from the one after it),
        :data:`REBUILD_TRUST` when the record needs trust's sums rebuilt (resume from
        it), and ``(STEPS, 0)`` when every step ran.
    """
    for step in range(first_step, STEPS):
        if step == INTELLIGENCE:  # leaves nothing to file
            deliver_today(S, R, day)
            continue
        if step == INTENSIFIED:
            if S.params[P_INTENSIFY] != 0.0:
                return np.int64(step), np.int64(PYTHON_TURN)
            continue
        if step == RECORD:
            if not record_series(S, n_agencies, day):
                return np.int64(step), np.int64(REBUILD_TRUST)
            continue
        needed = step_bound(S, np.int64(step), day)
        if needed == 0:
            continue
        if not has_room(S, needed):
            return np.int64(step), needed
        if step == QUEUES:
            serve_queues(S, R, n_agencies, day)
        elif step == REVIEWS:
            review_today(S, R, day)
        elif step == ARRESTS:
            arrest_today(S, R, day)
        elif step == DEADLINES:
            expire_cases(S, day)
        else:
            advance_due(S, R, day)
    return np.int64(STEPS), np.int64(0)


@njit(cache=True)
def record_series(S, n_agencies, day):
    """The day's series, the agencies' backlog and capacity-days (the day's last step).

    Writes the struct's series rows (:data:`sim.kernel_state.SeriesArrays`): the cases
    opened, the counters the series copy, the mean trust and relations, the items
    shared, the leaks and the teams at work; each agency's waiting requests; and, in the
    window, each agency's capacity added to its capacity-days.

    Returns:
        False, and nothing written, when trust's running sums must be rebuilt first.
    """
    mean = np.nan
    if S.trust_value.shape[0] >= 2:
        trust = trust_arrays(S)
        valid, mean = mean_trust(trust, S.series_trust_own, trust.sums[T_BASE], day)
        if not valid:
            return False
    rows, layout, counted, slots = S.series_rows, S.series_layout, S.series_counted, S.series_slots
    rows[layout[0], day] = S.case_n_rows[0]
    for k in range(counted.size):
        rows[counted[k], day] = S.counters[slots[k]]
    rows[layout[1], day] = mean
    rows[layout[2], day] = relations_mean(S)
    rows[layout[3], day] = S.share_n_rows[0]
    rows[layout[4], day] = S.share_counts[S_LEAKS]
    teams = 0  # at work: slots of a case (free slots are -1, those of ended cases -2)
    for slot in range(S.team_case.size):
        teams += S.team_case[slot] >= 0
    rows[layout[5], day] = teams
    backlog = S.series_backlog
    for a in range(n_agencies):
        backlog[day, a] = S.waiting[a]
    if day >= S.params[P_WINDOW_START]:
        capacity_days = S.series_capacity_days
        for a in range(n_agencies):
            capacity_days[a] += S.capacity[a]
    return True


@njit(cache=True)
def relations_mean(S):
    """The mean of relations off the diagonal, computed once for a run of trusted days.

    Relations change only in Python (meetings, reforms: Mesa's events, never inside
    the days :mod:`sim.stepping` steps in a loop), and Python clears the mean before
    every day it does not trust and every run of days it does (``P_RELATIONS_KNOWN``);
    it checks the mean kept against the matrix after such a run
    (:meth:`sim.lifecycle.RequestLifecycle.verify_kernel_state`).
    """
    params = S.params
    if params[P_RELATIONS_KNOWN] == 0.0:
        params[P_RELATIONS_MEAN] = off_diagonal_mean(S.relations)
        params[P_RELATIONS_KNOWN] = 1.0
    return params[P_RELATIONS_MEAN]
