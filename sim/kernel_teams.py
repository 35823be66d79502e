"""Joint teams compiled: which new cases qualify, pass the trust test, and form a team.

Case generation (:mod:`sim.kernel_casegen`) calls :func:`team_candidates` for a day's
new cases; for the few that come back, :func:`form_teams` checks the members' spare
capacity (:func:`members_agree`), draws their agreement and forms the teams, and Python
makes their agents after the call (:meth:`sim.teams.TeamFormation.adopt_formed`).

The rules are :func:`sim.teams.team_is_proposed` (size and severity),
:func:`sim.teams.members_agree` (trust and spare capacity; :func:`members_agree` here,
tested equal) and
:func:`team_terms`: the easier terms of a UNODC operation's or a bilateral agreement's
joint work.

When a case ends, its team's members get their law-enforcement capacity back
(:func:`give_back_capacity`, at the end of every kernel call that can end cases), and
its slot is marked with the order it ended in; the team (a Mesa agent) is removed in
Python after the call, in that order (:meth:`sim.teams.TeamFormation.dissolve_ended`).
"""

from __future__ import annotations

import numpy as np

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels
from sim.kernel_draws import uniform
from sim.kernel_lifecycle import CASE_OPEN
from sim.kernel_state import O_CLOSED, O_GIVEN, O_SEGMENTS, O_TEAMS_ENDED
from sim.kernel_trust import trust_get


@njit(cache=True)
def team_terms(case_ids, links, requested, case_origin, case_type, min_states, threshold, terms):
    """Team terms of new cases: smallest size, severity threshold, trust relief.

    A UNODC operation's case (a targeted type, from a participant) that needs another
    participant, and an agreement's covered case of one party that needs another party,
    get teams with fewer states (``team_min_states``), at a lower severity
    (``threshold`` less ``team_threshold_reduction``) and a lower trust
    (``team_trust_reduction``; where both apply, the larger relief holds).

    Args:
        case_ids: New cases.
        links: Number of partners of each case.
        requested: Their partner states, concatenated (``links[k]`` per case).
        case_origin: The case book's origins.
        case_type: The case book's types.
        min_states: The usual smallest number of states for a team.
        threshold: The usual severity threshold of each case.
        terms: ``(op_participant, op_targeted, op_min_states, op_threshold_reduction,
            op_trust_reduction, ag_pair, ag_covered, ag_min_states,
            ag_threshold_reduction, ag_trust_reduction)`` of a UNODC operation running
            today and an agreement in force (all False when none).

    Returns:
        ``(sizes, threshold, relief)`` per case, the threshold never below 0.
    """
    op_participant, op_targeted, op_min, op_cut, op_relief = terms[:5]
    ag_pair, ag_covered, ag_min, ag_cut, ag_relief = terms[5:]
    n = case_ids.size
    sizes = np.full(n, min_states, dtype=np.int64)
    lowered = np.empty(n)
    relief = np.zeros(n)
    start = 0
    for k in range(n):
        origin, kind = case_origin[case_ids[k]], case_type[case_ids[k]]
        t = threshold[k]
        op_case = op_participant[origin] and op_targeted[kind]
        with_participant = with_party = False
        for q in range(start, start + links[k]):
            with_participant |= op_participant[requested[q]]
            with_party |= ag_pair[origin, requested[q]]
        start += links[k]
        if op_case and with_participant:  # joint work among the participants
            sizes[k] = min(sizes[k], op_min)
            t = t - op_cut
            relief[k] = op_relief
        if ag_covered[kind] and with_party:  # joint work between the parties
            sizes[k] = min(sizes[k], ag_min)
            t = t - ag_cut
            relief[k] = max(relief[k], ag_relief)
        lowered[k] = max(0.0, t)
    return sizes, lowered, relief


