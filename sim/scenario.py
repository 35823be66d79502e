"""The scenario schema: every parameter of the model, with its unit, default and range.

A scenario file is TOML. It may start with ``extends = "baseline"`` (a shipped
scenario by name) or ``extends = "other.toml"`` (a file relative to this one), and
then states only what it changes. Loading merges the chain, validates the result
against the schema below and returns a frozen :class:`Scenario`.

The schema is the single source of truth for parameters: the CLI's ``describe``,
the ODD parameter tables and the error messages all read it.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from sim.errors import CoopsimError

CASE_TYPES = ("terrorism", "cybercrime", "drug_trafficking", "organised_crime", "espionage")
SECURITY_CASE_TYPES = ("terrorism", "espionage", "cybercrime")
# Case types on the mutual-recognition list of offences (as the European Arrest Warrant's
# 32 categories): no dual-criminality check under mutual recognition. Espionage is not.
LISTED_OFFENCE_TYPES = ("terrorism", "cybercrime", "drug_trafficking", "organised_crime")
LEGAL_FAMILIES = ("common", "civil", "mixed", "religious", "socialist")
QUEUE_DISCIPLINES = ("fifo", "severity", "reciprocity")


class ScenarioError(CoopsimError, ValueError):
    """A scenario (or experiment) file that cannot be used, with a message for the user."""


def P(default: Any, lo: float | None, hi: float | None, unit: str, description: str) -> Any:  # noqa: N802
    """Declare a model parameter: default, allowed range, unit and one-line meaning.

    Args:
        default: Value used when the scenario does not set it.
        lo: Smallest allowed value (inclusive), or None.
        hi: Largest allowed value (inclusive), or None.
        unit: Unit, e.g. ``"days"``, ``"requests/day"``, ``"share"``.
        description: One line saying what the parameter means in the model.

    Returns:
        A pydantic ``Field`` carrying the metadata.
    """
    return Field(
        default=default,
        ge=lo,
        le=hi,
        description=description,
        json_schema_extra={"unit": unit},
    )


class Section(BaseModel):
    """Base for scenario sections: unknown keys, wrong types, NaN and infinity are errors.

    Strict mode: ``years = true`` or ``n_states = "12"`` are type errors, not silently
    converted (a TOML integer is still accepted where a float is expected).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


ShareMix = dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]]


def _check_mix_total(v: dict[str, float]) -> None:
    """A share mix is normalised by its total: it must be positive and finite."""
    total = sum(v.values())
    if total <= 0:
        raise ValueError("shares must not all be zero")
    if not math.isfinite(total):
        raise ValueError("shares too large: their total overflows; use shares that sum to 1")


APPLIES_TO_GROUPS = (
    "all",
    "mr_bloc",
    "non_mr_bloc",
    "alliance",
    "non_alliance",
    "low_capacity",
    "middle_capacity",
    "high_capacity",
)


class LeverSection(Section):
    """Common fields of a reform lever: whether it is on, from when, and for whom."""

    enabled: bool = P(False, None, None, "switch", "Whether this reform is part of the scenario.")
    start_year: float = P(
        0.0,
        0.0,
        50.0,
        "years",
        "Year of the measurement window at which the reform takes effect (0 = its start).",
    )
    applies_to: str | list[str] = P(
        "all",
        None,
        None,
        "states",
        "Who the reform applies to: 'all', a bloc ('mr_bloc', 'non_mr_bloc', 'alliance', "
        "'non_alliance'), a capacity group ('low_capacity', 'middle_capacity', "
        "'high_capacity'), or a list of state codes.",
    )

    @field_validator("applies_to")
    @classmethod
    def _known_target(cls, v: str | list[str]) -> str | list[str]:
        if isinstance(v, str) and v not in APPLIES_TO_GROUPS:
            raise ValueError(
                f"unknown group {v!r}; allowed: {list(APPLIES_TO_GROUPS)} or a list of state codes"
            )
        if isinstance(v, list) and not v:
            raise ValueError("an empty list of states; name at least one state code")
        return v


class AdoptableLeverSection(LeverSection):
    """A lever a state may choose to adopt: imposed on every target, or adopted state by state.

    With ``adoption = "endogenous"`` the targets are candidates that decide, one
    review at a time, whether to adopt (:mod:`sim.adoption`, drivers in ``[adoption]``).
    """

    adoption: Literal["imposed", "endogenous"] = P(
        "imposed",
        None,
        None,
        "choice",
        "imposed: every target state gets the reform at start_year; endogenous: from "
        "start_year each target decides at every adoption.review_days whether to adopt.",
    )
    adoption_cost: float = P(
        0.3,
        0.0,
        100.0,
        "budget units",
        "What adopting costs a state, set against its budget (capacity) when it decides "
        "(endogenous adoption only).",
    )


