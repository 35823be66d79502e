"""Schema sections of the other channels of cooperation.

Communication, intelligence, INTERPOL, joint teams, diplomacy, electronic evidence,
and how states adopt reforms.
"""

from __future__ import annotations

from pydantic import (
    field_validator,
)

from sim.schema_base import (
    CASE_TYPES,
    P,
    Section,
    ShareMix,
)


class CommunicationSection(Section):
    """Communication barriers and rapid channels (issue: communication frictions)."""

    organisational_distance_weight: float = P(
        0.5,
        0.0,
        5.0,
        "factor",
        "Relative extra clarification chance per unit of cultural and organisational distance.",
    )
    language_misunderstanding: float = P(
        0.5, 0.0, 5.0, "factor", "Relative extra clarification chance when languages differ."
    )
    familiarity_effect: float = P(
        0.5,
        0.0,
        1.0,
        "share",
        "Share of misunderstandings (clarification chance) full familiarity avoids.",
    )
    urgent_severity: float = P(
        0.8,
        0.0,
        1.0,
        "index",
        "Severity from which a request counts as urgent (goes via 24/7 contact points).",
    )
    rapid_days: float = P(
        0.5, 0.0, 365.0, "days", "One-way delay through 24/7 contact points for urgent requests."
    )


class IntelligenceSection(Section):
    """Proactive intelligence sharing between intelligence services (process 8)."""

    items_per_security_case: float = P(
        0.6, 0.0, 10.0, "items/case", "Intelligence items produced per new security case."
    )
    items_per_other_case: float = P(
        0.1, 0.0, 10.0, "items/case", "Intelligence items produced per new non-security case."
    )
    share_base: float = P(
        0.5, 0.0, 1.0, "probability", "Chance of sharing an item with a linked partner at trust 1."
    )
    alliance_share_bonus: float = P(
        0.5, 0.0, 5.0, "factor", "Relative extra sharing between members of the alliance."
    )
    alliance_partners: int = P(
        2, 0, 50, "states", "Alliance partners (beyond linked states) offered each item."
    )
    confidentiality_share_bonus: float = P(
        0.5,
        0.0,
        5.0,
        "factor",
        "Relative extra sharing per unit of the recipient's confidentiality.",
    )
    sharing_days: float = P(
        7.0, 0.0, 365.0, "days", "Delay to share an item through conventional liaison channels."
    )
    platform_days: float = P(
        0.2, 0.0, 365.0, "days", "Delay to share an item over a secure platform."
    )
    leak_base: float = P(
        0.02, 0.0, 1.0, "probability", "Chance a shared item leaks at zero data security."
    )
    technology_security_weight: float = P(
        0.5,
        0.0,
        1.0,
        "weight",
        "Weight of the recipient's technology in its data security (the rest is its data "
        "protection standard); data security cuts leaks.",
    )
    confidentiality_leak_cut: float = P(
        0.8,
        0.0,
        1.0,
        "share",
        "Share of leaks a recipient with full confidentiality standards prevents (in proportion "
        "to its standard).",
    )
    platform_leak_factor: float = P(
        0.3, 0.0, 1.0, "factor", "Leak chance multiplier when both ends are on a secure platform."
    )
    leak_trust_loss: float = P(
        0.4, 0.0, 1.0, "share", "Trust the sharer loses in a partner that leaked (share of trust)."
    )
    gain_on_share: float = P(
        0.01, 0.0, 1.0, "share of gap", "Trust gain of the recipient in the sharer per useful item."
    )
    lead_days: float = P(
        60.0, 0.0, 3650.0, "days", "Extra time before a related case goes cold thanks to an item."
    )
    prevention_probability: float = P(
        0.05, 0.0, 1.0, "probability", "Chance a received item helps prevent an incident."
    )


