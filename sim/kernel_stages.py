"""Processes 3-7 compiled: the day's passes over the requests whose stage ends today.

:func:`advance_due` (called by :func:`sim.kernel_day.run_day`) takes the requests
the calendar gives for today, groups them by stage and runs each stage's handler, then
the requests those handlers filed for today (zero-day stages), until none is left.
The handlers are the rules of the design's processes 3-7 (transmission, the central
authority's review, the judicial stage, execution and the response) over the arrays
of :mod:`sim.kernel_state`; the friction formulas are those of :mod:`sim.frictions`
for one request, in the same order of operations, and the draws are taken from the
model's generator in the order the vectorised handlers took them (a whole batch's
clarification draws, then its grounds request by request, then its sovereignty
draws), so runs are unchanged draw for draw.

The handlers are ``inline="always"``: each has one caller, and numba would otherwise
compile each on its own and then again inside :func:`advance_due` (about 6 s of the
compile; docs/compiled_pipeline.md, "Compile and load").
"""

from __future__ import annotations

import numpy as np

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels
from sim.kernel_calendar import take
from sim.kernel_draws import uniform
from sim.kernel_lifecycle import (
    CENTRAL_AUTHORITY,
    COURT,
    EXECUTED,
    EXTRADITION,
    JIT,
    LAW_ENFORCEMENT,
    MUTUAL_RECOGNITION,
    OPEN,
    REFUSED,
    close,
    enqueue,
    noisy,
    schedule,
    trust_arrays,
)
from sim.kernel_pick import group_by, pick, pick_equal, pick_not
from sim.kernel_prefetch import AHEAD, AHEAD_IN_SHORT_LOOPS, prefetch, prefetch_pair
from sim.kernel_rules import (
    clarification_probability,
    first_grounds,
    prefetch_clarification,
    rights_gap,
)
from sim.kernel_state import (
    K_CLARIFICATION_ROUNDS,
    K_ISSUED,
    O_TODAY,
    P_CLARIFICATION_DAYS,
    P_HUMAN_RIGHTS_REFUSAL,
    P_LOSS_ON_CLARIFICATION,
    P_MAX_CLARIFICATION_ROUNDS,
    P_NOISE_SIGMA,
    P_SOVEREIGNTY_DELAY,
    P_SOVEREIGNTY_DELAY_DAYS,
    P_SOVEREIGNTY_REFUSAL,
)
from sim.kernel_teams import give_back_capacity
from sim.kernel_trust import prefetch_trust, trust_apply, trust_get

# Stage codes (sim.requests.Stage).
DRAFTING, TRANSMISSION, REVIEW_QUEUE, REVIEW, CLARIFICATION = 0, 1, 2, 3, 4
DELIBERATE_DELAY, JUDICIAL_QUEUE, JUDICIAL, EXECUTION_QUEUE, EXECUTION, RESPONSE = range(5, 11)
N_STAGES = 12
FORM_DEFECT, SOVEREIGNTY, HUMAN_RIGHTS = 7, 6, 4
N_GROUND_CODES = 12


@njit(cache=True)
def _sigmas(S, n):
    return np.full(n, S.params[P_NOISE_SIGMA])


@njit(cache=True)
def _transmission(S, ids):
    days = np.empty(ids.size)
    for k in range(ids.size):
        days[k] = S.channel_days[S.channel[ids[k]]]
    return days


@njit(cache=True)
def requested_agency(S, agency_of, ids):
    """Each request's agency in its requested state (``agency_of``: one per state)."""
    agencies = np.empty(ids.size, dtype=np.int64)
    for k in range(ids.size):
        agencies[k] = agency_of[S.requested_state[ids[k]]]
    return agencies


@njit(cache=True)
def to_law_enforcement(S, ids, day):
    """Queue requests for execution by the law enforcement of their requested state."""
    agencies = requested_agency(S, S.le_of, ids)
    enqueue(S, ids, agencies, np.int64(EXECUTION_QUEUE), np.int64(LAW_ENFORCEMENT), day)


