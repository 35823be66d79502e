"""The schema of an experiment file: what an experiment may say, with defaults and meanings.

:class:`ExperimentSpec` is the validated form of a file (pydantic: unknown keys
refused, every field described) and :class:`ParameterUncertainty` its
``[parameter_uncertainty]`` table. Reading a file into it, with messages that name
the file and the key, and the checks that need the model's parameters or outcomes,
are :mod:`sim.experiment_spec`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DESIGNS = ("grid", "lhs", "sobol", "morris")
SCENARIOS_LEVER = "scenarios"
# Experiment fields that only change the analysis, not the runs: editing them keeps
# the plan (and so the finished runs) valid for resume.
ANALYSIS_ONLY = ("description", "outcomes", "reference", "confidence", "ci_method")
# Daily series an experiment can keep: the model's (one row a day, series.parquet) and
# each queueing agency's backlog (one row per agency and day, agency_series.parquet).
SERIES_KINDS = ("model", "agencies")


class ParameterUncertainty(BaseModel):
    """Draw the calibrated parameters from a history matching's accepted set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seeds_per_draw: int = Field(
        2,
        ge=1,
        le=100_000,
        description="Seeds (replications) per parameter draw; replications = draws x this.",
    )
    accepted: str = Field(
        "shipped",
        description="accepted.csv of `coopsim calibrate` ('shipped': sim/data/calibration/).",
    )


class ExperimentSpec(BaseModel):
    """A validated experiment file (before it is resolved against a model)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = Field(description="Short name; results go to results/<name>/ by default.")
    description: str = Field("", description="One line saying what the experiment asks.")
    replications: int = Field(10, ge=1, le=1_000_000, description="Replications per point.")
    base_seed: int = Field(1, ge=0, description="Seed from which replication seeds derive.")
    design: Literal["grid", "lhs", "sobol", "morris"] = Field(
        "grid", description="How the uncertainties are sampled."
    )
    sample_size: int = Field(
        1,
        ge=1,
        le=10_000_000,
        description="lhs: points; sobol: base samples N (power of 2); morris: trajectories.",
    )
    levels: int = Field(
        3, ge=2, le=1000, description="grid: levels per uncertainty; morris: levels p (default 4)."
    )
    second_order: bool = Field(False, description="sobol: also estimate second-order indices.")
    reference: str | None = Field(None, description="Policy the others are compared with.")
    outcomes: list[str] = Field(
        default_factory=list, description="Outcomes to analyse (dotted names, * patterns)."
    )
    uncertainties: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="Parameter ranges [low, high] sampled by the design."
    )
    levers: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="'scenarios' (reform scenarios) and/or lever parameters with their values.",
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Parameter values applied to every run (run.years...)."
    )
    series: bool | tuple[Literal["model", "agencies"], ...] = Field(
        False,
        description=(
            "Daily series to keep: true (the model's daily series), false, or a list of "
            '"model" (model-level daily series) and "agencies" (each queueing agency\'s '
            'daily backlog), e.g. ["model", "agencies"].'
        ),
    )
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description="Confidence level of intervals.")
    ci_method: Literal["t", "bootstrap"] = Field("t", description="Confidence interval method.")
    parameter_uncertainty: ParameterUncertainty | None = Field(
        None,
        description=(
            "Draw the calibrated parameters of each replication from the accepted set of "
            "history matching (the same draw for every policy): replications = draws x "
            "seeds_per_draw, e.g. {seeds_per_draw = 2}."
        ),
    )

    @field_validator("replications", "base_seed", "sample_size", "levels", mode="before")
    @classmethod
    def _a_whole_number(cls, v: Any) -> Any:
        # Not a switch or a string read as a number ("2", True): a file says 2.
        if isinstance(v, bool | str):
            raise ValueError(f"expected a whole number, found {v!r}")
        return v

    @field_validator("name")
    @classmethod
    def _folder_name(cls, v: str) -> str:
        # The name is the default results folder: it must be one plain folder name.
        if not v.strip() or v.strip() in (".", "..") or any(c in v for c in "/\\\x00"):
            raise ValueError(
                "expected a plain folder name (not empty, no '/', '\\' or NUL), e.g. "
                '"sweep_capacity"'
            )
        if len(v.encode()) > 120:
            raise ValueError("a name longer than 120 bytes; use a short name")
        return v

    @field_validator("series", mode="before")
    @classmethod
    def _series_kinds(cls, v: Any) -> bool | tuple[str, ...]:
        # Canonical form: true/false for "the model series"/"none" (as before, so the plan
        # of an older experiment is unchanged), a tuple otherwise.
        if isinstance(v, bool):
            return v
        values = [v] if isinstance(v, str) else v
        allowed = 'expected true, false, or a list of "model" and/or "agencies"'
        if not isinstance(values, list | tuple):
            raise ValueError(allowed)
        for k in values:
            if not isinstance(k, str) or k not in SERIES_KINDS:
                raise ValueError(f"{allowed}; {k!r} is not one of them")
        kinds = tuple(k for k in SERIES_KINDS if k in values)
        if not kinds:
            return False
        return True if kinds == ("model",) else kinds

    @property
    def series_kinds(self) -> tuple[str, ...]:
        """The daily series every run keeps: ``"model"`` and/or ``"agencies"``."""
        if isinstance(self.series, bool):
            return ("model",) if self.series else ()
        return tuple(self.series)

    @field_validator("uncertainties")
    @classmethod
    def _ordered_ranges(cls, v: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for name, (low, high) in v.items():
            if not low < high:
                raise ValueError(
                    f"{name}: expected [low, high] with low < high, found {[low, high]}"
                )
        return v

    @field_validator("levers")
    @classmethod
    def _non_empty_levers(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for name, values in v.items():
            if not values:
                raise ValueError(f"{name}: needs at least one value")
            if len(set(map(repr, values))) != len(values):
                raise ValueError(f"{name}: values repeat: {values}")
        return v
