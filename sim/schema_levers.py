"""Schema sections of the reform levers and stress tests.

Each is registered with its effect (:mod:`sim.lever_effects`) in the lever
registry, :mod:`sim.levers`, which adds it to the scenario schema.
"""

from __future__ import annotations

from sim.schema_base import (
    AdoptableLeverSection,
    LeverSection,
    P,
)


class MutualRecognitionSection(AdoptableLeverSection):
    """The mutual-recognition instrument (EAW / EIO-like) inside the bloc.

    As a lever: the states in ``applies_to`` join the bloc at ``start_year``.
    """

    decision_deadline_days: float = P(
        30.0,
        1.0,
        3650.0,
        "days",
        "Deadline to decide on a mutual-recognition request; queues serve the earliest "
        "deadline first and the share met is an outcome.",
    )
    surrender_deadline_consent_days: float = P(
        10.0, 1.0, 3650.0, "days", "Deadline for the surrender decision when the person consents."
    )
    surrender_deadline_days: float = P(
        60.0, 1.0, 3650.0, "days", "Deadline for the surrender decision without consent."
    )
    execution_deadline_days: float = P(
        90.0, 1.0, 3650.0, "days", "Deadline to execute an investigation order after the decision."
    )
    standard_form_clarity: float = P(
        0.7,
        0.0,
        1.0,
        "share",
        "Share of misunderstandings (clarification chance) a standard certificate avoids.",
    )
    nationality_residence_refusal: float = P(
        0.1,
        0.0,
        1.0,
        "probability",
        "Chance a warrant for a national of the executing state is refused so that the "
        "sentence is served at home (optional non-execution ground).",
    )
    review_days: float = P(
        4.8, 0.0, 3650.0, "days", "Mean time to recognise a request (replaces the ordinary review)."
    )
    hearing_days: float = P(
        30.0,
        0.0,
        3650.0,
        "days",
        "Mean surrender hearing on a warrant without consent (times judicial.consent_factor "
        "with consent).",
    )
    surrender_days: float = P(
        5.4, 0.0, 3650.0, "days", "Mean time to surrender a person after a recognised warrant."
    )


class CapacityBuildingSection(LeverSection):
    """Capacity building: a coordinating body transfers capacity to low-capacity states.

    As a lever: from ``start_year`` the body adds ``added_budget_per_year`` and gives
    it to the lowest-capacity states among ``applies_to``.
    """

    budget_per_year: float = P(
        0.0,
        0.0,
        1000.0,
        "budget units/year",
        "Capacity the coordinating body gives away a year before any reform (0 in the "
        "baseline, so that it has no trend).",
    )
    lag_days: float = P(
        365.0, 0.0, 3650.0, "days", "Time from funding to capacity in place (training, hiring)."
    )
    technology_gain: float = P(
        0.05, 0.0, 1.0, "index/budget unit", "Technology gained per budget unit received."
    )
    skill_gain: float = P(0.05, 0.0, 1.0, "index/budget unit", "Skill gained per budget unit.")
    recipients: int = P(
        5, 0, 400, "states", "Number of lowest-capacity states that receive each year's budget."
    )
    added_budget_per_year: float = P(
        4.0, 0.0, 1000.0, "budget units/year", "Lever: extra yearly budget from start_year."
    )


class EEvidenceSection(LeverSection):
    """Lever: production orders sent straight to providers (Regulation (EU) 2023/1543-like).

    At ``start_year`` the target states come under the regime: a request from one of
    them for data held by a provider under the regime (or by a provider elsewhere
    that has a legal representative there) is a production order with a deadline,
    not a voluntary request. Needs ``electronic_evidence.enabled``.
    """

    deadline_days: float = P(
        10.0, 0.1, 3650.0, "days", "Deadline for the provider to answer a production order."
    )
    emergency_deadline_hours: float = P(
        8.0, 1.0, 8760.0, "hours", "Deadline for an urgent production order (emergencies)."
    )
    provider_handling_days: float = P(
        5.0,
        0.0,
        3650.0,
        "days",
        "Mean time a provider takes on a (non-urgent) order; one that complies answers by "
        "the deadline at the latest.",
    )
    compliance_rate: float = P(
        0.9,
        0.0,
        1.0,
        "probability",
        "Chance a provider complies with an order; one that does not is enforced through "
        "the provider state's authority by the formal route after the deadline.",
    )
    legal_representative_share: float = P(
        0.8,
        0.0,
        1.0,
        "share",
        "Share of providers outside the regime that serve its states and have a legal "
        "representative there, so receive orders too.",
    )


