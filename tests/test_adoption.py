"""Endogenous adoption: the decision rule's drivers, and states adopting levers in a run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_run

from sim.adoption import (
    adoption_probability,
    experience,
    holders_at_start,
    peer_share,
    series_name,
)
from sim.requests import Outcome
from sim.scenario import AdoptionSection

CFG = AdoptionSection()
NEUTRAL = {"failure_share": 0.2, "delay_ratio": 1.0, "cost_share": 0.3, "sovereignty": 0.5}


def probability(**changes) -> float:
    drivers = {**NEUTRAL, "peers": 0.2, **changes}
    return float(adoption_probability(cfg=CFG, **drivers))


@pytest.mark.parametrize(
    ("driver", "low", "high", "sign"),
    [
        ("failure_share", 0.0, 0.8, +1),  # refusals and lapses push towards the reform
        ("delay_ratio", 0.5, 2.0, +1),  # so do slow answers
        ("cost_share", 0.1, 2.0, -1),  # a reform dear for the budget holds back
        ("sovereignty", 0.1, 0.9, -1),  # so does sovereignty sensitivity
        ("peers", 0.0, 1.0, +1),  # partners that adopted draw the state in
    ],
)
def test_each_driver_moves_the_probability_its_way(driver, low, high, sign):
    lo, hi = probability(**{driver: low}), probability(**{driver: high})
    assert 0.0 < lo < 1.0 and 0.0 < hi < 1.0
    assert sign * (hi - lo) > 0.01, (driver, lo, hi)


def test_a_zero_weight_switches_its_driver_off():
    cfg = AdoptionSection(sovereignty_weight=0.0)
    p = adoption_probability(0.2, 1.0, 0.3, np.array([0.0, 1.0]), 0.2, cfg)
    assert p[0] == p[1]


def test_experience_reads_the_states_own_requests_closed_in_the_period():
    # state 0: executed after 10 days, refused after 30, lapsed; one executed before the
    # period (left out). state 1: a withdrawn request only (no experience).
    requesting = np.array([0, 0, 0, 0, 1])
    issued = np.array([90, 80, 50, 10, 95])
    closed = np.array([100, 110, 120, 20, 105])
    outcome = np.array(
        [Outcome.EXECUTED, Outcome.REFUSED, Outcome.LAPSED, Outcome.EXECUTED, Outcome.WITHDRAWN]
    )
    failure, delay = experience(requesting, issued, closed, outcome, 100, 200, 3, 20.0)
    assert failure.tolist() == pytest.approx([2 / 3, 0.0, 0.0])
    assert delay.tolist() == pytest.approx([(10 + 30) / 2 / 20.0, 0.0, 0.0])


def test_peer_share_weighs_partners_by_requests_exchanged():
    traffic = np.array([[0, 3, 1], [0, 0, 0], [0, 0, 0]])
    holds = np.array([False, True, False])
    shares = peer_share(traffic, holds)
    # State 0 exchanged 3 requests with the holder and 1 with the other; state 2 exchanged
    # only with state 0, which does not hold it.
    assert shares.tolist() == pytest.approx([0.75, 0.0, 0.0])


ENDOGENOUS_NSC = {
    "nsc_law__enabled": True,
    "nsc_law__adoption": "endogenous",
    "adoption__review_days": 60.0,
}


@pytest.fixture(scope="module")
def endogenous_run():
    return tiny_run(seed=1, **ENDOGENOUS_NSC)


def test_the_adoption_curve_rises_at_reviews_to_the_reported_share(endogenous_run):
    curve = endogenous_run.series[series_name("nsc_law")].to_numpy()
    steps = np.flatnonzero(np.diff(curve)) + 1
    assert np.all(np.diff(curve) >= 0)
    assert steps.size and np.all(steps % 60 == 0)  # decisions are taken at reviews
    share = endogenous_run.outcomes["adoption_share"]["nsc_law"]
    assert curve[-1] == pytest.approx(share)
    assert 0.0 < share < 1.0  # a subset adopts: who adopts is chosen, not imposed
    assert np.isnan(endogenous_run.outcomes["adoption_share"]["treaty_expansion"])


def test_who_adopts_and_when_and_only_adopters_get_the_law(endogenous_run):
    model = endogenous_run.model
    frame = model.adoption.frame()
    assert len(frame) == model.world.n_states  # every state a candidate
    adopters = frame[frame.adopted]
    # Decisions fall on review days only.
    assert set(adopters.day) <= set(range(0, model.horizon_days, 60))
    assert frame.adopted.mean() == pytest.approx(
        endogenous_run.outcomes["adoption_share"]["nsc_law"]
    )
    mean_days = endogenous_run.outcomes["mean_days_to_adopt"]["nsc_law"]
    assert adopters.days_after_start.mean() == pytest.approx(mean_days)
    index = {code: i for i, code in enumerate(model.world.codes)}
    did = np.zeros(model.world.n_states, dtype=bool)
    did[[index[c] for c in adopters.state]] = True
    clarity = model.config.nsc_law.clarity
    assert np.all(model.policy.procedure_clarity[did] == clarity)
    assert np.all(model.policy.procedure_clarity[~did] == 0.0)
    assert model.world.nsc[did].all()


def test_imposed_gives_every_state_the_law_and_no_adoption_curve():
    imposed = tiny_run(seed=1, **{**ENDOGENOUS_NSC, "nsc_law__adoption": "imposed"})
    assert (imposed.model.policy.procedure_clarity > 0).all()
    assert np.isnan(imposed.outcomes["adoption_share"]["nsc_law"])
    assert series_name("nsc_law") not in imposed.series


def test_the_policy_records_when_each_state_got_the_law(endogenous_run):
    # Adopters on the day they adopted; an imposed law in every target on its start day.
    model = endogenous_run.model
    adopted = model.adoption.frame()
    adopted = adopted[adopted.adopted]
    levers = model.levers_frame()
    assert sorted(zip(levers.state, levers.day, strict=True)) == sorted(
        zip(adopted.state, adopted.day, strict=True)
    )
    assert set(levers.lever) == {"nsc_law"} and set(levers.how) == {"adopted"}
    # The record names the states the law's effect reached, and only those.
    clear = np.asarray(model.world.codes)[model.policy.procedure_clarity > 0]
    assert sorted(levers.state) == sorted(clear.tolist())
    imposed = tiny_run(seed=1, **{**ENDOGENOUS_NSC, "nsc_law__adoption": "imposed"}).model
    start = imposed.levers_frame()
    assert len(start) == imposed.world.n_states and set(start.how) == {"imposed"}
    assert set(start.day) == {imposed.reforms[0].start_day}


def test_states_in_which_the_lever_is_already_in_force_do_not_decide_again():
    model = tiny_run(seed=1, **{**ENDOGENOUS_NSC, "run__years": 0.01}).model
    reform = model.reforms[0]
    lever = reform.name
    earlier = np.array([0, 1])
    model.policy.in_force(lever)[:] = -1
    model.adoption.levers.clear()
    model.policy.put_in_force(lever, earlier, 0)
    model.adoption.open(reform)
    state = model.adoption.levers[lever]
    assert state.candidates.sum() == model.world.n_states - 2
    assert not state.candidates[earlier].any() and state.holds[earlier].all()


SEEDS = (1, 2, 3)


def adopters_at_end(seed: int, **overrides) -> int:
    result = tiny_run(seed=seed, **{**ENDOGENOUS_NSC, **overrides})
    return int(result.model.adoption.frame().adopted.sum())


@pytest.mark.slow
def test_sovereignty_sensitivity_holds_states_back():
    low = [adopters_at_end(s, adoption__sovereignty_weight=0.0) for s in SEEDS]
    high = [adopters_at_end(s, adoption__sovereignty_weight=8.0) for s in SEEDS]
    assert all(h <= lo for h, lo in zip(high, low, strict=True)), (low, high)
    assert sum(high) < sum(low), (low, high)


@pytest.mark.slow
def test_peers_draw_states_in():
    low = [adopters_at_end(s, adoption__peer_weight=0.0) for s in SEEDS]
    high = [adopters_at_end(s, adoption__peer_weight=15.0) for s in SEEDS]
    assert sum(high) > sum(low), (low, high)


def test_a_run_is_reproducible_for_a_seed(endogenous_run):
    again = tiny_run(seed=1, **ENDOGENOUS_NSC)
    assert again.model.adoption.frame().equals(endogenous_run.model.adoption.frame())
    assert again.outcomes["requests_total"] == endogenous_run.outcomes["requests_total"]


def test_treaties_join_the_adopters_network_only():
    result = tiny_run(
        seed=1,
        treaty_expansion__enabled=True,
        treaty_expansion__adoption="endogenous",
        adoption__review_days=60.0,
        adoption__base_log_odds=0.0,
    )
    model = result.model
    before = tiny_run(seed=1, run__years=0.01).model.world.treaty_matrix
    new = model.world.treaty_matrix & ~before
    adopted = model.adoption.levers["treaty_expansion"].adopted_day >= 0
    assert new.any()
    rows, cols = np.nonzero(new)
    assert adopted[rows].all() and adopted[cols].all()


def test_mutual_recognition_candidates_are_outside_the_bloc_and_adopters_join_it():
    overrides = {
        "mutual_recognition__enabled": True,
        "mutual_recognition__adoption": "endogenous",
        "adoption__review_days": 60.0,
        "adoption__base_log_odds": 0.0,
    }
    model = tiny_run(seed=1, **overrides).model
    start = tiny_run(seed=1, run__years=0.01).model.world
    lever = model.adoption.levers["mutual_recognition"]
    np.testing.assert_array_equal(lever.candidates, ~holders_at_start("mutual_recognition", start))
    adopted = lever.adopted_day >= 0
    assert adopted.any()
    np.testing.assert_array_equal(model.world.mr_bloc, start.mr_bloc | adopted)


def test_the_run_folder_says_who_adopted_and_when(endogenous_run, tmp_path):
    from sim.store import write_run

    write_run(tmp_path / "run", endogenous_run, seed=1)
    frame = pd.read_csv(tmp_path / "run" / "adoption.csv")
    assert list(frame.columns) == ["lever", "state", "adopted", "day", "days_after_start"]
    share = endogenous_run.outcomes["adoption_share"]["nsc_law"]
    assert frame.adopted.mean() == pytest.approx(share)
    assert frame.adopted.any()  # the seed has adopters, so a levers.csv
    levers = pd.read_csv(tmp_path / "run" / "levers.csv")
    assert list(levers.columns) == ["lever", "state", "day", "how"]
    assert len(levers) == int(frame.adopted.sum())  # the adopters, and no one else