@njit(cache=True)
def team_candidates(
    T,
    day,
    case_ids,
    links,
    requested,
    case_origin,
    case_type,
    severity,
    numbers,
    threshold_shift,
    trust_shift,
    terms,
):
    """The new cases proposed for a team whose members trust one another enough.

    A case is proposed when it has enough states and is severe enough
    (:func:`sim.teams.team_is_proposed`, on :func:`team_terms`); its members, the
    originating state then its partners, pass the trust test when the lowest trust
    between any two of them reaches what the originating state needs: the agreement
    trust, less the model agreements' shift (a lever) and the operation's or the
    agreement's relief, never below 0.

    Args:
        T: Trust's arrays.
        day: Today.
        case_ids: New cases.
        links: Number of partners of each case.
        requested: Their partner states, concatenated.
        case_origin: The case book's origins.
        case_type: The case book's types.
        severity: The case book's severities (float32).
        numbers: ``(min_states, severity_threshold, agreement_trust)``.
        threshold_shift: The policy's lowering of the severity threshold (per state).
        trust_shift: The policy's lowering of the trust a team needs (per state).
        terms: See :func:`team_terms`.

    Returns:
        ``(positions, members, sizes, lowest, needed)``: the positions (in ``case_ids``)
        of the cases that pass both tests, their members concatenated, how many each,
        the lowest mutual trust and the trust needed.
    """
    min_states, severity_threshold, agreement_trust = numbers
    n = case_ids.size
    threshold = np.empty(n)
    for k in range(n):
        threshold[k] = max(0.0, severity_threshold - threshold_shift[case_origin[case_ids[k]]])
    sizes, threshold, relief = team_terms(
        case_ids, links, requested, case_origin, case_type, min_states, threshold, terms
    )
    first = np.empty(n, dtype=np.int64)  # each case's first partner in ``requested``
    at = 0
    for k in range(n):
        first[k] = at
        at += links[k]
    positions = np.empty(n, dtype=np.int64)
    lowest = np.empty(n)
    needed = np.empty(n)
    n_members = 0
    kept = 0
    for k in range(n):
        c = case_ids[k]
        if not (links[k] + 1 >= sizes[k] and severity[c] >= threshold[k]):
            continue
        # Members: position 0 the originating state, then its partners in order.
        origin = np.int64(case_origin[c])
        low = np.inf
        for a in range(links[k] + 1):
            i = origin if a == 0 else requested[first[k] + a - 1]
            for b in range(links[k] + 1):
                if a != b:
                    j = origin if b == 0 else requested[first[k] + b - 1]
                    low = min(low, trust_get(T, i, j, day))
        need = max(0.0, agreement_trust - trust_shift[origin])
        need = max(0.0, need - relief[k])
        if low < need:
            continue
        positions[kept] = k
        lowest[kept] = low
        needed[kept] = need
        n_members += links[k] + 1
        kept += 1
    members = np.empty(n_members, dtype=np.int64)
    member_sizes = np.empty(kept, dtype=np.int64)
    at = 0
    for j in range(kept):
        k = positions[j]
        members[at] = case_origin[case_ids[k]]
        for q in range(links[k]):
            members[at + 1 + q] = requested[first[k] + q]
        member_sizes[j] = links[k] + 1
        at += links[k] + 1
    return positions[:kept], members, member_sizes, lowest[:kept], needed[:kept]


@njit(cache=True)
def give_back_capacity(S):
    """Members of the teams whose cases ended in this call's new segments get their capacity back.

    Segment by segment (one per call of ``end_cases`` or per batch of cases resolved),
    the teams in the order of their cases' ids, each member in the team's order (the
    order Python gave capacity back in before this was compiled, so capacities add up
    to the same last bit). Each team so handled is marked for Python to remove in that
    order: its slot's case becomes ``-2 - k`` for the call's ``k``-th team, and the slot
    is the ``k``-th of ``S.team_ended`` (:meth:`sim.teams.TeamFormation.dissolve_ended`).
    A case leaves ``CASE_OPEN`` only in a segment, and this runs at the end of every call
    that makes segments, so the active teams whose cases are no longer open are those
    of the cases in the new segments: each found by its case's team slot
    (``S.case_team_slot``, written when the team formed).
    """
    first_segment, segments = S.filed[O_GIVEN], S.filed[O_SEGMENTS]
    S.filed[O_GIVEN] = segments
    if first_segment == segments:
        return
    start = S.ended_segments[first_segment - 1] if first_segment > 0 else 0
    stop = S.filed[O_CLOSED]
    slots = np.empty(stop - start, dtype=np.int64)
    segment_of = np.empty(stop - start, dtype=np.int64)
    case_of = np.empty(stop - start, dtype=np.int64)
    found = 0
    segment = first_segment
    for k in range(start, stop):
        while S.ended_segments[segment] <= k:
            segment += 1
        case = S.ended_cases[k]
        slot = S.case_team_slot[case]
        if slot < 0 or S.team_case[slot] != case or S.case_status[case] == CASE_OPEN:
            continue  # no team, not at work on this case, or found already
        S.team_case[slot] = -2  # found (its mark is written below)
        # Ordered by (segment, case) as it goes in: teams are few.
        at = found
        while at > 0 and (
            segment_of[at - 1] > segment
            or (segment_of[at - 1] == segment and case_of[at - 1] > case)
        ):
            slots[at] = slots[at - 1]
            segment_of[at] = segment_of[at - 1]
            case_of[at] = case_of[at - 1]
            at -= 1
        slots[at] = slot
        segment_of[at] = segment
        case_of[at] = case
        found += 1
    ended_before = S.filed[O_TEAMS_ENDED]
    for n in range(found):
        slot = slots[n]
        for k in range(S.team_size[slot]):
            agency = S.le_of[S.team_members[slot, k]]
            lent = S.capacity[agency] + S.team_cost[slot]
            S.capacity[agency] = lent if lent > 0.0 else 0.0
        S.team_case[slot] = -2 - (ended_before + n)
        S.team_ended[ended_before + n] = slot
    S.filed[O_TEAMS_ENDED] = ended_before + found


