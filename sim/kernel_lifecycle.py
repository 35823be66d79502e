"""A request's passage between stages, compiled: scheduling, queueing, closing, trust.

The rules of :mod:`sim.lifecycle` as numba functions over the model's arrays, so that
the day's stage handlers (:mod:`sim.kernel_stages`) run as one compiled call instead
of a few thousand small numpy calls. The Python methods of
:class:`~sim.lifecycle.RequestLifecycle` call these same functions: there is one
implementation.

Arrays travel in named tuples (:mod:`sim.kernel_state`): ``L`` the ledger, ``C`` the
case book, ``W`` the world and the model's tables, ``T`` trust, ``A`` the agencies,
``P`` the scenario's numbers (float array, offsets in :mod:`sim.kernel_state`), ``K``
the model's counters and ``B`` the buffers of what the call leaves for Python to file (calendar
entries, queue arrivals, cases whose teams dissolve).

Every formula is written in the order of operations (and the float32 arithmetic) of
the vectorised code it replaced, so runs are the same draw for draw and bit for bit
(``benchmarks/identity.py``).
"""

from __future__ import annotations

import numpy as np

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels
from sim.kernel_calendar import file_entry
from sim.kernel_draws import standard_normal
from sim.kernel_pick import distinct, pick
from sim.kernel_state import (
    K_BACKLOG,
    K_OPEN,
    O_CLOSED,
    O_SEGMENTS,
    O_TODAY,
    P_DECISION_DEADLINE,
    P_DISCIPLINE,
    P_EXECUTION_DEADLINE,
    P_EXPECTED_RESPONSE,
    P_GAIN_ON_SUCCESS,
    P_LOSS_ON_LAPSE,
    P_LOSS_ON_REFUSAL,
    P_OPERATION_ON,
    P_SURRENDER_DEADLINE,
    P_SURRENDER_DEADLINE_CONSENT,
    P_TIMELINESS_WEIGHT,
    P_WINDOW_START,
    Q_DIRTY,
    Q_NEW,
    Q_SEQUENCE,
    TrustArrays,
)
from sim.kernel_trust import trust_apply, trust_get

# The enums' codes the kernels compare with (numba freezes plain integers into the
# machine code; it cannot read an IntEnum): sim.requests' Outcome, CaseStatus, Stage,
# Kind, Instrument and Channel, and sim.queues' roles. Defined once, in the kernel module
# every other one imports; tests/test_kernels.py checks each against its enum.
OPEN = 0
EXECUTED, REFUSED, LAPSED, WITHDRAWN = 1, 2, 3, 4
CASE_OPEN, RESOLVED, COLD, FAILED = 0, 1, 2, 3
CLOSED_STAGE = 11
MLA_EVIDENCE, EXTRADITION = 0, 1
MUTUAL_RECOGNITION = 3
JIT, CONTACT_POINT = 5, 6
CENTRAL_AUTHORITY, COURT, LAW_ENFORCEMENT = 0, 1, 2  # roles (sim.queues.ROLE_CODES)


# ---------------------------------------------------------------- numbers
@njit(cache=True)
def trust_arrays(S):
    """Trust's arrays, as :mod:`sim.kernel_trust` takes them."""
    return TrustArrays(
        S.trust_value,
        S.trust_last,
        S.trust_decay,
        S.trust_baseline,
        S.trust_own_decay,
        S.trust_sums,
        S.trust_keep,
    )


@njit(cache=True)
def noisy(rng, mean, sigma):
    """Lognormal durations with means ``mean`` (:func:`sim.durations.noisy_days`).

    A draw at a time: the draws of one call for them all, without its array.
    """
    bits = rng.bit_generator  # draws one at a time (sim.kernel_draws)
    out = np.empty(mean.size)
    for k in range(mean.size):
        s = sigma[k]
        out[k] = mean[k] * np.exp(s * standard_normal(bits) - 0.5 * s**2)
    return out