@njit(cache=True, inline="always")
def transmit(S, rng, ids, day):
    """Process 3: a drafted (or clarified) request leaves; team evidence goes straight to work."""
    for r in ids:
        if S.t_issued[r] < 0:
            S.t_issued[r] = day
            S.counters[K_ISSUED] += 1
    team = np.zeros(ids.size, dtype=np.bool_)
    for k in range(ids.size):
        team[k] = S.channel[ids[k]] == JIT
    if team.any():
        # Evidence moves inside the team: no central authority, no review.
        direct = pick(ids, team)
        for r in direct:
            S.t_received[r] = day
            S.t_decided[r] = day
        to_law_enforcement(S, direct, day)
        ids = pick_not(ids, team)
    days = noisy(rng, _transmission(S, ids), _sigmas(S, ids.size))
    schedule(S, ids, np.int64(TRANSMISSION), days, day)


@njit(cache=True)
def _is_warrant(S, r):
    return S.instrument[r] == MUTUAL_RECOGNITION and S.kind[r] == EXTRADITION


@njit(cache=True, inline="always")
def arrive(S, rng, ids, day):
    """A request reaches the requested state: its central authority's queue (warrants: a court)."""
    for r in ids:
        if S.t_received[r] < 0:
            S.t_received[r] = day
    # A mutual-recognition warrant goes straight to the executing judicial authority.
    warrant = np.zeros(ids.size, dtype=np.bool_)
    for k in range(ids.size):
        warrant[k] = _is_warrant(S, ids[k])
    if warrant.any():
        route_after_review(S, rng, pick(ids, warrant), day)
        ids = pick_not(ids, warrant)
    enqueue(
        S,
        ids,
        requested_agency(S, S.ca_of, ids),
        np.int64(REVIEW_QUEUE),
        np.int64(CENTRAL_AUTHORITY),
        day,
    )


@njit(cache=True, inline="always")
def close_by_ground(S, ids, ground, day):
    """Refuse the requests a ground fired for, ground by ground in code order."""
    grouped, start = group_by(ids, ground, np.int64(N_GROUND_CODES))
    for code in range(1, N_GROUND_CODES):
        hit = grouped[start[code] : start[code + 1]]
        if hit.size:
            close(S, hit, np.int64(REFUSED), code, day)


