"""Shortcuts and compiled draws on the hot path give what the numpy calls they replace give."""

from __future__ import annotations

import numpy as np
import pytest

from sim.casegen import category_cdf
from sim.kernel_cases import CASE_PARAMETERS, draw_cases, gravity_partners
from sim.kernel_struct import new_streams
from sim.requests import sorted_unique


def assert_same_arrays(want, got) -> None:
    """Each array the kernel returned equals the reference's, element for element."""
    for w, g in zip(want, got, strict=True):
        np.testing.assert_array_equal(g, w)


def _reference_partners(rng, row, origin, k):
    """The gravity rule drawn in Python: ``k`` uniforms at a time until ``k`` are distinct."""
    chosen: list[int] = []
    while len(chosen) < k:
        u = rng.random(k)
        for p in np.searchsorted(row, u * row[-1], side="right").tolist():
            p = min(p, len(row) - 1)
            if p != origin and p not in chosen and len(chosen) < k:
                chosen.append(p)
    return chosen


def _draw(rng, p, rate, cum):
    n = rate.size
    cp = np.zeros(len(CASE_PARAMETERS))
    cp[:6] = [2.0, 5.0, 10.0, 2.0, 300.0, 2.5]  # severity a, b; concentration; deadline; links
    streams = new_streams(rng, rng)  # the case draws take the cases' stream
    return draw_cases(
        streams,
        rate,
        category_cdf(p),
        np.full(p.size, 0.3),
        cum,
        np.zeros(n, bool),
        np.zeros(n),
        cp,
        0,
    )


@pytest.mark.parametrize(
    "p", [[0.1, 0.2, 0.3, 0.25, 0.15], [0.0, 0.5, 0.0, 0.5, 0.0], [0.2] * 5, [1.0], [0.3, 0.7]]
)
def test_case_types_are_generator_choice_draw_for_draw(p):
    """The compiled case draws take the cases' types as ``Generator.choice`` would."""
    p = np.asarray(p)
    cum = np.ones((6, 6)).cumsum(axis=1)
    for seed in range(20):
        for scale in (0.0, 0.5, 5.0):
            rate = np.full(6, scale)
            expected, actual = np.random.default_rng(seed), np.random.default_rng(seed)
            n = int(expected.poisson(rate).sum())
            want = expected.choice(p.size, size=n, p=p)
            np.testing.assert_array_equal(_draw(actual, p, rate, cum).case_type, want)


@pytest.mark.parametrize("n", [2, 3, 40, 195])
def test_gravity_partners_equal_the_python_rule_draw_for_draw(n):
    rng = np.random.default_rng(n)
    weights = rng.random((n, n))
    weights[rng.random((n, n)) < 0.2] = 0.0  # repeated cumulative values (ties)
    np.fill_diagonal(weights, 0.0)  # as in the gravity matrix
    cum = weights.cumsum(axis=1)
    for seed in range(30):
        origin = int(rng.integers(n))
        if cum[origin, -1] == 0.0:
            continue
        k = int(rng.integers(1, min(n - 1, np.count_nonzero(weights[origin])) + 1))
        expected, actual = np.random.default_rng(seed), np.random.default_rng(seed)
        out = np.full(k + 2, -1, dtype=np.int64)
        gravity_partners(actual, cum[origin], origin, k, out, 1)
        assert out[1 : k + 1].tolist() == _reference_partners(expected, cum[origin], origin, k)
        assert out[0] == out[-1] == -1  # only its slots are written
        assert expected.random() == actual.random()  # the streams are left in the same state


def test_sorted_unique_equals_np_unique():
    rng = np.random.default_rng(0)
    for size in (0, 1, 2, 5, 30, 500):
        for high in (1, 3, 50, 10**9):
            values = rng.integers(0, high, size=size)
            np.testing.assert_array_equal(sorted_unique(values), np.unique(values))
            got, counts = sorted_unique(values, return_counts=True)
            want, want_counts = np.unique(values, return_counts=True)
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(counts, want_counts)
    int8 = np.array([3, -1, 3, 0], dtype=np.int8)
    assert sorted_unique(int8).dtype == np.int8
    np.testing.assert_array_equal(sorted_unique(int8), [-1, 0, 3])


