"""Schema section of the cases: arrivals, types, severity, sensitivity and foreign links."""

from __future__ import annotations

from pydantic import (
    field_validator,
)

from sim.schema_base import (
    CASE_TYPES,
    P,
    Section,
    ShareMix,
    UnitTable,
    check_mix_total,
    filled_table,
)


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
    political_sensitivity_by_type: UnitTable = P(
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
        "Mean political sensitivity (0-1) of cases of each type; a type left out keeps the "
        "schema's default (cases.political_sensitivity_by_type.<type> sets one alone).",
    )

    @field_validator("type_shares")
    @classmethod
    def _known_types(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(CASE_TYPES))
        if unknown:
            raise ValueError(f"unknown case type {unknown}; allowed: {list(CASE_TYPES)}")
        check_mix_total(v)
        return v

    @field_validator("political_sensitivity_by_type")
    @classmethod
    def _every_type(cls, v: dict[str, float]) -> dict[str, float]:
        default = cls.model_fields["political_sensitivity_by_type"].default
        return filled_table(v, default, "case type")