class InterpolSection(Section):
    """INTERPOL notices and diffusions (international body)."""

    location_unknown_share: float = P(
        0.5, 0.0, 1.0, "share", "Share of persons sought whose whereabouts are unknown."
    )
    diffusion_share: float = P(
        0.3, 0.0, 1.0, "share", "Share of searches sent as a diffusion (informal, no review)."
    )
    review_days: float = P(
        14.0, 0.0, 365.0, "days", "Mean time for the secretariat to review a notice request."
    )
    rejection_base: float = P(
        0.066, 0.0, 1.0, "probability", "Chance a notice request is rejected at no sensitivity."
    )
    rejection_political: float = P(
        0.25, 0.0, 1.0, "probability", "Extra rejection chance at full political sensitivity."
    )
    rejection_human_rights: float = P(
        0.1,
        0.0,
        1.0,
        "probability",
        "Extra rejection chance when the requesting state retains the death penalty.",
    )
    locate_probability: float = P(
        0.6, 0.0, 1.0, "probability", "Chance a notice leads to the person being located."
    )
    diffusion_locate_probability: float = P(
        0.4, 0.0, 1.0, "probability", "Chance a diffusion leads to the person being located."
    )
    locate_days: float = P(
        120.0, 0.0, 3650.0, "days", "Mean time until a member locates and arrests the person."
    )


class JitSection(Section):
    """Joint investigation teams / joint task forces (international body)."""

    min_states: int = P(3, 2, 50, "states", "Smallest number of states in a case for a team.")
    severity_threshold: float = P(
        0.6, 0.0, 1.0, "index", "Smallest case severity for which a team is proposed."
    )
    agreement_trust: float = P(
        0.45, 0.0, 1.0, "index", "Lowest trust between the members at which they agree to a team."
    )
    agreement_probability: float = P(
        0.6, 0.0, 1.0, "probability", "Chance states that could agree do form a team."
    )
    formation_days: float = P(30.0, 0.0, 3650.0, "days", "Time to set up a team (agreement).")
    exchange_days: float = P(
        5.0, 0.0, 3650.0, "days", "Time to move evidence inside a team instead of a formal request."
    )
    cost_per_day: float = P(
        0.01, 0.0, 100.0, "work units/day", "Capacity each member's law enforcement gives a team."
    )
    lendable_share: float = P(
        0.3,
        0.0,
        1.0,
        "share",
        "Share of its staffed capacity a law-enforcement office may lend to joint teams; it "
        "keeps the rest for its own queue.",
    )


class DiplomacySection(Section):
    """Diplomatic engagement: coordination meetings between pairs of states."""

    interval_days: float = P(
        180.0, 1.0, 3650.0, "days", "Time between rounds of coordination meetings."
    )
    pairs_per_round: int = P(
        10, 0, 100000, "pairs", "Pairs of states that meet each round (chosen by traffic)."
    )
    relations_gain: float = P(
        0.05, 0.0, 1.0, "share of gap", "Relations move this share of the way to 1 per meeting."
    )
    familiarity_gain: float = P(
        0.1, 0.0, 1.0, "share of gap", "Familiarity (fewer misunderstandings) gained per meeting."
    )
    decay_relief: float = P(
        0.2, 0.0, 1.0, "share", "Share by which a meeting slows the pair's trust decay."
    )