def _reference_offers(rng, case_ids, columns, numbers):
    """The vectorised rule the intelligence kernel replaced (IntelligenceSharing.produce)."""
    case_type, origin, first, count, requested, security, alliance = columns
    items_security, items_other, alliance_partners = numbers
    rate = np.where(security[case_type[case_ids]], items_security, items_other)
    n_items = rng.poisson(rate)
    producing = case_ids[n_items > 0]
    n_items = n_items[n_items > 0]
    n = alliance.size
    cases_origin = origin[producing]
    position = [np.arange(producing.size).repeat(count[producing])]
    partner = [
        np.concatenate(
            [requested[first[c] : first[c] + count[c]] for c in producing] + [[]]
        ).astype(np.int64)
    ]
    members = np.flatnonzero(alliance)
    if alliance_partners > 0 and members.size > 1:
        allied = np.flatnonzero(alliance[cases_origin])
        if allied.size:
            k = min(alliance_partners, members.size - 1)
            keys = rng.random((allied.size, members.size))
            keys[members[None, :] == cases_origin[allied, None]] = np.inf
            chosen = np.argpartition(keys, k - 1, axis=1)[:, :k]
            position.append(allied.repeat(k))
            partner.append(members[chosen].reshape(-1))
    pair = sorted_unique(np.concatenate(position) * n + np.concatenate(partner))
    position, partner = pair // n, pair % n
    keep = partner != cases_origin[position]
    return producing, n_items, position[keep], partner[keep]


@pytest.mark.parametrize("n_states", [2, 3, 12, 40])
def test_intelligence_offers_equal_the_vectorised_rule_draw_for_draw(n_states):
    """sim.kernel_intelligence.offers: the same items, partners and draws as the numpy rule."""
    from sim.kernel_intelligence import offers

    world = np.random.default_rng(n_states)
    for seed in range(25):
        n_cases = int(world.integers(1, 30))
        case_type = world.integers(0, 5, size=n_cases).astype(np.int8)
        origin = world.integers(0, n_states, size=n_cases).astype(np.int16)
        count = world.integers(0, 4, size=n_cases)
        first = np.where(count > 0, np.concatenate(([0], count.cumsum()[:-1])), -1)
        requested = world.integers(0, n_states, size=int(count.sum()) + 1).astype(np.int16)
        security = np.array([True, False, True, False, False])
        alliance = world.random(n_states) < 0.5
        case_ids = np.sort(
            world.choice(n_cases, size=int(world.integers(1, n_cases + 1)), replace=False)
        )
        columns = (case_type, origin, first, count, requested, security, alliance)
        numbers = (1.5, 0.4, int(seed % 4))  # items a security case, another case; partners
        expected, actual = np.random.default_rng(seed), np.random.default_rng(seed)
        want = _reference_offers(expected, case_ids, columns, numbers)
        got = offers(new_streams(actual, actual), case_ids, *columns, *numbers)
        assert_same_arrays(want, got)
        assert expected.random() == actual.random()  # the streams are left in the same state


