"""Frictions of cooperation as small pure functions: legal, sovereignty, communication.

Every rule here takes numbers or numpy arrays and returns numbers or arrays, so
a test can call it directly and the Python parts of the day (drafting, negotiation,
outcomes) can apply it to a batch. The stages apply the same rules compiled, request
by request (:mod:`sim.kernel_rules`); these are their reference:
tests/test_kernel_reference.py checks that both give the same numbers, bit for bit,
on the requests of a run.
The rules for how long things take are in :mod:`sim.durations` and re-exported
here, so stages call every rule as ``frictions.<rule>``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sim import kernel_cases
from sim.durations import (  # noqa: F401  (re-exported: the stages call frictions.X)
    decision_deadline_days,
    drafting_days,
    judicial_days,
    noisy_days,
    timeliness_factor,
    to_whole_days,
    transmission_days,
)
from sim.requests import Channel, Instrument, Kind, RefusalGround
from sim.scenario import LEGAL_FAMILIES


def legal_family_distance_matrix(distances: Mapping[str, float]) -> np.ndarray:
    """The symmetric family-by-family legal distance, indexed as LEGAL_FAMILIES.

    Args:
        distances: Distance (0-1) of each pair of different families, keyed
            ``"family-family"`` (``world.legal_family_distance``); a family is at
            distance 0 from itself.
    """
    n = len(LEGAL_FAMILIES)
    matrix = np.zeros((n, n))
    for pair, d in distances.items():
        a, b = pair.split("-")
        i, j = LEGAL_FAMILIES.index(a), LEGAL_FAMILIES.index(b)
        matrix[i, j] = matrix[j, i] = d
    return matrix


def choose_instrument(mutual_recognition, bilateral_treaty, convention):
    """Pick the strongest legal basis the two states share.

    Args:
        mutual_recognition: Both states are in the mutual-recognition bloc.
        bilateral_treaty: The pair has a bilateral treaty.
        convention: Both states are parties to the multilateral convention.

    Returns:
        ``Instrument`` codes (int array or int).
    """
    return np.where(
        mutual_recognition,
        Instrument.MUTUAL_RECOGNITION,
        np.where(
            bilateral_treaty,
            Instrument.BILATERAL_TREATY,
            np.where(convention, Instrument.CONVENTION, Instrument.COMITY),
        ),
    )


def default_channel(instrument):
    """Channel a request takes under an instrument.

    Mutual recognition goes judicial authority to judicial authority (direct);
    treaties and conventions through central authorities; without a treaty,
    letters rogatory go through diplomatic channels.
    """
    return _DEFAULT_CHANNEL[instrument]


# default_channel's rule as a table indexed by Instrument code (one lookup per request).
_DEFAULT_CHANNEL = np.full(len(Instrument), int(Channel.CENTRAL_AUTHORITY), dtype=np.int64)
_DEFAULT_CHANNEL[Instrument.MUTUAL_RECOGNITION] = Channel.DIRECT
_DEFAULT_CHANNEL[Instrument.COMITY] = Channel.DIPLOMATIC


def choose_channel(instrument, *, platform, urgent_contact, in_team, formal=False):
    """Channel of a new request.

    A joint team moves evidence inside the team; urgent requests between states
    with 24/7 contact points use them; states both on a secure platform send
    formal requests over it (not letters rogatory, which stay diplomatic);
    otherwise the instrument's default channel, except that a state with formal
    channels for international communication (a National Security Courts Law)
    sends even treaty-less requests through its central authority.
    """
    channel = default_channel(instrument)
    channel = np.where(formal & (channel == Channel.DIPLOMATIC), Channel.CENTRAL_AUTHORITY, channel)
    channel = np.where(
        platform & (instrument != Instrument.COMITY), Channel.SECURE_PLATFORM, channel
    )
    channel = np.where(urgent_contact, Channel.CONTACT_POINT_24_7, channel)
    return np.where(in_team, Channel.JIT, channel)


def clarification_probability(
    legal_distance,
    different_language,
    base,
    per_legal_distance,
    *,
    language_factor,
    cultural_distance,
    cultural_weight,
    familiarity,
    familiarity_effect,
    standard_form,
    standard_form_clarity,
    procedure_clarity=0.0,
):
    """Chance that a review sends the request back for clarification.

    Misunderstandings grow with legal distance, language difference and cultural
    and organisational distance. Familiarity built in coordination meetings, a
    standard mutual-recognition certificate and clear procedures (a National
    Security Courts Law) each avoid a share of them.

    Args:
        legal_distance: Legal distance between the states (0-1).
        different_language: 1 if their languages differ.
        base: Chance with no distance at all.
        per_legal_distance: Extra chance per unit of legal distance.
        language_factor: Relative extra chance when languages differ.
        cultural_distance: Cultural and organisational distance of the pair (0-1).
        cultural_weight: Relative extra chance per unit of cultural distance.
        familiarity: Familiarity of the pair (0-1) from coordination meetings.
        familiarity_effect: Share of misunderstandings full familiarity avoids.
        standard_form: The request uses a standard mutual-recognition certificate.
        standard_form_clarity: Share of misunderstandings the certificate avoids.
        procedure_clarity: Share avoided by clear procedures (0 where there are none).

    Returns:
        Probability in [0, 1].
    """
    p = base + per_legal_distance * np.asarray(legal_distance)
    p = p * (1.0 + language_factor * np.asarray(different_language))
    p = p * (1.0 + cultural_weight * np.asarray(cultural_distance))
    p = p * (1.0 - familiarity_effect * np.asarray(familiarity))
    p = p * (1.0 - standard_form_clarity * np.asarray(standard_form, dtype=float))
    p = p * (1.0 - np.asarray(procedure_clarity))
    return np.clip(p, 0.0, 1.0)


def sovereignty_score(political_sensitivity, sovereignty_sensitivity, trust, relations):
    """How strongly the requested state's sovereignty concerns bear on a request (0-1).

    The product of the case's political sensitivity, the requested state's
    sovereignty sensitivity, its distrust of the requesting state and poor relations
    between them: all four must be present for sovereignty to block cooperation, and
    any one at zero (no sensitivity, full trust, perfect relations) removes it.
    """
    return (
        np.asarray(political_sensitivity)
        * np.asarray(sovereignty_sensitivity)
        * (1.0 - np.asarray(trust))
        * (1.0 - np.asarray(relations))
    ).clip(0.0, 1.0)


def rights_gap(
    requesting_death_penalty,
    requested_death_penalty,
    requesting_rights,
    requested_rights,
    tolerance=0.0,
):
    """How far the requesting state falls below the requested state's rights standards (0-1).

    The death penalty retained by the requesting state and not the requested counts
    in full; otherwise the gap between their human-rights and fair-trial standards
    beyond ``tolerance`` (small differences are no ground).
    """
    death = np.asarray(requesting_death_penalty) & ~np.asarray(requested_death_penalty)
    gap = np.asarray(requested_rights) - np.asarray(requesting_rights) - tolerance
    return np.clip(death + np.maximum(gap, 0.0), 0.0, 1.0)


def fair_trial_exposure(special_court, requested_rights, transparency, safeguards):
    """How much a fair-trial concern weighs on a request for use before a special court (0-1).

    Only requests whose case would be tried before a national security court of the
    requesting state are exposed; the concern grows with the requested state's own
    rights standards and falls with the court's transparency and the defendants'
    safeguards.

    Args:
        special_court: The case would go before a special court in the requesting state.
        requested_rights: Requested state's rights standards (0-1).
        transparency: Transparency of the requesting state's special court (0-1).
        safeguards: Defendants' safeguards before it (0-1).
    """
    return (
        np.asarray(special_court, dtype=float)
        * np.asarray(requested_rights)
        * (1.0 - np.asarray(transparency))
        * (1.0 - np.asarray(safeguards))
    )


def legal_refusal_probabilities(
    *,
    kind,
    listed_offence,
    legal_distance,
    political_sensitivity,
    national,
    requested_is_civil,
    other_states,
    rights_gap,
    fair_trial_exposure,
    severity,
    data_protection_gap,
    mutual_recognition,
    review,
    nationality_residence_refusal,
):
    """Chance of refusal on each legal ground, for a batch of requests.

    Every ground is driven by attributes of the case and of the two states.
    Mutual recognition keeps the grounds such systems keep and drops those its
    instrument abolishes: no dual-criminality check for listed offences and no
    political-offence exception; its nationality ground is the optional one
    (serve the sentence at home) rather than a bar on surrendering nationals.

    Args:
        kind: ``Kind`` codes.
        listed_offence: The case type is on the mutual-recognition list.
        legal_distance: Legal distance between the states (0-1).
        political_sensitivity: Political sensitivity of the case (0-1).
        national: The person sought is a national of the requested state.
        requested_is_civil: The requested state bars extradition of nationals (civil law).
        other_states: Other states involved in the case (parallel proceedings).
        rights_gap: See :func:`rights_gap`.
        fair_trial_exposure: See :func:`fair_trial_exposure`.
        severity: Case severity (0-1).
        data_protection_gap: Requested minus requesting state's data protection,
            after the requesting state's legal protections for partners.
        mutual_recognition: The request uses a mutual-recognition instrument.
        review: The ``review`` section (the grounds' base chances).
        nationality_residence_refusal: Mutual recognition's optional nationality ground.

    Returns:
        Dict ``RefusalGround -> probability array``; the grounds are checked in
        this order and the first that applies is recorded.
    """
    extradition = (np.asarray(kind) == Kind.EXTRADITION).astype(float)
    mr = np.asarray(mutual_recognition, dtype=bool)
    national = np.asarray(national, dtype=float)
    dual_check = ~(mr & np.asarray(listed_offence, dtype=bool))
    nationality = np.where(
        mr,
        nationality_residence_refusal,
        review.nationality_bar * np.asarray(requested_is_civil, dtype=float),
    )
    return {
        RefusalGround.DUAL_CRIMINALITY: dual_check
        * review.dual_criminality_base
        * np.asarray(legal_distance),
        RefusalGround.POLITICAL_OFFENCE: ~mr
        * review.political_offence_base
        * np.asarray(political_sensitivity) ** 2,
        RefusalGround.NATIONALITY_BAR: extradition * national * nationality,
        RefusalGround.NE_BIS_IN_IDEM: extradition
        * np.clip(review.ne_bis_in_idem_base * np.asarray(other_states), 0.0, 1.0),
        RefusalGround.HUMAN_RIGHTS: extradition * review.human_rights_base * rights_gap,
        RefusalGround.FAIR_TRIAL: review.fair_trial_base * np.asarray(fair_trial_exposure),
        RefusalGround.IN_ABSENTIA: extradition
        * review.in_absentia_base
        * np.asarray(legal_distance),
        RefusalGround.PROPORTIONALITY: review.proportionality_base * (1.0 - np.asarray(severity)),
        RefusalGround.DATA_PROTECTION: (1.0 - extradition)
        * review.data_protection_base
        * np.clip(data_protection_gap, 0.0, 1.0),
    }


def consent_probability(strength, national, conditions, contest_years, judicial):
    """Chance that a person sought consents to surrender (a logistic choice).

    The rule is :func:`sim.kernel_cases.consent_probability` (compiled, one person at a
    time); this applies it to arrays, with the weights of the ``judicial`` section.

    Args:
        strength: Strength of the case against the person (0-1).
        national: The person is a national of the requested state.
        conditions: The requesting state's rights standards (0-1).
        contest_years: Expected length of the contested route, in years.
        judicial: The ``judicial`` section (the weights).

    Returns:
        Probability in (0, 1), shaped as the arguments broadcast.
    """
    weights = np.array(
        [
            judicial.consent_base,
            judicial.consent_strength_weight,
            judicial.consent_national_weight,
            judicial.consent_conditions_weight,
            judicial.consent_contest_weight,
        ],
        dtype=float,
    )
    arrays = np.broadcast_arrays(
        np.asarray(strength, dtype=float),
        np.asarray(national, dtype=bool),
        np.asarray(conditions, dtype=float),
        np.asarray(contest_years, dtype=float),
    )
    p = np.array(
        [
            kernel_cases.consent_probability(*values, weights)
            for values in zip(*map(np.ravel, arrays), strict=True)
        ]
    )
    return p.reshape(arrays[0].shape)


def logistic(log_odds: np.ndarray | float) -> np.ndarray:
    """The probability with these log-odds (every choice rule of the model uses it)."""
    return 1.0 / (1.0 + np.exp(-np.asarray(log_odds, dtype=float)))


def court_refusal_probability(human_rights_refusal, kind, rights_gap):
    """Chance the court refuses an extradition on human-rights grounds."""
    return human_rights_refusal * (np.asarray(kind) == Kind.EXTRADITION) * np.asarray(rights_gap)


def first_ground(probabilities: dict, uniforms: np.ndarray) -> np.ndarray:
    """Draw which refusal ground, if any, applies to each request.

    Grounds are checked one after another with independent draws (one column of
    ``uniforms`` per ground); the first that fires is the recorded ground.

    Args:
        probabilities: Ordered ``RefusalGround -> probability array``.
        uniforms: Array of shape (n_requests, n_grounds) of U(0, 1) draws.

    Returns:
        ``RefusalGround`` codes (``NONE`` where no ground applies).
    """
    n = uniforms.shape[0]
    ground = np.zeros(n, dtype=np.int8)
    for column, (code, p) in enumerate(probabilities.items()):
        fires = (ground == RefusalGround.NONE) & (uniforms[:, column] < p)
        ground[fires] = code
    return ground
