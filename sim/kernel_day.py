"""The day after case generation in two kernel calls, but for INTERPOL's review and arrests.

:func:`move_requests` runs, in order, the steps a mask selects of: the passes over
the requests whose stage ends today (:func:`sim.kernel_stages.advance_due`), every
agency's queue service (:func:`sim.kernel_queues.serve_queues`), the passes again (for
what queue service finished today), the intelligence items due today
(:func:`deliver_today`) and the cases whose deadline is today (:func:`expire_cases`).
The model calls it twice a day: :data:`MORNING` (passes, queue service, passes,
intelligence) after the day's new cases, and :data:`EVENING` (passes, deadlines)
after INTERPOL's arrests, whose extraditions start drafting. They are the first
pieces of the day run from one call (docs/compiled_pipeline.md, "What is left").

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
from sim.kernel_calendar import C_USED, file_entry, take
from sim.kernel_intelligence import deliver_items
from sim.kernel_lifecycle import CASE_OPEN, COLD, end_cases, trust_arrays
from sim.kernel_queues import serve_queues
from sim.kernel_stages import advance_due
from sim.kernel_state import (
    K_BACKLOG,
    O_CLOSED,
    S_HELPED,
    S_LEAD_DAYS,
    S_LEAKS,
    S_PREVENTED,
)
from sim.kernel_teams import give_back_capacity

PASSES, QUEUES, PASSES_AGAIN, INTELLIGENCE, DEADLINES = range(5)
STEPS = 5
# The day's two calls, as masks of their steps.
MORNING = (1 << PASSES) | (1 << QUEUES) | (1 << PASSES_AGAIN) | (1 << INTELLIGENCE)
EVENING = (1 << PASSES) | (1 << DEADLINES)


@njit(cache=True)
def step_bound(S, step, day):
    """Entries a step may leave in any one buffer; 0 when it has nothing to move.

    Queue service takes at most what waits. A pass files each of its requests at most
    once, and a request passes through at most a few zero-day stages a day. The
    deadlines end or file again at most the cases due today.
    """
    if step == QUEUES:
        return S.counters[K_BACKLOG] + S.counters[K_BACKLOG + 1] + S.counters[K_BACKLOG + 2]
    if step == DEADLINES:
        return S.deadline_count[day]
    due = S.cal_count[day]
    return 8 * due + 64 if due > 0 else np.int64(0)


@njit(cache=True)
def has_room(S, needed):
    """Whether the outbox and the calendars can take ``needed`` more entries.

    The outbox's buffers have one size (:func:`sim.kernel_state.outbox`); the buffers
    each step refills (today's pass, the requests taken) start empty, and a segment of
    ended cases holds at least one case, so the ended cases are the one that fills up.
    """
    return (
        S.filed[O_CLOSED] + needed <= S.ended_cases.size
        and S.cal_meta[C_USED] + needed <= S.cal_ids.size
        and S.deadline_meta[C_USED] + needed <= S.deadline_ids.size
    )


@njit(cache=True)
def expire_cases(S, day):
    """The open cases whose deadline is today go cold; their open requests lapse.

    Intelligence may have moved a case's deadline later since it was filed: such a
    case is filed again under its new deadline.
    """
    due = take(S.deadline_ids, S.deadline_due, S.deadline_meta, S.deadline_count, day)
    cold = np.empty(due.size, dtype=np.int64)
    n = 0
    for case in due:
        if S.case_status[case] != CASE_OPEN:
            continue
        deadline = np.int64(S.case_deadline[case])
        if deadline > day:
            file_entry(
                S.deadline_ids, S.deadline_due, S.deadline_meta, S.deadline_count, case, deadline
            )
        else:
            cold[n] = case
            n += 1
    if n:
        end_cases(S, cold[:n], np.int64(COLD), day)
        give_back_capacity(S)


@njit(cache=True)
def deliver_today(S, R, day):
    """Deliver the intelligence items due today; useful ones keep related cases warm.

    The draws, the share record and trust are :func:`sim.kernel_intelligence.deliver_items`'.
    A useful item moves the deadline of the recipient's latest open case of the item's
    type later by ``lead_days`` (a case with several such leads gets each).
    """
    ids = take(S.delivery_ids, S.delivery_due, S.delivery_meta, S.delivery_count, day)
    if ids.size == 0:
        return
    numbers = S.share_numbers
    leaks, prevented, useful = deliver_items(
        R,
        trust_arrays(S),
        day,
        ids,
        (S.share_sharer, S.share_recipient, S.share_platform, S.share_t_delivered, S.share_leaked),
        0.5 * (S.technology + S.data_protection),  # each state's data security
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


@njit(cache=True)
def move_requests(S, R, n_agencies, day, first_step, steps):
    """Run the steps in the mask ``steps`` (:data:`MORNING`, :data:`EVENING`) from ``first_step``.

    Returns:
        ``(step, room)``: the step to run next and the room it needs, or
        ``(STEPS, 0)`` when every step ran.
    """
    for step in range(first_step, STEPS):
        if not (steps >> step) & 1:
            continue
        if step == INTELLIGENCE:  # leaves nothing to file
            deliver_today(S, R, day)
            continue
        needed = step_bound(S, np.int64(step), day)
        if needed == 0:
            continue
        if not has_room(S, needed):
            return np.int64(step), needed
        if step == QUEUES:
            serve_queues(S, R, n_agencies, day)
        elif step == DEADLINES:
            expire_cases(S, day)
        else:
            advance_due(S, R, day)
    return np.int64(STEPS), np.int64(0)
