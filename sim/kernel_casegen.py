"""Process 1, compiled: the day's cases drawn, recorded, and their requests opened.

:func:`generate_cases` is the day's case generation in one kernel call. It makes the
day's draws on the case stream (:func:`sim.kernel_cases.draw_cases`), then, in the
order the model did them:

- :func:`sim.kernel_cases.record_cases` adds the cases to the case book (and to each
  state's latest case of its type), files them under their deadline, counts them open,
  and proposes the joint teams (:func:`sim.kernel_teams.team_candidates`);
- :func:`sim.kernel_teams.form_teams` decides which proposed teams form (the members'
  spare capacity and their agreement), takes their slots and their members' capacity;
  Python makes their agents after the call (:meth:`sim.teams.TeamFormation.adopt_formed`).
- :func:`open_requests` drafts a request for each link whose person or evidence is
  where the case expects (:func:`sim.kernel_drafting.draft`), starts an INTERPOL search
  for each person of unknown whereabouts (:func:`start_notices`), then produces the
  cases' intelligence items and decides who they are shared with
  (:func:`produce_items`), drawing from the model's stream.

The call stops, and leaves what it drew in a :class:`CaseWork` for Python, in three
cases, each rare:

- ``NEED_ROOM``: the draws need more room than Python reserved (cases, ledger rows,
  notices and calendar entries, for every link): Python makes room and resumes the
  call at ``RECORD``.
- ``TEAM_ROOM``: more teams are proposed than there are free team slots: Python makes
  room and resumes the call at ``FORM``.
- ``SHARES_ROOM``: more items were shared than the share record has room for (known
  only after the share draws): Python makes room and calls :func:`record_shares`.

The draws stay in the :class:`CaseWork` (not returned), so a day without a stop
passes no array back to Python.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.experimental import structref

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels
from sim.kernel_calendar import file_all, room_for
from sim.kernel_cases import EXTRADITION, CaseDraws, draw_cases, record_cases
from sim.kernel_drafting import draft
from sim.kernel_intelligence import offers, share_decisions, with_extra_partners
from sim.kernel_interpol import start_notices
from sim.kernel_lifecycle import trust_arrays
from sim.kernel_pick import count_true, pick, pick_not, repeat_each
from sim.kernel_state import K_UNLOCATED, S_ITEMS
from sim.kernel_teams import form_teams, free_slots

DONE, NEED_ROOM, TEAM_ROOM, SHARES_ROOM = range(4)  # what generate_cases returns
DRAW, RECORD, FORM = range(3)  # where it starts


@structref.register
class CaseWorkType(types.StructRef):
    """numba's type of :class:`CaseWork`."""

    def preprocess_fields(self, fields):
        """Field types as numba infers them, without literal values."""
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class CaseWork(structref.StructRefProxy):
    """A day's case generation where :func:`generate_cases` stopped: what it drew.

    ``drawn`` (the :data:`sim.kernel_cases.CaseDraws`), ``case_ids`` (the cases
    recorded), ``candidates`` (:func:`sim.kernel_teams.team_candidates`' result) and
    ``shares`` (:func:`produce_items`' rows), read in Python with :func:`case_work`.
    """


structref.define_proxy(CaseWork, CaseWorkType, ["drawn", "case_ids", "candidates", "shares"])


@njit(cache=True, cold=True, entry=True)
def new_case_work():
    """An empty :class:`CaseWork` (one per model, reused day after day)."""
    i, f, b = np.empty(0, dtype=np.int64), np.empty(0), np.empty(0, dtype=np.bool_)
    drawn = CaseDraws(i, i, f, f, i, i, i, i, b, b, b, b)
    return CaseWork(drawn, i, (i, i, i, f, f), (i, i, i, i, b, i))


@njit(cache=True, cold=True, entry=True)
def case_work(W):
    """``(drawn, case_ids, candidates, shares)`` of a :class:`CaseWork`, for Python."""
    return W.drawn, W.case_ids, W.candidates, W.shares


