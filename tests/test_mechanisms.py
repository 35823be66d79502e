"""Intelligence sharing, INTERPOL, joint teams, diplomacy and capacity building.

Each mechanism is checked in the direction the design gives it, over a few
seeds, with common random numbers: case generation has its own random stream,
so two scenarios run with the same seed face exactly the same cases.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim import intelligence, interpol, teams, trust
from sim.engagement import busiest_pairs, move_towards_one
from sim.requests import CaseStatus, Outcome

SEEDS = (1, 2, 3)
SMALL = {"world.n_states": 20, "run.years": 2.0, "run.warmup_years": 0.0}
# Where the effect over its seed-to-seed noise (10 seeds) is as clear after 1.5 years as
# after 2, the test runs 1.5 years: the secure platform, capacity building, meetings.
SHORT = {"run__years": 1.5, "run__warmup_years": 0.0}


def run(seed=1, **overrides):
    values = dict(SMALL)
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return sim.run(sim.load_scenario("baseline", values), seed=seed)


# --------------------------------------------------------------------------- rules
def test_share_probability_rises_with_trust_alliance_and_confidentiality():
    kw = dict(base=0.5, alliance_bonus=0.5, confidentiality_bonus=0.5)
    low = intelligence.share_probability(0.2, False, 0.0, **kw)
    assert low == pytest.approx(0.1)
    assert intelligence.share_probability(0.6, False, 0.0, **kw) > low
    assert intelligence.share_probability(0.2, True, 0.0, **kw) == pytest.approx(0.15)
    assert intelligence.share_probability(0.2, False, 1.0, **kw) == pytest.approx(0.15)
    assert intelligence.share_probability(1.0, True, 1.0, **kw) == 1.0  # clipped


def test_leak_probability_falls_with_security_confidentiality_and_platform():
    kw = dict(base=0.1, platform_factor=0.3, confidentiality_cut=0.8)
    base = intelligence.leak_probability(0.0, 0.0, False, **kw)
    assert base == pytest.approx(0.1)
    assert intelligence.leak_probability(0.5, 0.0, False, **kw) == pytest.approx(0.05)
    assert intelligence.leak_probability(0.0, 1.0, False, **kw) == pytest.approx(0.02)
    assert intelligence.leak_probability(0.0, 0.5, False, **kw) == pytest.approx(0.06)
    assert intelligence.leak_probability(0.0, 0.0, True, **kw) == pytest.approx(0.03)
    # Confidentiality that prevents nothing leaves the base rate.
    no_cut = {**kw, "confidentiality_cut": 0.0}
    assert intelligence.leak_probability(0.0, 1.0, False, **no_cut) == pytest.approx(0.1)


@pytest.mark.parametrize("weight", [0.0, 1.0])
def test_leaks_follow_the_recipients_data_security_weighted_by_technology(weight):
    """A delivered item leaks with the leak rule's chance at the recipient, whose data
    security is ``weight`` x technology + (1 - weight) x data protection: the leaks of
    a run are as many as those chances add up to, and clearly not as many as the other
    weight's would."""
    result = run(
        seed=5,
        world__n_states=40,
        intelligence__leak_base=1.0,
        intelligence__technology_security_weight=weight,
    )
    model, cfg = result.model, result.model.config.intelligence
    w, shares = model.world, model.intelligence.shares
    delivered = shares["t_delivered"] >= 0
    recipient = shares["recipient"][delivered]

    def chances(weight_of_technology):
        security = weight_of_technology * w.technology + (1 - weight_of_technology) * (
            w.data_protection
        )
        return intelligence.leak_probability(
            security[recipient],
            w.confidentiality[recipient],
            shares["platform"][delivered],
            base=cfg.leak_base,
            platform_factor=cfg.platform_leak_factor,
            confidentiality_cut=cfg.confidentiality_leak_cut,
        )

    p, other = chances(weight), chances(1.0 - weight)
    sd = np.sqrt(np.sum(p * (1 - p)))
    leaks = int(shares["leaked"][delivered].sum())
    assert delivered.sum() > 200 and leaks == model.intelligence.leaks
    assert abs(leaks - p.sum()) < 4 * sd, (leaks, p.sum(), sd)
    assert abs(other.sum() - p.sum()) > 8 * sd, (other.sum(), p.sum(), sd)


