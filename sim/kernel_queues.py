"""Queues and their service, compiled: every agency's waiting requests in one sorted pool.

Entries are kept sorted by (agency and deadline class, priority, arrival sequence), so
each agency's next requests are the first entries of its block; the day's arrivals
wait beside the pool and are merged in at the next service, and requests that close
while waiting are dropped then. A day costs what arrives and what leaves plus one
pass over what waits. The order is that of the reference agency,
:meth:`sim.agents.Agency.take_today` (``tests/test_queue_reference.py``).
"""

from __future__ import annotations

import numpy as np

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels
from sim.kernel_lifecycle import (
    CENTRAL_AUTHORITY,
    COURT,
    EXTRADITION,
    MUTUAL_RECOGNITION,
    OPEN,
    noisy,
    room,
    schedule,
)
from sim.kernel_pick import group_by, insertion_order, pick_equal
from sim.kernel_prefetch import AHEAD_IN_SHORT_LOOPS, prefetch
from sim.kernel_rules import procedure_clarity
from sim.kernel_state import (
    K_BACKLOG,
    O_TAKEN,
    P_COERCIVE_ORDER_DAYS,
    P_CONSENT_FACTOR,
    P_EVIDENCE_DAYS,
    P_EXTRADITION_DAYS,
    P_HEARING_DAYS,
    P_MR_REVIEW_DAYS,
    P_MR_SURRENDER_DAYS,
    P_NOISE_SIGMA,
    P_NSC_NOISE_FACTOR,
    P_NSC_SPEED_FACTOR,
    P_SERVICE_DAYS,
    P_SKILL_SPEED_EFFECT,
    P_SURRENDER_DAYS,
    Q_DIRTY,
    Q_NEW,
    Q_SIZE,
)

NEXT_STAGE = (3, 7, 9)  # REVIEW, JUDICIAL, EXECUTION after each family's queue


@njit(cache=True, inline="always")
def pool_columns(S):
    """The pool's entries' columns: group, priority, sequence, request id, agency."""
    return S.pool_group, S.pool_priority, S.pool_sequence, S.pool_ids, S.pool_agency


@njit(cache=True, inline="always")
def arrival_columns(S):
    """The arrivals' columns, in the order of :func:`pool_columns`."""
    return (
        S.pool_new_group,
        S.pool_new_priority,
        S.pool_new_sequence,
        S.pool_new_ids,
        S.pool_new_agency,
    )


# The columns are taken from the struct once per call, not at each entry: every read of
# a struct's field counts a reference to its array, which costs more than the move.
@njit(cache=True, inline="always")
def _before(new, j, pool, i):
    """Whether arrival ``j`` goes before entry ``i`` (keys are unique)."""
    if new[0][j] != pool[0][i]:
        return new[0][j] < pool[0][i]
    if new[1][j] != pool[1][i]:
        return new[1][j] < pool[1][i]
    return new[2][j] < pool[2][i]


@njit(cache=True, inline="always")
def _move(to_columns, to, from_columns, source):
    """Copy entry ``source`` of ``from_columns`` to row ``to`` of ``to_columns``."""
    group, priority, sequence, ids, agency = to_columns
    group[to] = from_columns[0][source]
    priority[to] = from_columns[1][source]
    sequence[to] = from_columns[2][source]
    ids[to] = from_columns[3][source]
    agency[to] = from_columns[4][source]


@njit(cache=True)
def stable_order(major, minor):
    """Indices that sort by (``major``, ``minor``), equal pairs in their given order.

    The order of ``np.lexsort((minor, major))`` for ``major`` in ``0..`` (the pool's
    groups): a counting sort by ``major`` (:func:`sim.kernel_pick.group_by`), which
    keeps the given order, then each group sorted by ``minor`` in place, stably: runs
    of 16 by insertion here, then merged bottom-up (:func:`_merge_runs`). Several times
    cheaper to compile than numba's argsort, and each group's sort is as small as the
    group. Most groups hold at most 16 arrivals and are sorted without a call: each
    call counts a reference to its three arrays, in and out.
    """
    m = major.size
    if m == 0:
        return np.empty(0, dtype=np.int64)
    order, start = group_by(np.arange(m), major, major.max() + 1)
    buffer = np.empty(m, dtype=np.int64)
    for g in range(start.size - 1):
        lo, hi = start[g], start[g + 1]
        for run in range(lo, hi, 16):
            insertion_order(order, minor, run, min(run + 16, hi))
        if hi - lo > 16:
            _merge_runs(order, buffer, minor, lo, hi)
    return order