class NscLawSection(AdoptableLeverSection):
    """Lever: a National Security Courts Law.

    Specialised courts for security cases (see ``judicial.nsc_*``), clear
    procedures (fewer clarification rounds and a more consistent review of
    security requests involving the state), formal channels for international
    communication (no more diplomatic letters rogatory), and the court's
    transparency and defendants' safeguards, which partners with strong rights
    standards weigh before sending evidence or a person for trial before it.
    """

    clarity: float = P(
        0.3,
        0.0,
        1.0,
        "share",
        "Share by which clear procedures cut clarification rounds and the spread of review "
        "times of security requests involving the state.",
    )
    formal_channels: bool = P(
        True,
        None,
        None,
        "switch",
        "Requests without a treaty to or from the state go via central authorities, not "
        "diplomatic channels.",
    )
    transparency: float = P(
        0.6,
        0.0,
        1.0,
        "index",
        "Transparency of the state's security courts under the law (at least).",
    )
    defendant_safeguards: float = P(
        0.6,
        0.0,
        1.0,
        "index",
        "Defendants' safeguards before the state's security courts under the law (at least).",
    )


class LegalHarmonizationSection(LeverSection):
    """Lever: domestic procedures aligned with international standards."""

    distance_reduction: float = P(
        0.5,
        0.0,
        1.0,
        "share",
        "Share by which legal distance to every partner falls (fewer dual-criminality and "
        "form defects, faster drafting).",
    )


class TreatyExpansionSection(AdoptableLeverSection):
    """Lever: new bilateral MLA / extradition treaties up to a coverage target."""

    coverage_target: float = P(
        0.5,
        0.0,
        1.0,
        "share of partners",
        "Share of other states each target state has a treaty with afterwards.",
    )


class SecurePlatformSection(AdoptableLeverSection):
    """Lever: a secure information-sharing platform (e-CODEX / SIENA-like)."""

    data_security_gain: float = P(
        0.1, 0.0, 1.0, "index", "Rise in technology of connected states (data security)."
    )


class RapidChannelsSection(LeverSection):
    """Lever: 24/7 points of contact for urgent requests (Budapest Art. 35-like)."""

    urgent_severity: float = P(
        0.7, 0.0, 1.0, "index", "Severity from which requests of target states count as urgent."
    )


class JointTaskForcesSection(AdoptableLeverSection):
    """Lever: easier joint investigation teams (funding, model agreements).

    Adopted by choice (``adoption = "endogenous"``), a state joins the funded programme
    when its experience, budget, sovereignty concerns and peers lead it to.
    """

    threshold_reduction: float = P(
        0.2, 0.0, 1.0, "index", "Fall in the severity a case needs for a team."
    )
    cost_reduction: float = P(
        0.5, 0.0, 1.0, "share", "Share of the members' team cost that is funded centrally."
    )
    agreement_trust_reduction: float = P(
        0.1, 0.0, 1.0, "index", "Fall in the trust members need to agree (model agreements)."
    )


class DiplomaticEngagementSection(LeverSection):
    """Lever: sustained dialogue and coordination meetings."""

    extra_pairs_per_round: int = P(
        20, 0, 100000, "pairs", "Extra meetings per round, for pairs involving target states."
    )
    relations_boost: float = P(
        0.05, 0.0, 1.0, "share of gap", "One-off rise in relations of target states at the start."
    )
    liaison_partners: int = P(
        3,
        0,
        400,
        "states",
        "Busiest partners with which each target state exchanges liaison officers.",
    )
    liaison_distance_reduction: float = P(
        0.5,
        0.0,
        1.0,
        "share",
        "Share by which liaison officers cut the cultural and organisational distance of a pair.",
    )


class ConfidentialityStandardsSection(LeverSection):
    """Lever: formal confidentiality agreements and legal protections for partners."""

    level: float = P(
        0.8,
        0.0,
        1.0,
        "index",
        "Confidentiality standard of target states afterwards (at least): fewer leaks, more "
        "sharing, and legal protections that close data-protection gaps.",
    )


class GeopoliticalTensionSection(LeverSection):
    """Stress test: relations between target states and the rest fall mid-run."""

    relations_drop: float = P(0.3, 0.0, 1.0, "index", "Fall in relations with the targets.")
    sovereignty_rise: float = P(
        0.2, 0.0, 1.0, "index", "Rise in the targets' sovereignty sensitivity."
    )


class DemandSurgeSection(LeverSection):
    """Stress test: case arrivals in target states grow from start_year."""

    growth_per_year: float = P(
        0.25, 0.0, 10.0, "share/year", "Yearly growth of case arrivals after the start."
    )


class BudgetCutsSection(LeverSection):
    """Stress test: agency capacity in target states falls at start_year."""

    capacity_cut: float = P(0.3, 0.0, 1.0, "share", "Share of agency capacity cut.")
