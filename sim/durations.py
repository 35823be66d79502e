"""How long things take: the expected duration of each stage, its noise, whole days.

Small pure functions like those of :mod:`sim.frictions` (which re-exports them):
drafting, transmission, the judicial stage, a mutual-recognition request's
deadline, the lognormal noise every duration gets and the rounding to the model's
time step, and how much an answer's timeliness adds to the trust it earns.
"""

from __future__ import annotations

import numpy as np

from sim.requests import Kind


def drafting_days(
    base,
    language_days,
    legal_distance_days,
    different_language,
    legal_distance,
    skill,
    skill_effect=1.0,
):
    """Expected drafting and translation time.

    Args:
        base: Days with no distance.
        language_days: Extra days when the languages differ.
        legal_distance_days: Extra days per unit of legal distance.
        different_language: 1 if the two states' languages differ, else 0.
        legal_distance: Legal distance between the two states (0-1).
        skill: Drafting agency's skill (0-1).
        skill_effect: ``drafting.skill_effect``: unskilled staff take ``1 + skill_effect``
            times as long as skilled staff (twice at the default of 1).

    Returns:
        Expected days (before noise).
    """
    distance = base + language_days * different_language + legal_distance_days * legal_distance
    return distance * ((1.0 + skill_effect) - skill_effect * skill)


def transmission_days(channel, delays_by_channel: np.ndarray):
    """One-way delay of a channel.

    Args:
        channel: ``Channel`` codes.
        delays_by_channel: Array of delays indexed by ``Channel``.

    Returns:
        Days, same shape as ``channel``.
    """
    return delays_by_channel[channel]


def decision_deadline_days(kind, consent, mutual_recognition):
    """Days a mutual-recognition request may take from receipt to decision.

    A warrant's surrender decision has its own deadline, shorter when the person
    consents; every other request has the decision deadline.

    Args:
        kind: ``Kind`` codes.
        consent: Whether the person sought consents.
        mutual_recognition: The ``mutual_recognition`` section (the deadlines).
    """
    surrender = np.where(
        consent,
        mutual_recognition.surrender_deadline_consent_days,
        mutual_recognition.surrender_deadline_days,
    )
    return np.where(
        np.asarray(kind) == Kind.EXTRADITION, surrender, mutual_recognition.decision_deadline_days
    )


def timeliness_factor(response_days, expected_days, weight):
    """How much an executed request raises trust, relative to one answered on time.

    ``1 + weight`` for an answer at once, 1 at the expected time, and less the
    later it comes, falling faster with lateness (quadratic), down to nothing.
    The curve is concave over the usual range: partners value a steady answer
    over answers with the same mean and a wide spread.
    """
    lateness = np.asarray(response_days, dtype=float) / expected_days
    return np.clip(1.0 + weight * (1.0 - lateness**2), 0.0, None)


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
    return lognormal_days(mean_days, rng.standard_normal(mean_days.shape), sigma)


def lognormal_days(mean_days, z, sigma) -> np.ndarray:
    """Durations with the given means from standard normals ``z`` (mean-preserving noise).

    :func:`noisy_days` draws ``z``; a caller that must give two routes the same draws
    (e-evidence: production order or voluntary request) passes its own.
    """
    if not isinstance(sigma, float):  # a scalar or one per duration: broadcasts
        sigma = np.asarray(sigma, dtype=float)
    return np.asarray(mean_days, dtype=float) * np.exp(sigma * np.asarray(z) - 0.5 * sigma**2)


def to_whole_days(days) -> np.ndarray:
    """Round durations to whole simulated days (the model's time step)."""
    if not (isinstance(days, np.ndarray) and days.dtype == np.float64):
        days = np.asarray(days, dtype=float)
    return np.rint(np.maximum(days, 0.0)).astype(np.int64)
