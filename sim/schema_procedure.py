"""Schema sections of the legal procedure.

The agencies that carry it (capacities, skills, queue disciplines), drafting,
transmission, review, the judicial stage, execution, and the trust that their
outcomes build or spend.
"""

from __future__ import annotations

from typing import Literal

from sim.schema_base import (
    P,
    Section,
)


class AgenciesSection(Section):
    """Agency capacities, skills and queue disciplines."""

    central_authority_capacity: float = P(
        2.3,
        0.0,
        10000.0,
        "capacity/expected request",
        "Central authorities' staffing: requests a day they can review per request a day the "
        "gravity rule is expected to send them (above 1 leaves slack).",
    )
    staffing_budget_exponent: float = P(
        0.2,
        0.0,
        2.0,
        "power",
        "Richer states staff their agencies more for the same demand: staffing grows with "
        "state capacity / median to this power.",
    )
    law_enforcement_capacity: float = P(
        1.2,
        0.0,
        10000.0,
        "capacity/expected request",
        "Law enforcement's staffing: requests a day it can start executing per request a day "
        "the state is expected to receive (also sizes intelligence and INTERPOL offices).",
    )
    court_capacity: float = P(
        0.6,
        0.0,
        10000.0,
        "capacity/expected request",
        "Courts' staffing: proceedings a day they can open per request a day the state is "
        "expected to receive.",
    )
    nsc_capacity: float = P(
        0.3,
        0.0,
        10000.0,
        "capacity/expected request",
        "A national security court's staffing: proceedings a day per request a day the "
        "state is expected to receive (in addition to the ordinary court).",
    )
    capacity_floor: float = P(
        0.1, 0.0, 100.0, "requests/day", "Smallest capacity any agency has (a skeleton staff)."
    )
    queue_discipline: Literal["fifo", "severity", "reciprocity"] = P(
        "fifo",
        None,
        None,
        "choice",
        "Order in which agencies serve their queue: fifo, severity (most severe first), "
        "reciprocity (partners that served well first).",
    )
    skill_mean: float = P(0.6, 0.0, 1.0, "index", "Mean staff skill (0-1); rises with capacity.")
    skill_capacity_slope: float = P(
        0.1,
        0.0,
        1.0,
        "index/log unit",
        "How much staff skill rises per log unit of state capacity over the median.",
    )
    skill_sigma: float = P(0.1, 0.0, 1.0, "index", "Spread of skill around what capacity predicts.")
    skill_floor: float = P(
        0.05, 0.0, 1.0, "index", "Lowest staff skill an agency has (however small its state)."
    )
    skill_speed_effect: float = P(
        1.0,
        0.0,
        1.0,
        "service-time factor",
        "How much skill speeds service: service time x (1 + effect x (0.5 - skill)), so at "
        "1 a skilled office (skill 1) is three times as fast as an unskilled one.",
    )


class DraftingSection(Section):
    """Drafting and translation (process 2)."""

    base_days: float = P(20.0, 0.0, 3650.0, "days", "Drafting time of a request with no distance.")
    language_days: float = P(
        20.0, 0.0, 3650.0, "days", "Extra drafting/translation time when languages differ."
    )
    legal_distance_days: float = P(
        20.0, 0.0, 3650.0, "days", "Extra drafting time per unit of legal distance (0-1)."
    )
    noise_sigma: float = P(0.4, 0.0, 3.0, "log units", "Lognormal noise on every stage duration.")
    skill_effect: float = P(
        1.0,
        0.0,
        2.0,
        "drafting-time factor",
        "How much the drafting agency's skill speeds drafting: drafting time x (1 + effect x "
        "(1 - skill)), so at 1 an unskilled office (skill 0) takes twice as long as a skilled one.",
    )


