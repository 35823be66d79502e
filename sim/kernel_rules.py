"""The frictions of :mod:`sim.frictions` for one request, compiled.

Clarification, the legal refusal grounds and the rights gap as the stage kernels
(:mod:`sim.kernel_stages`) apply them, request by request, in the order of operations
(and the float32 arithmetic) of the vectorised rules, so that a compiled run equals
the vectorised one draw for draw.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.kernel_lifecycle import EXTRADITION, MUTUAL_RECOGNITION
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
def procedure_clarity(L, W, r):
    """Clarity of procedures on a request: security requests of a state with clear ones."""
    if not L.security_case[r]:
        return 0.0
    return max(
        W.procedure_clarity[L.requesting_state[r]], W.procedure_clarity[L.requested_state[r]]
    )


@njit(cache=True)
def clarification_probability(L, W, P, r):
    """:func:`sim.frictions.clarification_probability` for one request."""
    a, b = L.requesting_state[r], L.requested_state[r]
    mr = 1.0 if L.instrument[r] == MUTUAL_RECOGNITION else 0.0
    p = P[P_CLARIFICATION_BASE] + P[P_CLARIFICATION_PER_LEGAL_DISTANCE] * W.legal_distance[a, b]
    p = p * (1.0 + P[P_LANGUAGE_MISUNDERSTANDING] * W.different_language[a, b])
    p = p * (1.0 + P[P_ORGANISATIONAL_DISTANCE_WEIGHT] * W.cultural_distance[a, b])
    p = p * (1.0 - P[P_FAMILIARITY_EFFECT] * W.familiarity[a, b])
    p = p * (1.0 - P[P_STANDARD_FORM_CLARITY] * mr)
    p = p * (1.0 - procedure_clarity(L, W, r))
    return min(max(p, 0.0), 1.0)


@njit(cache=True)
def rights_gap(W, P, a, b):
    """:func:`sim.frictions.rights_gap` between requesting ``a`` and requested ``b``."""
    death = 1.0 if (W.death_penalty[a] and not W.death_penalty[b]) else 0.0
    gap = W.rights_standard[b] - W.rights_standard[a] - P[P_RIGHTS_GAP_TOLERANCE]
    return min(max(death + max(gap, 0.0), 0.0), 1.0)


@njit(cache=True)
def refusal_probabilities(L, C, W, P, r, mr):
    """:func:`sim.frictions.legal_refusal_probabilities` for one request, in GROUNDS order."""
    a, b, case = L.requesting_state[r], L.requested_state[r], L.case[r]
    extradition = 1.0 if L.kind[r] == EXTRADITION else 0.0
    national = 1.0 if L.national[r] else 0.0
    listed = W.listed_type[C.case_type[case]]
    legal_distance = W.legal_distance[a, b]
    if mr:
        nationality = P[P_NATIONALITY_RESIDENCE_REFUSAL]
    else:
        nationality = P[P_NATIONALITY_BAR] * (1.0 if W.is_civil[b] else 0.0)
    special_court = 1.0 if (L.security_case[r] and W.nsc_of[a] >= 0) else 0.0
    exposure = (
        special_court
        * W.rights_standard[b]
        * (1.0 - W.court_transparency[a])
        * (1.0 - W.court_safeguards[a])
    )
    protection = max(W.data_protection[a], W.confidentiality[a])
    data_gap = W.data_protection[b] - protection
    sensitivity = L.political_sensitivity[r]  # float32, as the ledger keeps it
    # float32 arithmetic where the vectorised rule had it (a float32 column, a float).
    proportionality = np.float32(P[P_PROPORTIONALITY_BASE]) * (np.float32(1.0) - L.severity[r])
    p = np.empty(9)
    p[0] = (0.0 if (mr and listed) else 1.0) * P[P_DUAL_CRIMINALITY_BASE] * legal_distance
    p[1] = (
        (0.0 if mr else 1.0) * P[P_POLITICAL_OFFENCE_BASE] * np.float64(sensitivity * sensitivity)
    )
    p[2] = extradition * national * nationality
    p[3] = extradition * min(max(P[P_NE_BIS_IN_IDEM_BASE] * (C.needed[case] - 1), 0.0), 1.0)
    p[4] = extradition * P[P_HUMAN_RIGHTS_BASE] * rights_gap(W, P, a, b)
    p[5] = P[P_FAIR_TRIAL_BASE] * exposure
    p[6] = extradition * P[P_IN_ABSENTIA_BASE] * legal_distance
    p[7] = np.float64(proportionality)
    p[8] = (1.0 - extradition) * P[P_DATA_PROTECTION_BASE] * min(max(data_gap, 0.0), 1.0)
    return p


@njit(cache=True)
def first_grounds(L, C, W, P, rng, ids, mr):
    """The first legal ground that fires for each request (0: none), draws request by request."""
    n = ids.size
    u = np.empty((n, 9))
    for k in range(n):
        for g in range(9):
            u[k, g] = rng.random()
    ground = np.zeros(n, dtype=np.int64)
    for k in range(n):
        p = refusal_probabilities(L, C, W, P, ids[k], mr[k])
        for g in range(9):
            if u[k, g] < p[g]:
                ground[k] = GROUNDS[g]
                break
    return ground