@njit(cache=True)
def members_agree(lowest_mutual_trust, spare_capacity, agreement_trust, cost_per_day):
    """:func:`sim.teams.members_agree` for one case: enough trust, and capacity to spare."""
    return lowest_mutual_trust >= agreement_trust and spare_capacity >= cost_per_day


@njit(cache=True)
def free_slots(S):
    """Slots free for a new team."""
    n = 0
    for slot in range(S.team_case.size):
        n += S.team_case[slot] == -1
    return n


@njit(cache=True)
def form_teams(S, R, cases, candidates, rules):
    """Decide, case by case in order, whether the proposed teams form; form them.

    The rule of :func:`sim.teams.members_agree`, compiled: the members agree when
    their lowest mutual trust reaches what they need and every member's law-enforcement
    office can spare the team's cost beyond its own queue's share
    (:func:`sim.teams.members_agree`); then one draw from ``R.model`` decides the final
    agreement. A team takes the lowest free slot (Python made room for every candidate)
    and each member's capacity, in the members' order, so a later case sees what is
    left. The slots formed are listed in ``S.team_formed`` for Python, which makes the
    teams' agents.

    Args:
        S: The model's struct.
        R: The model's streams.
        cases: The candidates' cases.
        candidates: :func:`team_candidates`' ``(positions, members, sizes, lowest,
            needed)``.
        rules: ``(cost_factor, reserve, cost_per_day, agreement_probability)``: each
            state's team cost factor (a lever), the capacity each state's office keeps,
            the cost a day per member and the chance of the final agreement.

    Returns:
        Whether each candidate's team formed.
    """
    _, members, sizes, lowest, needed = candidates
    cost_factor, reserve, cost_per_day, agreement_probability = rules
    rng = R.model
    bits = rng.bit_generator  # draws one at a time (sim.kernel_draws)
    formed = np.zeros(cases.size, dtype=np.bool_)
    start = 0
    for k in range(cases.size):
        size = sizes[k]
        origin = members[start]
        cost = cost_per_day * cost_factor[origin]
        spare = np.inf
        for q in range(start, start + size):
            state = members[q]
            spare = min(spare, S.capacity[S.le_of[state]] - reserve[state])
        if members_agree(lowest[k], spare, needed[k], cost) and (
            uniform(bits) < agreement_probability
        ):
            slot = 0
            while S.team_case[slot] != -1:
                slot += 1
            S.team_case[slot] = cases[k]
            S.case_team_slot[cases[k]] = slot
            S.team_cost[slot] = cost
            S.team_size[slot] = size
            for q in range(size):
                S.team_members[slot, q] = members[start + q]
                agency = S.le_of[members[start + q]]
                S.capacity[agency] = max(0.0, S.capacity[agency] + -cost)
            S.team_formed[S.team_n_formed[0]] = slot
            S.team_n_formed[0] += 1
            formed[k] = True
        start += size
    return formed
