"""Process 8, compiled in part: which new cases yield intelligence, and to whom it is offered.

:func:`offers` draws how many items each new case yields and lists, for each case that
yields any, the partners its service offers them to: the states the case sent requests
to and, for a member of the intelligence alliance, ``alliance_partners`` other members
drawn at random. The rest of :meth:`sim.intelligence.IntelligenceSharing.produce` (the
partners a running operation or an agreement adds, the share decisions, the delays)
stays in Python, where the operations' rules are.
"""

from __future__ import annotations

import numpy as np
from numba import njit

import sim.kernel_cache  # noqa: F401  (first: where numba caches the kernels)


@njit(cache=True)
def offers(
    R,
    case_ids,
    case_type,
    case_origin,
    case_first,
    case_count,
    requested_state,
    security_type,
    alliance,
    items_security,
    items_other,
    alliance_partners,
):
    """Items of the new ``case_ids`` and their partners, drawing from ``R.model``.

    Takes the case book's and the ledger's columns it reads (not the model's struct:
    intelligence sees the narrow contract of :class:`sim.contracts.IntelligenceHost`).

    Draws as the vectorised rule drew: one Poisson count per case, then one uniform key
    per (allied producing case, alliance member), row by row; each allied case takes the
    members with the ``k`` smallest keys (never its own state).

    Returns:
        ``(producing, n_items, position, partner)``: the cases that yield items, how
        many each, and their (case position, partner) pairs sorted by position, then
        partner, without the case's own state.
    """
    rng = R.model
    n_items = np.empty(case_ids.size, dtype=np.int64)
    for k in range(case_ids.size):
        c = case_ids[k]
        rate = items_security if security_type[case_type[c]] else items_other
        n_items[k] = rng.poisson(rate)
    n_producing = 0
    for k in range(case_ids.size):
        n_producing += n_items[k] > 0
    producing = np.empty(n_producing, dtype=np.int64)
    counts = np.empty(n_producing, dtype=np.int64)
    j = 0
    for k in range(case_ids.size):
        if n_items[k] > 0:
            producing[j] = case_ids[k]
            counts[j] = n_items[k]
            j += 1
    n_states = alliance.size
    members = np.flatnonzero(alliance)
    # The states each case sent requests to (the case is new: its requests are a run).
    n_pairs = 0
    for p in range(n_producing):
        n_pairs += case_count[producing[p]]
    take = 0
    if alliance_partners > 0 and members.size > 1:
        take = min(alliance_partners, members.size - 1)
        for p in range(n_producing):
            if alliance[case_origin[producing[p]]]:
                n_pairs += take
    pairs = np.empty(n_pairs, dtype=np.int64)
    at = 0
    for p in range(n_producing):
        c = producing[p]
        for r in range(case_first[c], case_first[c] + case_count[c]):
            pairs[at] = p * n_states + requested_state[r]
            at += 1
    if take > 0:
        keys = np.empty(members.size)
        for p in range(n_producing):
            origin = case_origin[producing[p]]
            if not alliance[origin]:
                continue
            for m in range(members.size):
                keys[m] = rng.random()
            for m in range(members.size):
                if members[m] == origin:
                    keys[m] = np.inf
            chosen = np.argsort(keys, kind="mergesort")[:take]
            for m in chosen:
                pairs[at] = p * n_states + members[m]
                at += 1
    pairs.sort()
    position = np.empty(n_pairs, dtype=np.int64)
    partner = np.empty(n_pairs, dtype=np.int64)
    kept = 0
    for q in range(n_pairs):
        if q > 0 and pairs[q] == pairs[q - 1]:
            continue
        p, state = pairs[q] // n_states, pairs[q] % n_states
        if state == case_origin[producing[p]]:
            continue
        position[kept] = p
        partner[kept] = state
        kept += 1
    return producing, counts, position[:kept], partner[:kept]
