"""Process 2, compiled: drafting the requests of new case links.

For each new link, :func:`draft` picks the strongest legal basis the two states
share (:func:`sim.frictions.choose_instrument`) and the channel
(:func:`sim.frictions.choose_channel`), fills the request's ledger row, counts it in
the pair's traffic, and draws its drafting time (:func:`sim.durations.drafting_days`
with lognormal noise; inside a joint team, the team's set-up and exchange instead),
filed for the calendar. The rules are the pure functions named above, written for one
request; ``tests/test_kernel_reference.py`` holds them equal.
"""

from __future__ import annotations

import numpy as np

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels
from sim.kernel_lifecycle import CONTACT_POINT, JIT, MUTUAL_RECOGNITION, OPEN, noisy, schedule
from sim.kernel_prefetch import AHEAD, prefetch_pair
from sim.kernel_state import (
    P_DRAFTING_BASE_DAYS,
    P_DRAFTING_LANGUAGE_DAYS,
    P_DRAFTING_LEGAL_DISTANCE_DAYS,
    P_DRAFTING_SKILL_EFFECT,
    P_NOISE_SIGMA,
    P_TEAM_EXCHANGE_DAYS,
    P_TEAM_FORMATION_DAYS,
)

# The other instrument codes (sim.requests.Instrument), the other channel codes
# (sim.requests.Channel: ``CENTRAL_AUTHORITY`` here is the channel, not the role) and the
# drafting stage's code (sim.requests.Stage); checked in tests/test_kernels.py.
COMITY, CONVENTION, BILATERAL_TREATY = 0, 1, 2
DIPLOMATIC, CENTRAL_AUTHORITY, DIRECT, SECURE_PLATFORM = 0, 1, 2, 4
DRAFTING = 0


@njit(cache=True)
def instrument_of(mutual_recognition, bilateral_treaty, convention):
    """:func:`sim.frictions.choose_instrument` for one request."""
    if mutual_recognition:
        return MUTUAL_RECOGNITION
    if bilateral_treaty:
        return BILATERAL_TREATY
    if convention:
        return CONVENTION
    return COMITY


@njit(cache=True)
def channel_of(instrument, platform, urgent_contact, in_team, formal):
    """:func:`sim.frictions.choose_channel` for one request."""
    if in_team:
        return JIT
    if urgent_contact:
        return CONTACT_POINT
    if platform and instrument != COMITY:
        return SECURE_PLATFORM
    if instrument == MUTUAL_RECOGNITION:
        return DIRECT
    if instrument == COMITY and not formal:
        return DIPLOMATIC
    return CENTRAL_AUTHORITY