@njit(cache=True, entry=True)
def generate_cases(
    S, R, W, day, first_step, rate, draw_tables, team_args, search_terms, intelligence
):
    """The day's case generation (see the module docstring); returns ``DONE`` or a stop.

    One entry point, resumed at a step after a stop: numba finalises every function
    called from Python with all it calls, so each entry point would compile the
    whole tree again.

    Args:
        S: The model's struct (:class:`sim.kernel_struct.KernelState`).
        R: The model's streams.
        W: The model's :class:`CaseWork`.
        day: Today.
        first_step: ``DRAW`` (a new day), ``RECORD`` (after ``NEED_ROOM``) or ``FORM``
            (after ``TEAM_ROOM``).
        rate: Expected new cases a day per state.
        draw_tables: ``(type_cdf, type_sensitivity, gravity_cum)`` of
            :func:`sim.kernel_cases.draw_cases`.
        team_args: :func:`sim.kernel_cases.record_cases`' arguments after ``drawn``, then
            :func:`sim.kernel_teams.form_teams`' rules.
        search_terms: ``(terms, numbers)`` of :func:`start_notices`.
        intelligence: :func:`produce_items`' arguments after ``case_ids``.
    """
    if first_step == DRAW:
        type_cdf, type_sensitivity, gravity_cum = draw_tables
        W.drawn = draw_cases(
            R,
            rate,
            type_cdf,
            type_sensitivity,
            gravity_cum,
            S.mr_bloc,
            S.rights_standard,
            S.case_numbers,
            day,
        )
        n, k = W.drawn.origin.size, W.drawn.requested.size
        if n == 0:
            return DONE
        if not case_room(S, n, k):
            return NEED_ROOM
    numbers, threshold_shift, trust_shift, terms, rules = team_args
    if first_step <= RECORD:
        W.case_ids, W.candidates = record_cases(
            S, day, W.drawn, numbers, threshold_shift, trust_shift, terms
        )
        if W.candidates[0].size > free_slots(S):
            return TEAM_ROOM
    return form_and_finish(S, R, W, day, rules, search_terms, intelligence)


@njit(cache=True)
def case_room(S, n, k):
    """Whether ``n`` cases with ``k`` links fit the room reserved for them.

    The drafted requests are filed through the outbox's buffer for today's pass
    (:func:`sim.kernel_lifecycle.schedule` checks its size), so it needs ``k`` too.
    """
    return (
        k <= S.today.size
        and S.case_n_rows[0] + n <= S.case_origin.size
        and room_for(S.deadline_meta, S.deadline_count, n)
        and S.n_rows[0] + k <= S.case.size
        and room_for(S.cal_meta, S.cal_count, k)
        and S.notice_n_rows[0] + k <= S.notice_case.size
        and room_for(S.review_meta, S.review_count, k)
        and room_for(S.search_meta, S.search_count, k)
    )


@njit(cache=True, inline="always")
def form_and_finish(S, R, W, day, rules, search_terms, intelligence):
    """Form the proposed teams (:func:`sim.kernel_teams.form_teams`), then :func:`finish_cases`.

    A link of a case whose team formed is team work.
    """
    links = W.drawn.links
    in_team = np.zeros(W.drawn.requested.size, dtype=np.bool_)
    positions = W.candidates[0]
    if positions.size:
        cases = np.empty(positions.size, dtype=np.int64)
        for j in range(positions.size):
            cases[j] = W.case_ids[positions[j]]
        formed = form_teams(S, R, cases, W.candidates, rules)
        first = np.empty(links.size, dtype=np.int64)  # each case's first link
        at = 0
        for c in range(links.size):
            first[c] = at
            at += links[c]
        for j in range(positions.size):
            if formed[j]:
                p = positions[j]
                for q in range(first[p], first[p] + links[p]):
                    in_team[q] = True
    return finish_cases(S, R, W, day, in_team, search_terms, intelligence)


@njit(cache=True, inline="always")
def finish_cases(S, R, W, day, in_team, search_terms, intelligence):
    """Open the recorded cases' requests (:func:`open_requests`); ``SHARES_ROOM`` or ``DONE``."""
    shares, recorded = open_requests(
        S, R, day, W.case_ids, W.drawn, in_team, search_terms, intelligence
    )
    if recorded:
        return DONE
    W.shares = shares
    return SHARES_ROOM