@njit(cache=True)
def _merge_runs(order, buffer, minor, lo, hi):
    """Merge the sorted runs of 16 of ``order[lo:hi]`` (by ``minor``) into one, stably.

    Bottom-up through ``buffer`` (room as long), the passes alternating between the
    two by calling :func:`_merge_pass` with them swapped: swapping two array variables
    instead costs numba a reference count each time.
    """
    width = 16
    in_buffer = False
    while width < hi - lo:
        if in_buffer:
            _merge_pass(buffer, order, minor, lo, hi, width)
        else:
            _merge_pass(order, buffer, minor, lo, hi, width)
        in_buffer = not in_buffer
        width *= 2
    if in_buffer:
        for k in range(lo, hi):
            order[k] = buffer[k]


@njit(cache=True)
def _merge_pass(source, target, minor, lo, hi, width):
    """Merge the sorted runs of ``width`` of ``source[lo:hi]`` in pairs into ``target``."""
    for left in range(lo, hi, 2 * width):
        mid, right = min(left + width, hi), min(left + 2 * width, hi)
        i, j = left, mid
        for k in range(left, right):
            if j >= right or (i < mid and minor[source[i]] <= minor[source[j]]):
                target[k] = source[i]
                i += 1
            else:
                target[k] = source[j]
                j += 1


@njit(cache=True)
def _permute(values, order):
    """Put the first ``order.size`` values in ``order``, in place."""
    old = values[: order.size].copy()
    for k in range(order.size):
        values[k] = old[order[k]]


# inline="always": one caller, so no separate compile (see sim/kernel_stages.py).
@njit(cache=True, inline="always")
def pool_merge(S):
    """Merge the arrivals into the sorted entries."""
    m = S.pool_counts[Q_NEW]
    if m == 0:
        return
    # Arrivals come in sequence order: a stable sort by (group, priority) gives the key.
    order = stable_order(S.pool_new_group[:m], S.pool_new_priority[:m])
    _permute(S.pool_new_group, order)
    _permute(S.pool_new_priority, order)
    _permute(S.pool_new_sequence, order)
    _permute(S.pool_new_ids, order)
    _permute(S.pool_new_agency, order)
    # Merge from the back (the larger key first), so each entry moves at most once.
    pool, new = pool_columns(S), arrival_columns(S)
    n = S.pool_counts[Q_SIZE]
    i, j, to = n - 1, m - 1, n + m - 1
    while j >= 0:
        if i >= 0 and _before(new, j, pool, i):
            _move(pool, to, pool, i)
            i -= 1
        else:
            _move(pool, to, new, j)
            j -= 1
        to -= 1
    S.pool_counts[Q_SIZE] = n + m
    S.pool_counts[Q_NEW] = 0


@njit(cache=True, inline="always")
def pool_purge(S):
    """Drop entries whose request closed while waiting."""
    n, kept = S.pool_counts[Q_SIZE], np.int64(0)
    pool, outcome = pool_columns(S), S.outcome
    for k in range(n):
        if outcome[pool[3][k]] == OPEN:
            if kept != k:
                _move(pool, kept, pool, k)
            kept += 1
    S.pool_counts[Q_SIZE] = kept
    S.pool_counts[Q_DIRTY] = 0


@njit(cache=True, inline="always")
def service_days(S, rng, role, ids, agencies):
    """How long each request occupies the agency that just took it (noisy)."""
    n = ids.size
    mean = np.empty(n)
    sigma = np.full(n, S.params[P_NOISE_SIGMA])
    effect = S.params[P_SKILL_SPEED_EFFECT]
    for k in range(n):
        r, agency = ids[k], agencies[k]
        mr = S.instrument[r] == MUTUAL_RECOGNITION
        extradition = S.kind[r] == EXTRADITION
        # At the default effect (1) an office of skill 1 takes half the mean time and
        # one of skill 0 one and a half times it.
        slowness = (1.0 + 0.5 * effect) - effect * S.skill[agency]
        if role == CENTRAL_AUTHORITY:
            mean[k] = (S.params[P_MR_REVIEW_DAYS] if mr else S.params[P_SERVICE_DAYS]) * slowness
            # Clear procedures make the review of security requests more consistent.
            sigma[k] = S.params[P_NOISE_SIGMA] * (1.0 - procedure_clarity(S, r))
        elif role == COURT:
            consent = S.params[P_CONSENT_FACTOR] if S.consent[r] else 1.0
            if extradition:
                days = S.params[P_EXTRADITION_DAYS] * consent
            else:
                days = S.params[P_COERCIVE_ORDER_DAYS]
            nsc = S.nsc[agency]
            if nsc and S.security_case[r]:
                days = days * S.params[P_NSC_SPEED_FACTOR]
            if mr and extradition:  # the hearing is the recognition of a warrant
                days = S.params[P_HEARING_DAYS] * consent
            mean[k] = days * slowness
            if nsc:
                sigma[k] = S.params[P_NOISE_SIGMA] * S.params[P_NSC_NOISE_FACTOR]
        else:
            surrender = S.params[P_MR_SURRENDER_DAYS] if mr else S.params[P_SURRENDER_DAYS]
            mean[k] = (surrender if extradition else S.params[P_EVIDENCE_DAYS]) * slowness
    return noisy(rng, mean, sigma)