class RunSection(Section):
    """How long to simulate: a warm-up, then the measurement window."""

    years: float = P(
        5.0,
        0.01,
        50.0,
        "years",
        "Length of the measurement window after the warm-up; one step is one day, a year 365 days.",
    )
    warmup_years: float = P(
        0.0,
        0.0,
        20.0,
        "years",
        "Simulated time before the window, left out of every outcome (chosen by MSER-5).",
    )


class WorldSection(Section):
    """The synthetic world: states, legal families, blocs and the treaty network."""

    n_states: int = P(40, 1, 400, "states", "Number of states in a synthetic world.")
    data_file: str = P(
        "",
        None,
        None,
        "path",
        "CSV of real states (relative to the scenario file, or a shipped name); empty = synthetic.",
    )
    legal_family_shares: ShareMix = P(
        {"common": 0.25, "civil": 0.45, "mixed": 0.15, "religious": 0.08, "socialist": 0.07},
        None,
        None,
        "share",
        "Share of states in each legal family (normalised).",
    )
    n_language_groups: int = P(
        6, 1, 50, "groups", "Number of language groups states are drawn from."
    )
    capacity_median: float = P(1.0, 0.01, 100.0, "budget units", "Median state capacity.")
    economic_size_sigma: float = P(
        1.4, 0.0, 5.0, "log units", "Spread of states' lognormal economic size (GDP-like)."
    )
    income_sigma: float = P(
        0.8,
        0.0,
        3.0,
        "log units",
        "Spread of states' lognormal income per head; population = economic size / income.",
    )
    capacity_size_exponent: float = P(
        0.5,
        0.0,
        1.5,
        "exponent",
        "Agency budgets grow with economic size to this power (capacity / median).",
    )
    openness_sigma: float = P(
        0.5,
        0.0,
        3.0,
        "log units",
        "Spread of states' lognormal openness (trade, travel, finance hub) that draws foreign "
        "links beyond economic size.",
    )
    culture_spread: float = P(
        0.15,
        0.0,
        1.0,
        "index",
        "Spread of states' organisational culture around their language group's; the gap "
        "between two states is their cultural and organisational distance.",
    )
    rights_standard_mean: float = P(
        0.6,
        0.0,
        1.0,
        "index",
        "Mean strength of states' human-rights and fair-trial protections (0-1), higher in "
        "the bloc.",
    )
    rights_standard_sigma: float = P(
        0.15, 0.0, 1.0, "index", "Spread of states' rights standards around the mean."
    )
    rights_standard_bloc_bonus: float = P(
        0.2,
        0.0,
        1.0,
        "index",
        "How much stronger rights standards are in the mutual-recognition bloc (membership "
        "requires them).",
    )
    rights_standard_death_penalty_gap: float = P(
        0.2,
        0.0,
        1.0,
        "index",
        "How much weaker rights standards are where the death penalty is retained.",
    )
    technology_mean: float = P(
        0.5, 0.0, 1.0, "index", "Mean technology level (0-1), rises with capacity."
    )
    technology_capacity_slope: float = P(
        0.15,
        0.0,
        1.0,
        "index/log unit",
        "How much technology rises per log unit of state capacity over the median.",
    )
    technology_sigma: float = P(
        0.1, 0.0, 1.0, "index", "Spread of technology around what capacity predicts."
    )
    sovereignty_sensitivity_mean: float = P(
        0.45, 0.0, 1.0, "index", "Mean sovereignty sensitivity of states (0 = none, 1 = extreme)."
    )
    sovereignty_sensitivity_sigma: float = P(
        0.2, 0.0, 1.0, "index", "Spread of sovereignty sensitivity across states."
    )
    death_penalty_share: float = P(
        0.2, 0.0, 1.0, "share", "Share of states that retain the death penalty."
    )
    data_protection_mean: float = P(
        0.5, 0.0, 1.0, "index", "Mean strictness of data-protection law (0-1)."
    )
    mr_bloc_share: float = P(
        0.3, 0.0, 1.0, "share", "Share of states in the mutual-recognition bloc (EU-like)."
    )
    alliance_share: float = P(
        0.12, 0.0, 1.0, "share", "Share of states in the intelligence alliance."
    )
    convention_share: float = P(
        0.55, 0.0, 1.0, "share", "Share of states party to the multilateral MLA convention."
    )
    bilateral_treaty_density: float = P(
        0.12,
        0.0,
        1.0,
        "share of pairs",
        "Probability that a pair of states has a bilateral treaty.",
    )
    treaty_capacity_bias: float = P(
        1.0, 0.0, 5.0, "exponent", "How much richer states are favoured as treaty partners."
    )
    nsc_share: float = P(
        0.15, 0.0, 1.0, "share", "Share of states that already have a national security court."
    )
    initial_trust: float = P(0.5, 0.0, 1.0, "index", "Initial directed trust between states (0-1).")
    initial_trust_spread: float = P(
        0.1, 0.0, 0.5, "index", "Spread (sd) of initial trust around its mean."
    )
    bloc_trust_bonus: float = P(
        0.15, 0.0, 0.5, "index", "Extra initial trust between bloc partners."
    )
    initial_relations: float = P(
        0.6, 0.0, 1.0, "index", "Mean diplomatic relations between states (0-1)."
    )
    relations_sigma: float = P(
        0.1, 0.0, 1.0, "index", "Spread of initial relations of pairs around the mean."
    )
    relations_bloc_bonus: float = P(
        0.15, 0.0, 1.0, "index", "Better initial relations between members of a shared bloc."
    )
    relations_legal_distance_penalty: float = P(
        0.1,
        0.0,
        1.0,
        "index",
        "Worse initial relations per unit of legal distance between two states' systems.",
    )
    interpol_member_share: float = P(
        1.0, 0.0, 1.0, "share", "Share of states that are INTERPOL members (196 of 197 in reality)."
    )
    platform_share: float = P(
        0.0, 0.0, 1.0, "share", "Share of states already connected to a secure sharing platform."
    )
    contact_point_share: float = P(
        0.3, 0.0, 1.0, "share", "Share of states with a 24/7 point of contact for urgent requests."
    )
    confidentiality_mean: float = P(
        0.3,
        0.0,
        1.0,
        "index",
        "Mean strength of confidentiality agreements and legal protections for partners (0-1).",
    )

    @field_validator("data_file")
    @classmethod
    def _usable_file_name(cls, v: str) -> str:
        if "\x00" in v:
            raise ValueError("a file name cannot contain a NUL character")
        too_long = [part for part in v.replace("\\", "/").split("/") if len(part.encode()) > 255]
        if too_long:
            raise ValueError("a file name longer than 255 bytes; name a CSV file that exists")
        return v

    @field_validator("legal_family_shares")
    @classmethod
    def _known_families(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(LEGAL_FAMILIES))
        if unknown:
            raise ValueError(f"unknown legal family {unknown}; allowed: {list(LEGAL_FAMILIES)}")
        _check_mix_total(v)
        return v


