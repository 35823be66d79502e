"""Analysis of experiment results: paired comparisons and sensitivity indices.

Works on the tables of :class:`sim.store.Results` (pandas DataFrames), so it
serves the CLI and notebooks alike. Comparisons pair runs of two policies that
share a design point and replication (hence a seed: common random numbers), and
report the mean of each, the mean paired difference with a confidence interval
(t or bootstrap) and an effect size. Sensitivity indices come from SALib. Figures
of these tables are in :mod:`sim.plots`.

The work is split by subject: which columns are outcomes (:mod:`sim.analysis_outcomes`),
paired statistics (:mod:`sim.analysis_paired`), sensitivity indices
(:mod:`sim.analysis_sensitivity`) and readable tables (:mod:`sim.analysis_tables`).
This module runs them over a whole results folder (:func:`analyze`) and re-exports
their names, so ``from sim.analysis import compare_policies`` works.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim.analysis_outcomes import ID_COLUMNS, AnalysisError, outcome_columns, select_outcomes
from sim.analysis_paired import (
    compare_policies,
    nested_paired_difference,
    paired_difference,
    variance_components,
)
from sim.analysis_sensitivity import (
    SOBOL_PRECISION,
    sensitivity,
    sensitivity_warnings,
)
from sim.analysis_sensitivity import (
    _index_warning as _index_warning,  # re-exported: tests check the warning rules
)
from sim.analysis_tables import (  # noqa: F401  (TABLE_FORMATS re-exported)
    TABLE_FORMATS,
    annotate_comparison,
    comparison_display,
    format_comparison,
    format_sensitivity,
    latex_escape,
    render_table,
)

__all__ = [
    "ID_COLUMNS",
    "SOBOL_PRECISION",
    "AnalysisError",
    "analyze",
    "annotate_comparison",
    "compare_policies",
    "comparison_display",
    "format_comparison",
    "format_sensitivity",
    "latex_escape",
    "nested_paired_difference",
    "outcome_columns",
    "paired_difference",
    "render_table",
    "select_outcomes",
    "sensitivity",
    "sensitivity_warnings",
    "variance_components",
]


def analyze(results: Any, outcomes: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Comparison and sensitivity tables of an experiment's results.

    Args:
        results: A :class:`sim.store.Results`.
        outcomes: Outcomes to analyse (names or patterns); default: the experiment's
            ``outcomes``, or every outcome when it names none.

    Returns:
        ``{"comparison": ..., "sensitivity": ...}`` (either may be empty).
    """
    exp = results.manifest["experiment"]
    available = outcome_columns(results.outcomes, results.plan)
    names = select_outcomes(available, outcomes or exp.get("outcomes") or None)
    comparison = pd.DataFrame()
    if results.outcomes["policy"].nunique() > 1:
        comparison = compare_policies(
            results.outcomes,
            results.manifest["reference"],
            names,
            exp.get("confidence", 0.95),
            exp.get("ci_method", "t"),
            exp.get("base_seed", 0),
            by_draw=bool(exp.get("parameter_uncertainty")) and "draw" in results.outcomes,
        )
    return {
        "comparison": comparison,
        "sensitivity": sensitivity(results.outcomes, results.plan, results.manifest, names),
    }