@njit(cache=True)
def whole_days(days):
    """:func:`sim.durations.to_whole_days` for one duration."""
    return np.int64(np.rint(max(days, 0.0)))


@njit(cache=True)
def room(buffer, needed):
    """Stop with an error, not a write past the end, if a buffer is too small (a bug)."""
    if needed > buffer.size:
        raise IndexError("a kernel's outbox is too small for what the call files")


@njit(cache=True)
def append(buffer, n, values):
    """Write ``values`` at ``buffer[n:]``; returns the new fill (buffers are sized ahead)."""
    for k in range(values.size):
        buffer[n + k] = values[k]
    return n + values.size


# ---------------------------------------------------------------- scheduling, queueing
@njit(cache=True)
def schedule(S, ids, stage, days, day):
    """Put live requests into ``stage`` until ``day + days`` (closed ones stay closed).

    Those due today go to the pass now running (``O_TODAY``) if there is one; the
    rest are filed in the calendar (:mod:`sim.kernel_calendar`), in filing order.
    """
    outcome, stage_column = S.outcome, S.stage
    today, filed = S.today, S.filed  # once, not per request: each read is a reference count
    cal_ids, cal_links, cal_meta, cal_count = S.cal_ids, S.cal_links, S.cal_meta, S.cal_count
    live = 0
    for k in range(ids.size):
        live += outcome[ids[k]] == OPEN
    room(today, max(filed[O_TODAY], 0) + live)
    for k in range(ids.size):
        r = ids[k]
        if outcome[r] != OPEN:  # closed earlier in the same decision: stays closed
            continue
        stage_column[r] = stage
        due = day + whole_days(days[k])
        if due == day and filed[O_TODAY] >= 0:
            today[filed[O_TODAY]] = r
            filed[O_TODAY] += 1
        else:
            file_entry(cal_ids, cal_links, cal_meta, cal_count, r, due)


@njit(cache=True)
def pool_add(S, request, agency, deadline_class, priority):
    """A new arrival; lower (deadline class, priority) is served first, ties in arrival order."""
    n = S.pool_counts[Q_NEW]
    S.pool_new_group[n] = agency * 2 + deadline_class
    S.pool_new_priority[n] = priority + 0.0  # -0.0 and 0.0 are the same priority
    S.pool_new_sequence[n] = S.pool_counts[Q_SEQUENCE]
    S.pool_new_ids[n] = request
    S.pool_new_agency[n] = agency
    S.pool_counts[Q_NEW] = n + 1
    S.pool_counts[Q_SEQUENCE] += 1


@njit(cache=True)
def _deadline_day(S, r, role, day):
    """:meth:`sim.lifecycle.RequestLifecycle._deadline_day` for one request."""
    if S.instrument[r] != MUTUAL_RECOGNITION:
        return float(day)
    if role == LAW_ENFORCEMENT:
        return float(S.t_decided[r] + S.params[P_EXECUTION_DEADLINE])
    if S.kind[r] == EXTRADITION:
        if S.consent[r]:
            limit = S.params[P_SURRENDER_DEADLINE_CONSENT]
        else:
            limit = S.params[P_SURRENDER_DEADLINE]
    else:
        limit = S.params[P_DECISION_DEADLINE]
    return float(S.t_received[r] + limit)


