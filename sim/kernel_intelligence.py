"""Process 8's production, compiled: items, the partners offered them, share decisions.

:func:`sim.kernel_casegen.produce_items` calls three kernels in turn:

- :func:`offers` draws how many items each new case yields and lists, for each case
  that yields any, the partners its service offers them to: the states the case sent
  requests to and, for a member of the intelligence alliance, ``alliance_partners``
  other members drawn at random;
- :func:`with_extra_partners` adds those a running coordinated operation or a bilateral
  agreement offers them to (the terms :meth:`sim.operations.Operations.intelligence_terms`
  gives);
- :func:`share_decisions` decides, for each item and partner, whether the service
  shares it and when it arrives.

The rules are the pure functions :func:`sim.intelligence.share_probability` and
:func:`sim.operations.raised_share_probability`, which ``tests/test_hot_path_identity.py``
checks the kernels against, draw for draw. :func:`deliver_items` delivers (leaks,
prevented incidents, trust), called by :func:`sim.kernel_day.deliver_today`, which
also moves the deadlines of the related cases a useful item keeps warm.
"""

from __future__ import annotations

import numpy as np

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels
from sim.kernel_draws import poisson, uniform
from sim.kernel_lifecycle import noisy, whole_days
from sim.kernel_pick import insertion_sort, pick, sort_values
from sim.kernel_trust import trust_apply, trust_get


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
    bits = rng.bit_generator  # draws one at a time (sim.kernel_draws)
    n_items = np.empty(case_ids.size, dtype=np.int64)
    for k in range(case_ids.size):
        c = case_ids[k]
        rate = items_security if security_type[case_type[c]] else items_other
        n_items[k] = poisson(bits, rate)
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
    keys = np.empty(members.size if take > 0 else 0)
    at = 0
    for p in range(n_producing):
        c = producing[p]
        block = at  # this case's pairs: keys from p * n_states, below the next case's
        for r in range(case_first[c], case_first[c] + case_count[c]):
            pairs[at] = p * n_states + requested_state[r]
            at += 1
        origin = case_origin[c]
        if take > 0 and alliance[origin]:
            for m in range(members.size):
                keys[m] = uniform(bits)
            for m in range(members.size):
                if members[m] == origin:
                    keys[m] = np.inf
            # The members with the ``take`` smallest keys, one smallest at a time (a
            # handful; numba's argsort costs seconds to compile).
            for _ in range(take):
                smallest = 0
                for m in range(1, members.size):
                    if keys[m] < keys[smallest]:
                        smallest = m
                pairs[at] = p * n_states + members[smallest]
                keys[smallest] = np.inf
                at += 1
        # Sorting each case's few pairs sorts them all: the cases' blocks are in order.
        insertion_sort(pairs, block, at)
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


@njit(cache=True)
def _extra_offers(
    p, c, case_origin, case_type, op_participant, op_targeted, ag_pair, ag_covered, out
):
    """Write the extra partners of case ``c`` (position ``p``) as pair keys; returns how many.

    ``out`` may be empty: then they are only counted.
    """
    n_states = op_participant.size
    origin, kind = case_origin[c], case_type[c]
    op_case = op_participant[origin] and op_targeted[kind]
    covered = ag_covered[kind]
    if not (op_case or covered):
        return 0
    n = 0
    for s in range(n_states):
        if s == origin:
            continue
        if (op_case and op_participant[s]) or (covered and ag_pair[origin, s]):
            if out.size:
                out[n] = p * n_states + s
            n += 1
    return n


