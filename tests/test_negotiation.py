"""Negotiated bilateral agreements: unmet needs, proposals, conclusion or failure, ratification."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_run

from sim.negotiation import SERIES, conclusion_probability, proposing_pairs, unmet_needs
from sim.requests import Instrument, Outcome
from sim.scenario import BilateralAgreementsSection

P = BilateralAgreementsSection()


def test_unmet_needs_count_refusals_lapses_and_slow_or_overdue_requests_once_per_pair():
    o = Outcome
    rows = [
        # requesting, requested, issued, closed, outcome, unmet?
        (0, 1, 90, 100, o.REFUSED, True),
        (1, 0, 60, 120, o.LAPSED, True),
        (0, 1, 10, 150, o.EXECUTED, True),  # answered after 140 days: slow
        (0, 1, 140, 150, o.EXECUTED, False),  # answered in 10 days
        (0, 2, 50, -1, o.OPEN, True),  # still waiting 150 days at the end of the period
        (0, 2, 190, -1, o.OPEN, False),  # waiting 10 days only
        (1, 2, 10, 50, o.REFUSED, False),  # closed before the period
        (1, 2, 100, 110, o.WITHDRAWN, False),
    ]
    a, b, issued, closed, outcome, unmet = (np.array(c) for c in zip(*rows, strict=True))
    needs = unmet_needs(a, b, issued, closed, outcome, 100, 200, 3, slow_days=30.0)
    assert needs.tolist() == [[0, 3, 1], [3, 0, 0], [1, 0, 0]]
    assert needs.sum() // 2 == unmet.sum()


def test_pairs_propose_when_eligible_and_needs_reach_the_threshold():
    needs = np.array([[0, 3, 1, 0], [3, 0, 5, 0], [1, 5, 0, 0], [0, 0, 0, 0]])
    eligible = np.ones((4, 4), dtype=bool)
    eligible[1, 2] = eligible[2, 1] = False  # say, a treaty already
    assert proposing_pairs(needs, eligible, 3).tolist() == [[0, 1]]
    assert proposing_pairs(needs, eligible, 1).tolist() == [[0, 1], [0, 2]]
    # No need, no proposal, whatever the threshold.
    assert [0, 3] not in proposing_pairs(needs, eligible, 0).tolist()


def test_conclusion_rises_with_relations_and_falls_with_sovereignty_and_rights_gap():
    base = float(conclusion_probability(0.5, 0.4, 0.3, 0.1, P))
    assert float(conclusion_probability(0.9, 0.4, 0.3, 0.1, P)) > base
    assert float(conclusion_probability(0.5, 0.8, 0.3, 0.1, P)) < base
    assert float(conclusion_probability(0.5, 0.4, 0.3, 0.4, P)) < base
    # The more sensitive side sets the bar: the other's sensitivity below it does not count.
    assert float(conclusion_probability(0.5, 0.4, 0.1, 0.1, P)) == pytest.approx(base)


AGREEMENTS = {
    "bilateral_agreements__enabled": True,
    "bilateral_agreements__review_days": 60.0,
    "bilateral_agreements__negotiation_days": 30.0,
    "bilateral_agreements__ratification_days": 90.0,
    "trust__expected_response_days": 90.0,
}


@pytest.fixture(scope="module")
def negotiated():
    return tiny_run(seed=1, **AGREEMENTS)


def test_every_proposal_is_concluded_failed_or_pending(negotiated):
    o = negotiated.outcomes
    talks = negotiated.model.negotiation.negotiations
    pending = sum(t.decided < 0 for t in talks)
    assert o["agreements_proposed"] == len(talks) > 0
    assert o["agreements_concluded"] > 0 and o["agreements_failed"] > 0
    assert o["agreements_concluded"] + o["agreements_failed"] == o["agreements_proposed"] - pending
    ratifying = sum(t.concluded and t.in_force < 0 for t in talks)
    assert o["agreements_in_force"] == o["agreements_concluded"] - ratifying


def test_an_agreement_enters_into_force_only_after_the_ratification_lag(negotiated):
    model = negotiated.model
    in_force = negotiated.series[SERIES].to_numpy()
    for t in model.negotiation.negotiations:
        assert t.decided < 0 or t.decided - t.proposed == 30
        if t.in_force >= 0:
            assert t.concluded and t.in_force - t.decided == 90
            assert model.world.treaty_matrix[t.a, t.b]
        elif t.concluded:
            assert t.decided + 90 >= model.horizon_days  # still being ratified at the end
    days = [t.in_force for t in model.negotiation.negotiations if t.in_force >= 0]
    assert in_force[-1] == len(days)
    for day in days:
        assert in_force[day] > in_force[day - 1]


def test_requests_after_entry_into_force_use_the_new_treaty(negotiated):
    model = negotiated.model
    led = model.ledger
    a, b = led.col("requesting_state"), led.col("requested_state")
    created, instrument = led.col("t_created"), led.col("instrument")
    used = 0
    for t in model.negotiation.negotiations:
        if t.in_force < 0:
            continue
        pair = ((a == t.a) & (b == t.b)) | ((a == t.b) & (b == t.a))
        after, before = pair & (created > t.in_force), pair & (created < t.proposed)
        assert (instrument[after] == Instrument.BILATERAL_TREATY).all()
        assert not (instrument[before] == Instrument.BILATERAL_TREATY).any()
        used += int(after.sum())
    assert used > 0


def test_more_unmet_need_brings_more_proposals():
    # A lower bar for what counts as slow turns more requests into unmet needs.
    patient = tiny_run(seed=1, **{**AGREEMENTS, "trust__expected_response_days": 180.0})
    assert 0 < patient.outcomes["agreements_proposed"]
    impatient = tiny_run(seed=1, **{**AGREEMENTS, "trust__expected_response_days": 45.0})
    assert impatient.outcomes["agreements_proposed"] > patient.outcomes["agreements_proposed"]


def test_no_lever_no_negotiation_and_the_same_run(tiny_result):
    o = tiny_result.outcomes
    assert o["agreements_proposed"] == o["agreements_in_force"] == 0
    assert SERIES not in tiny_result.series


def test_the_run_folder_lists_every_agreement(negotiated, tmp_path):
    from sim.store import write_run

    write_run(tmp_path / "run", negotiated, seed=1)
    frame = pd.read_csv(tmp_path / "run" / "agreements.csv")
    assert len(frame) == negotiated.outcomes["agreements_proposed"]
    assert frame.concluded.sum() == negotiated.outcomes["agreements_concluded"]
    assert not (tmp_path / "run" / "adoption.csv").exists()