class CasesSection(Section):
    """Case generation (process 1): arrivals, types and foreign links."""

    arrivals_per_state_per_year: float = P(
        55.0,
        0.0,
        100000.0,
        "cases/state/year",
        "Mean transnational case arrivals for a state of threat level 1 (Poisson).",
    )
    threat_level_sigma: float = P(
        0.5, 0.0, 3.0, "log units", "Spread of states' lognormal threat level."
    )
    arrivals_population_exponent: float = P(
        0.5,
        0.0,
        2.0,
        "exponent",
        "Populous states open more transnational cases ((population / median) ** exponent).",
    )
    type_shares: ShareMix = P(
        {
            "terrorism": 0.12,
            "cybercrime": 0.25,
            "drug_trafficking": 0.3,
            "organised_crime": 0.25,
            "espionage": 0.08,
        },
        None,
        None,
        "share",
        "Share of cases by type (normalised).",
    )
    mean_foreign_links: float = P(
        1.4, 1.0, 10.0, "states", "Mean number of foreign states a case needs (1 + Poisson)."
    )
    gravity_affinity_weight: float = P(
        1.5, 0.0, 10.0, "weight", "Gravity rule: weight of shared language and legal family."
    )
    gravity_bloc_weight: float = P(1.0, 0.0, 10.0, "weight", "Gravity rule: weight of shared bloc.")
    gravity_capacity_exponent: float = P(
        0.5,
        0.0,
        3.0,
        "exponent",
        "Gravity rule: attraction of economically larger partners (economic size ** exponent).",
    )
    extradition_share: float = P(
        0.25, 0.0, 1.0, "share", "Probability that a foreign link has a suspect to extradite."
    )
    coercive_share: float = P(
        0.3,
        0.0,
        1.0,
        "share",
        "Share of evidence requests needing a coercive measure (court order).",
    )
    national_share: float = P(
        0.3,
        0.0,
        1.0,
        "share",
        "Probability that a person sought is a national of the requested state.",
    )
    deadline_days_mean: float = P(
        900.0, 1.0, 36500.0, "days", "Mean time before a case goes cold (exponential-like gamma)."
    )
    deadline_shape: float = P(
        4.0, 0.1, 100.0, "shape", "Gamma shape of case deadlines (higher = tighter)."
    )
    severity_shape: float = P(2.0, 0.1, 50.0, "beta a", "Beta a-parameter of case severity (0-1).")
    severity_shape_b: float = P(
        2.0, 0.1, 50.0, "beta b", "Beta b-parameter of case severity (0-1)."
    )
    sensitivity_concentration: float = P(
        4.0,
        0.1,
        1000.0,
        "beta a + b",
        "How closely a case's political sensitivity follows its type's mean (Beta "
        "concentration: higher, less spread).",
    )
    political_sensitivity_by_type: ShareMix = P(
        {
            "terrorism": 0.6,
            "cybercrime": 0.3,
            "drug_trafficking": 0.15,
            "organised_crime": 0.2,
            "espionage": 0.9,
        },
        None,
        None,
        "index",
        "Mean political sensitivity (0-1) of cases of each type.",
    )

    @field_validator("type_shares", "political_sensitivity_by_type")
    @classmethod
    def _known_types(cls, v: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        unknown = sorted(set(v) - set(CASE_TYPES))
        if unknown:
            raise ValueError(f"unknown case type {unknown}; allowed: {list(CASE_TYPES)}")
        if info.field_name == "type_shares":
            _check_mix_total(v)
        return v


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


class BilateralAgreementsSection(LeverSection):
    """Lever: bilateral agreements negotiated between pairs of targets (:mod:`sim.negotiation`).

    Every ``review_days``, target pairs without a treaty whose unmet needs reach
    ``need_threshold`` propose an agreement; after ``negotiation_days`` the
    provisions meet each side's concerns (concluded) or not (failed), with a
    logistic probability of relations, the larger sovereignty sensitivity and the
    rights gap; a concluded agreement enters into force as a bilateral treaty
    after ``ratification_days``.
    """

    review_days: float = P(
        180.0,
        1.0,
        3650.0,
        "days",
        "Time between rounds in which pairs with unmet needs may propose an agreement; needs "
        "are read over the same period.",
    )
    need_threshold: int = P(
        3,
        0,
        100000,
        "requests",
        "Unmet needs of a pair over the last period (requests between them refused, lapsed, "
        "or answered or still waiting after trust.expected_response_days) from which it "
        "proposes.",
    )
    negotiation_days: float = P(
        180.0, 0.0, 3650.0, "days", "Time from a proposal to concluded provisions or a failure."
    )
    base_log_odds: float = P(
        0.0,
        -20.0,
        20.0,
        "log-odds",
        "Log-odds that a negotiation concludes between partners with relations 0, no "
        "sovereignty concern and no rights gap.",
    )
    relations_weight: float = P(
        3.0,
        0.0,
        50.0,
        "log-odds/index",
        "Rise in log-odds per unit of the pair's relations (provisions found that meet each "
        "side's concerns).",
    )
    sovereignty_weight: float = P(
        3.0,
        0.0,
        50.0,
        "log-odds/index",
        "Fall in log-odds per unit of the larger of the pair's sovereignty sensitivities.",
    )
    rights_gap_weight: float = P(
        4.0,
        0.0,
        50.0,
        "log-odds/index",
        "Fall in log-odds per unit of the gap between the pair's rights standards.",
    )
    ratification_days: float = P(
        365.0,
        0.0,
        3650.0,
        "days",
        "Time from a concluded agreement to its entry into force as a bilateral treaty.",
    )


CaseTypeList = list[Literal[CASE_TYPES]]


def _some_case_types(v: list[str]) -> list[str]:
    """A lever that covers case types must name at least one."""
    if not v:
        raise ValueError(f"an empty list of case types; name at least one of {list(CASE_TYPES)}")
    return v


class CoordinatedOperationSection(LeverSection):
    """Lever: a time-limited operation a coordinating body runs across participating states.

    From ``start_year`` for ``duration_days`` the body (INTERPOL or UNODC) works with
    the national agencies of ``applies_to`` on cases of ``case_types``: their requests
    to one another go first in every queue, it passes their intelligence on to the
    other participants, and then INTERPOL intensifies the searches for persons sought
    (a daily chance to locate each one, notice requests reviewed faster) while UNODC
    brings the participants into joint teams more easily. Afterwards all is as before.
    """

    coordinator: Literal["interpol", "unodc"] = P(
        "interpol",
        None,
        None,
        "choice",
        "The coordinating body: 'interpol' (searches for persons sought, notices) or "
        "'unodc' (joint work among the participants).",
    )
    case_types: CaseTypeList = P(
        ["terrorism", "drug_trafficking", "organised_crime"],
        None,
        None,
        "case types",
        "Case types the operation targets (of cases originating in a participant).",
    )
    duration_days: float = P(
        120.0, 1.0, 3650.0, "days", "How long the operation runs from its start."
    )
    prioritise_requests: bool = P(
        True,
        None,
        None,
        "switch",
        "Requests between participants in targeted cases go first in the agencies' queues.",
    )
    intel_share_uplift: float = P(
        0.5,
        0.0,
        1.0,
        "share of gap",
        "Share of the gap to certain sharing closed for items of targeted cases passed "
        "between participants (through the coordinator, which offers them to every "
        "participant).",
    )
    search_hazard_per_day: float = P(
        0.01,
        0.0,
        1.0,
        "probability/day",
        "INTERPOL: daily chance a participant locates and arrests a person sought on its "
        "territory in a targeted case (every search not yet successful, notice or diffusion).",
    )
    review_speedup: float = P(
        0.5,
        0.0,
        1.0,
        "share",
        "INTERPOL: share by which the review of participants' notice requests in targeted "
        "cases gets shorter.",
    )
    team_min_states: int = P(
        2,
        2,
        50,
        "states",
        "UNODC: smallest number of states in an operation case that needs another "
        "participant for a joint team.",
    )
    team_threshold_reduction: float = P(
        0.3,
        0.0,
        1.0,
        "index",
        "UNODC: fall in the severity an operation case that needs another participant needs "
        "for a joint team.",
    )
    team_trust_reduction: float = P(
        0.1,
        0.0,
        1.0,
        "index",
        "UNODC: fall in the trust participants need to agree to a team for a targeted case.",
    )

    @field_validator("case_types")
    @classmethod
    def _named_case_types(cls, v: list[str]) -> list[str]:
        return _some_case_types(v)


class CounterterrorismAgreementSection(LeverSection):
    """Lever: an imposed, dated bilateral agreement between the states of ``applies_to``.

    Every pair of the target states (a list of two codes for one bilateral agreement)
    gets a bilateral treaty, a commitment to share intelligence on the covered case
    types, and joint work: joint teams between the parties for covered cases with
    fewer states, at a lower severity and a lower trust.
    """

    case_types: CaseTypeList = P(
        ["terrorism"],
        None,
        None,
        "case types",
        "Case types the agreement covers (intelligence sharing and joint work).",
    )
    bilateral_treaty: bool = P(
        True,
        None,
        None,
        "switch",
        "The agreement is a bilateral treaty between the parties (requests use it as legal basis).",
    )
    share_commitment: float = P(
        0.5,
        0.0,
        1.0,
        "share of gap",
        "Share of the gap to certain sharing closed for items of covered cases between the "
        "parties; each party's items of covered cases are offered to the other.",
    )
    team_min_states: int = P(
        2,
        2,
        50,
        "states",
        "Smallest number of states in a covered case of the parties for a joint team.",
    )
    team_threshold_reduction: float = P(
        0.3, 0.0, 1.0, "index", "Fall in the severity a covered case needs for a joint team."
    )
    team_trust_reduction: float = P(
        0.1,
        0.0,
        1.0,
        "index",
        "Fall in the trust the parties need to agree to a joint team for a covered case.",
    )

    @field_validator("case_types")
    @classmethod
    def _named_case_types(cls, v: list[str]) -> list[str]:
        return _some_case_types(v)


LEVERS = (
    "nsc_law",
    "legal_harmonization",
    "treaty_expansion",
    "mutual_recognition",
    "secure_platform",
    "rapid_channels",
    "joint_task_forces",
    "capacity_building",
    "diplomatic_engagement",
    "confidentiality_standards",
    "bilateral_agreements",
    "e_evidence",
    "coordinated_operation",
    "counterterrorism_agreement",
)
ADOPTABLE_LEVERS = (
    "nsc_law",
    "treaty_expansion",
    "secure_platform",
    "mutual_recognition",
    "joint_task_forces",
)
STRESS_TESTS = ("geopolitical_tension", "demand_surge", "budget_cuts")


class Scenario(Section):
    """A complete, validated scenario: the input of one model run."""

    name: str = P("unnamed", None, None, "text", "Short name of the scenario.")
    description: str = P("", None, None, "text", "One line saying what the scenario represents.")
    run: RunSection = RunSection()
    world: WorldSection = WorldSection()
    cases: CasesSection = CasesSection()
    agencies: AgenciesSection = AgenciesSection()
    drafting: DraftingSection = DraftingSection()
    transmission: TransmissionSection = TransmissionSection()
    review: ReviewSection = ReviewSection()
    judicial: JudicialSection = JudicialSection()
    execution: ExecutionSection = ExecutionSection()
    trust: TrustSection = TrustSection()
    mutual_recognition: MutualRecognitionSection = MutualRecognitionSection()
    communication: CommunicationSection = CommunicationSection()
    intelligence: IntelligenceSection = IntelligenceSection()
    interpol: InterpolSection = InterpolSection()
    jit: JitSection = JitSection()
    diplomacy: DiplomacySection = DiplomacySection()
    adoption: AdoptionSection = AdoptionSection()
    electronic_evidence: ElectronicEvidenceSection = ElectronicEvidenceSection()
    capacity_building: CapacityBuildingSection = CapacityBuildingSection()
    nsc_law: NscLawSection = NscLawSection()
    legal_harmonization: LegalHarmonizationSection = LegalHarmonizationSection()
    treaty_expansion: TreatyExpansionSection = TreatyExpansionSection()
    secure_platform: SecurePlatformSection = SecurePlatformSection()
    rapid_channels: RapidChannelsSection = RapidChannelsSection()
    joint_task_forces: JointTaskForcesSection = JointTaskForcesSection()
    diplomatic_engagement: DiplomaticEngagementSection = DiplomaticEngagementSection()
    confidentiality_standards: ConfidentialityStandardsSection = ConfidentialityStandardsSection()
    bilateral_agreements: BilateralAgreementsSection = BilateralAgreementsSection()
    e_evidence: EEvidenceSection = EEvidenceSection()
    coordinated_operation: CoordinatedOperationSection = CoordinatedOperationSection()
    counterterrorism_agreement: CounterterrorismAgreementSection = (
        CounterterrorismAgreementSection()
    )
    geopolitical_tension: GeopoliticalTensionSection = GeopoliticalTensionSection()
    demand_surge: DemandSurgeSection = DemandSurgeSection()
    budget_cuts: BudgetCutsSection = BudgetCutsSection()

    # Where the scenario came from; not a model parameter.
    source: str = Field(default="", exclude=True, description="File the scenario was loaded from.")

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """Return a copy with dotted-key overrides applied and validated.

        Values from other tools are accepted where they are exact (see
        :func:`coerce_override`): numpy scalars, ``12.0`` for an integer, ``1``/``0``
        for a switch; errors name the override, not the scenario file.

        Args:
            overrides: Mapping like ``{"agencies.central_authority_capacity": 2.0}``.

        Returns:
            A new validated Scenario.

        Raises:
            ScenarioError: If a key is unknown or a value is not allowed.
        """
        data = self.model_dump()
        for dotted, value in overrides.items():
            set_dotted(data, dotted, coerce_override(dotted, value))
        return validate_dict(data, source=self.source or "<scenario>", overridden=overrides)


# --------------------------------------------------------------------------------------
# Loading: extends, merging, error messages
# --------------------------------------------------------------------------------------

PACKAGE_DIR = Path(__file__).resolve().parent
DAYS_PER_YEAR = 365  # one step is one day; a simulated year is 365 of them


def warmup_days(scenario: Scenario) -> int:
    """Days of warm-up before the measurement window (the window's first day)."""
    return int(round(scenario.run.warmup_years * DAYS_PER_YEAR))


def shipped_dir_candidates(kind: str, package_dir: Path = PACKAGE_DIR) -> tuple[Path, Path]:
    """Where shipped files of a kind (``"scenarios"``, ``"experiments"``) can be.

    An installed wheel carries them inside the package (``sim/_scenarios``, mapped
    by ``force-include`` in pyproject.toml); a clone or an editable install has them
    next to the package. The package's own copy comes first, so that an unrelated
    ``scenarios`` folder beside an installed package is never taken for ours.
    """
    return package_dir / f"_{kind}", package_dir.parent / kind


def shipped_dir(kind: str, package_dir: Path = PACKAGE_DIR) -> Path:
    """Return the folder of the shipped files of a kind (see :func:`shipped_dir_candidates`)."""
    candidates = shipped_dir_candidates(kind, package_dir)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[-1]


def shipped_scenarios_dir() -> Path:
    """Return the folder holding the shipped scenario files."""
    return shipped_dir("scenarios")


def field_annotation(dotted: str) -> Any:
    """The declared type of a dotted parameter (``"world.n_states"`` -> ``int``), or None."""
    *sections, key = dotted.split(".")
    model: type[BaseModel] = Scenario
    for part in sections:
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    field = model.model_fields.get(key)
    return None if field is None else field.annotation


def _plain(value: Any) -> Any:
    """Turn numpy scalars (and containers of them) into the Python values they hold."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if type(value).__module__ == "numpy" and hasattr(value, "item") and not isinstance(value, str):
        return value.item()  # np.float64 -> float, np.int64 -> int, np.True_ -> True
    return value


def coerce_override(dotted: str, value: Any) -> Any:
    """Make a value from another tool (numpy, a sampler) fit the parameter's type exactly.

    numpy scalars become Python numbers; an integer-valued float (``12.0``) is taken
    for an integer parameter; ``1``/``0`` (or ``1.0``/``0.0``) for a switch. Anything
    inexact is left as it is for the schema to refuse: a string for a number, ``2``
    for a switch, ``1.5`` for an integer.

    Args:
        dotted: The parameter, e.g. ``"world.n_states"``.
        value: The value given.

    Returns:
        The value to validate.
    """
    value = _plain(value)
    annotation = field_annotation(dotted)
    if annotation is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if (
        annotation is bool
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and value in (0, 1)
    ):
        return bool(value)
    return value


def set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``data["a"]["b"] = value`` for ``dotted = "a.b"``, creating sections as needed."""
    keys = dotted.split(".")
    node = data
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ScenarioError(f"{dotted}: '{key}' is a value, not a section")
    node[keys[-1]] = value


def deep_merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Merge ``child`` over ``base``: sections merge key by key, values replace."""
    merged = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _resolve_extends(name: str, current: Path) -> Path:
    """Find the file named by ``extends`` in ``current``."""
    if name.endswith(".toml"):
        return (current.parent / name).resolve()
    return (shipped_scenarios_dir() / f"{name}.toml").resolve()


def read_toml_file(path: Path, kind: str = "scenario", where: str = "") -> dict[str, Any]:
    """Read a TOML data file (nothing in it is executed), with errors for the user.

    Args:
        path: The file.
        kind: What the file is, for messages ("scenario", "experiment").
        where: Extra context for messages, e.g. which file named this one.

    Returns:
        The parsed TOML tables.

    Raises:
        ScenarioError: If the file is missing, unreadable or not valid TOML.
    """
    try:
        found = path.is_file()
    except (OSError, ValueError) as exc:  # e.g. a file name too long for the file system
        raise ScenarioError(f"{path}: cannot use this file name{where}: {exc}") from None
    if not found:
        raise ScenarioError(f"{path}: {kind} file not found{where}")
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a text (UTF-8) TOML file") from None
    except OSError as exc:  # e.g. no permission to read it
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None


def load_raw(path: str | Path) -> dict[str, Any]:
    """Read a scenario file and everything it extends into one merged dict.

    Args:
        path: The scenario file.

    Returns:
        The merged dict, without ``extends``.

    Raises:
        ScenarioError: On missing files, bad TOML or a cycle of ``extends``.
    """
    chain: list[Path] = []
    current = Path(path).resolve()
    referrer: Path | None = None
    layers: list[dict[str, Any]] = []
    while True:
        if current in chain:
            cycle = " -> ".join(str(p) for p in [*chain, current])
            raise ScenarioError(f"{chain[0]}: extends: cycle of 'extends': {cycle}")
        chain.append(current)
        where = f" (named by 'extends' in {referrer})" if referrer else ""
        data = read_toml_file(current, "scenario", where)
        if "source" in data:
            raise ScenarioError(
                f"{current}: source: unknown key (the file a scenario comes from is recorded "
                "by coopsim itself)"
            )
        if len(chain) == 1:
            # A scenario that names nothing is called after its own file, not its parent.
            data.setdefault("name", current.stem)
        parent = data.pop("extends", None)
        layers.append(data)
        if parent is None:
            break
        if not isinstance(parent, str) or not parent.strip():
            raise ScenarioError(
                f'{current}: extends: expected the name of a shipped scenario (e.g. "baseline") '
                f"or a .toml file relative to this one, found {parent!r}"
            )
        try:
            target = _resolve_extends(parent.strip(), current)
        except (OSError, ValueError) as exc:  # e.g. a NUL character in the name
            raise ScenarioError(
                f"{current}: extends: cannot use {parent!r} as a file name: {exc}"
            ) from None
        referrer, current = current, target
    merged: dict[str, Any] = {}
    for layer in reversed(layers):
        merged = deep_merge(merged, layer)
    return merged


def describe_field(section: type[BaseModel], key: str) -> str:
    """Say what a field allows, for error messages: type, range, unit and default."""
    field = section.model_fields.get(key)
    if field is None:
        return ""
    lo = hi = None
    for meta in field.metadata:
        lo = getattr(meta, "ge", lo)
        hi = getattr(meta, "le", hi)
    unit = (field.json_schema_extra or {}).get("unit", "")
    kind = getattr(field.annotation, "__name__", str(field.annotation))
    parts = [f"type {kind}"]
    if lo is not None or hi is not None:
        parts.append(f"range [{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]")
    if unit:
        parts.append(f"unit {unit}")
    parts.append(f"default {field.default!r}")
    return "; allowed: " + ", ".join(parts)


def _section_for(loc: tuple[Any, ...]) -> tuple[type[BaseModel], str]:
    """Walk the schema along an error location to the owning section and key."""
    section: type[BaseModel] = Scenario
    for key in loc[:-1]:
        field = section.model_fields.get(str(key))
        annotation = getattr(field, "annotation", None)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            section = annotation
        else:
            break
    return section, str(loc[-1]) if loc else ""


def format_validation_error(
    exc: ValidationError, source: str, overridden: Collection[str] = ()
) -> str:
    """Turn a pydantic error into lines naming the file, key path and what is allowed.

    Args:
        exc: The pydantic error.
        source: The scenario file (or what the data came from).
        overridden: Dotted keys whose values came from overrides, not the file: their
            errors name the override instead of the file.
    """
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key_path = ".".join(str(p) for p in loc) or "(top level)"
        from_override = any(key_path == k or key_path.startswith(f"{k}.") for k in overridden)
        where = f"override {key_path} (applied to {source})" if from_override else None
        section, key = _section_for(loc)
        found = err.get("input")
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(sorted(k for k in section.model_fields if k != "source"))
            msg = f"unknown key; allowed keys here: {allowed}"
        else:
            shown = repr(found)
            if len(shown) > 60:
                shown = shown[:57] + "..."
            msg = f"{err['msg']} (found {shown}){describe_field(section, key)}"
        lines.append(f"{where}: {msg}" if where else f"{source}: {key_path}: {msg}")
    return "\n".join(lines)


def validate_dict(
    data: dict[str, Any], source: str = "<dict>", overridden: Collection[str] = ()
) -> Scenario:
    """Validate a merged scenario dict.

    Args:
        data: Scenario content (sections and keys as in a TOML file).
        source: File name to put in error messages.
        overridden: Dotted keys set by overrides (their errors name the override).

    Returns:
        The validated Scenario.

    Raises:
        ScenarioError: Naming the file, the key path and what is allowed.
    """
    try:
        scenario = Scenario.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, source, overridden)) from None
    return scenario


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load, merge (``extends``) and validate a scenario file.

    Args:
        path: A scenario file, or the name of a shipped scenario (``"baseline"``).
        overrides: Optional dotted-key values applied after the file (numpy scalars
            and exact integer-valued numbers accepted, see :func:`coerce_override`).

    Returns:
        The validated Scenario.

    Raises:
        ScenarioError: With a message naming the file and key (or the override).
    """
    path = resolve_scenario_path(path)
    data = load_raw(path)
    for dotted, value in (overrides or {}).items():
        try:
            set_dotted(data, dotted, coerce_override(dotted, value))
        except ScenarioError as exc:  # e.g. the file says `run = 5` and --years is given
            raise ScenarioError(f"{path}: override {exc}") from None
    return validate_dict(data, source=str(path), overridden=overrides or ())


def resolve_named_file(path: str | Path, shipped_dir: Path) -> Path:
    """Accept a path, or the bare name of a file shipped in ``shipped_dir``.

    Raises:
        ScenarioError: If the operating system rejects the name (too long, NUL byte).
    """
    candidate = Path(path)
    try:
        exists = candidate.exists()
    except (OSError, ValueError) as exc:  # e.g. a file name too long for the file system
        raise ScenarioError(f"{path}: cannot use this file name: {exc}") from None
    if not exists and not str(path).endswith(".toml"):
        shipped = shipped_dir / f"{path}.toml"
        if shipped.is_file():
            return shipped
    return candidate


def resolve_scenario_path(path: str | Path) -> Path:
    """Accept a path, or the bare name of a shipped scenario."""
    return resolve_named_file(path, shipped_scenarios_dir())


def shipped_scenarios() -> dict[str, Path]:
    """Map the name of each shipped scenario to its file."""
    folder = shipped_scenarios_dir()
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}


def parameter_table() -> list[dict[str, Any]]:
    """List every model parameter: section, key, type, unit, default, range, meaning."""
    rows = []
    for section_name, field in Scenario.model_fields.items():
        annotation = field.annotation
        if not (isinstance(annotation, type) and issubclass(annotation, Section)):
            continue
        for key, sub in annotation.model_fields.items():
            lo = hi = None
            for meta in sub.metadata:
                lo = getattr(meta, "ge", lo)
                hi = getattr(meta, "le", hi)
            rows.append(
                {
                    "section": section_name,
                    "key": key,
                    "type": getattr(sub.annotation, "__name__", str(sub.annotation)),
                    "unit": (sub.json_schema_extra or {}).get("unit", ""),
                    "default": sub.default,
                    "min": lo,
                    "max": hi,
                    "description": sub.description or "",
                }
            )
    return rows


def is_finite_number(value: Any) -> bool:
    """Return True for an int or float that is neither NaN nor infinite."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
