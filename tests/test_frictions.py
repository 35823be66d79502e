"""The pure friction rules against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import frictions
from sim.requests import Channel, Instrument, Kind, RefusalGround
from sim.scenario import LEGAL_FAMILIES

# ---------------------------------------------------------------- legal distance


def test_legal_distance_matrix_is_symmetric_with_zero_diagonal():
    d = frictions.legal_family_distance_matrix()
    assert d.shape == (len(LEGAL_FAMILIES), len(LEGAL_FAMILIES))
    np.testing.assert_array_equal(d, d.T)
    np.testing.assert_array_equal(np.diag(d), 0.0)
    off = d[~np.eye(len(LEGAL_FAMILIES), dtype=bool)]
    # Distinct families are some distance apart, never more than 1.
    assert np.all(off > 0) and np.all(off <= 1)


def test_legal_distance_orders_families_sensibly():
    d = frictions.legal_family_distance_matrix()
    i = {name: k for k, name in enumerate(LEGAL_FAMILIES)}
    # A mixed system sits between common and civil law.
    assert d[i["common"], i["mixed"]] < d[i["common"], i["civil"]]
    assert d[i["civil"], i["mixed"]] < d[i["common"], i["civil"]]


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


def test_clarification_probability_hand_values():
    # base 0.1 + 0.4 * 0.5 = 0.3; a language difference multiplies by 1.5; MR halves.
    p = frictions.clarification_probability(0.5, 0, 0.1, 0.4, False)
    assert float(p) == pytest.approx(0.3)
    p_lang = frictions.clarification_probability(0.5, 1, 0.1, 0.4, False)
    assert float(p_lang) == pytest.approx(0.45)
    p_mr = frictions.clarification_probability(0.5, 1, 0.1, 0.4, True)
    assert float(p_mr) == pytest.approx(0.225)


def test_clarification_probability_rises_with_distance_and_is_halved_under_mr():
    ld = np.linspace(0, 1, 21)
    p = frictions.clarification_probability(ld, 0, 0.05, 0.3, False)
    assert np.all(np.diff(p) > 0)
    p_mr = frictions.clarification_probability(ld, 0, 0.05, 0.3, True)
    np.testing.assert_allclose(p_mr, 0.5 * p)


def test_clarification_probability_is_a_probability():
    p = frictions.clarification_probability(np.array([0.0, 1.0]), 1, 0.9, 1.0, False)
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

GROUND_PARAMS = dict(
    dual_criminality_base=0.1,
    political_offence_base=0.2,
    nationality_bar=0.5,
    human_rights_base=0.4,
    data_protection_base=0.3,
    mr_refusal_factor=0.25,
)


def _grounds(
    kind, mr, legal_distance=0.6, political_sensitivity=0.5, civil=True, dp_gap=1.0, dp_data_gap=0.5
):
    return frictions.legal_refusal_probabilities(
        kind=np.array([kind]),
        legal_distance=np.array([legal_distance]),
        political_sensitivity=np.array([political_sensitivity]),
        requested_is_civil=np.array([civil]),
        death_penalty_gap=np.array([dp_gap]),
        data_protection_gap=np.array([dp_data_gap]),
        mutual_recognition=np.array([mr]),
        **GROUND_PARAMS,
    )


def test_legal_refusal_probabilities_hand_values_outside_mr():
    p = {g: float(v[0]) for g, v in _grounds(Kind.EXTRADITION, False).items()}
    assert p[RefusalGround.DUAL_CRIMINALITY] == pytest.approx(0.1 * 0.6)
    assert p[RefusalGround.POLITICAL_OFFENCE] == pytest.approx(0.2 * 0.5**2)
    assert p[RefusalGround.NATIONALITY_BAR] > 0
    assert p[RefusalGround.HUMAN_RIGHTS] == pytest.approx(0.4 * 1.0)
    assert p[RefusalGround.DATA_PROTECTION] == 0.0  # extraditions carry no personal data
    mla = {g: float(v[0]) for g, v in _grounds(Kind.MLA_EVIDENCE, False).items()}
    assert mla[RefusalGround.NATIONALITY_BAR] == 0.0  # only persons can be nationals
    assert mla[RefusalGround.HUMAN_RIGHTS] == 0.0
    assert mla[RefusalGround.DATA_PROTECTION] == pytest.approx(0.3 * 0.5)


def test_nationality_bar_only_for_civil_law_requested_states_and_scales_with_parameter():
    civil = float(_grounds(Kind.EXTRADITION, False)[RefusalGround.NATIONALITY_BAR][0])
    common = float(_grounds(Kind.EXTRADITION, False, civil=False)[RefusalGround.NATIONALITY_BAR][0])
    assert common == 0.0
    doubled = frictions.legal_refusal_probabilities(
        kind=np.array([Kind.EXTRADITION]),
        legal_distance=np.array([0.6]),
        political_sensitivity=np.array([0.5]),
        requested_is_civil=np.array([True]),
        death_penalty_gap=np.array([0.0]),
        data_protection_gap=np.array([0.0]),
        mutual_recognition=np.array([False]),
        **{**GROUND_PARAMS, "nationality_bar": 1.0},
    )[RefusalGround.NATIONALITY_BAR][0]
    assert float(doubled) == pytest.approx(2 * civil)


def test_mutual_recognition_removes_three_grounds_and_scales_the_rest():
    outside = _grounds(Kind.EXTRADITION, False)
    inside = _grounds(Kind.EXTRADITION, True)
    for removed in (
        RefusalGround.DUAL_CRIMINALITY,
        RefusalGround.POLITICAL_OFFENCE,
        RefusalGround.NATIONALITY_BAR,
    ):
        assert outside[removed][0] > 0
        assert inside[removed][0] == 0.0
    assert float(inside[RefusalGround.HUMAN_RIGHTS][0]) == pytest.approx(
        0.25 * float(outside[RefusalGround.HUMAN_RIGHTS][0])
    )
    mla_in = _grounds(Kind.MLA_EVIDENCE, True)
    mla_out = _grounds(Kind.MLA_EVIDENCE, False)
    assert float(mla_in[RefusalGround.DATA_PROTECTION][0]) == pytest.approx(
        0.25 * float(mla_out[RefusalGround.DATA_PROTECTION][0])
    )


def test_data_protection_gap_is_clipped():
    # A requesting state with stricter rules than the requested one gives no ground.
    negative = _grounds(Kind.MLA_EVIDENCE, False, dp_data_gap=-0.7)
    assert float(negative[RefusalGround.DATA_PROTECTION][0]) == 0.0
    huge = _grounds(Kind.MLA_EVIDENCE, False, dp_data_gap=5.0)
    assert float(huge[RefusalGround.DATA_PROTECTION][0]) == pytest.approx(0.3)


def test_refusal_probabilities_are_ordered_as_documented():
    keys = list(_grounds(Kind.EXTRADITION, False))
    assert keys == [
        RefusalGround.DUAL_CRIMINALITY,
        RefusalGround.POLITICAL_OFFENCE,
        RefusalGround.NATIONALITY_BAR,
        RefusalGround.HUMAN_RIGHTS,
        RefusalGround.DATA_PROTECTION,
    ]


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
