"""The compiled rules against the vectorised rules of sim.frictions, their reference.

The stages run compiled (sim/kernel_rules.py); the pure functions of
:mod:`sim.frictions` and :mod:`sim.durations` state the same rules for whole arrays
and are what tests/test_frictions.py checks against the design. Here both are fed the
requests of a real run, with mutual recognition, national security courts and clear
procedures in force, and must agree bit for bit: a change to one that is not made to
the other fails here.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import frictions, kernel_rules
from sim.kernel_lifecycle import timeliness
from sim.model import CooperationModel
from sim.requests import Channel, Instrument
from sim.scenario import load_scenario


@pytest.fixture(scope="module")
def run():
    scenario = load_scenario("nsc_law_package").with_overrides(
        {"world.n_states": 12, "run.years": 0.5, "run.warmup_years": 0.0}
    )
    model = CooperationModel(scenario, rng=4)
    for _ in range(120):
        model.step()
    ids = np.arange(model.ledger.size, dtype=np.int64)
    return model, model.kernel_state(1)[0], ids


def _pairs(model, ids):
    led = model.ledger
    a = led.requesting_state[ids].astype(np.int64)
    b = led.requested_state[ids].astype(np.int64)
    return a, b, led.instrument[ids] == Instrument.MUTUAL_RECOGNITION


def test_run_exercises_the_rules(run):
    model, _, ids = run
    _, _, mr = _pairs(model, ids)
    assert ids.size > 200 and mr.any() and not mr.all()
    assert (model.nsc_of >= 0).any() and model.policy.procedure_clarity.any()


def test_clarification_probability_is_the_frictions_rule(run):
    model, state, ids = run
    w, cfg, led = model.world, model.config, model.ledger
    a, b, mr = _pairs(model, ids)
    clarity = model.policy.procedure_clarity
    want = frictions.clarification_probability(
        w.legal_distance[a, b],
        w.different_language[a, b],
        cfg.review.clarification_base,
        cfg.review.clarification_per_legal_distance,
        language_factor=cfg.communication.language_misunderstanding,
        cultural_distance=w.cultural_distance[a, b],
        cultural_weight=cfg.communication.organisational_distance_weight,
        familiarity=model.familiarity[a, b],
        familiarity_effect=cfg.communication.familiarity_effect,
        standard_form=mr,
        standard_form_clarity=cfg.mutual_recognition.standard_form_clarity,
        procedure_clarity=np.where(led.security_case[ids], np.maximum(clarity[a], clarity[b]), 0.0),
    )
    got = np.array([kernel_rules.clarification_probability(state, r) for r in ids])
    np.testing.assert_array_equal(got, want)


def _reference_grounds(model, ids, mr):
    """What the vectorised review computed: frictions.legal_refusal_probabilities."""
    w, cfg, led, cases, policy = model.world, model.config, model.ledger, model.cases, model.policy
    a, b, _ = _pairs(model, ids)
    case = led.case[ids]
    special_court = led.security_case[ids] & (model.nsc_of[a] >= 0)
    return frictions.legal_refusal_probabilities(
        kind=led.kind[ids],
        listed_offence=model._listed_type[cases.case_type[case]],
        legal_distance=w.legal_distance[a, b],
        political_sensitivity=led.political_sensitivity[ids],
        national=led.national[ids],
        requested_is_civil=model._is_civil[b],
        other_states=cases.needed[case] - 1,
        rights_gap=frictions.rights_gap(
            w.death_penalty[a],
            w.death_penalty[b],
            w.rights_standard[a],
            w.rights_standard[b],
            cfg.review.rights_gap_tolerance,
        ),
        fair_trial_exposure=frictions.fair_trial_exposure(
            special_court,
            w.rights_standard[b],
            policy.court_transparency[a],
            policy.court_safeguards[a],
        ),
        severity=led.severity[ids],
        data_protection_gap=w.data_protection[b]
        - np.maximum(w.data_protection[a], w.confidentiality[a]),
        mutual_recognition=mr,
        review=cfg.review,
        nationality_residence_refusal=cfg.mutual_recognition.nationality_residence_refusal,
    )


@pytest.mark.parametrize("as_warrant", [False, True])
def test_refusal_grounds_are_the_frictions_rule(run, as_warrant):
    model, state, ids = run
    _, _, mr = _pairs(model, ids)
    mr = np.ones_like(mr) if as_warrant else mr  # the court's check of a warrant
    want = _reference_grounds(model, ids, mr)
    assert [int(g) for g in want] == kernel_rules.GROUNDS.tolist()  # the same order
    got = np.empty((ids.size, 9))
    for row, r, m in zip(got, ids, mr, strict=True):
        kernel_rules.refusal_probabilities(state, r, m, row)
    np.testing.assert_array_equal(got, np.column_stack(list(want.values())))
    # The first ground that fires, from the same draws.
    expected, actual = np.random.default_rng(9), np.random.default_rng(9)
    want_ground = frictions.first_ground(want, expected.random((ids.size, len(want))))
    got_ground = kernel_rules.first_grounds(state, actual, ids, mr)
    np.testing.assert_array_equal(got_ground, want_ground)
    assert (got_ground > 0).any()


def test_rights_gap_is_the_frictions_rule(run):
    model, state, _ = run
    w, n = model.world, model.world.n_states
    a, b = np.divmod(np.arange(n * n), n)
    want = frictions.rights_gap(
        w.death_penalty[a],
        w.death_penalty[b],
        w.rights_standard[a],
        w.rights_standard[b],
        model.config.review.rights_gap_tolerance,
    )
    got = np.array([kernel_rules.rights_gap(state, i, j) for i, j in zip(a, b, strict=True)])
    np.testing.assert_array_equal(got, want)


def test_timeliness_is_the_durations_rule():
    days = np.array([0, 1, 30, 119, 120, 121, 400, 10_000])
    want = frictions.timeliness_factor(days, 120.0, 0.5)
    got = np.array([timeliness(float(d), 120.0, 0.5) for d in days])
    np.testing.assert_array_equal(got, want)


def test_instrument_and_channel_are_the_frictions_rules_for_every_combination():
    """Drafting's compiled choices (sim.kernel_drafting) against sim.frictions, exhaustively."""
    from itertools import product

    from sim.kernel_drafting import channel_of, instrument_of

    for mr, treaty, convention in product([False, True], repeat=3):
        want = int(frictions.choose_instrument(np.array([mr]), np.array([treaty]), [convention])[0])
        assert instrument_of(mr, treaty, convention) == want, (mr, treaty, convention)
    for instrument, platform, urgent, team, formal in product(
        range(len(Instrument)), *[[False, True]] * 4
    ):
        want = frictions.choose_channel(
            np.array([instrument]),
            platform=np.array([platform]),
            urgent_contact=np.array([urgent]),
            in_team=np.array([team]),
            formal=np.array([formal]),
        )[0]
        got = channel_of(np.int64(instrument), platform, urgent, team, formal)
        assert got == int(want), (instrument, platform, urgent, team, formal)


