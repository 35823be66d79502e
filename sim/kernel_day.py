"""The requests' part of a day in one kernel call: review passes, queue service, passes.

:func:`move_requests` runs, in order, the steps the model ran as three calls: the
passes over the requests whose stage ends today (:func:`sim.kernel_stages.advance_due`),
every agency's queue service (:func:`sim.kernel_queues.serve_queues`) and the passes
again, for what queue service finished today. It is the first piece of the day run
from one call (docs/compiled_pipeline.md, "What is left").

The outbox (the buffers the call leaves for Python) is sized by Python before the
call, but how much the later steps move is known only inside it. So before each step
the call checks that the outbox and the calendar have room for that step's bound, and
if not it stops there and returns the step and the room it needs; Python files what
the call left, grows the outbox and calls again from that step. A step that moves
nothing is skipped, as the model skipped its call.
"""

from __future__ import annotations

import numpy as np

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels
from sim.kernel_calendar import C_USED
from sim.kernel_queues import serve_queues
from sim.kernel_stages import advance_due
from sim.kernel_state import K_BACKLOG, O_CLOSED

PASSES, QUEUES, PASSES_AGAIN = range(3)


@njit(cache=True)
def step_bound(S, step, day):
    """Entries a step may leave in any one buffer; 0 when it has nothing to move.

    Queue service takes at most what waits. A pass files each of its requests at most
    once, and a request passes through at most a few zero-day stages a day.
    """
    if step == QUEUES:
        return S.counters[K_BACKLOG] + S.counters[K_BACKLOG + 1] + S.counters[K_BACKLOG + 2]
    due = S.cal_count[day]
    return 8 * due + 64 if due > 0 else np.int64(0)


@njit(cache=True)
def has_room(S, needed):
    """Whether the outbox and the calendar can take ``needed`` more entries.

    The outbox's buffers have one size (:func:`sim.kernel_state.outbox`); the buffers
    each step refills (today's pass, the requests taken) start empty, and a segment of
    ended cases holds at least one case, so the ended cases are the one that fills up.
    """
    return (
        S.filed[O_CLOSED] + needed <= S.ended_cases.size
        and S.cal_meta[C_USED] + needed <= S.cal_ids.size
    )


@njit(cache=True)
def move_requests(S, R, n_agencies, day, first_step, last_step):
    """Run the steps ``first_step`` to ``last_step`` (PASSES, QUEUES, PASSES_AGAIN).

    Returns:
        ``(step, room)``: the step to run next and the room it needs, or
        ``(last_step + 1, 0)`` when every step ran.
    """
    for step in range(first_step, last_step + 1):
        needed = step_bound(S, np.int64(step), day)
        if needed == 0:
            continue
        if not has_room(S, needed):
            return np.int64(step), needed
        if step == QUEUES:
            serve_queues(S, R, n_agencies, day)
        else:
            advance_due(S, R, day)
    return np.int64(last_step + 1), np.int64(0)