def test_one_leak_outweighs_many_good_exchanges_with_default_parameters():
    defaults = sim.Scenario()
    start = defaults.world.initial_trust
    after_leak = trust.loss(start, defaults.intelligence.leak_trust_loss)
    drop = start - after_leak
    # N good exchanges (executed requests) from the same starting point.
    n = 10
    t = start
    for _ in range(n):
        t = trust.gain(t, defaults.trust.gain_on_success)
    assert drop > t - start
    needed = trust.exchanges_to_recover(
        defaults.trust.gain_on_success, defaults.intelligence.leak_trust_loss, start
    )
    assert needed > n


def test_interpol_rejection_rises_with_political_sensitivity_and_death_penalty():
    kw = dict(base=0.08, political=0.25, human_rights=0.1)
    calm = interpol.rejection_probability(0.0, False, **kw)
    assert calm == pytest.approx(0.08)
    assert interpol.rejection_probability(1.0, False, **kw) == pytest.approx(0.33)
    assert interpol.rejection_probability(0.0, True, **kw) == pytest.approx(0.18)


def test_team_rules():
    assert teams.team_is_proposed(3, 0.7, min_states=3, severity_threshold=0.6)
    assert not teams.team_is_proposed(2, 0.9, min_states=3, severity_threshold=0.6)
    assert not teams.team_is_proposed(4, 0.5, min_states=3, severity_threshold=0.6)
    assert teams.members_agree(0.5, 0.2, agreement_trust=0.45, cost_per_day=0.01)
    assert not teams.members_agree(0.4, 0.2, agreement_trust=0.45, cost_per_day=0.01)
    assert not teams.members_agree(0.5, 0.0, agreement_trust=0.45, cost_per_day=0.01)


def test_a_team_holds_its_members_capacity_until_its_case_ends():
    """Law-enforcement capacity is the staffed capacity less what active teams hold.

    Teams take capacity in Python when they form; the kernel call that ends a case gives
    it back (sim.kernel_teams.give_back_capacity). Both sides must balance at every day.
    """
    from sim.model import CooperationModel

    scenario = sim.load_scenario(
        "joint_task_forces",
        {"world.n_states": 12, "run.years": 2.0, "run.warmup_years": 0.0},
    )
    model = CooperationModel(scenario, rng=4)
    le = model.le_of
    staffed = model.agency_table.capacity[le].copy()
    dissolved = 0
    while model.running:
        model.step()
        lent = np.zeros(le.size)
        for team in model.teams.active.values():
            lent[team.members] += team.cost_per_day
            assert model.teams.slot_case[team.slot] == team.case  # the kernels' view
        np.testing.assert_allclose(model.agency_table.capacity[le], staffed - lent, atol=1e-9)
        dissolved = model.teams.formed - len(model.teams.active)
        # Every slot not held by an active team is free again.
        assert np.count_nonzero(model.teams.slot_case >= 0) == len(model.teams.active)
    assert dissolved >= 3 and model.teams.active  # teams ended and others still work


def _with_active_teams(n):
    """A 12-state joint task forces model stepped until ``n`` teams are active."""
    from sim.model import CooperationModel

    scenario = sim.load_scenario(
        "joint_task_forces",
        {"world.n_states": 12, "run.years": 2.0, "run.warmup_years": 0.0},
    )
    model = CooperationModel(scenario, rng=4)
    while len(model.teams.active) < n:
        model.step()
    return model