class TransmissionSection(Section):
    """Transmission delays by channel (process 3)."""

    diplomatic_days: float = P(
        30.0, 0.0, 3650.0, "days", "One-way delay through diplomatic channels."
    )
    central_authority_days: float = P(
        10.0, 0.0, 3650.0, "days", "One-way delay between central authorities."
    )
    direct_days: float = P(3.0, 0.0, 3650.0, "days", "One-way delay agency-to-agency (direct).")
    interpol_days: float = P(0.5, 0.0, 3650.0, "days", "One-way delay through INTERPOL channels.")
    secure_platform_days: float = P(
        0.1, 0.0, 3650.0, "days", "One-way delay through a secure e-platform."
    )


class ReviewSection(Section):
    """Review by the requested central authority (process 4)."""

    service_days: float = P(
        38.0, 0.0, 3650.0, "days", "Mean time to examine a request once taken from the queue."
    )
    clarification_base: float = P(
        0.12, 0.0, 1.0, "probability", "Chance of a clarification round with no legal distance."
    )
    clarification_per_legal_distance: float = P(
        0.35, 0.0, 1.0, "probability", "Extra clarification chance per unit of legal distance."
    )
    clarification_days: float = P(
        60.0, 0.0, 3650.0, "days", "Time for the requesting side to answer a clarification."
    )
    max_clarification_rounds: int = P(
        3, 0, 20, "rounds", "Rounds after which the request is refused."
    )
    dual_criminality_base: float = P(
        0.05, 0.0, 1.0, "probability", "Dual-criminality refusal chance per unit of legal distance."
    )
    political_offence_base: float = P(
        0.08,
        0.0,
        1.0,
        "probability",
        "Political-offence refusal chance at full political sensitivity.",
    )
    nationality_bar: float = P(
        0.25,
        0.0,
        1.0,
        "probability",
        "Chance a civil-law (or socialist-law) state refuses to extradite its own national.",
    )
    human_rights_base: float = P(
        0.3,
        0.0,
        1.0,
        "probability",
        "Extradition refusal chance per unit of rights gap (death penalty retained by the "
        "requesting state and not the requested, or weaker rights standards).",
    )
    rights_gap_tolerance: float = P(
        0.2,
        0.0,
        1.0,
        "index",
        "Differences in rights standards up to this are no ground for refusal (only a gap "
        "beyond it, or the death penalty, counts).",
    )
    fair_trial_base: float = P(
        0.3,
        0.0,
        1.0,
        "probability",
        "Chance a partner with full rights standards refuses evidence or a person for a trial "
        "before a special (national security) court without transparency or safeguards.",
    )
    ne_bis_in_idem_base: float = P(
        0.01,
        0.0,
        1.0,
        "probability",
        "Chance, per other state involved in the case, that the person was already tried "
        "for the facts there (parallel proceedings; extradition and warrants).",
    )
    in_absentia_base: float = P(
        0.04,
        0.0,
        1.0,
        "probability",
        "Chance per unit of legal distance that a surrender for a judgment given in absentia "
        "is refused (procedural traditions differ).",
    )
    proportionality_base: float = P(
        0.02,
        0.0,
        1.0,
        "probability",
        "Chance a request in a case of severity 0 is refused as disproportionate (falls to 0 "
        "at severity 1).",
    )
    data_protection_base: float = P(
        0.06, 0.0, 1.0, "probability", "Data-protection refusal chance per unit of protection gap."
    )
    sovereignty_refusal: float = P(
        1.0, 0.0, 1.0, "probability", "Sovereignty refusal chance at a sovereignty score of 1."
    )
    sovereignty_delay: float = P(
        1.0, 0.0, 1.0, "probability", "Deliberate-delay chance at a sovereignty score of 1."
    )
    sovereignty_delay_days: float = P(
        90.0, 0.0, 3650.0, "days", "Mean length of a deliberate delay."
    )