def _reference_sharing(rng, trust, day, offered, columns, terms, numbers):
    """The vectorised rules the sharing kernels replaced (produce and the operations' hooks).

    Extra partners as ``Operations.extra_partners`` added them, rows as ``produce`` built
    them, the chance of :func:`sim.intelligence.share_probability` raised as
    ``Operations.share_probability`` raised it, then one uniform and one normal per row.
    """
    from sim.durations import noisy_days, to_whole_days
    from sim.intelligence import share_probability
    from sim.operations import raised_share_probability

    producing, n_items, items_before, position, partner = offered
    case_origin, case_type, alliance, confidentiality, platform = columns
    op_participant, op_targeted, op_uplift, ag_pair, ag_covered, ag_commitment = terms
    base, alliance_bonus, confidentiality_bonus, platform_days, sharing_days, sigma = numbers
    n = alliance.size
    origin = case_origin[producing].astype(np.int64)
    kind = case_type[producing]
    extra = (op_participant[origin] & op_targeted[kind])[:, None] & op_participant[None, :]
    extra |= ag_covered[kind][:, None] & ag_pair[origin]
    extra[np.arange(producing.size), origin] = False
    more_position, more_partner = np.nonzero(extra)
    pair = sorted_unique(np.concatenate([position * n + partner, more_position * n + more_partner]))
    position, partner = pair // n, pair % n
    first_item = items_before + n_items.cumsum() - n_items
    n_partners = np.bincount(position, minlength=producing.size)
    pair_start = n_partners.cumsum() - n_partners
    rows = n_items * n_partners
    row_case = np.arange(producing.size).repeat(rows)
    r = np.arange(row_case.size) - (rows.cumsum() - rows).repeat(rows)
    width = n_partners[row_case]
    item = first_item[row_case] + r // width
    recipient = partner[pair_start[row_case] + r % width]
    sharer = origin[row_case]
    p = share_probability(
        trust.get(sharer, recipient, day),
        alliance[sharer] & alliance[recipient],
        confidentiality[recipient],
        base=base,
        alliance_bonus=alliance_bonus,
        confidentiality_bonus=confidentiality_bonus,
    )
    cases = producing[row_case]
    among = op_participant[sharer] & op_targeted[case_type[cases]] & op_participant[recipient]
    uplift = np.where(among, op_uplift, 0.0)
    between = ag_pair[sharer, recipient] & ag_covered[case_type[cases]]
    uplift = np.where(between, np.maximum(uplift, ag_commitment), uplift)
    p = raised_share_probability(p, uplift)
    shared = rng.random(p.size) < p
    on_platform = platform[sharer] & platform[recipient]
    delay = to_whole_days(
        noisy_days(rng, np.where(on_platform, platform_days, sharing_days), sigma)
    )
    return tuple(a[shared] for a in (item, cases, sharer, recipient, on_platform, delay))


@pytest.mark.parametrize("n_states", [2, 3, 12, 40])
def test_share_decisions_equal_the_vectorised_rules_draw_for_draw(n_states):
    """sim.kernel_intelligence: extra partners, chances, decisions and delays as in numpy.

    Random worlds, trust that has moved and relaxed, and an operation and an agreement
    each in force or not, with uplifts that overlap.
    """
    from sim.kernel_intelligence import share_decisions, with_extra_partners
    from sim.trust import TrustNetwork

    world = np.random.default_rng(100 + n_states)
    for seed in range(25):
        n_cases = int(world.integers(1, 30))
        case_type = world.integers(0, 5, size=n_cases).astype(np.int8)
        case_origin = world.integers(0, n_states, size=n_cases).astype(np.int16)
        producing = np.sort(
            world.choice(n_cases, size=int(world.integers(1, n_cases + 1)), replace=False)
        ).astype(np.int64)
        n_items = world.integers(1, 4, size=producing.size).astype(np.int64)
        pairs = world.random((producing.size, n_states)) < 0.3
        pairs[np.arange(producing.size), case_origin[producing]] = False
        position, partner = np.nonzero(pairs)
        trust = TrustNetwork(world.random((n_states, n_states)), decay_per_year=0.2)
        moved = world.integers(0, n_states, size=(2, 3 * n_states))
        trust.reward(moved[0], moved[1], 0.3, 10)
        trust.penalise(moved[1], moved[0], 0.4, 20)
        columns = (
            case_origin,
            case_type,
            world.random(n_states) < 0.5,
            world.random(n_states),
            world.random(n_states) < 0.5,
        )
        no_types = np.zeros(8, dtype=bool)
        op_on, ag_on = seed % 2 == 1, seed % 4 >= 2
        parties = world.random(n_states) < 0.6
        ag_pair = parties[:, None] & parties[None, :] & ~np.eye(n_states, dtype=bool)
        terms = (
            (world.random(n_states) < 0.5) if op_on else np.zeros(n_states, dtype=bool),
            (world.random(8) < 0.6) if op_on else no_types,
            0.4,
            ag_pair if ag_on else np.zeros((n_states, n_states), dtype=bool),
            (world.random(8) < 0.6) if ag_on else no_types,
            0.3 + 0.3 * (seed % 3 == 0),
        )
        numbers = (0.5, 0.25, 0.3, 0.05, 2.0, 0.4)
        day = 40 + seed
        offered = (producing, n_items, 7 * seed, position, partner)
        expected, actual = np.random.default_rng(seed), np.random.default_rng(seed)
        want = _reference_sharing(expected, trust, day, offered, columns, terms, numbers)
        position, partner = with_extra_partners(
            producing, position, partner, case_origin, case_type, *terms[:2], *terms[3:5]
        )
        got = share_decisions(
            new_streams(actual, actual),
            trust.arrays(),
            day,
            producing,
            n_items,
            7 * seed,
            position,
            partner,
            *columns,
            terms,
            numbers,
        )
        assert_same_arrays(want, got)
        assert expected.random() == actual.random()  # the streams are left in the same state