@njit(cache=True)
def with_extra_partners(
    producing,
    position,
    partner,
    case_origin,
    case_type,
    op_participant,
    op_targeted,
    ag_pair,
    ag_covered,
):
    """Add the partners a running operation and an agreement offer each case's items to.

    The coordinator passes the items of an operation case (a targeted type, from a
    participant) to every other participant; a party offers the items of a covered case
    to its partners in the agreement. Pairs come back sorted by case position, then
    partner, without the case's own state. With no operation (``op_participant`` all
    False) and no agreement (``ag_covered`` all False) the pairs are returned as they are.
    """
    n_states = op_participant.size
    # No case type an operation targets or an agreement covers: no extra partner. Asked
    # first, as a day without either is the usual one, and each case's call below counts
    # references to its seven arrays.
    if not (op_targeted.any() or ag_covered.any()):
        return position, partner
    terms = (case_origin, case_type, op_participant, op_targeted, ag_pair, ag_covered)
    nothing = np.empty(0, dtype=np.int64)
    extra = 0
    for p in range(producing.size):
        extra += _extra_offers(p, producing[p], *terms, nothing)
    if extra == 0:
        return position, partner
    pairs = np.empty(position.size + extra, dtype=np.int64)
    for q in range(position.size):
        pairs[q] = position[q] * n_states + partner[q]
    at = position.size
    for p in range(producing.size):
        at += _extra_offers(p, producing[p], *terms, pairs[at:])
    sort_values(pairs)
    kept = 0
    for q in range(pairs.size):
        if q == 0 or pairs[q] != pairs[q - 1]:
            pairs[kept] = pairs[q]
            kept += 1
    # Loops, not array expressions: cheaper to compile.
    new_position = np.empty(kept, dtype=np.int64)
    new_partner = np.empty(kept, dtype=np.int64)
    for q in range(kept):
        new_position[q] = pairs[q] // n_states
        new_partner[q] = pairs[q] % n_states
    return new_position, new_partner


@njit(cache=True)
def share_decisions(
    R,
    T,
    day,
    producing,
    n_items,
    items_before,
    position,
    partner,
    case_origin,
    case_type,
    alliance,
    confidentiality,
    platform,
    terms,
    numbers,
):
    """Each (item, partner) row's share decision and delivery delay, drawing from ``R.model``.

    Rows run case by case, each case's items in turn, each offered to every partner of
    the case in order (``position`` sorted). The chance is
    :func:`sim.intelligence.share_probability` of the sharer's trust in the partner,
    raised by a running operation or an agreement
    (:func:`sim.operations.raised_share_probability`); one uniform draw per row decides,
    then one lognormal delay per row (the platform's mean between two states on the
    secure platform, else the conventional one).

    Args:
        R: The model's streams (:class:`sim.kernel_struct.Streams`).
        T: Trust's arrays (:class:`sim.kernel_state.TrustArrays`).
        day: Today.
        producing: The cases that yield items.
        n_items: Items of each producing case.
        items_before: Items produced before these (the first item's number).
        position: Each pair's case (its position in ``producing``), sorted.
        partner: Each pair's partner state.
        case_origin: The case book's origins.
        case_type: The case book's types.
        alliance: Members of the intelligence alliance (per state).
        confidentiality: Confidentiality standards (per state).
        platform: States on the secure platform.
        terms: ``(op_participant, op_targeted, op_uplift, ag_pair, ag_covered,
            ag_commitment)``: an operation's participants and targeted types (all False
            when none runs), its uplift; an agreement's pairs and covered types (all
            False when none is in force), its commitment.
        numbers: ``(share_base, alliance_bonus, confidentiality_bonus, platform_days,
            sharing_days, noise_sigma)``.

    Returns:
        ``(item, case, sharer, recipient, on_platform, delay)`` of the rows shared.
    """
    op_participant, op_targeted, op_uplift, ag_pair, ag_covered, ag_commitment = terms
    base, alliance_bonus, confidentiality_bonus, platform_days, sharing_days, sigma = numbers
    n_partners = np.zeros(producing.size, dtype=np.int64)
    for q in range(position.size):
        n_partners[position[q]] += 1
    n_rows = 0
    for p in range(producing.size):
        n_rows += n_items[p] * n_partners[p]
    item = np.empty(n_rows, dtype=np.int64)
    row_case = np.empty(n_rows, dtype=np.int64)
    sharer = np.empty(n_rows, dtype=np.int64)
    recipient = np.empty(n_rows, dtype=np.int64)
    chance = np.empty(n_rows)
    at, start, first_item = 0, 0, items_before
    for p in range(producing.size):
        c = producing[p]
        origin, kind = np.int64(case_origin[c]), case_type[c]
        op_case = op_participant[origin] and op_targeted[kind]
        for i in range(n_items[p]):
            for q in range(start, start + n_partners[p]):
                s = partner[q]
                trust = trust_get(T, origin, s, day)
                both = 1.0 if alliance[origin] and alliance[s] else 0.0
                x = base * trust * (1.0 + alliance_bonus * both)
                x = x * (1.0 + confidentiality_bonus * confidentiality[s])
                x = min(max(x, 0.0), 1.0)
                uplift = op_uplift if op_case and op_participant[s] else 0.0
                if ag_covered[kind] and ag_pair[origin, s]:
                    uplift = max(uplift, ag_commitment)
                item[at] = first_item + i
                row_case[at] = c
                sharer[at] = origin
                recipient[at] = s
                chance[at] = x + uplift * (1.0 - x)
                at += 1
        start += n_partners[p]
        first_item += n_items[p]
    rng = R.model
    bits = rng.bit_generator  # draws one at a time (sim.kernel_draws)
    shared = np.empty(n_rows, dtype=np.bool_)
    for r in range(n_rows):
        shared[r] = uniform(bits) < chance[r]
    on_platform = np.empty(n_rows, dtype=np.bool_)
    mean = np.empty(n_rows)
    for r in range(n_rows):
        on_platform[r] = platform[sharer[r]] and platform[recipient[r]]
        mean[r] = platform_days if on_platform[r] else sharing_days
    days = noisy(rng, mean, np.full(n_rows, sigma))
    delay = np.empty(n_rows, dtype=np.int64)
    for r in range(n_rows):
        delay[r] = whole_days(days[r])
    return (
        pick(item, shared),
        pick(row_case, shared),
        pick(sharer, shared),
        pick(recipient, shared),
        pick(on_platform, shared),
        pick(delay, shared),
    )


