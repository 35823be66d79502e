"""The pure friction rules against values computed by hand."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

import sim
from sim import frictions
from sim.requests import Channel, Instrument, Kind, RefusalGround
from sim.scenario import LEGAL_FAMILIES
from sim.world import build_world

# ---------------------------------------------------------------- legal distance
DISTANCES = sim.load_scenario("baseline").world.legal_family_distance


def test_legal_distance_matrix_is_symmetric_with_zero_diagonal():
    d = frictions.legal_family_distance_matrix(DISTANCES)
    assert d.shape == (len(LEGAL_FAMILIES), len(LEGAL_FAMILIES))
    np.testing.assert_array_equal(d, d.T)
    np.testing.assert_array_equal(np.diag(d), 0.0)
    off = d[~np.eye(len(LEGAL_FAMILIES), dtype=bool)]
    # Distinct families are some distance apart, never more than 1.
    assert np.all(off > 0) and np.all(off <= 1)


def test_legal_distance_orders_families_sensibly():
    d = frictions.legal_family_distance_matrix(DISTANCES)
    i = {name: k for k, name in enumerate(LEGAL_FAMILIES)}
    # A mixed system sits between common and civil law.
    assert d[i["common"], i["mixed"]] < d[i["common"], i["civil"]]
    assert d[i["civil"], i["mixed"]] < d[i["common"], i["civil"]]


def test_legal_family_distances_are_a_parameter_one_spelling_a_pair(write_toml):
    path = write_toml(
        "near.toml", "[world.legal_family_distance]\ncommon-civil = 0.1\nmixed-socialist = 0.2\n"
    )
    distances = sim.load_scenario(path).world.legal_family_distance
    assert distances == {**DISTANCES, "common-civil": 0.1, "mixed-socialist": 0.2}
    d = frictions.legal_family_distance_matrix(distances)
    i = {name: k for k, name in enumerate(LEGAL_FAMILIES)}
    assert d[i["civil"], i["common"]] == d[i["common"], i["civil"]] == 0.1
    # The world's legal distance between two states is their families' distance.
    world = build_world(sim.load_scenario(path), np.random.default_rng(1))
    fam = world.legal_family
    np.testing.assert_array_equal(world.legal_distance, d[np.ix_(fam, fam)])
    # One spelling a pair: "civil-common" beside "common-civil" would be two values that
    # an extends chain merges apart.
    for text, words in (
        ("civil-common = 0.5", ["'civil-common'", "'common-civil'"]),
        ("civil-civil = 0.5", ["'civil-civil'"]),
        ("common-roman = 0.5", ["'common-roman'"]),
        ("common-civil = 1.5", ["less than or equal to 1"]),
    ):
        bad = write_toml("bad.toml", f"[world.legal_family_distance]\n{text}\n")
        with pytest.raises(sim.ScenarioError) as caught:
            sim.load_scenario(bad)
        message = str(caught.value)
        assert str(bad) in message and "world.legal_family_distance" in message
        assert all(word in message for word in words), message


# ---------------------------------------------------------------- drafting


def test_drafting_days_hand_value():
    # (20 + 20 * 1 + 20 * 0.5) * (2 - 0.6) = 50 * 1.4 = 70
    assert frictions.drafting_days(20, 20, 20, 1, 0.5, 0.6) == pytest.approx(70.0)
    # No distance, perfect skill: the base time.
    assert frictions.drafting_days(20, 20, 20, 0, 0.0, 1.0) == pytest.approx(20.0)


def test_drafting_days_grows_with_distance_and_falls_with_skill():
    base = dict(base=10.0, language_days=15.0, legal_distance_days=25.0)
    same = frictions.drafting_days(**base, different_language=0, legal_distance=0.3, skill=0.5)
    other_lang = frictions.drafting_days(
        **base, different_language=1, legal_distance=0.3, skill=0.5
    )
    assert other_lang > same
    ld = np.linspace(0, 1, 11)
    by_distance = frictions.drafting_days(
        **base, different_language=0, legal_distance=ld, skill=0.5
    )
    assert np.all(np.diff(by_distance) > 0)
    skill = np.linspace(0, 1, 11)
    by_skill = frictions.drafting_days(
        **base, different_language=1, legal_distance=0.5, skill=skill
    )
    assert np.all(np.diff(by_skill) < 0)
    # Unskilled staff take twice as long as perfectly skilled staff.
    assert by_skill[0] == pytest.approx(2 * by_skill[-1])


@pytest.mark.parametrize("effect", [0.0, 0.5, 1.0, 2.0])
def test_drafting_skill_effect_sets_how_much_longer_unskilled_staff_take(effect):
    def days(skill):
        return frictions.drafting_days(20, 20, 20, 1, 0.5, skill, skill_effect=effect)

    assert days(1.0) == pytest.approx(50.0)  # skilled staff: the distance's days, always
    assert days(0.0) == pytest.approx(50.0 * (1.0 + effect))
    assert days(0.5) == pytest.approx(50.0 * (1.0 + effect / 2))


@pytest.mark.parametrize("effect", [0.0, 1.7])
def test_the_model_drafts_in_the_time_the_drafting_rule_gives(effect):
    """The drafting kernel (sim.kernel_drafting.draft) writes the rule out for one request:
    without noise, every request drafted outside a team is issued after the rule's days
    (sim.durations.drafting_days), to the day, skill effect included."""
    from conftest import tiny_run

    result = tiny_run(seed=3, drafting__noise_sigma=0.0, drafting__skill_effect=effect)
    model, cfg = result.model, result.model.config.drafting
    led, w = model.ledger, model.world
    issued, created = led.col("t_issued"), led.col("t_created")
    drafted = (issued >= 0) & (led.col("channel") != Channel.JIT)
    a, b = led.col("requesting_state")[drafted], led.col("requested_state")[drafted]
    expected = frictions.drafting_days(
        cfg.base_days,
        cfg.language_days,
        cfg.legal_distance_days,
        w.different_language[a, b],
        w.legal_distance[a, b],
        w.skill[a],
        skill_effect=effect,
    )
    assert drafted.sum() > 100 and np.unique(w.skill[a]).size > 5
    np.testing.assert_array_equal((issued - created)[drafted], np.rint(expected))


# ---------------------------------------------------------------- instruments


@pytest.mark.parametrize(
    ("mr", "treaty", "convention", "expected"),
    [
        (True, True, True, Instrument.MUTUAL_RECOGNITION),
        (True, False, False, Instrument.MUTUAL_RECOGNITION),
        (False, True, True, Instrument.BILATERAL_TREATY),
        (False, True, False, Instrument.BILATERAL_TREATY),
        (False, False, True, Instrument.CONVENTION),
        (False, False, False, Instrument.COMITY),
    ],
)
def test_choose_instrument_picks_strongest_basis(mr, treaty, convention, expected):
    assert int(frictions.choose_instrument(mr, treaty, convention)) == expected


def test_choose_instrument_vectorised():
    mr = np.array([1, 0, 0, 0], dtype=bool)
    tr = np.array([1, 1, 0, 0], dtype=bool)
    co = np.array([1, 1, 1, 0], dtype=bool)
    got = frictions.choose_instrument(mr, tr, co)
    np.testing.assert_array_equal(
        got,
        [
            Instrument.MUTUAL_RECOGNITION,
            Instrument.BILATERAL_TREATY,
            Instrument.CONVENTION,
            Instrument.COMITY,
        ],
    )


def test_transmission_days_indexes_by_channel():
    delays = np.arange(len(Channel), dtype=float) * 10.0
    channels = np.array([Channel.DIPLOMATIC, Channel.SECURE_PLATFORM, Channel.DIRECT])
    np.testing.assert_array_equal(
        frictions.transmission_days(channels, delays),
        [0.0, 10.0 * Channel.SECURE_PLATFORM, 10.0 * Channel.DIRECT],
    )


# ---------------------------------------------------------------- clarification


CLARIFY = dict(
    language_factor=0.5,
    cultural_distance=0.0,
    cultural_weight=0.5,
    familiarity=0.0,
    familiarity_effect=0.5,
    standard_form=False,
    standard_form_clarity=0.5,
)


def _clarify(legal_distance, language, base=0.1, per=0.4, **changes):
    return frictions.clarification_probability(
        legal_distance, language, base, per, **{**CLARIFY, **changes}
    )


def test_clarification_probability_hand_values():
    # base 0.1 + 0.4 * 0.5 = 0.3; a language difference multiplies by 1.5; the standard
    # form avoids half; cultural distance 0.4 adds 0.5 * 0.4 = 20%; clarity 0.3 avoids 30%.
    assert float(_clarify(0.5, 0)) == pytest.approx(0.3)
    assert float(_clarify(0.5, 1)) == pytest.approx(0.45)
    assert float(_clarify(0.5, 1, standard_form=True)) == pytest.approx(0.225)
    assert float(_clarify(0.5, 0, cultural_distance=0.4)) == pytest.approx(0.36)
    assert float(_clarify(0.5, 0, procedure_clarity=0.3)) == pytest.approx(0.21)
    assert float(_clarify(0.5, 0, familiarity=1.0, familiarity_effect=0.2)) == pytest.approx(0.24)


def test_clarification_probability_rises_with_distance_and_falls_with_each_remedy():
    ld = np.linspace(0, 1, 21)
    p = _clarify(ld, 0, 0.05, 0.3)
    assert np.all(np.diff(p) > 0)
    np.testing.assert_allclose(_clarify(ld, 0, 0.05, 0.3, standard_form=True), 0.5 * p)
    culture = _clarify(0.5, 0, cultural_distance=np.linspace(0, 1, 11))
    assert np.all(np.diff(culture) > 0)
    clarity = _clarify(0.5, 0, procedure_clarity=np.linspace(0, 1, 11))
    assert np.all(np.diff(clarity) < 0) and clarity[-1] == 0.0


def test_clarification_probability_is_a_probability():
    p = _clarify(np.array([0.0, 1.0]), 1, 0.9, 1.0)
    assert np.all((p >= 0) & (p <= 1))
    assert p[1] == 1.0


# ---------------------------------------------------------------- sovereignty


def test_sovereignty_score_hand_value():
    # 0.5 * 0.8 * (1 - 0.25) * (1 - 0.4) = 0.18
    assert float(frictions.sovereignty_score(0.5, 0.8, 0.25, 0.4)) == pytest.approx(0.18)


@pytest.mark.parametrize(
    "args",
    [(0.0, 0.9, 0.1, 0.1), (0.9, 0.0, 0.1, 0.1), (0.9, 0.9, 1.0, 0.1)],
    ids=["no political sensitivity", "no sovereignty sensitivity", "full trust"],
)
def test_sovereignty_score_zero_when_a_factor_is_absent(args):
    assert float(frictions.sovereignty_score(*args)) == 0.0


def test_sovereignty_score_zero_when_relations_are_perfect():
    assert float(frictions.sovereignty_score(0.9, 0.9, 0.1, 1.0)) == 0.0


def test_sovereignty_score_monotone_in_each_factor():
    grid = np.linspace(0.0, 1.0, 11)
    ps = frictions.sovereignty_score(grid, 0.5, 0.4, 0.5)
    ss = frictions.sovereignty_score(0.5, grid, 0.4, 0.5)
    tr = frictions.sovereignty_score(0.5, 0.5, grid, 0.5)
    rel = frictions.sovereignty_score(0.5, 0.5, 0.4, grid)
    assert np.all(np.diff(ps) >= 0) and ps[-1] > ps[0]
    assert np.all(np.diff(ss) >= 0) and ss[-1] > ss[0]
    assert np.all(np.diff(tr) <= 0) and tr[-1] < tr[0]
    assert np.all(np.diff(rel) <= 0) and rel[-1] < rel[0]
    everything = frictions.sovereignty_score(grid[:, None], grid[None, :], 0.0, 0.0)
    assert np.all((everything >= 0) & (everything <= 1))


# ---------------------------------------------------------------- legal refusal grounds

REVIEW = SimpleNamespace(
    dual_criminality_base=0.1,
    political_offence_base=0.2,
    nationality_bar=0.5,
    human_rights_base=0.4,
    data_protection_base=0.3,
    fair_trial_base=0.6,
    ne_bis_in_idem_base=0.05,
    in_absentia_base=0.1,
    proportionality_base=0.2,
)


def _grounds(kind, mr, **changes):
    values = dict(
        listed_offence=True,
        legal_distance=0.6,
        political_sensitivity=0.5,
        national=True,
        requested_is_civil=True,
        other_states=2,
        rights_gap=1.0,
        fair_trial_exposure=0.5,
        severity=0.75,
        data_protection_gap=0.5,
    )
    values.update(changes)
    return frictions.legal_refusal_probabilities(
        kind=np.array([kind]),
        mutual_recognition=np.array([mr]),
        review=REVIEW,
        nationality_residence_refusal=0.15,
        **{k: np.array([v]) for k, v in values.items()},
    )


def _p(kind, mr, **changes):
    return {g: float(v[0]) for g, v in _grounds(kind, mr, **changes).items()}


def test_legal_refusal_probabilities_hand_values_outside_mr():
    p = _p(Kind.EXTRADITION, False)
    assert p[RefusalGround.DUAL_CRIMINALITY] == pytest.approx(0.1 * 0.6)
    assert p[RefusalGround.POLITICAL_OFFENCE] == pytest.approx(0.2 * 0.5**2)
    assert p[RefusalGround.NATIONALITY_BAR] == pytest.approx(0.5)
    assert p[RefusalGround.NE_BIS_IN_IDEM] == pytest.approx(0.05 * 2)
    assert p[RefusalGround.HUMAN_RIGHTS] == pytest.approx(0.4 * 1.0)
    assert p[RefusalGround.FAIR_TRIAL] == pytest.approx(0.6 * 0.5)
    assert p[RefusalGround.IN_ABSENTIA] == pytest.approx(0.1 * 0.6)
    assert p[RefusalGround.PROPORTIONALITY] == pytest.approx(0.2 * 0.25)
    assert p[RefusalGround.DATA_PROTECTION] == 0.0  # extraditions carry no personal data
    mla = _p(Kind.MLA_EVIDENCE, False)
    for person_only in (
        RefusalGround.NATIONALITY_BAR,
        RefusalGround.NE_BIS_IN_IDEM,
        RefusalGround.HUMAN_RIGHTS,
        RefusalGround.IN_ABSENTIA,
    ):
        assert mla[person_only] == 0.0
    assert mla[RefusalGround.FAIR_TRIAL] == pytest.approx(0.6 * 0.5)  # evidence for the trial
    assert mla[RefusalGround.DATA_PROTECTION] == pytest.approx(0.3 * 0.5)


def test_nationality_bar_only_for_nationals_held_by_civil_law_states():
    assert _p(Kind.EXTRADITION, False, requested_is_civil=False)[RefusalGround.NATIONALITY_BAR] == 0
    assert _p(Kind.EXTRADITION, False, national=False)[RefusalGround.NATIONALITY_BAR] == 0
    # Under mutual recognition: the optional ground, whatever the legal family.
    inside = _p(Kind.EXTRADITION, True, requested_is_civil=False)
    assert inside[RefusalGround.NATIONALITY_BAR] == pytest.approx(0.15)


def test_mutual_recognition_keeps_the_grounds_such_systems_keep():
    outside = _p(Kind.EXTRADITION, False)
    inside = _p(Kind.EXTRADITION, True)
    # Abolished by the instrument: dual criminality for listed offences, political offence.
    assert inside[RefusalGround.DUAL_CRIMINALITY] == 0.0
    assert inside[RefusalGround.POLITICAL_OFFENCE] == 0.0
    not_listed = _p(Kind.EXTRADITION, True, listed_offence=False)
    assert not_listed[RefusalGround.DUAL_CRIMINALITY] == pytest.approx(0.1 * 0.6)
    # Kept, driven by the same attributes as outside: no blanket factor.
    for kept in (
        RefusalGround.NE_BIS_IN_IDEM,
        RefusalGround.HUMAN_RIGHTS,
        RefusalGround.FAIR_TRIAL,
        RefusalGround.IN_ABSENTIA,
        RefusalGround.PROPORTIONALITY,
    ):
        assert inside[kept] == pytest.approx(outside[kept]) and inside[kept] > 0


def test_each_ground_follows_its_driver():
    assert _p(Kind.EXTRADITION, True, other_states=0)[RefusalGround.NE_BIS_IN_IDEM] == 0.0
    assert _p(Kind.EXTRADITION, True, rights_gap=0.0)[RefusalGround.HUMAN_RIGHTS] == 0.0
    assert _p(Kind.EXTRADITION, True, fair_trial_exposure=0.0)[RefusalGround.FAIR_TRIAL] == 0.0
    assert _p(Kind.EXTRADITION, True, legal_distance=0.0)[RefusalGround.IN_ABSENTIA] == 0.0
    assert _p(Kind.EXTRADITION, True, severity=1.0)[RefusalGround.PROPORTIONALITY] == 0.0


def test_data_protection_gap_is_clipped():
    # A requesting state with stricter rules than the requested one gives no ground.
    assert (
        _p(Kind.MLA_EVIDENCE, False, data_protection_gap=-0.7)[RefusalGround.DATA_PROTECTION] == 0
    )
    huge = _p(Kind.MLA_EVIDENCE, False, data_protection_gap=5.0)
    assert huge[RefusalGround.DATA_PROTECTION] == pytest.approx(0.3)


def test_refusal_probabilities_are_ordered_as_documented():
    assert list(_grounds(Kind.EXTRADITION, False)) == [
        RefusalGround.DUAL_CRIMINALITY,
        RefusalGround.POLITICAL_OFFENCE,
        RefusalGround.NATIONALITY_BAR,
        RefusalGround.NE_BIS_IN_IDEM,
        RefusalGround.HUMAN_RIGHTS,
        RefusalGround.FAIR_TRIAL,
        RefusalGround.IN_ABSENTIA,
        RefusalGround.PROPORTIONALITY,
        RefusalGround.DATA_PROTECTION,
    ]


def test_fair_trial_exposure_only_before_a_special_court_and_falls_with_safeguards():
    assert frictions.fair_trial_exposure(False, 1.0, 0.0, 0.0) == 0.0
    assert frictions.fair_trial_exposure(True, 0.8, 0.0, 0.0) == pytest.approx(0.8)
    assert frictions.fair_trial_exposure(True, 0.8, 0.5, 0.5) == pytest.approx(0.2)
    assert frictions.fair_trial_exposure(True, 0.8, 1.0, 0.0) == 0.0


def test_rights_gap_counts_the_death_penalty_in_full_and_otherwise_the_standards_gap():
    assert frictions.rights_gap(True, False, 0.9, 0.9) == 1.0
    assert frictions.rights_gap(True, True, 0.5, 0.9) == pytest.approx(0.4)
    assert frictions.rights_gap(False, False, 0.9, 0.5) == 0.0  # a better requesting state
    assert frictions.rights_gap(False, False, 0.5, 0.8, tolerance=0.2) == pytest.approx(0.1)
    assert frictions.rights_gap(False, False, 0.5, 0.6, tolerance=0.2) == 0.0


def test_consent_probability_is_logistic_in_its_drivers():
    j = SimpleNamespace(
        consent_base=0.0,
        consent_strength_weight=2.0,
        consent_national_weight=-1.0,
        consent_conditions_weight=1.0,
        consent_contest_weight=1.0,
    )
    assert frictions.consent_probability(0.0, False, 0.0, 0.0, j) == pytest.approx(0.5)
    z = 2.0 * 0.5 - 1.0 + 1.0 * 0.3 + 1.0 * 0.5
    expected = 1 / (1 + math.exp(-z))
    assert frictions.consent_probability(0.5, True, 0.3, 0.5, j) == pytest.approx(expected)
    strength = frictions.consent_probability(np.linspace(0, 1, 5), False, 0.5, 0.5, j)
    assert np.all(np.diff(strength) > 0)
    assert frictions.consent_probability(0.5, True, 0.5, 0.5, j) < frictions.consent_probability(
        0.5, False, 0.5, 0.5, j
    )


def test_timeliness_factor_rewards_fast_answers_and_is_concave():
    f = frictions.timeliness_factor(np.array([0.0, 150.0, 300.0, 450.0, 900.0]), 300.0, 1.0)
    np.testing.assert_allclose(f, [2.0, 1.75, 1.0, 0.0, 0.0])
    # Same mean, wider spread: less trust on average.
    steady = frictions.timeliness_factor(np.array([300.0, 300.0]), 300.0, 1.0).mean()
    spread = frictions.timeliness_factor(np.array([150.0, 450.0]), 300.0, 1.0).mean()
    assert steady == pytest.approx(1.0) and spread == pytest.approx(0.875)
    assert frictions.timeliness_factor(900.0, 300.0, 0.0) == 1.0  # weight 0: no effect


def test_court_refusal_probability_only_for_extradition_and_with_a_rights_gap():
    kind = np.array([Kind.EXTRADITION, Kind.MLA_EVIDENCE, Kind.EXTRADITION])
    got = frictions.court_refusal_probability(0.2, kind, np.array([0.5, 0.5, 0.0]))
    np.testing.assert_allclose(got, [0.1, 0.0, 0.0])


# ---------------------------------------------------------------- first ground


def test_first_ground_picks_first_that_fires():
    probs = {
        RefusalGround.DUAL_CRIMINALITY: np.array([0.5, 0.5, 0.5, 0.5]),
        RefusalGround.POLITICAL_OFFENCE: np.array([0.5, 0.5, 0.5, 0.5]),
        RefusalGround.HUMAN_RIGHTS: np.array([0.0, 0.0, 0.0, 1.0]),
    }
    u = np.array(
        [
            [0.1, 0.1, 0.0],  # both of the first two fire: the first is recorded
            [0.6, 0.4, 0.0],  # only the second fires
            [0.9, 0.9, 0.0],  # a probability of 0 never fires (u < p is strict)
            [0.9, 0.9, 0.99],  # probability 1 always fires
        ]
    )
    got = frictions.first_ground(probs, u)
    np.testing.assert_array_equal(
        got,
        [
            RefusalGround.DUAL_CRIMINALITY,
            RefusalGround.POLITICAL_OFFENCE,
            RefusalGround.NONE,
            RefusalGround.HUMAN_RIGHTS,
        ],
    )


def test_first_ground_frequencies_match_sequential_checks():
    rng = np.random.default_rng(7)
    n = 200_000
    p1, p2 = 0.3, 0.4
    probs = {RefusalGround.DUAL_CRIMINALITY: p1, RefusalGround.SOVEREIGNTY: p2}
    got = frictions.first_ground(probs, rng.random((n, 2)))
    expected = {
        RefusalGround.DUAL_CRIMINALITY: p1,
        RefusalGround.SOVEREIGNTY: (1 - p1) * p2,
        RefusalGround.NONE: (1 - p1) * (1 - p2),
    }
    for code, p in expected.items():
        freq = np.mean(got == code)
        assert abs(freq - p) < 4 * math.sqrt(p * (1 - p) / n)


# ---------------------------------------------------------------- judicial stage

JUDICIAL = dict(
    extradition_days=240.0, coercive_order_days=30.0, consent_factor=0.3, nsc_speed_factor=0.4
)


def test_judicial_days_hand_values():
    kind = np.array(
        [Kind.EXTRADITION, Kind.EXTRADITION, Kind.MLA_EVIDENCE, Kind.EXTRADITION, Kind.EXTRADITION]
    )
    consent = np.array([False, True, False, False, False])
    security = np.array([False, False, False, True, True])
    nsc = np.array([False, False, False, True, False])
    got = frictions.judicial_days(kind, consent, security, nsc, **JUDICIAL)
    np.testing.assert_allclose(got, [240.0, 72.0, 30.0, 96.0, 240.0])


def test_national_security_court_only_speeds_security_cases():
    got = frictions.judicial_days(
        np.array([Kind.EXTRADITION]),
        np.array([False]),
        np.array([False]),
        np.array([True]),
        **JUDICIAL,
    )
    assert float(got[0]) == pytest.approx(240.0)


# ---------------------------------------------------------------- noise


def test_noisy_days_exact_when_sigma_zero():
    rng = np.random.default_rng(1)
    mean = np.array([0.0, 1.5, 30.0, 365.0])
    np.testing.assert_array_equal(frictions.noisy_days(rng, mean, 0.0), mean)


@pytest.mark.parametrize("sigma", [0.2, 0.4, 1.0])
def test_noisy_days_is_mean_preserving(sigma):
    rng = np.random.default_rng(11)
    n = 200_000
    mean = 50.0
    draws = frictions.noisy_days(rng, np.full(n, mean), sigma)
    assert np.all(draws > 0)
    sd = mean * math.sqrt(math.exp(sigma**2) - 1.0)  # lognormal standard deviation
    assert abs(draws.mean() - mean) < 4 * sd / math.sqrt(n)
    # The median of a mean-preserving lognormal sits at mean * exp(-sigma^2 / 2).
    assert np.median(draws) == pytest.approx(mean * math.exp(-(sigma**2) / 2), rel=0.02)


def test_noisy_days_accepts_per_request_sigma():
    rng = np.random.default_rng(3)
    draws = frictions.noisy_days(rng, np.array([10.0, 10.0]), np.array([0.0, 0.5]))
    assert draws[0] == 10.0 and draws[1] != 10.0


def test_to_whole_days_rounds_and_never_negative():
    got = frictions.to_whole_days(np.array([-3.2, 0.0, 0.4, 0.6, 2.5, 10.49]))
    np.testing.assert_array_equal(got, [0, 0, 0, 1, 2, 10])
    assert got.dtype == np.int64


def test_decision_deadline_is_the_surrender_deadline_for_warrants():
    mrc = SimpleNamespace(
        decision_deadline_days=30.0,
        surrender_deadline_consent_days=10.0,
        surrender_deadline_days=60.0,
    )
    kind = np.array([Kind.EXTRADITION, Kind.EXTRADITION, Kind.MLA_EVIDENCE])
    got = frictions.decision_deadline_days(kind, np.array([True, False, True]), mrc)
    np.testing.assert_array_equal(got, [10.0, 60.0, 30.0])