@njit(cache=True)
def enqueue(S, ids, agencies, stage, role, day):
    """Put live requests in their agencies' queues, first or after the rest.

    Requests under a deadline (mutual recognition), urgent ones (24/7 contact
    points), team work and a running operation's work go before the rest; among
    those the earliest deadline goes first.
    """
    discipline = S.params[P_DISCIPLINE]
    trust = trust_arrays(S)  # once: each read of the struct's fields counts references
    pushed = 0
    for k in range(ids.size):
        r = ids[k]
        if S.outcome[r] != OPEN:
            continue
        agency = agencies[k]
        S.stage[r] = stage
        S.queue_agency[r] = agency
        channel = S.channel[r]
        first = S.instrument[r] == MUTUAL_RECOGNITION or channel == CONTACT_POINT or channel == JIT
        if S.params[P_OPERATION_ON] != 0.0 and not first:
            a, b, case = S.requesting_state[r], S.requested_state[r], S.case[r]
            first = (
                S.op_participant[S.case_origin[case]]
                and S.op_targeted[S.case_type[case]]
                and S.op_participant[b]
                and S.op_participant[a]
            )
        if first:
            priority = _deadline_day(S, r, role, day)
        elif discipline == 1.0:  # severity
            priority = -np.float64(S.severity[r])
        elif discipline == 2.0:  # reciprocity
            priority = -trust_get(trust, S.requested_state[r], S.requesting_state[r], day)
        else:  # fifo
            priority = float(day)
        pool_add(S, r, agency, np.int64(0 if first else 1), priority)
        S.waiting[agency] += 1
        if day >= S.params[P_WINDOW_START]:
            S.arrived[agency] += 1
        pushed += 1
        S.counters[K_BACKLOG + role] += 1
    return pushed


# ---------------------------------------------------------------- closing
@njit(cache=True)
def timeliness(response_days, expected, weight):
    """:func:`sim.durations.timeliness_factor` for one answer."""
    lateness = response_days / expected
    return max(1.0 + weight * (1.0 - lateness**2), 0.0)


@njit(cache=True)
def _mark_closed(S, ids, outcome, ground, day):
    """Record the outcome of the still-open ``ids``; returns them."""
    mask = np.zeros(ids.size, dtype=np.bool_)
    for k in range(ids.size):
        mask[k] = S.outcome[ids[k]] == OPEN
    ids = pick(ids, mask)
    for r in ids:
        agency = S.queue_agency[r]
        if agency >= 0:
            # Closed in place: the pool drops it at its next service.
            S.waiting[agency] -= 1
            role = S.role[agency]
            S.counters[K_BACKLOG + role] -= 1
            S.pool_counts[Q_DIRTY] = 1
        S.queue_agency[r] = -1
        S.outcome[r] = outcome
        S.refusal_ground[r] = ground
        S.stage[r] = CLOSED_STAGE
        S.t_closed[r] = day
    S.counters[outcome - 1] += ids.size
    return ids


@njit(cache=True)
def _states(S, ids):
    requesting = np.empty(ids.size, dtype=np.int64)
    requested = np.empty(ids.size, dtype=np.int64)
    for k in range(ids.size):
        requesting[k] = S.requesting_state[ids[k]]
        requested[k] = S.requested_state[ids[k]]
    return requesting, requested


# inline="always": one caller, so no separate compile (see sim/kernel_stages.py).
@njit(cache=True, inline="always")
def _blame_lapses(S, ids, day):
    """Only a partner that had the request and had not yet answered it is blamed."""
    requesting, requested = _states(S, ids)
    reached = np.zeros(ids.size, dtype=np.bool_)
    for k in range(ids.size):
        reached[k] = S.t_received[ids[k]] >= 0 and S.t_executed[ids[k]] < 0
    a, b = pick(requesting, reached), pick(requested, reached)
    rate = np.full(a.size, S.params[P_LOSS_ON_LAPSE])
    trust_apply(trust_arrays(S), a, b, rate, day, np.bool_(False))


@njit(cache=True)
def close(S, ids, outcome, ground, day):
    """Give requests their one final outcome and apply its consequences."""
    ids = _mark_closed(S, ids, outcome, ground, day)
    n = ids.size
    if n == 0:
        return
    requesting, requested = _states(S, ids)
    if outcome == EXECUTED:
        # Faster (and steadier) answers build more trust than slow ones.
        rate = np.empty(n)
        for k in range(n):
            factor = timeliness(
                float(day - S.t_issued[ids[k]]),
                S.params[P_EXPECTED_RESPONSE],
                S.params[P_TIMELINESS_WEIGHT],
            )
            rate[k] = S.params[P_GAIN_ON_SUCCESS] * factor
        trust_apply(trust_arrays(S), requesting, requested, rate, day, np.bool_(True))
        case_progress(S, ids, day)
    elif outcome == REFUSED:
        trust_apply(
            trust_arrays(S),
            requesting,
            requested,
            np.full(n, S.params[P_LOSS_ON_REFUSAL]),
            day,
            np.bool_(False),
        )
        cases = np.empty(n, dtype=np.int64)
        for k in range(n):
            cases[k] = S.case[ids[k]]
        end_cases(S, cases, np.int64(FAILED), day)
    elif outcome == LAPSED:
        _blame_lapses(S, ids, day)