def test_drafted_requests_carry_the_frictions_choices_and_their_case(run):
    """Every request of the run as drafting left it: its pair's rules and its case's numbers."""
    model, _, ids = run
    w, led, cases, policy = model.world, model.ledger, model.cases, model.policy
    a, b, _ = _pairs(model, ids)
    instrument = frictions.choose_instrument(
        w.mr_bloc[a] & w.mr_bloc[b], w.treaty_matrix[a, b], w.convention[a] & w.convention[b]
    )
    np.testing.assert_array_equal(led.instrument[ids], instrument)
    case = led.case[ids]
    severity = cases.severity[case]
    channel = frictions.choose_channel(
        instrument,
        platform=w.platform[a] & w.platform[b],
        urgent_contact=(severity >= policy.urgent_threshold[a])
        & w.contact_point[a]
        & w.contact_point[b],
        in_team=led.channel[ids] == Channel.JIT,
        formal=policy.formal_channel[a] | policy.formal_channel[b],
    )
    np.testing.assert_array_equal(led.channel[ids], channel)
    np.testing.assert_array_equal(led.severity[ids], severity)
    np.testing.assert_array_equal(led.political_sensitivity[ids], cases.political_sensitivity[case])
    np.testing.assert_array_equal(
        led.security_case[ids], model.security_type[cases.case_type[case]]
    )
    assert (led.t_created[ids] >= cases.t_created[case]).all()
    np.testing.assert_array_equal(
        model.traffic,
        np.bincount(a * w.n_states + b, minlength=w.n_states**2).reshape(model.traffic.shape),
    )