@pytest.mark.parametrize("n_states", [2, 12, 40])
def test_delivery_equals_the_vectorised_rules_draw_for_draw(n_states):
    """sim.kernel_intelligence.deliver_items: leaks, preventions and trust as in numpy.

    The reference is the delivery the kernel replaced: :func:`leak_probability` over the
    items, a uniform per item for a leak, then one for prevention, then trust's losses
    and gains through :class:`sim.trust.TrustNetwork` (repeated pairs compounding).
    """
    import copy

    from sim.intelligence import leak_probability
    from sim.kernel_intelligence import deliver_items
    from sim.trust import TrustNetwork

    world = np.random.default_rng(200 + n_states)
    for seed in range(20):
        n_rows = int(world.integers(1, 60))
        sharer = world.integers(0, n_states, size=n_rows).astype(np.int16)
        recipient = world.integers(0, n_states, size=n_rows).astype(np.int16)
        platform = world.random(n_rows) < 0.3
        security, confidentiality = world.random(n_states), world.random(n_states)
        numbers = (0.4, 0.2, 0.5, 0.1, 0.3, 0.05)  # leaks frequent enough to see both
        leak_base, factor, cut, prevention, loss, gain = numbers
        ids = np.sort(world.choice(n_rows, size=int(world.integers(1, n_rows + 1)), replace=False))
        trust = TrustNetwork(world.random((n_states, n_states)), decay_per_year=0.2)
        trust.reward(sharer, recipient, 0.2, 5)
        twin = copy.deepcopy(trust)
        day = 30 + seed

        expected = np.random.default_rng(seed)
        p = leak_probability(
            security[recipient[ids]],
            confidentiality[recipient[ids]],
            platform[ids],
            base=leak_base,
            platform_factor=factor,
            confidentiality_cut=cut,
        )
        leaked = expected.random(ids.size) < p
        prevent = expected.random(ids.size) < prevention
        a, b = sharer[ids].astype(np.int64), recipient[ids].astype(np.int64)
        trust.penalise(a[leaked], b[leaked], loss, day)
        trust.reward(b[~leaked], a[~leaked], gain, day)

        actual = np.random.default_rng(seed)
        t_delivered = np.full(n_rows, -1, dtype=np.int32)
        leaked_col = np.zeros(n_rows, dtype=bool)
        got = deliver_items(
            new_streams(actual, actual),
            twin.arrays(),
            day,
            ids.astype(np.int64),
            (sharer, recipient, platform, t_delivered, leaked_col),
            security,
            confidentiality,
            numbers,
        )
        assert got[0] == leaked.sum() and got[1] == (prevent & ~leaked).sum()
        np.testing.assert_array_equal(got[2], np.flatnonzero(~leaked))
        np.testing.assert_array_equal(leaked_col[ids], leaked)
        assert (t_delivered[ids] == day).all() and (np.delete(t_delivered, ids) == -1).all()
        for mine, theirs in zip(trust.arrays(), twin.arrays(), strict=True):
            np.testing.assert_array_equal(theirs, mine)
        assert expected.random() == actual.random()