def test_the_kernel_gives_back_capacity_and_marks_teams_by_segment_then_case():
    """give_back_capacity returns each member's capacity and marks the teams of the cases a
    call ended -2 - k, k in the order of (the segment the case ended in, the case id)."""
    from sim.kernel_state import O_CLOSED, O_GIVEN, O_SEGMENTS, O_TEAMS_ENDED
    from sim.kernel_teams import give_back_capacity

    model = _with_active_teams(4)
    formation = model.teams
    a, b, c, still_open = sorted(formation.active)[:4]
    slot = {case: formation.active[case].slot for case in (a, b, c, still_open)}
    # Each case knows its team's slot (written when the team formed): the kernel finds
    # the teams of the cases that ended through it.
    assert all(model.cases.team_slot[case] == slot[case] for case in slot)
    state, out = model.kernel_state(8)
    # Two segments: c's case ended first, then b's and a's (in that order) together; c
    # listed again in the second is one team, given back once.
    out.ended_cases[:4] = [c, b, a, c]
    out.ended_segments[:2] = [1, 4]
    out.filed[O_CLOSED], out.filed[O_SEGMENTS] = 4, 2
    model.cases.status[[a, b, c]] = CaseStatus.RESOLVED
    capacity = model.agency_table.capacity
    before, expected = capacity.copy(), capacity.copy()
    for case in (c, a, b):  # members in each team's order, as the kernel adds them
        s = slot[case]
        for member in formation.slot_members[s, : formation.slot_size[s]]:
            agency = model.le_of[member]
            expected[agency] = max(expected[agency] + formation.slot_cost[s], 0.0)
    give_back_capacity(state)
    assert [formation.slot_case[slot[case]] for case in (c, a, b)] == [-2, -3, -4]
    assert formation.slot_ended[:3].tolist() == [slot[c], slot[a], slot[b]]
    assert formation.slot_case[slot[still_open]] == still_open
    assert (out.filed[O_GIVEN], out.filed[O_TEAMS_ENDED]) == (2, 3)
    np.testing.assert_array_equal(capacity, expected)
    assert np.count_nonzero(capacity > before) >= 2  # the members' law enforcement
    formation.dissolve_ended(3)
    assert not {a, b, c} & set(formation.active) and still_open in formation.active


def test_teams_dissolve_in_the_order_the_kernel_marked_them(monkeypatch):
    """The k-th team a call ended is marked -2 - k, listed k-th and dissolved k-th; a bad or
    leftover mark is an error."""
    model = _with_active_teams(3)
    formation = model.teams
    a, b, c = sorted(formation.active)[:3]  # case ids, a < b < c
    formation.check_active(model.cases.status)  # every active team works on an open case
    status = model.cases.status.copy()
    status[b] = CaseStatus.RESOLVED  # ended, and its team never marked
    with pytest.raises(RuntimeError, match=f"the teams of ended cases \\[{b}\\]"):
        formation.check_active(status)
    slot = {case: formation.active[case].slot for case in (a, b, c)}
    formation.slot_case[slot[a]] = -1  # a slot freed, its team still active
    with pytest.raises(RuntimeError, match=r"active teams, \d+ slots holding a case"):
        formation.check_active(model.cases.status)
    formation.slot_case[slot[a]] = -2  # marked as ended by a kernel, never dissolved
    with pytest.raises(RuntimeError, match=rf"teams in slots \[{slot[a]}\] ended and were never"):
        formation.check_active(model.cases.status)
    formation.slot_case[slot[a]] = a
    # As give_back_capacity marks and lists them: c's team ended first, then a's, then b's.
    formation.slot_case[[slot[c], slot[a], slot[b]]] = [-2, -3, -3]
    formation.slot_ended[:3] = [slot[c], slot[a], slot[b]]
    with pytest.raises(RuntimeError, match=r"marked to dissolve \[0, 1, 1\], the kernel counted 3"):
        formation.dissolve_ended(3)  # before it dissolves any
    assert {a, b, c} <= set(formation.active)
    formation.slot_case[slot[b]] = -4
    gone = []
    dissolve = teams.JointInvestigationTeam.dissolve
    monkeypatch.setattr(
        teams.JointInvestigationTeam,
        "dissolve",
        lambda team: gone.append(team.case) or dissolve(team),
    )
    formation.dissolve_ended(3)
    assert gone == [c, a, b]
    assert not {a, b, c} & set(formation.active)
    assert np.count_nonzero(formation.slot_case >= 0) == len(formation.active)
    assert not np.any(formation.slot_case <= -2)
    assert all(formation.slot_case[slot[case]] == -1 for case in (a, b, c))  # free again


