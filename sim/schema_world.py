"""Schema sections of the world and its people: the run and the states.

The cases are in :mod:`sim.schema_cases` (re-exported here), the agencies that serve
them in :mod:`sim.schema_procedure`.
"""

from __future__ import annotations

from pydantic import (
    field_validator,
)

from sim.schema_base import (
    LEGAL_FAMILIES,
    P,
    Section,
    ShareMix,
    UnitTable,
    check_mix_total,
    filled_table,
)

# Re-exported: the cases' section and the agencies' moved to modules of their own.
from sim.schema_cases import CasesSection  # noqa: F401
from sim.schema_procedure import AgenciesSection  # noqa: F401


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
    legal_family_distance: UnitTable = P(
        {
            "common-civil": 0.6,
            "common-mixed": 0.3,
            "civil-mixed": 0.3,
            "common-religious": 0.8,
            "civil-religious": 0.7,
            "mixed-religious": 0.5,
            "common-socialist": 0.8,
            "civil-socialist": 0.5,
            "mixed-socialist": 0.6,
            "religious-socialist": 0.8,
        },
        None,
        None,
        "index",
        "Legal distance (0-1) between two legal families, by pair as the default names it "
        '("common-civil"): ordinal judgements in the spirit of comparative-law '
        "classifications; a pair left out keeps the schema's default.",
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
    technology_floor: float = P(
        0.05, 0.0, 1.0, "index", "Lowest technology level a state has (however small its capacity)."
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
    data_protection_sigma: float = P(
        0.2, 0.0, 1.0, "index", "Spread of data-protection strictness across synthetic states."
    )
    bloc_data_protection_bonus: float = P(
        0.3,
        0.0,
        1.0,
        "index",
        "Worlds from a data file: how much stricter the bloc's (EU) data-protection law is than "
        "the mean.",
    )
    data_file_data_protection_sigma: float = P(
        0.1,
        0.0,
        1.0,
        "index",
        "Worlds from a data file: spread of data-protection strictness once bloc membership is "
        "accounted for.",
    )
    bloc_sovereignty_discount: float = P(
        0.15,
        0.0,
        1.0,
        "index",
        "Worlds from a data file: how much less the bloc's (EU) members guard sovereignty than "
        "the mean (synthetic worlds pick members among the less sensitive instead).",
    )
    mr_bloc_share: float = P(
        0.3,
        0.0,
        1.0,
        "share",
        "Share of states in the mutual-recognition bloc (EU-like; synthetic worlds: a data "
        "file names them).",
    )
    alliance_share: float = P(
        0.12,
        0.0,
        1.0,
        "share",
        "Share of states in the intelligence alliance (synthetic worlds: a data file names them).",
    )
    convention_share: float = P(
        0.55,
        0.0,
        1.0,
        "share",
        "Share of states party to the multilateral MLA convention (synthetic worlds: a data "
        "file names them).",
    )
    # Who joins: the states with the highest score plus Gumbel noise (scale 1), where
    # the score is capacity (log over the median) and what these weights add. A data
    # file names the members of the bloc, the alliance and the convention itself.
    mr_bloc_sovereignty_weight: float = P(
        2.0,
        0.0,
        10.0,
        "score per unit",
        "How much a state's sovereignty sensitivity keeps it out of the mutual-recognition "
        "bloc (subtracted from its membership score, beside capacity; synthetic worlds).",
    )
    alliance_capacity_weight: float = P(
        2.0,
        0.0,
        10.0,
        "score per log unit",
        "How much capacity draws a state into the intelligence alliance (its membership "
        "score is this times capacity, log over the median; synthetic worlds).",
    )
    platform_bloc_weight: float = P(
        1.0,
        0.0,
        10.0,
        "score",
        "How much membership of the mutual-recognition bloc draws a state onto the secure "
        "platform (added to its membership score, beside capacity; data-file worlds too).",
    )
    convention_bloc_weight: float = P(
        2.0,
        0.0,
        10.0,
        "score",
        "How much membership of the mutual-recognition bloc draws a state into the MLA "
        "convention (added to its membership score, beside capacity; synthetic worlds).",
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
        0.1,
        0.0,
        1.0,
        "index",
        "Standard deviation of each direction's draw of a pair's initial relations; the "
        "pair takes their mean, so its spread is relations_sigma / sqrt(2) before clipping.",
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
    confidentiality_sigma: float = P(
        0.15, 0.0, 1.0, "index", "Spread of confidentiality standards across states."
    )
    alliance_confidentiality_bonus: float = P(
        0.2,
        0.0,
        1.0,
        "index",
        "How much stronger the intelligence alliance's members' confidentiality standards are.",
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

    @field_validator("legal_family_distance")
    @classmethod
    def _family_pairs(cls, v: dict[str, float]) -> dict[str, float]:
        # One spelling a pair (as the default lists it): files merge key by key along
        # an extends chain, so "civil-common" beside "common-civil" would be two values.
        default = cls.model_fields["legal_family_distance"].default
        return filled_table(v, default, "pair of legal families")

    @field_validator("legal_family_shares")
    @classmethod
    def _known_families(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(LEGAL_FAMILIES))
        if unknown:
            raise ValueError(f"unknown legal family {unknown}; allowed: {list(LEGAL_FAMILIES)}")
        check_mix_total(v)
        return v
