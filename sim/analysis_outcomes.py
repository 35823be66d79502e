"""Which columns of a results table are outcomes, and the error for results that cannot be analysed.

The bottom of the analysis modules: :mod:`sim.analysis_paired`,
:mod:`sim.analysis_tables` and :mod:`sim.analysis_sensitivity` raise
:class:`AnalysisError`, and :func:`sim.analysis.analyze` picks its outcomes here.
"""

from __future__ import annotations

import fnmatch

import pandas as pd

from sim.errors import CoopsimError

# Plan columns that are inputs or identities, never outcomes.
ID_COLUMNS = ("run_id", "policy", "policy_index", "point", "replication", "seed")


class AnalysisError(CoopsimError, ValueError):
    """Results that cannot be analysed as asked (e.g. an unknown outcome name)."""


def outcome_columns(outcomes: pd.DataFrame, plan: pd.DataFrame | None = None) -> list[str]:
    """The numeric outcome columns of a results table (inputs and ids excluded).

    Args:
        outcomes: The ``outcomes`` table of the results.
        plan: The plan, whose columns (inputs) are excluded.

    Returns:
        Outcome names in table order.
    """
    inputs = set(ID_COLUMNS) | (set(plan.columns) if plan is not None else set())
    return [
        c
        for c in outcomes.columns
        if c not in inputs
        and pd.api.types.is_numeric_dtype(outcomes[c])
        and not pd.api.types.is_bool_dtype(outcomes[c])
    ]


def select_outcomes(available: list[str], patterns: list[str] | None) -> list[str]:
    """Resolve outcome names and ``*`` patterns against the available outcomes.

    Args:
        available: Outcome columns of the results.
        patterns: Names or fnmatch patterns (``refusal_rate_by_ground.*``); empty = all.

    Returns:
        The selected outcomes, in the order asked.

    Raises:
        AnalysisError: For a name or pattern that matches no outcome.
    """
    if not patterns:
        return list(available)
    chosen: list[str] = []
    for pattern in patterns:
        hits = [c for c in available if fnmatch.fnmatchcase(c, pattern)]
        if not hits:
            raise AnalysisError(
                f"outcomes: {pattern!r} matches no outcome of the results; available: "
                f"{', '.join(available)}"
            )
        chosen += [h for h in hits if h not in chosen]
    return chosen