@njit(cache=True, inline="always")
def _take(S, busy, counts):
    """Remove the first ``counts[k]`` entries of each agency ``busy[k]`` (increasing)."""
    total = counts.sum()
    ids = np.empty(total, dtype=np.int64)
    agencies = np.empty(total, dtype=np.int64)
    n, taken, kept, k = S.pool_counts[Q_SIZE], 0, np.int64(0), 0
    pool = pool_columns(S)
    pool_ids, pool_agency = pool[3], pool[4]
    row = np.int64(0)
    while row < n:
        agency = pool_agency[row]
        while k < busy.size and busy[k] < agency:
            k += 1
        if k < busy.size and busy[k] == agency:
            end = row
            while end < n and pool_agency[end] == agency:
                end += 1
            for q in range(row, end):
                if q - row < counts[k]:
                    ids[taken] = pool_ids[q]
                    agencies[taken] = agency
                    taken += 1
                else:
                    _move(pool, kept, pool, q)
                    kept += 1
            row = end
        else:
            if kept != row:  # entries before the first taken one stay where they are
                _move(pool, kept, pool, row)
            kept += 1
            row += 1
    S.pool_counts[Q_SIZE] = kept
    return ids, agencies


@njit(cache=True)
def serve_queues(S, R, n_agencies, day):
    """Every agency with waiting work takes as many requests as its capacity allows.

    The rule of :meth:`sim.agents.Agency.take_today` for all agencies at once, family
    by family: capacity accumulates as credit (only the fraction of a request left
    over carries to the next day; an idle agency banks nothing), and each agency
    takes the first live requests of its queue. Service times draw from ``R.model``
    (:class:`~sim.kernel_struct.Streams`).
    """
    rng = R.model
    serving = np.zeros(3, dtype=np.bool_)  # the families with waiting requests (3: none)
    for role in range(3):
        serving[role] = S.counters[K_BACKLOG + role] != 0
    if not (serving[0] or serving[1] or serving[2]):
        return
    pool_merge(S)
    if S.pool_counts[Q_DIRTY]:
        pool_purge(S)
    # Every family's agencies take in one pass over the pool: a family's service moves
    # no request into another's queue the same day (it schedules, it does not
    # enqueue), so this takes what one pass a family took, and the draws below come
    # family by family, in the same order.
    waiting, role_of, credits = S.waiting, S.role, S.credit
    n_busy = 0
    for a in range(n_agencies):
        n_busy += waiting[a] > 0 and role_of[a] < 3 and serving[role_of[a]]
    busy = np.empty(n_busy, dtype=np.int64)
    counts = np.empty(n_busy, dtype=np.int64)
    k = 0
    for a in range(n_agencies):
        if waiting[a] > 0 and role_of[a] < 3 and serving[role_of[a]]:
            credit = credits[a] % 1.0 + S.capacity[a]
            count = min(np.int64(np.floor(credit)), waiting[a])
            credits[a] = credit - count
            S.effort[a] += count
            waiting[a] -= count
            busy[k], counts[k] = a, count
            k += 1
    if counts.sum() == 0:
        return
    taken, taken_by = _take(S, busy, counts)
    taken_role = np.empty(taken.size, dtype=np.int64)
    for q in range(taken.size):
        taken_role[q] = role_of[taken_by[q]]
    for role in range(3):
        ids = pick_equal(taken, taken_role, role)
        agencies = pick_equal(taken_by, taken_role, role)
        if ids.size == 0:
            continue
        S.counters[K_BACKLOG + role] -= ids.size
        room(S.taken_ids, S.filed[O_TAKEN] + ids.size)
        for q in range(ids.size):
            if q + AHEAD_IN_SHORT_LOOPS < ids.size:  # the rows of requests far apart
                prefetch(S.queue_agency, ids[q + AHEAD_IN_SHORT_LOOPS])
            S.queue_agency[ids[q]] = -1
            S.taken_ids[S.filed[O_TAKEN] + q] = ids[q]
            S.taken_agency[S.filed[O_TAKEN] + q] = agencies[q]
        S.filed[O_TAKEN] += ids.size
        days = service_days(S, rng, np.int64(role), ids, agencies)
        schedule(S, ids, np.int64(NEXT_STAGE[role]), days, day)