@njit(cache=True, inline="always")
def open_requests(S, R, day, case_ids, drawn, in_team, search_terms, intelligence):
    """Draft the links' requests, start the searches, produce and offer intelligence.

    Args:
        S: The model's struct, with room for a ledger row, a notice and a calendar
            entry per link.
        R: The model's streams.
        day: Today.
        case_ids: The cases :func:`sim.kernel_cases.record_cases` added.
        drawn: Their draws.
        in_team: Per link, whether its case's joint team formed.
        search_terms: ``(terms, numbers)`` of :func:`start_notices`.
        intelligence: The arguments of :func:`produce_items` after ``case_ids``.

    Returns:
        ``(shares, recorded)``: the share rows of :func:`produce_items` and whether
        they were recorded (when not, Python makes room and calls :func:`record_shares`).
    """
    case_of_link = repeat_each(case_ids, drawn.links)
    requesting = repeat_each(drawn.origin, drawn.links)
    hidden = drawn.hidden
    # A person of unknown whereabouts needs a search first, not a request.
    m = hidden.size - count_true(hidden)
    if m:
        first = S.n_rows[0]
        if first + m > S.case.size:
            raise IndexError("the ledger has too little room reserved for this call")
        S.n_rows[0] = first + m
        team = in_team & (drawn.kind != EXTRADITION)
        draft(
            S,
            R,
            first,
            pick_not(case_of_link, hidden),
            pick_not(requesting, hidden),
            pick_not(drawn.requested, hidden),
            pick_not(drawn.kind, hidden),
            pick_not(drawn.coercive, hidden),
            pick_not(drawn.consent, hidden),
            pick_not(drawn.national, hidden),
            pick_not(team, hidden),
            day,
        )
    sought = hidden.size - m
    if sought:
        S.counters[K_UNLOCATED] += sought
        start_notices(
            S,
            R,
            day,
            pick(case_of_link, hidden),
            pick(requesting, hidden),
            pick(drawn.requested, hidden),
            search_terms[0],
            search_terms[1],
        )
    alliance, counts, terms, numbers, intel_of = intelligence
    shares = produce_items(S, R, day, case_ids, alliance, counts, terms, numbers, intel_of)
    n = shares[0].size
    if n == 0:
        return shares, True
    if not share_room(S, n):
        return shares, False
    record_shares(S, day, shares, intel_of)
    return shares, True


@njit(cache=True, inline="always")
def produce_items(S, R, day, case_ids, alliance, counts, terms, numbers, intel_of):
    """The new cases' intelligence items and the rows shared (see :mod:`sim.intelligence`).

    Args:
        S: The model's struct.
        R: The model's streams.
        day: Today.
        case_ids: The new cases.
        alliance: Members of the intelligence alliance (per state).
        counts: ``(items_per_security_case, items_per_other_case, alliance_partners)``.
        terms: :meth:`sim.operations.Operations.intelligence_terms`.
        numbers: :func:`sim.kernel_intelligence.share_decisions`' numbers.
        intel_of: Each state's intelligence service (read by :func:`record_shares`).

    Returns:
        ``(item, case, sharer, recipient, on_platform, delay)`` of the rows shared.
    """
    producing, n_items, position, partner = offers(
        R,
        case_ids,
        S.case_type,
        S.case_origin,
        S.case_first,
        S.case_count,
        S.requested_state,
        S.security_type,
        alliance,
        counts[0],
        counts[1],
        counts[2],
    )
    if producing.size == 0:
        none = np.empty(0, dtype=np.int64)
        return none, none, none, none, np.empty(0, dtype=np.bool_), none
    items_before = S.share_counts[S_ITEMS]
    S.share_counts[S_ITEMS] += n_items.sum()
    # A coordinated operation or a bilateral agreement offers items to more partners.
    op_participant, op_targeted, _, ag_pair, ag_covered, _ = terms
    position, partner = with_extra_partners(
        producing, position, partner, S.case_origin, S.case_type,
        op_participant, op_targeted, ag_pair, ag_covered,
    )  # fmt: skip
    return share_decisions(
        R,
        trust_arrays(S),
        day,
        producing,
        n_items,
        items_before,
        position,
        partner,
        S.case_origin,
        S.case_type,
        alliance,
        S.confidentiality,
        S.platform,
        terms,
        numbers,
    )


@njit(cache=True)
def share_room(S, n):
    """Whether the share record and the delivery calendar can take ``n`` more rows."""
    return S.share_n_rows[0] + n <= S.share_case.size and room_for(
        S.delivery_meta, S.delivery_count, n
    )


@njit(cache=True, entry=True)
def record_shares(S, day, shares, intel_of):
    """Record the rows shared today, file them for delivery; each costs its sharer effort."""
    item, case, sharer, recipient, on_platform, delay = shares
    n = item.size
    if not share_room(S, n):
        raise IndexError("the share record has too little room reserved for this call")
    first = S.share_n_rows[0]
    ids = np.arange(first, first + n)
    for q in range(n):
        r = ids[q]
        S.share_item[r] = item[q]
        S.share_case[r] = case[q]
        S.share_sharer[r] = sharer[q]
        S.share_recipient[r] = recipient[q]
        S.share_t_shared[r] = day
        S.share_platform[r] = on_platform[q]
    S.share_n_rows[0] = first + n
    file_all(S.delivery_ids, S.delivery_links, S.delivery_meta, S.delivery_count, ids, day + delay)
    for q in range(n):
        S.effort[intel_of[sharer[q]]] += 1.0