@njit(cache=True, inline="always")
def review_decision(S, rng, ids, day):
    """Process 4: clarification, the legal grounds, then the sovereignty check."""
    bits = rng.bit_generator  # draws one at a time (sim.kernel_draws)
    n = ids.size
    clarify = np.empty(n, dtype=np.bool_)
    p = np.empty(n)
    for k in range(n):
        if k + AHEAD < n:  # the pair's frictions, far apart in their matrices
            prefetch_clarification(S, ids[k + AHEAD])
        p[k] = clarification_probability(S, ids[k])
    for k in range(n):
        clarify[k] = uniform(bits) < p[k]
    # A misunderstanding costs the requesting state's trust in its partner a little.
    asked = pick(ids, clarify)
    a = np.empty(asked.size, dtype=np.int64)
    b = np.empty(asked.size, dtype=np.int64)
    for k in range(asked.size):
        a[k], b[k] = S.requesting_state[asked[k]], S.requested_state[asked[k]]
    trust_apply(
        trust_arrays(S),
        a,
        b,
        np.full(asked.size, S.params[P_LOSS_ON_CLARIFICATION]),
        day,
        np.bool_(False),
    )
    exhausted = np.zeros(n, dtype=np.bool_)
    again = np.zeros(n, dtype=np.bool_)
    for k in range(n):
        exhausted[k] = (
            clarify[k] and S.clarification_rounds[ids[k]] >= S.params[P_MAX_CLARIFICATION_ROUNDS]
        )
        again[k] = clarify[k] and not exhausted[k]
    close(S, pick(ids, exhausted), np.int64(REFUSED), np.int64(FORM_DEFECT), day)
    back = pick(ids, again)
    mean = np.empty(back.size)
    for k in range(back.size):
        r = back[k]
        S.clarification_rounds[r] += 1
        mean[k] = S.params[P_CLARIFICATION_DAYS] + S.channel_days[S.channel[r]]
    S.counters[K_CLARIFICATION_ROUNDS] += back.size
    schedule(S, back, np.int64(CLARIFICATION), noisy(rng, mean, _sigmas(S, back.size)), day)
    ids = pick_not(ids, clarify)
    mr = np.empty(ids.size, dtype=np.bool_)
    for k in range(ids.size):
        mr[k] = S.instrument[ids[k]] == MUTUAL_RECOGNITION
    ground = first_grounds(S, rng, ids, mr)
    close_by_ground(S, ids, ground, day)
    ids, mr = pick_equal(ids, ground, np.int64(0)), pick_equal(mr, ground, np.int64(0))
    # Sovereignty (frictions.sovereignty_score): no political review under mutual recognition.
    m = ids.size
    score = np.empty(m)
    trust = trust_arrays(S)  # once: each read of the struct's fields counts references
    for k in range(m):
        if k + AHEAD < m:  # the requested state's trust in the requesting one, relations
            ahead = ids[k + AHEAD]
            a, b = S.requesting_state[ahead], S.requested_state[ahead]
            prefetch_trust(trust, b, a)
            prefetch_pair(S.relations, a, b)
        r = ids[k]
        a_k, b_k = S.requesting_state[r], S.requested_state[r]
        s = (
            np.float64(S.political_sensitivity[r])
            * S.sovereignty[b_k]
            * (1.0 - trust_get(trust, b_k, a_k, day))
            * (1.0 - S.relations[a_k, b_k])
        )
        score[k] = min(max(s, 0.0), 1.0) * (0.0 if mr[k] else 1.0)
    refuse = np.empty(m, dtype=np.bool_)
    for k in range(m):
        refuse[k] = uniform(bits) < S.params[P_SOVEREIGNTY_REFUSAL] * score[k]
    close(S, pick(ids, refuse), np.int64(REFUSED), np.int64(SOVEREIGNTY), day)
    delay = np.empty(m, dtype=np.bool_)
    onward = np.empty(m, dtype=np.bool_)
    for k in range(m):
        delay[k] = uniform(bits) < S.params[P_SOVEREIGNTY_DELAY] * score[k]
        delay[k] = delay[k] and not refuse[k]
        onward[k] = not refuse[k] and not delay[k]
        if not refuse[k]:
            S.t_decided[ids[k]] = day
    delayed = pick(ids, delay)
    mean = np.full(delayed.size, S.params[P_SOVEREIGNTY_DELAY_DAYS])
    schedule(
        S, delayed, np.int64(DELIBERATE_DELAY), noisy(rng, mean, _sigmas(S, delayed.size)), day
    )
    route_after_review(S, rng, pick(ids, onward), day)


@njit(cache=True, inline="always")
def route_after_review(S, rng, ids, day):
    """Extraditions and coercive measures go to a court; the rest to law enforcement."""
    judicial = np.empty(ids.size, dtype=np.bool_)
    for k in range(ids.size):
        judicial[k] = S.kind[ids[k]] == EXTRADITION or S.coercive[ids[k]]
    to_court = pick(ids, judicial)
    courts = np.empty(to_court.size, dtype=np.int64)
    for k in range(to_court.size):
        r = to_court[k]
        b = S.requested_state[r]
        nsc = S.nsc_of[b]
        courts[k] = nsc if (S.security_case[r] and nsc >= 0) else S.court_of[b]
    enqueue(S, to_court, courts, np.int64(JUDICIAL_QUEUE), np.int64(COURT), day)
    rest = pick_not(ids, judicial)
    to_law_enforcement(S, rest, day)