def _interpol_record(world, n_rows, n_states, n_cases):
    """Columns of a random INTERPOL record, in the secretariat's dtypes."""
    return (
        world.integers(0, n_cases, size=n_rows).astype(np.int64),  # case
        world.integers(0, n_states, size=n_rows).astype(np.int16),  # requesting
        world.integers(0, n_states, size=n_rows).astype(np.int16),  # located_in
        world.random(n_rows) < 0.4,  # diffusion
        np.zeros(n_rows, dtype=np.int8),  # status
        np.full(n_rows, -1, dtype=np.int32),  # t_reviewed
        np.full(n_rows, -1, dtype=np.int32),  # t_located
    )


def _reference_circulate(rng, day, notices, record, member, numbers):
    """InterpolSecretariat._circulate before it was compiled."""
    from sim.durations import noisy_days, to_whole_days
    from sim.interpol import NoticeStatus

    locate_p, diffusion_p, locate_days, interpol_days, sigma = numbers
    diffusion, status = record[3], record[4]
    p = np.where(diffusion[notices], diffusion_p, locate_p)
    found = member[record[2][notices]] & (rng.random(notices.size) < p)
    status[notices] = np.where(found, NoticeStatus.CIRCULATING, NoticeStatus.NOT_LOCATED)
    days = to_whole_days(
        noisy_days(rng, np.full(int(found.sum()), locate_days), sigma) + 2.0 * interpol_days
    )
    return notices[found], day + days


