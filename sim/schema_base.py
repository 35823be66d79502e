"""The building blocks of the scenario schema: a parameter, a section, a lever section.

Every number of the model is declared with :func:`P` (default, range, unit, meaning);
sections group them by process; a lever section adds ``enabled``, ``start_year`` and
``applies_to`` (and, if adoptable, ``adoption`` and ``adoption_cost``). :mod:`sim.scenario`
assembles the sections into a :class:`~sim.scenario.Scenario`, a lever's section once
the lever is registered with its effect (:mod:`sim.levers`).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
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
# A value from 0 to 1 for each of a set of names: the mean sensitivity of each case
# type, the legal distance of each pair of families ("family-family").
UnitTable = dict[str, Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]]


def filled_table(v: dict[str, float], default: dict[str, float], noun: str) -> dict[str, float]:
    """A table of values by name, every name known; the names it leaves out at ``default``.

    Setting one value (a case type's sensitivity, a pair's legal distance) must not
    change the others; a name the default does not have is refused, naming ``noun``.
    """
    unknown = sorted(set(v) - set(default))
    if unknown:
        raise ValueError(f"unknown {noun} {unknown}; allowed: {list(default)}")
    return {**default, **v}


def check_mix_total(v: dict[str, float]) -> None:
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


CaseTypeList = list[Literal[CASE_TYPES]]


def some_case_types(v: list[str]) -> list[str]:
    """A lever that covers case types must name at least one."""
    if not v:
        raise ValueError(f"an empty list of case types; name at least one of {list(CASE_TYPES)}")
    return v