@njit(cache=True, inline="always")
def judicial_decision(S, rng, ids, day):
    """Process 5: the court's decision.

    A mutual-recognition warrant reaches the executing court directly, so the court
    checks the non-execution grounds the instrument keeps; for the rest, the court
    may refuse an extradition on human-rights grounds.
    """
    bits = rng.bit_generator  # draws one at a time (sim.kernel_draws)
    n = ids.size
    warrant = np.empty(n, dtype=np.bool_)
    for k in range(n):
        warrant[k] = _is_warrant(S, ids[k])
    if warrant.any():
        w_ids = pick(ids, warrant)
        ground = first_grounds(S, rng, w_ids, np.ones(w_ids.size, dtype=np.bool_))
        close_by_ground(S, w_ids, ground, day)
    refuse = np.empty(n, dtype=np.bool_)
    for k in range(n):
        r = ids[k]
        extradition = 1.0 if S.kind[r] == EXTRADITION else 0.0
        gap = rights_gap(S, S.requesting_state[r], S.requested_state[r])
        p = S.params[P_HUMAN_RIGHTS_REFUSAL] * extradition * gap
        refuse[k] = (uniform(bits) < p) and not warrant[k]
    close(S, pick(ids, refuse), np.int64(REFUSED), np.int64(HUMAN_RIGHTS), day)
    going = np.empty(n, dtype=np.bool_)
    for k in range(n):
        going[k] = not refuse[k] and S.outcome[ids[k]] == OPEN
    ids = pick(ids, going)
    for r in ids:
        S.t_judicial[r] = day
        if S.t_decided[r] < 0:  # warrants: the court's decision is the decision
            S.t_decided[r] = day
    to_law_enforcement(S, ids, day)


@njit(cache=True, inline="always")
def respond(S, rng, ids, day):
    """Process 7: the executed request's answer travels back."""
    for r in ids:
        S.t_executed[r] = day
    days = noisy(rng, _transmission(S, ids), _sigmas(S, ids.size))
    schedule(S, ids, np.int64(RESPONSE), days, day)


# The handlers' fixed order (each takes its stage's requests of the pass).
HANDLER_ORDER = np.array(
    [
        DRAFTING,
        CLARIFICATION,
        TRANSMISSION,
        REVIEW,
        DELIBERATE_DELAY,
        JUDICIAL,
        EXECUTION,
        RESPONSE,
    ],
    dtype=np.int64,
)


@njit(cache=True)
def advance_due(S, R, day):
    """Move every request whose stage ends today, stage by stage in a fixed order.

    The first pass takes today's requests from the calendar (:mod:`sim.kernel_calendar`);
    zero-day stages file requests for today again: they form the next pass. The teams
    of the cases that ended give their members' capacity back at the end. ``R`` is
    the model's :class:`~sim.kernel_struct.Streams`; the stages draw from its ``model``.
    """
    rng = R.model
    ids = take(S.cal_ids, S.cal_links, S.cal_meta, S.cal_count, day)
    while ids.size:
        live = np.empty(ids.size, dtype=np.bool_)
        for k in range(ids.size):
            if k + AHEAD_IN_SHORT_LOOPS < ids.size:  # the first read of each row today
                prefetch(S.outcome, ids[k + AHEAD_IN_SHORT_LOOPS])
            live[k] = S.outcome[ids[k]] == OPEN
        ids = pick(ids, live)
        # Every group is taken from this snapshot of the stages, in batch order.
        stage = np.empty(ids.size, dtype=np.int64)
        for k in range(ids.size):
            stage[k] = S.stage[ids[k]]
        S.filed[O_TODAY] = 0
        grouped, start = group_by(ids, stage, np.int64(N_STAGES))
        for code in HANDLER_ORDER:
            group = grouped[start[code] : start[code + 1]]
            if group.size == 0:
                continue
            if code == DRAFTING or code == CLARIFICATION:
                transmit(S, rng, group, day)
            elif code == TRANSMISSION:
                arrive(S, rng, group, day)
            elif code == REVIEW:
                review_decision(S, rng, group, day)
            elif code == DELIBERATE_DELAY:
                route_after_review(S, rng, group, day)
            elif code == JUDICIAL:
                judicial_decision(S, rng, group, day)
            elif code == EXECUTION:
                respond(S, rng, group, day)
            else:  # RESPONSE: the answer arrives, the request is executed
                close(S, group, np.int64(EXECUTED), np.int64(0), day)
        ids = S.today[: S.filed[O_TODAY]].copy()
    S.filed[O_TODAY] = -1
    give_back_capacity(S)
