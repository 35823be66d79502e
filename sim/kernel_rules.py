"""The frictions of :mod:`sim.frictions` for one request, compiled.

Clarification, the legal refusal grounds and the rights gap as the stage kernels
(:mod:`sim.kernel_stages`) apply them, request by request, in the order of operations
(and the float32 arithmetic) of the vectorised rules, so that a compiled run equals
the vectorised one draw for draw.
"""

from __future__ import annotations

import numpy as np

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels
from sim.kernel_draws import uniform
from sim.kernel_lifecycle import EXTRADITION, MUTUAL_RECOGNITION
from sim.kernel_prefetch import AHEAD, prefetch, prefetch_pair
from sim.kernel_state import (
    P_CLARIFICATION_BASE,
    P_CLARIFICATION_PER_LEGAL_DISTANCE,
    P_DATA_PROTECTION_BASE,
    P_DUAL_CRIMINALITY_BASE,
    P_FAIR_TRIAL_BASE,
    P_FAMILIARITY_EFFECT,
    P_HUMAN_RIGHTS_BASE,
    P_IN_ABSENTIA_BASE,
    P_LANGUAGE_MISUNDERSTANDING,
    P_NATIONALITY_BAR,
    P_NATIONALITY_RESIDENCE_REFUSAL,
    P_NE_BIS_IN_IDEM_BASE,
    P_ORGANISATIONAL_DISTANCE_WEIGHT,
    P_POLITICAL_OFFENCE_BASE,
    P_PROPORTIONALITY_BASE,
    P_RIGHTS_GAP_TOLERANCE,
    P_STANDARD_FORM_CLARITY,
)

# Refusal grounds in the order they are checked (frictions.legal_refusal_probabilities).
GROUNDS = np.array([1, 2, 3, 9, 4, 8, 10, 11, 5], dtype=np.int64)


@njit(cache=True)
def procedure_clarity(S, r):
    """Clarity of procedures on a request: security requests of a state with clear ones."""
    if not S.security_case[r]:
        return 0.0
    return max(
        S.procedure_clarity[S.requesting_state[r]], S.procedure_clarity[S.requested_state[r]]
    )


@njit(cache=True)
def clarification_probability(S, r):
    """:func:`sim.frictions.clarification_probability` for one request."""
    a, b = S.requesting_state[r], S.requested_state[r]
    mr = 1.0 if S.instrument[r] == MUTUAL_RECOGNITION else 0.0
    p = (
        S.params[P_CLARIFICATION_BASE]
        + S.params[P_CLARIFICATION_PER_LEGAL_DISTANCE] * S.legal_distance[a, b]
    )
    p = p * (1.0 + S.params[P_LANGUAGE_MISUNDERSTANDING] * S.different_language[a, b])
    p = p * (1.0 + S.params[P_ORGANISATIONAL_DISTANCE_WEIGHT] * S.cultural_distance[a, b])
    p = p * (1.0 - S.params[P_FAMILIARITY_EFFECT] * S.familiarity[a, b])
    p = p * (1.0 - S.params[P_STANDARD_FORM_CLARITY] * mr)
    p = p * (1.0 - procedure_clarity(S, r))
    return min(max(p, 0.0), 1.0)


@njit(cache=True, inline="always")
def prefetch_clarification(S, r):
    """Start fetching the pair's frictions :func:`clarification_probability` reads of ``r``."""
    a, b = S.requesting_state[r], S.requested_state[r]
    prefetch_pair(S.legal_distance, a, b)
    prefetch_pair(S.different_language, a, b)
    prefetch_pair(S.cultural_distance, a, b)
    prefetch_pair(S.familiarity, a, b)


@njit(cache=True)
def rights_gap(S, a, b):
    """:func:`sim.frictions.rights_gap` between requesting ``a`` and requested ``b``."""
    death = 1.0 if (S.death_penalty[a] and not S.death_penalty[b]) else 0.0
    gap = S.rights_standard[b] - S.rights_standard[a] - S.params[P_RIGHTS_GAP_TOLERANCE]
    return min(max(death + max(gap, 0.0), 0.0), 1.0)


@njit(cache=True)
def refusal_probabilities(S, r, mr, p):
    """:func:`sim.frictions.legal_refusal_probabilities` for one request, into ``p``.

    ``p`` has a place for each ground, in GROUNDS order; the caller's, so that a batch
    of requests allocates one.
    """
    a, b, case = S.requesting_state[r], S.requested_state[r], S.case[r]
    extradition = 1.0 if S.kind[r] == EXTRADITION else 0.0
    national = 1.0 if S.national[r] else 0.0
    listed = S.listed_type[S.case_type[case]]
    legal_distance = S.legal_distance[a, b]
    if mr:
        nationality = S.params[P_NATIONALITY_RESIDENCE_REFUSAL]
    else:
        nationality = S.params[P_NATIONALITY_BAR] * (1.0 if S.is_civil[b] else 0.0)
    special_court = 1.0 if (S.security_case[r] and S.nsc_of[a] >= 0) else 0.0
    exposure = (
        special_court
        * S.rights_standard[b]
        * (1.0 - S.court_transparency[a])
        * (1.0 - S.court_safeguards[a])
    )
    protection = max(S.data_protection[a], S.confidentiality[a])
    data_gap = S.data_protection[b] - protection
    sensitivity = S.political_sensitivity[r]  # float32, as the ledger keeps it
    # float32 arithmetic where the vectorised rule had it (a float32 column, a float).
    proportionality = np.float32(S.params[P_PROPORTIONALITY_BASE]) * (
        np.float32(1.0) - S.severity[r]
    )
    p[0] = (0.0 if (mr and listed) else 1.0) * S.params[P_DUAL_CRIMINALITY_BASE] * legal_distance
    p[1] = (
        (0.0 if mr else 1.0)
        * S.params[P_POLITICAL_OFFENCE_BASE]
        * np.float64(sensitivity * sensitivity)
    )
    p[2] = extradition * national * nationality
    p[3] = extradition * min(
        max(S.params[P_NE_BIS_IN_IDEM_BASE] * (S.case_needed[case] - 1), 0.0), 1.0
    )
    p[4] = extradition * S.params[P_HUMAN_RIGHTS_BASE] * rights_gap(S, a, b)
    p[5] = S.params[P_FAIR_TRIAL_BASE] * exposure
    p[6] = extradition * S.params[P_IN_ABSENTIA_BASE] * legal_distance
    p[7] = np.float64(proportionality)
    p[8] = (1.0 - extradition) * S.params[P_DATA_PROTECTION_BASE] * min(max(data_gap, 0.0), 1.0)


@njit(cache=True)
def first_grounds(S, rng, ids, mr):
    """The first legal ground that fires for each request (0: none), draws request by request."""
    bits = rng.bit_generator  # draws one at a time (sim.kernel_draws)
    n = ids.size
    u = np.empty((n, 9))
    for k in range(n):
        for g in range(9):
            u[k, g] = uniform(bits)
    ground = np.zeros(n, dtype=np.int64)
    p = np.empty(9)
    for k in range(n):
        if k + AHEAD < n:  # the request's case: a row of the case book, far from the last
            prefetch(S.case_type, S.case[ids[k + AHEAD]])
        refusal_probabilities(S, ids[k], mr[k], p)
        for g in range(9):
            if u[k, g] < p[g]:
                ground[k] = GROUNDS[g]
                break
    return ground
