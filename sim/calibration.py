"""Calibration against public stylized facts, and the facts report.

The facts live in ``sim/data/stylized_facts.toml`` (id, figure, source, the
model quantity to compare, target and acceptable range). This module

- measures each quantity on model runs (:func:`measure`): small pure functions
  of the request ledger, over requests issued in a measurement window that
  leaves time for them to finish, so that the run's end does not censor them;
- reports, per fact and pattern, the model's mean over replications with a 95%
  t interval and whether it falls in range (:func:`facts_table`); patterns are of
  two kinds: *validation* patterns emerge from the mechanisms (P1, P5, P6) and
  could come out wrong, *input checks* are arithmetic of input parameters (P2-P4)
  and only check that the inputs agree with each other;
- names the parameters that the calibrated facts depend on
  (:data:`CALIBRATED_PARAMETERS`); they are calibrated with uncertainty by history
  matching in :mod:`sim.history_matching` (``coopsim calibrate``).

The measurements are in :mod:`sim.calibration_measure` and the report in
:mod:`sim.calibration_report`; this module holds what is calibrated and the loss,
and re-exports their names (``from sim.calibration import measure`` works).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.calibration_measure import (
    FACTS_FILE,
    FOLLOW_UP_DAYS,
    PATTERN_SOURCES_FILE,
    cohort,
    duration_fact,
    ground_shares,
    interval_days,
    lead_over_largest_other,
    load_facts,
    load_pattern_sources,
    measure,
    refusal_ground_patterns,
    response_days,
)
from sim.calibration_measure import (
    _measure_run as _measure_run,  # re-exported: one run measured, for code importing it here
)
from sim.calibration_report import (
    KIND_HEADINGS,
    PATTERN_KINDS,
    PATTERN_QUANTITIES,
    SCENARIO_OF,
    facts_table,
    format_facts,
    mean_ci,
    measure_replications,
    plot_facts,
)

__all__ = [
    "CALIBRATED_PARAMETERS",
    "FACTS_FILE",
    "FOLLOW_UP_DAYS",
    "KIND_HEADINGS",
    "PATTERN_KINDS",
    "PATTERN_QUANTITIES",
    "PATTERN_SOURCES_FILE",
    "SCENARIO_OF",
    "Target",
    "calibration_targets",
    "cohort",
    "duration_fact",
    "facts_table",
    "format_facts",
    "ground_shares",
    "interval_days",
    "lead_over_largest_other",
    "load_facts",
    "load_pattern_sources",
    "loss",
    "mean_ci",
    "measure",
    "measure_replications",
    "plot_facts",
    "refusal_ground_patterns",
    "response_days",
]


# ------------------------------------------------------------------ calibration
@dataclass(frozen=True)
class Target:
    """A calibrated fact: the quantity, its target and its acceptable range."""

    quantity: str
    target: float
    low: float
    high: float


# The parameters calibrated (history matching, sim/history_matching.py), each with the
# facts it mainly moves.
CALIBRATED_PARAMETERS = {
    "review.service_days": "F1, F2 (review time of every request)",
    "execution.evidence_days": "F1 (evidence gathering)",
    "judicial.extradition_days": "F2 (extradition hearing)",
    "mutual_recognition.review_days": "F3a, F3b, F5 (recognition)",
    "mutual_recognition.surrender_days": "F3a, F3b (surrender after the decision)",
    "interpol.rejection_base": "F8 (notice review)",
}


def calibration_targets() -> list[Target]:
    """The calibrated facts with their targets and acceptable ranges."""
    facts, _ = load_facts()
    return [
        Target(f["quantity"], float(f["target"]), float(f["low"]), float(f["high"]))
        for f in facts
        if f.get("calibrated") and f.get("comparable", True)
    ]


def loss(measured: dict[str, float], targets: list[Target]) -> float:
    """Sum over facts of the squared error in units of half the acceptable range.

    Every fact weighs the same relative to its own tolerance: missing the middle
    of a range by its half-width costs 1, whatever the unit.
    """
    total = 0.0
    for t in targets:
        value = measured.get(t.quantity, math.nan)
        if not math.isfinite(value):
            total += 25.0
            continue
        half_width = max((t.high - t.low) / 2.0, 1e-9)
        total += ((value - t.target) / half_width) ** 2
    return total