@pytest.mark.parametrize("n_states", [2, 12, 40])
def test_interpol_kernels_equal_the_vectorised_rules_draw_for_draw(n_states):
    """sim.kernel_interpol: new searches, reviews and arrests as the numpy code had them.

    New searches with an INTERPOL operation running or not (its faster reviews keep
    their fractional day until filed, then drop it); reviews against the rejection
    rule over a float32 column; arrests only for open cases and circulating searches.
    """
    from sim.durations import noisy_days, to_whole_days
    from sim.interpol import NoticeStatus, rejection_probability
    from sim.kernel_interpol import arrests, review_notices, start_searches
    from sim.operations import shortened_review

    world = np.random.default_rng(300 + n_states)
    locating = (0.6, 0.3, 40.0, 1.5, 0.5)
    search_numbers = (0.3, 12.0, *locating)
    review_numbers = (0.05, 0.3, 0.2, *locating)
    for seed in range(20):
        n_cases, n_rows = 30, int(world.integers(1, 40))
        member = world.random(n_states) < 0.7
        case_type = world.integers(0, 8, size=n_cases).astype(np.int8)
        sensitivity = world.random(n_cases).astype(np.float32)
        death_penalty = world.random(n_states) < 0.3
        case_status = world.integers(0, 3, size=n_cases).astype(np.int8)
        op_on = seed % 2 == 1
        terms = (
            (world.random(n_states) < 0.5) if op_on else np.zeros(n_states, dtype=bool),
            (world.random(8) < 0.5) if op_on else np.zeros(8, dtype=bool),
            0.37 if op_on else 0.0,
        )
        want_record = _interpol_record(world, n_rows, n_states, n_cases)
        got_record = tuple(c.copy() for c in want_record)
        notices = np.arange(n_rows, dtype=np.int64)
        day = 100 + seed
        expected, actual = np.random.default_rng(seed), np.random.default_rng(seed)
        streams = new_streams(actual, actual)

        # New searches (InterpolSecretariat.search and Operations.notice_review_days)
        case, requesting = want_record[0], want_record[1]
        diffusion = expected.random(n_rows) < search_numbers[0]
        want_record[3][:] = diffusion
        review = to_whole_days(
            noisy_days(expected, np.full(n_rows, search_numbers[1]), locating[4]) + locating[3]
        )
        if op_on:
            mine = terms[0][requesting.astype(np.int64)] & terms[1][case_type[case]]
            review = np.where(mine, shortened_review(review, terms[2]), review)
        due = np.zeros(n_rows, dtype=np.int64)
        due[:] = day + review  # as Calendar.add files a float day: truncated
        want = (
            *(notices[~diffusion], due[~diffusion]),
            *_reference_circulate(expected, day, notices[diffusion], want_record, member, locating),
        )
        got = start_searches(
            streams, day, notices, got_record, member, case_type, terms, search_numbers
        )
        assert_same_arrays(want, got)

        # Reviews (InterpolSecretariat.daily's first half)
        ids = np.sort(world.choice(n_rows, size=int(world.integers(1, n_rows + 1)), replace=False))
        p = rejection_probability(
            sensitivity[case[ids]],
            death_penalty[requesting[ids]],
            base=review_numbers[0],
            political=review_numbers[1],
            human_rights=review_numbers[2],
        )
        rejected = expected.random(ids.size) < p
        want_record[5][ids] = day
        want_record[4][ids[rejected]] = NoticeStatus.REJECTED
        want = _reference_circulate(expected, day, ids[~rejected], want_record, member, locating)
        got = review_notices(
            streams, day, ids, got_record, sensitivity, death_penalty, member, review_numbers
        )
        assert_same_arrays(want, got)

        # Arrests (its second half); some searches come due twice the same day (found
        # by an operation and scheduled): each is reported once, the first time.
        ids = ids[world.random(ids.size) < 0.8]
        ids = np.concatenate([ids, ids[world.random(ids.size) < 0.3]])
        status = want_record[4]
        arrested = []
        for row in ids.tolist():
            if status[row] != NoticeStatus.CIRCULATING:
                continue
            if case_status[case[row]] == 0:
                status[row] = NoticeStatus.LOCATED
                want_record[6][row] = day
                arrested.append(row)
            else:
                status[row] = NoticeStatus.NOT_LOCATED
        got = arrests(day, ids, got_record, case_status)
        np.testing.assert_array_equal(got, arrested)
        assert len(set(got.tolist())) == got.size
        for w, g in zip(want_record, got_record, strict=True):
            np.testing.assert_array_equal(g, w)
        assert expected.random() == actual.random()