def test_busiest_pairs_picks_the_most_traffic_and_boosted_states_first():
    traffic = np.array([[0, 5, 0, 0], [1, 0, 0, 0], [0, 0, 0, 9], [0, 0, 1, 0]])
    assert busiest_pairs(traffic, 1).tolist() == [[2, 3]]
    assert busiest_pairs(traffic, 2).tolist() == [[2, 3], [0, 1]]
    boost = np.array([0.0, 1.0, 0.0, 0.0])
    assert busiest_pairs(traffic, 1, boost).tolist() == [[0, 1]]
    assert move_towards_one(0.5, 0.1) == pytest.approx(0.55)


@pytest.mark.parametrize("k", [1, 3, 10, 45, 60])
def test_busiest_pairs_are_the_first_k_of_a_stable_sort_of_all_pairs(k):
    """Only the pairs as heavy as the k-th are sorted: the same pairs, ties in position order."""
    rng = np.random.default_rng(k)
    traffic = rng.integers(0, 4, (10, 10))  # 45 pairs, many ties
    boost = np.where(rng.random(10) < 0.2, 1.0, 0.0)
    rows, cols = np.triu_indices(10, 1)
    for b in (None, boost):
        weight = (traffic + traffic.T)[rows, cols].astype(float)
        if b is not None:
            weight = weight + 1e9 * np.maximum(b[rows], b[cols])
        order = np.argsort(-weight, kind="stable")[:k]
        want = np.stack([rows[order], cols[order]], axis=1)
        np.testing.assert_array_equal(busiest_pairs(traffic, k, b), want)


# --------------------------------------------------------------------------- baseline
def test_baseline_has_every_mechanism_at_work():
    o = sim.run("baseline", seed=1, years=2.0).outcomes
    for key in (
        "intel_shared",
        "leaks",
        "red_notices_requested",
        "red_notice_rejection_rate",
        "arrests_via_notices",
        "jits_formed",
        "mean_relations",
        "capacity_by_capacity_group",
    ):
        assert key in o
    assert o["intel_shared"] > 100
    assert o["red_notices_requested"] > 50
    assert 0.05 < o["red_notice_rejection_rate"] < 0.35
    assert o["arrests_via_notices"] > 10
    assert o["jits_formed"] >= 1
    assert o["coordination_meetings"] > 0


# --------------------------------------------------------------------------- invariants
def test_no_item_is_shared_twice_with_the_same_partner_and_notices_never_exceed_fugitives():
    model = run(seed=4).model
    shares = model.intelligence.shares
    pairs = list(zip(shares["item"], shares["recipient"], strict=True))
    assert len(pairs) == len(set(pairs)) > 0
    assert all(s != r for s, r in zip(shares["sharer"], shares["recipient"], strict=True))
    record = model.interpol.record
    assert 0 < len(record["case"]) <= model.fugitives_unlocated
    # Every person located led to exactly one extradition request for that case.
    o = model.outcomes()
    located = o["arrests_via_notices"] + o["arrests_via_diffusions"]
    assert located <= len(record["case"])


def test_non_members_of_interpol_issue_no_notices():
    o = run(seed=1, world__interpol_member_share=0.0).outcomes
    assert o["red_notices_requested"] == 0
    assert o["diffusions"] == 0
    assert o["arrests_via_notices"] == 0