class ElectronicEvidenceSection(Section):
    """Domestic investigations and the data they need from service providers.

    Off by default (the shipped baseline has transnational cases only). Switched on,
    every state opens domestic investigations; those that need data held by a
    provider in another state send it a voluntary direct request (or, under the
    ``e_evidence`` regime, a production order) and fall back to the formal MLA route
    when it declines.
    """

    enabled: bool = P(
        False,
        None,
        None,
        "switch",
        "Whether domestic investigations and their requests to service providers are simulated.",
    )
    investigations_per_state_per_year: float = P(
        220.0,
        0.0,
        100000.0,
        "investigations/state/year",
        "Mean domestic investigations opened by a state of threat level 1 (Poisson; scaled "
        "by population like transnational cases).",
    )
    electronic_share_by_type: ShareMix = P(
        {
            "terrorism": 0.85,
            "cybercrime": 1.0,
            "drug_trafficking": 0.7,
            "organised_crime": 0.75,
            "espionage": 0.6,
        },
        None,
        None,
        "share",
        "Share of investigations of each type that need data held by service providers (0-1).",
    )
    mean_providers: float = P(
        1.4,
        1.0,
        10.0,
        "providers",
        "Mean number of service providers an investigation needs data from (1 + Poisson).",
    )
    local_provider_share: float = P(
        0.45,
        0.0,
        1.0,
        "share",
        "Chance a provider needed is a local one of the investigating state; otherwise it is "
        "drawn from the world market.",
    )
    provider_concentration: float = P(
        1.5,
        0.0,
        5.0,
        "exponent",
        "Concentration of the provider market in hubs: a state's share grows with "
        "openness x (economic size x technology) ** exponent.",
    )
    disclosure_propensity_mean: float = P(
        0.75,
        0.01,
        0.99,
        "probability",
        "Mean policy of a state's providers to answer a well-drafted voluntary request "
        "(Beta across provider states).",
    )
    disclosure_propensity_concentration: float = P(
        4.0,
        0.1,
        1000.0,
        "beta a + b",
        "How closely providers' disclosure policies follow the mean (higher, less spread).",
    )
    skill_weight: float = P(
        0.4,
        0.0,
        1.0,
        "share",
        "Share of voluntary answers lost when the requesting state's drafting skill is 0.",
    )
    legal_distance_weight: float = P(
        0.5,
        0.0,
        1.0,
        "per unit distance",
        "Share of voluntary answers lost per unit of legal distance to the provider's state.",
    )
    data_protection_weight: float = P(
        1.0,
        0.0,
        5.0,
        "per unit gap",
        "Share of voluntary answers lost per unit of data-protection gap (provider state's "
        "data protection above the requester's protection and confidentiality).",
    )
    voluntary_response_days: float = P(
        30.0,
        0.0,
        3650.0,
        "days",
        "Mean time a provider takes to answer or decline a voluntary request.",
    )
    emergency_response_hours: float = P(
        6.0,
        0.0,
        720.0,
        "hours",
        "Mean time a provider's emergency desk takes on an urgent request (severity above "
        "the requesting state's urgency threshold).",
    )

    @field_validator("electronic_share_by_type")
    @classmethod
    def _known_types_and_shares(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(CASE_TYPES))
        if unknown:
            raise ValueError(f"unknown case type {unknown}; allowed: {list(CASE_TYPES)}")
        above = sorted(k for k, share in v.items() if share > 1.0)
        if above:
            raise ValueError(f"shares above 1 for {above}; each is a probability in [0, 1]")
        return v


class AdoptionSection(Section):
    """Endogenous adoption: what drives a state to enact a reform (``adoption = "endogenous"``).

    At each review a candidate adopts with a logistic probability of its own
    experience (failures and delays of its requests over the last period), the
    reform's cost against its budget, its sovereignty sensitivity and the share
    of its partners that already hold the instrument (:func:`sim.adoption.adoption_probability`).
    """

    review_days: float = P(
        180.0,
        1.0,
        3650.0,
        "days",
        "Time between a candidate's decisions whether to adopt; its experience is read over "
        "the same period.",
    )
    base_log_odds: float = P(
        -2.0,
        -20.0,
        20.0,
        "log-odds",
        "Log-odds of adopting at a review with no failures, delays, cost, sovereignty concern "
        "or adopting peers.",
    )
    failure_weight: float = P(
        3.0,
        0.0,
        50.0,
        "log-odds/share",
        "Rise in log-odds per unit share of the state's requests closed in the last period "
        "that were refused or lapsed.",
    )
    delay_weight: float = P(
        1.0,
        0.0,
        50.0,
        "log-odds/ratio",
        "Rise in log-odds per unit of the state's mean days to an answer in the last period "
        "over trust.expected_response_days.",
    )
    cost_weight: float = P(
        2.0,
        0.0,
        50.0,
        "log-odds/ratio",
        "Fall in log-odds per unit of the lever's adoption_cost over the state's budget "
        "(capacity).",
    )
    sovereignty_weight: float = P(
        3.0,
        0.0,
        50.0,
        "log-odds/index",
        "Fall in log-odds per unit of the state's sovereignty sensitivity.",
    )
    peer_weight: float = P(
        3.0,
        0.0,
        50.0,
        "log-odds/share",
        "Rise in log-odds per unit share of the state's partners (weighted by requests "
        "exchanged) that already hold the instrument.",
    )