@njit(cache=True, entry=True)
def draft(
    S, R, first, case_ids, requesting, requested, kind, coercive, consent, national, in_team, day
):
    """Draft one request per link into the ledger rows ``first``, ``first + 1``, ...

    The rows are counted already, in room the ledger reserved; each is written in full
    here, the fields that wait for later stages at the ledger's fill values
    (:class:`sim.requests.Ledger`): rows a kernel adds are zero bytes until written
    (:class:`sim.columns.RowTable`). The drafting times draw from ``R.model``, one per
    request in order, and the requests are filed for the day their drafting ends
    (``S``'s outbox).

    The requests are linked to their cases: as runs (:func:`link_to_cases`, the usual
    batch) or, for cases that have requests already, as extras (:func:`link_requests`,
    in room reserved before the call).
    """
    n = case_ids.size
    ids = np.empty(n, dtype=np.int64)
    mean = np.empty(n)
    team_days = S.params[P_TEAM_FORMATION_DAYS] + S.params[P_TEAM_EXCHANGE_DAYS]
    effect = S.params[P_DRAFTING_SKILL_EFFECT]
    for k in range(n):
        if k + AHEAD < n:  # the pair's traffic and frictions, far apart in their matrices
            a, b = requesting[k + AHEAD], requested[k + AHEAD]
            prefetch_pair(S.traffic, a, b)
            prefetch_pair(S.different_language, a, b)
            prefetch_pair(S.legal_distance, a, b)
        r = first + k
        ids[k] = r
        c, a, b = case_ids[k], requesting[k], requested[k]
        instrument = instrument_of(
            S.mr_bloc[a] and S.mr_bloc[b],
            S.treaty_matrix[a, b],
            S.convention[a] and S.convention[b],
        )
        severity = S.case_severity[c]
        urgent = severity >= S.urgent_threshold[a] and S.contact_point[a] and S.contact_point[b]
        S.channel[r] = channel_of(
            instrument,
            S.platform[a] and S.platform[b],
            urgent,
            in_team[k],
            S.formal_channel[a] or S.formal_channel[b],
        )
        S.case[r] = c
        S.kind[r] = kind[k]
        S.requesting_state[r] = a
        S.requested_state[r] = b
        S.instrument[r] = instrument
        S.security_case[r] = S.security_type[S.case_type[c]]
        S.coercive[r] = coercive[k]
        S.consent[r] = consent[k]
        S.national[r] = national[k]
        S.severity[r] = severity
        S.political_sensitivity[r] = S.case_political_sensitivity[c]
        S.stage[r] = DRAFTING
        S.outcome[r] = OPEN
        S.refusal_ground[r] = 0  # none
        S.clarification_rounds[r] = 0
        S.queue_agency[r] = -1  # in no queue
        S.t_created[r] = day
        S.t_issued[r] = -1  # the stages' days, to come
        S.t_received[r] = -1
        S.t_decided[r] = -1
        S.t_judicial[r] = -1
        S.t_executed[r] = -1
        S.t_closed[r] = -1
        S.traffic[a, b] += 1
        if in_team[k]:
            mean[k] = team_days
        else:  # sim.durations.drafting_days
            mean[k] = (
                S.params[P_DRAFTING_BASE_DAYS]
                + S.params[P_DRAFTING_LANGUAGE_DAYS] * S.different_language[a, b]
                + S.params[P_DRAFTING_LEGAL_DISTANCE_DAYS] * S.legal_distance[a, b]
            ) * ((1.0 + effect) - effect * S.drafting_skill[a])
    days = noisy(R.model, mean, np.full(n, S.params[P_NOISE_SIGMA]))
    schedule(S, ids, np.int64(DRAFTING), days, day)
    if not link_to_cases(S, case_ids, first):
        link_requests(
            S.case_first,
            S.case_count,
            S.case_extra_first,
            S.case_extra_last,
            S.case_extra_next,
            S.case_extra_request,
            S.case_extras_used,
            case_ids,
            ids,
        )


@njit(cache=True, inline="always")
def link_to_cases(S, case_ids, first):
    """Link rows ``first``, ``first + 1``, ... to their cases as runs (the usual batch).

    New cases in order, none with a request yet: each case's requests are the run of
    rows with its id. Anything else (a case that has requests already, cases out of
    order) is left to :func:`link_requests`, and nothing is written.

    Returns:
        Whether the requests were linked here.
    """
    for k in range(case_ids.size):
        if S.case_count[case_ids[k]] != 0 or (k > 0 and case_ids[k] < case_ids[k - 1]):
            return False
    for k in range(case_ids.size):
        c = case_ids[k]
        if k == 0 or c != case_ids[k - 1]:
            S.case_first[c] = first + k
        S.case_count[c] += 1
    return True


@njit(cache=True, entry=True)
def link_requests(
    first, count, extra_first, extra_last, extra_next, extra_request, extras_used, cases, requests
):
    """Record that ``requests[k]`` belongs to ``cases[k]``, for every k in order.

    A case's first request starts its run (``first``, ``count``); later ones are kept
    as extras, a linked list per case in the order they came (the case book's
    ``extra_`` arrays, :class:`sim.requests.CaseBook`), in room reserved before.
    """
    for k in range(cases.size):
        case, request = cases[k], requests[k]
        if count[case] == 0:
            first[case] = request
            count[case] = 1
            continue
        e = extras_used[0]
        if e >= extra_next.size:
            raise IndexError("the case book has too little room reserved for extras")
        extra_request[e] = request
        last = extra_last[case]
        if last < 0:
            extra_first[case] = e
        else:
            extra_next[last] = e
        extra_last[case] = e
        extras_used[0] = e + 1