@njit(cache=True)
def deliver_items(R, T, day, ids, shares, data_security, confidentiality, numbers):
    """Deliver the items ``ids``: leaks, prevented incidents and trust (draws from ``R.model``).

    One uniform per item decides a leak (:func:`sim.intelligence.leak_probability`),
    then one per item whether it helps prevent an incident. The share record's
    ``t_delivered`` and ``leaked`` are written in place; a leak costs the sharer's
    trust in the recipient, a useful item raises the recipient's trust in the sharer
    (:func:`sim.kernel_trust.trust_apply`, repeated pairs compounding).

    Args:
        R: The model's streams.
        T: Trust's arrays.
        day: Today.
        ids: The share record's rows delivered today.
        shares: The record's ``(sharer, recipient, platform, t_delivered, leaked)``.
        data_security: Each state's data security (0-1).
        confidentiality: Each state's confidentiality standards (0-1).
        numbers: ``(leak_base, platform_leak_factor, confidentiality_leak_cut,
            prevention_probability, leak_trust_loss, gain_on_share)``.

    Returns:
        ``(leaks, prevented, useful)``: how many leaked, how many useful items helped
        prevent an incident, and the positions (in ``ids``) of the useful items.
    """
    sharer_of, recipient_of, platform_of, t_delivered, leaked_of = shares
    base, platform_factor, cut, prevention, trust_loss, trust_gain = numbers
    n = ids.size
    rng = R.model
    bits = rng.bit_generator  # draws one at a time (sim.kernel_draws)
    leaked = np.empty(n, dtype=np.bool_)
    for k in range(n):
        s = recipient_of[ids[k]]
        p = base * (1.0 - data_security[s]) * (1.0 - cut * confidentiality[s])
        p = p * (platform_factor if platform_of[ids[k]] else 1.0)
        leaked[k] = uniform(bits) < min(max(p, 0.0), 1.0)
    prevent = np.empty(n, dtype=np.bool_)
    for k in range(n):
        prevent[k] = uniform(bits) < prevention
    n_bad = 0
    for k in range(n):
        t_delivered[ids[k]] = day
        leaked_of[ids[k]] = leaked[k]
        n_bad += leaked[k]
    # The pairs whose trust moves (loops, not fancy indexing: cheaper to compile).
    useful = np.empty(n - n_bad, dtype=np.int64)
    bad_sharer = np.empty(n_bad, dtype=np.int64)
    bad_recipient = np.empty(n_bad, dtype=np.int64)
    good_sharer = np.empty(n - n_bad, dtype=np.int64)
    good_recipient = np.empty(n - n_bad, dtype=np.int64)
    i = j = 0
    prevented = 0
    for k in range(n):
        a, b = sharer_of[ids[k]], recipient_of[ids[k]]
        if leaked[k]:
            bad_sharer[j], bad_recipient[j] = a, b
            j += 1
        else:
            useful[i] = k
            good_sharer[i], good_recipient[i] = a, b
            prevented += prevent[k]
            i += 1
    loss = np.full(n_bad, trust_loss)
    trust_apply(T, bad_sharer, bad_recipient, loss, day, np.bool_(False))
    gain = np.full(n - n_bad, trust_gain)
    trust_apply(T, good_recipient, good_sharer, gain, day, np.bool_(True))
    return n_bad, prevented, useful