class JudicialSection(Section):
    """Judicial stage for extradition and coercive measures (process 5)."""

    extradition_days: float = P(
        600.0,
        0.0,
        3650.0,
        "days",
        "Mean extradition hearing time without consent (ordinary court).",
    )
    consent_factor: float = P(
        0.3, 0.0, 1.0, "factor", "Hearing time multiplier when the person consents."
    )
    coercive_order_days: float = P(
        30.0, 0.0, 3650.0, "days", "Mean time for a court to grant a coercive measure."
    )
    nsc_speed_factor: float = P(
        0.4, 0.0, 1.0, "factor", "National security court: time multiplier for security cases."
    )
    nsc_noise_factor: float = P(
        0.4, 0.0, 1.0, "factor", "National security court: noise multiplier (more consistent)."
    )
    human_rights_refusal: float = P(
        0.1,
        0.0,
        1.0,
        "probability",
        "Chance the court refuses an extradition on human-rights grounds, per unit of rights "
        "gap (death penalty, weaker rights standards of the requesting state).",
    )
    nsc_transparency: float = P(
        0.3,
        0.0,
        1.0,
        "index",
        "Transparency of an existing national security court (open hearings, published "
        "decisions); a National Security Courts Law may raise it.",
    )
    nsc_safeguards: float = P(
        0.3,
        0.0,
        1.0,
        "index",
        "Defendants' safeguards before an existing national security court (counsel, "
        "disclosure, appeal); a National Security Courts Law may raise them.",
    )
    consent_base: float = P(
        -2.0,
        -10.0,
        10.0,
        "log-odds",
        "Log-odds that a person sought consents to surrender, before the drivers below.",
    )
    consent_strength_weight: float = P(
        2.0,
        -10.0,
        10.0,
        "log-odds/unit",
        "Change in consent log-odds per unit of the strength of the case (0-1) against the person.",
    )
    consent_national_weight: float = P(
        -1.0,
        -10.0,
        10.0,
        "log-odds",
        "Change in consent log-odds when the person is a national of the requested state.",
    )
    consent_conditions_weight: float = P(
        1.0,
        -10.0,
        10.0,
        "log-odds/unit",
        "Change in consent log-odds per unit of the requesting state's rights standards "
        "(detention conditions, fair trial).",
    )
    consent_contest_weight: float = P(
        1.0,
        -10.0,
        10.0,
        "log-odds/year",
        "Change in consent log-odds per year the contested route is expected to take (in "
        "custody, a long contest makes consenting more attractive).",
    )


class ExecutionSection(Section):
    """Execution by law enforcement and the response (processes 6-7)."""

    evidence_days: float = P(195.0, 0.0, 3650.0, "days", "Mean time to gather requested evidence.")
    surrender_days: float = P(
        20.0, 0.0, 3650.0, "days", "Mean time to arrest and surrender a person after the decision."
    )


class TrustSection(Section):
    """Trust and reciprocity (process 9)."""

    gain_on_success: float = P(
        0.03,
        0.0,
        1.0,
        "share of gap",
        "Trust moves this share of the way to 1 after an executed request.",
    )
    loss_on_refusal: float = P(
        0.08, 0.0, 1.0, "share", "Trust falls by this share after a refusal."
    )
    loss_on_lapse: float = P(
        0.05, 0.0, 1.0, "share", "Trust falls by this share after a request lapses unanswered."
    )
    loss_on_clarification: float = P(
        0.01,
        0.0,
        1.0,
        "share",
        "Trust of the requesting state falls by this share with each clarification round "
        "(a misunderstanding).",
    )
    expected_response_days: float = P(
        365.0,
        1.0,
        3650.0,
        "days",
        "Response time (issue to answer) partners expect; faster answers raise trust more.",
    )
    timeliness_weight: float = P(
        1.0,
        0.0,
        5.0,
        "factor",
        "Extra trust gain of an answer given at once, relative to one at the expected time; "
        "later answers gain less, faster the later they are (quadratic), down to none.",
    )
    decay_per_year: float = P(
        0.1, 0.0, 1.0, "share/year", "Share of the gap to the initial trust closed per year."
    )