# --------------------------------------------------------------------------- directions
def test_secure_platform_means_fewer_leaks_and_faster_intelligence():
    # Leaks are rare at the defaults; raise their base rate so a few seeds can show them.
    without = [run(s, **SHORT, intelligence__leak_base=0.3).outcomes for s in SEEDS]
    with_platform = [
        run(s, **SHORT, intelligence__leak_base=0.3, world__platform_share=1.0).outcomes
        for s in SEEDS
    ]
    assert np.mean([o["intel_delivery_days"] for o in with_platform]) < 1.0
    assert np.mean([o["intel_delivery_days"] for o in without]) > 5.0
    assert np.mean([o["leak_rate"] for o in with_platform]) < 0.6 * np.mean(
        [o["leak_rate"] for o in without]
    )


def test_cases_with_a_joint_team_resolve_faster_than_the_same_cases_by_formal_requests():
    faster = []
    for seed in SEEDS:
        with_teams = run(seed).model
        no_teams = run(seed, jit__agreement_probability=0.0).model
        cases = np.asarray(with_teams.teams.team_cases)
        assert cases.size > 0 and no_teams.teams.formed == 0
        # Same seed, same cases: compare the very same cases in the two worlds.
        assert np.array_equal(
            with_teams.cases.col("origin")[cases], no_teams.cases.col("origin")[cases]
        )
        days_team = _resolution_days(with_teams, cases)
        days_formal = _resolution_days(no_teams, cases)
        faster.append(days_team < days_formal)
    assert all(faster)


def _resolution_days(model, cases):
    """Mean days to resolution, counting unresolved cases as taking the whole run."""
    c = model.cases
    closed = c.t_closed[cases]
    resolved = model.case_resolved_mask(cases)
    days = np.where(resolved, closed - c.t_created[cases], model.day - c.t_created[cases])
    return float(days.mean())


def test_capacity_building_speeds_up_recipients_after_the_lag():
    # Agencies are staffed for the demand they expect, so a recipient's queue was not
    # what held its answers back; the transfer's staff and skill make them faster.
    lag = 120
    gains = []
    for seed in SEEDS:
        funded = run(
            seed,
            **SHORT,
            capacity_building__budget_per_year=6.0,
            capacity_building__lag_days=lag,
        ).model
        unfunded = run(seed, **SHORT, capacity_building__budget_per_year=0.0).model
        recipients = np.asarray(sorted(funded.coordinating_body.recipients_ever))
        assert recipients.size > 0
        assert unfunded.coordinating_body.delivered == 0
        gains.append(
            _answer_days(unfunded, recipients, lag) - _answer_days(funded, recipients, lag)
        )
    assert min(gains) > 0 and np.mean(gains) > 5, gains


def _answer_days(model, states, after_day):
    """Mean days to answer requests sent to ``states`` after ``after_day`` (executed ones)."""
    led = model.ledger
    issued = led.col("t_issued")
    mask = (
        np.isin(led.col("requested_state"), states)
        & (issued >= after_day)
        & (issued < model.day - 200)
        & (led.col("outcome") == Outcome.EXECUTED)
    )
    return float((led.col("t_closed") - issued)[mask].mean())


def test_more_coordination_meetings_raise_relations_and_cut_misunderstandings():
    few = [run(s, **SHORT, diplomacy__pairs_per_round=0).outcomes for s in SEEDS]
    many = [
        run(s, **SHORT, diplomacy__pairs_per_round=150, diplomacy__interval_days=60).outcomes
        for s in SEEDS
    ]
    assert (
        np.mean([o["mean_relations"] for o in many])
        > np.mean([o["mean_relations"] for o in few]) + 0.05
    )
    assert np.mean([o["clarification_rounds_per_request"] for o in many]) < np.mean(
        [o["clarification_rounds_per_request"] for o in few]
    )


def test_urgent_requests_use_24_7_contact_points_and_travel_fast():
    from sim.requests import Channel

    model = run(seed=2, world__contact_point_share=1.0).model
    led = model.ledger_frame()
    urgent = led[led["channel"] == Channel.CONTACT_POINT_24_7.name.lower()]
    assert len(urgent) > 0
    assert (urgent["severity"] >= model.config.communication.urgent_severity - 1e-6).all()
    received = urgent.dropna(subset=["t_received"])
    assert ((received["t_received"] - received["t_issued"]) <= 2).mean() > 0.9
