"""Frictions of cooperation as small pure functions: legal, sovereignty, communication.

Every rule here takes numbers or numpy arrays and returns numbers or arrays, so
a stage can apply it to a whole batch of requests and a test can call it
directly. Refusal grounds live here and nowhere else.
"""

from __future__ import annotations

import numpy as np

from sim.requests import Channel, Instrument, Kind, RefusalGround
from sim.scenario import LEGAL_FAMILIES

# Legal distance between legal families (0 = same tradition, 1 = furthest apart).
# Ordinal judgements in the spirit of comparative-law classifications; documented
# as an assumption in docs/ODD.md.
_FAMILY_DISTANCE = {
    ("common", "civil"): 0.6,
    ("common", "mixed"): 0.3,
    ("civil", "mixed"): 0.3,
    ("common", "religious"): 0.8,
    ("civil", "religious"): 0.7,
    ("mixed", "religious"): 0.5,
    ("common", "socialist"): 0.8,
    ("civil", "socialist"): 0.5,
    ("mixed", "socialist"): 0.6,
    ("religious", "socialist"): 0.8,
}


def legal_family_distance_matrix() -> np.ndarray:
    """Return the symmetric family-by-family legal distance, indexed as LEGAL_FAMILIES."""
    n = len(LEGAL_FAMILIES)
    matrix = np.zeros((n, n))
    for (a, b), d in _FAMILY_DISTANCE.items():
        i, j = LEGAL_FAMILIES.index(a), LEGAL_FAMILIES.index(b)
        matrix[i, j] = matrix[j, i] = d
    return matrix


def drafting_days(
    base, language_days, legal_distance_days, different_language, legal_distance, skill
):
    """Expected drafting and translation time.

    Args:
        base: Days with no distance.
        language_days: Extra days when the languages differ.
        legal_distance_days: Extra days per unit of legal distance.
        different_language: 1 if the two states' languages differ, else 0.
        legal_distance: Legal distance between the two states (0-1).
        skill: Drafting agency's skill (0-1); unskilled staff take up to twice as long.

    Returns:
        Expected days (before noise).
    """
    return (base + language_days * different_language + legal_distance_days * legal_distance) * (
        2.0 - skill
    )


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


def transmission_days(channel, delays_by_channel: np.ndarray):
    """One-way delay of a channel.

    Args:
        channel: ``Channel`` codes.
        delays_by_channel: Array of delays indexed by ``Channel``.

    Returns:
        Days, same shape as ``channel``.
    """
    return delays_by_channel[channel]


def clarification_probability(
    legal_distance,
    different_language,
    base,
    per_legal_distance,
    mutual_recognition,
    language_factor=0.5,
    organisational_distance=0.0,
    organisational_weight=0.0,
    familiarity=0.0,
):
    """Chance that a review sends the request back for clarification.

    Grows with legal distance, language difference and organisational distance
    (misunderstandings); familiarity built in coordination meetings cuts it by up
    to half; mutual-recognition forms are standardised and halve it.

    Args:
        legal_distance: Legal distance between the states (0-1).
        different_language: 1 if their languages differ.
        base: Chance with no distance at all.
        per_legal_distance: Extra chance per unit of legal distance.
        mutual_recognition: The request uses a mutual-recognition instrument.
        language_factor: Relative extra chance when languages differ.
        organisational_distance: Difference in organisation/technology (0-1).
        organisational_weight: Relative extra chance per unit of organisational distance.
        familiarity: Familiarity of the pair (0-1) from coordination meetings.

    Returns:
        Probability in [0, 1].
    """
    p = base + per_legal_distance * np.asarray(legal_distance)
    p = p * (1.0 + language_factor * np.asarray(different_language))
    p = p * (1.0 + organisational_weight * np.asarray(organisational_distance))
    p = p * (1.0 - 0.5 * np.asarray(familiarity))
    return np.clip(np.where(mutual_recognition, 0.5 * p, p), 0.0, 1.0)


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


def legal_refusal_probabilities(
    *,
    kind,
    legal_distance,
    political_sensitivity,
    requested_is_civil,
    death_penalty_gap,
    data_protection_gap,
    mutual_recognition,
    dual_criminality_base,
    political_offence_base,
    nationality_bar,
    human_rights_base,
    data_protection_base,
    mr_refusal_factor,
):
    """Chance of refusal on each legal ground, for a batch of requests.

    Mutual recognition removes dual criminality (listed offences), the political
    offence exception and the nationality bar, and scales down the grounds that
    remain (human rights, data protection).

    Returns:
        Dict ``RefusalGround -> probability array``; the grounds are checked in
        this order and the first that applies is recorded.
    """
    extradition = np.asarray(kind) == Kind.EXTRADITION
    mr = np.asarray(mutual_recognition, dtype=bool)
    keep = np.where(mr, 0.0, 1.0)
    remain = np.where(mr, mr_refusal_factor, 1.0)
    return {
        RefusalGround.DUAL_CRIMINALITY: keep * dual_criminality_base * np.asarray(legal_distance),
        RefusalGround.POLITICAL_OFFENCE: keep
        * political_offence_base
        * np.asarray(political_sensitivity) ** 2,
        RefusalGround.NATIONALITY_BAR: keep
        * nationality_bar
        * extradition
        * np.asarray(requested_is_civil),
        RefusalGround.HUMAN_RIGHTS: remain * human_rights_base * extradition * death_penalty_gap,
        RefusalGround.DATA_PROTECTION: remain
        * data_protection_base
        * (~extradition)
        * np.clip(data_protection_gap, 0.0, 1.0),
    }


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


def judicial_days(
    kind,
    consent,
    security_case,
    national_security_court,
    *,
    extradition_days,
    coercive_order_days,
    consent_factor,
    nsc_speed_factor,
):
    """Expected judicial-stage time (extradition hearing or coercive order).

    A national security court hears security cases faster (``nsc_speed_factor``).
    """
    extradition = np.asarray(kind) == Kind.EXTRADITION
    days = np.where(
        extradition,
        extradition_days * np.where(consent, consent_factor, 1.0),
        coercive_order_days,
    )
    nsc = np.asarray(national_security_court) & np.asarray(security_case)
    return np.where(nsc, days * nsc_speed_factor, days)


def noisy_days(rng: np.random.Generator, mean_days, sigma):
    """Lognormal durations with the given means (mean-preserving noise).

    Args:
        rng: Random generator.
        mean_days: Expected durations (array).
        sigma: Log-scale spread (array or scalar); 0 gives the mean exactly.

    Returns:
        Durations in days, same shape as ``mean_days``.
    """
    mean_days = np.asarray(mean_days, dtype=float)
    if not isinstance(sigma, float):  # a scalar or one per duration: broadcasts
        sigma = np.asarray(sigma, dtype=float)
    z = rng.standard_normal(mean_days.shape)
    return mean_days * np.exp(sigma * z - 0.5 * sigma**2)


def to_whole_days(days) -> np.ndarray:
    """Round durations to whole simulated days (the model's time step)."""
    if not (isinstance(days, np.ndarray) and days.dtype == np.float64):
        days = np.asarray(days, dtype=float)
    return np.rint(np.maximum(days, 0.0)).astype(np.int64)