def _reference_team_candidates(trust, day, case_ids, links, requested, columns, numbers, terms):
    """Team proposals and the trust test as numpy had them (_propose_teams, team_terms)."""
    from sim.teams import team_is_proposed

    case_origin, case_type, severity, threshold_shift, trust_shift = columns
    min_states, severity_threshold, agreement_trust = numbers
    op_participant, op_targeted, op_min, op_cut, op_relief = terms[:5]
    ag_pair, ag_covered, ag_min, ag_cut, ag_relief = terms[5:]
    origin = case_origin[case_ids].astype(np.int64)
    kind = case_type[case_ids]
    threshold = np.maximum(0.0, severity_threshold - threshold_shift[origin])
    owner = np.arange(case_ids.size).repeat(links)
    sizes = np.full(case_ids.size, min_states)
    relief = np.zeros(case_ids.size)
    others = np.bincount(owner, op_participant[requested], minlength=case_ids.size)
    joint = op_participant[origin] & op_targeted[kind] & (others > 0)
    sizes = np.where(joint, np.minimum(sizes, op_min), sizes)
    threshold = np.where(joint, threshold - op_cut, threshold)
    relief = np.where(joint, op_relief, relief)
    partners = np.bincount(owner, ag_pair[origin[owner], requested], minlength=case_ids.size)
    joint = ag_covered[kind] & (partners > 0)
    sizes = np.where(joint, np.minimum(sizes, ag_min), sizes)
    threshold = np.where(joint, threshold - ag_cut, threshold)
    relief = np.where(joint, np.maximum(relief, ag_relief), relief)
    proposed = team_is_proposed(
        links + 1,
        severity[case_ids],
        min_states=sizes,
        severity_threshold=np.maximum(0.0, threshold),
    )
    candidates = proposed.nonzero()[0]
    starts = links.cumsum() - links
    group_sizes = links[candidates] + 1
    groups = [
        np.concatenate(([origin[k]], requested[starts[k] : starts[k] + links[k]]))
        for k in candidates
    ]
    lowest = np.array(
        [
            min(
                # every ordered pair of positions (members are distinct in a run)
                (
                    float(trust.get(a, b, day))
                    for i, a in enumerate(g)
                    for j, b in enumerate(g)
                    if i != j
                ),
                default=np.inf,
            )
            for g in groups
        ]
    )
    needed = np.maximum(0.0, agreement_trust - trust_shift[origin[candidates]])
    needed = np.maximum(0.0, needed - relief[candidates])
    ok = lowest >= needed
    members = np.concatenate([g for g, keep in zip(groups, ok, strict=True) if keep] + [[]])
    return candidates[ok], members.astype(np.int64), group_sizes[ok], lowest[ok], needed[ok]


@pytest.mark.parametrize("n_states", [2, 12, 40])
def test_team_candidates_equal_the_vectorised_rules(n_states):
    """sim.kernel_teams.team_candidates: proposals on the operation's and agreement's terms.

    Random new cases and trust, with a UNODC operation and an agreement each in force or
    not: the same cases pass, with the same members, lowest trust and trust needed.
    """
    from sim.kernel_teams import team_candidates
    from sim.trust import TrustNetwork

    world = np.random.default_rng(400 + n_states)
    no_states, no_types = np.zeros(n_states, dtype=bool), np.zeros(8, dtype=bool)
    for seed in range(25):
        n_cases = 40
        columns = (
            world.integers(0, n_states, size=n_cases).astype(np.int16),
            world.integers(0, 8, size=n_cases).astype(np.int8),
            world.random(n_cases).astype(np.float32),
            world.random(n_states) * 0.2,
            world.random(n_states) * 0.2,
        )
        case_ids = np.sort(world.choice(n_cases, size=int(world.integers(1, 20)), replace=False))
        links = world.integers(0, 4, size=case_ids.size).astype(np.int64)
        requested = world.integers(0, n_states, size=int(links.sum())).astype(np.int64)
        trust = TrustNetwork(0.3 + 0.7 * world.random((n_states, n_states)), 0.2)
        parties = world.random(n_states) < 0.6
        op_on, ag_on = seed % 2 == 1, seed % 4 >= 2
        terms = (
            (world.random(n_states) < 0.5) if op_on else no_states,
            (world.random(8) < 0.6) if op_on else no_types,
            2,
            0.25,
            0.15,
            (parties[:, None] & parties[None, :]) if ag_on else np.zeros((n_states,) * 2, bool),
            (world.random(8) < 0.6) if ag_on else no_types,
            2,
            0.3,
            0.1 + 0.1 * (seed % 3 == 0),
        )
        numbers = (3, 0.6, 0.45)
        want = _reference_team_candidates(
            trust, 50, case_ids, links, requested, columns, numbers, terms
        )
        got = team_candidates(
            trust.arrays(),
            50,
            case_ids.astype(np.int64),
            links,
            requested,
            *columns[:3],
            numbers,
            *columns[3:],
            terms,
        )
        assert_same_arrays(want, got)