@njit(cache=True)
def _teams_dissolve(S, cases):
    """Record the ended cases, a segment per call, for their teams (sim.kernel_teams)."""
    n = S.filed[O_CLOSED]
    room(S.ended_cases, n + cases.size)
    S.filed[O_CLOSED] = append(S.ended_cases, n, cases)
    segment = S.filed[O_SEGMENTS]
    S.ended_segments[segment] = S.filed[O_CLOSED]
    S.filed[O_SEGMENTS] = segment + 1


@njit(cache=True, inline="always")
def case_progress(S, ids, day):
    """Count executed requests towards their cases; resolve the cases that have all."""
    cases = np.empty(ids.size, dtype=np.int64)
    for k in range(ids.size):
        cases[k] = S.case[ids[k]]
        S.case_received[cases[k]] += 1
    # The cases that have all they need, each once, in case order. Few do on a day:
    # they are picked before the sort, which is then short.
    done = np.zeros(ids.size, dtype=np.bool_)
    for k in range(ids.size):
        c = cases[k]
        done[k] = S.case_status[c] == CASE_OPEN and S.case_received[c] >= S.case_needed[c]
    resolved = distinct(pick(cases, done))
    if resolved.size:
        for c in resolved:
            S.case_status[c] = RESOLVED
        S.counters[K_OPEN] -= resolved.size
        _teams_dissolve(S, resolved)


@njit(cache=True, entry=True)
def request_ids(first, count, extras, cases):
    """Every request of the given cases (:meth:`sim.requests.CaseBook.request_ids`).

    Each case's run of consecutive ids, case by case; then the later ones of the cases
    that have any, by case (sorted) and in the order they came: ``extras`` is the case
    book's ``(extra_first, extra_next, extra_request)``, a linked list per case.
    """
    extra_first, extra_next, extra_request = extras
    total, any_extra = 0, False
    for c in cases:
        total += count[c]
        any_extra |= extra_first[c] >= 0
    with_more = distinct(cases) if any_extra else np.empty(0, dtype=np.int64)
    for c in with_more:
        e = extra_first[c]
        while e >= 0:
            total += 1
            e = extra_next[e]
    out = np.empty(total, dtype=np.int64)
    n = 0
    for c in cases:
        for k in range(count[c]):
            out[n] = first[c] + k
            n += 1
    for c in with_more:
        e = extra_first[c]
        while e >= 0:
            out[n] = extra_request[e]
            n += 1
            e = extra_next[e]
    return out


@njit(cache=True)
def end_cases(S, cases, status, day):
    """Close open cases; their requests still open lapse (cold) or are withdrawn."""
    outcome = LAPSED if status == COLD else WITHDRAWN
    still = np.zeros(cases.size, dtype=np.bool_)
    for k in range(cases.size):
        still[k] = S.case_status[cases[k]] == CASE_OPEN
    unique = distinct(pick(cases, still))
    if unique.size == 0:
        return
    for c in unique:
        S.case_status[c] = status
    S.counters[K_OPEN] -= unique.size
    _teams_dissolve(S, unique)
    # Withdrawn and lapsed requests end no further case (so no recursion into close).
    extras = (S.case_extra_first, S.case_extra_next, S.case_extra_request)
    ids = request_ids(S.case_first, S.case_count, extras, unique)
    ids = _mark_closed(S, ids, outcome, np.int64(0), day)
    if outcome == LAPSED and ids.size:
        _blame_lapses(S, ids, day)
