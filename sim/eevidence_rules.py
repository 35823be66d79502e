"""The rules of electronic evidence as pure functions of arrays: providers, routes, answers.

Where providers are based, which route a request takes, how likely a provider is to
answer a voluntary request and how a production order ends: each a small numpy
function with no state, so that :mod:`sim.eevidence` (the daily process, which
draws the random numbers) stays readable and the rules are tested one by one.
"""

from __future__ import annotations

import numpy as np

ROUTES = ("production_order", "direct_request")
PRODUCTION_ORDER, DIRECT_REQUEST = 0, 1
# How a request ends at the provider.
ANSWERED, FALLBACK = 1, 2


def provider_market_shares(economic_size, technology, openness, concentration) -> np.ndarray:
    """Share of the world's service providers based in each state (sums to 1).

    Providers concentrate where large, technologically advanced and open economies
    are; the exponent sets how strongly (0: every state equal up to openness).
    """
    weight = np.asarray(openness, dtype=float) * (
        np.asarray(economic_size, dtype=float) * np.asarray(technology, dtype=float)
    ) ** float(concentration)
    total = weight.sum()
    return weight / total if total > 0 else np.full(weight.size, 1.0 / weight.size)


def provider_states(origin, u_local, u_market, market_cdf, local_share) -> np.ndarray:
    """Where each needed provider is based: a local one, or one drawn from the market."""
    drawn = np.minimum(np.searchsorted(market_cdf, u_market, side="right"), market_cdf.size - 1)
    return np.where(u_local < local_share, origin, drawn)


def choose_route(requester_regime, provider_regime, u_representative, representative_share):
    """Production order where the regime reaches both ends, else a voluntary request.

    A provider outside the regime is reached when it has a legal representative in
    it (it serves the regime's states).
    """
    reached = provider_regime | (u_representative < representative_share)
    return np.where(requester_regime & reached, PRODUCTION_ORDER, DIRECT_REQUEST)


def disclosure_probability(
    propensity,
    skill,
    legal_distance,
    data_protection_gap,
    skill_weight,
    distance_weight,
    gap_weight,
) -> np.ndarray:
    """Chance a provider answers a voluntary request: its policy times the request's quality.

    Args:
        propensity: Disclosure policy of providers of the provider's state (0-1).
        skill: Drafting skill of the requesting state (0-1).
        legal_distance: Legal distance between the two states.
        data_protection_gap: How far the provider state's data protection exceeds the
            requester's protection (negative: none).
        skill_weight: Share of answers lost when the requester's skill is 0.
        distance_weight: Share of answers lost per unit of legal distance.
        gap_weight: Share of answers lost per unit of data-protection gap.
    """
    quality = (
        (1.0 - skill_weight * (1.0 - np.asarray(skill)))
        * (1.0 - distance_weight * np.asarray(legal_distance))
        * (1.0 - gap_weight * np.maximum(0.0, data_protection_gap))
    )
    return np.clip(np.asarray(propensity) * quality, 0.0, 1.0)


def order_outcome(handling_days, deadline_days, complies):
    """Days until a production order ends at the provider, and how it ends.

    A complying provider answers in its handling time, by the deadline at the
    latest (it puts orders first when the deadline presses); one that does not
    lets the deadline pass, and the order is then enforced by the formal route.

    Returns:
        ``(days, end)`` arrays: days from the order, ``ANSWERED`` or ``FALLBACK``.
    """
    days = np.where(complies, np.minimum(handling_days, deadline_days), deadline_days)
    return days, np.where(complies, ANSWERED, FALLBACK)
