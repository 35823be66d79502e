"""The library interface for other tools: runs with overrides, flat outcomes, parameters.

Policy researchers drive coopsim from the EMA Workbench, SALib scripts and
notebooks. This module gives them:

- :func:`run`: one run of a scenario with dotted-key ``overrides`` (numpy values
  accepted where exact) and any integer-like ``seed`` (``np.int64`` too);
- :attr:`RunResult.flat_outcomes`: the outcomes as one flat dict with
  identifier-safe names (``median_response_days__mla_evidence``), whose units and
  meanings are in :mod:`sim.outcomes`;
- :func:`parameters`: every model parameter with its type, unit, default and range,
  as a pandas DataFrame.

Example::

    import sim
    result = sim.run("baseline", seed=7, years=2, overrides={"world.n_states": 20})
    result.flat_outcomes["median_response_days__mla_evidence"]
    sim.parameters().query("section == 'agencies'")
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import model as _model
from sim.outcomes import flatten
from sim.scenario import (
    Scenario,
    ScenarioBase,
    ScenarioError,
    load_scenario,
    parameter_table,
)


@dataclass
class RunResult(_model.RunResult):
    """What one run gives back: outcomes, flat outcomes, daily series and the model.

    Attributes:
        outcomes: Outcome name to value (breakdowns as nested dicts).
        series: Daily series (one row per day).
        model: The model after the run (ledger, world, agencies).
    """

    @cached_property
    def flat_outcomes(self) -> dict[str, Any]:
        """The outcomes as one flat dict with identifier-safe names.

        Breakdowns become ``base__key`` (``median_response_days__mla_evidence``);
        :func:`sim.outcomes.info` gives the unit and meaning of each name and
        :func:`sim.outcomes.dotted_name` the dotted name stored in results.
        """
        return flatten(self.outcomes)


def as_seed(seed: Any) -> int:
    """An integer-like seed as a Python int: ``7``, ``np.int64(7)``, ``7.0``.

    Raises:
        ScenarioError: For a seed that is not a whole number >= 0.
    """
    if isinstance(seed, bool):
        raise ScenarioError(f"seed: expected a whole number >= 0, found {seed!r}")
    try:
        value = operator.index(seed)
    except TypeError:
        if isinstance(seed, float | np.floating) and math.isfinite(seed) and seed == int(seed):
            value = int(seed)
        else:
            raise ScenarioError(
                f"seed: expected a whole number >= 0 (int or numpy integer), found {seed!r}"
            ) from None
    if value < 0:
        raise ScenarioError(f"seed: expected a whole number >= 0, found {value}")
    return value


def run(
    scenario: Scenario | str | Path = "baseline",
    seed: Any = 0,
    years: float | None = None,
    overrides: dict[str, Any] | None = None,
    progress: bool = False,
) -> RunResult:
    """Run one scenario with one seed: a pure function of (scenario, seed, overrides).

    Args:
        scenario: A :class:`~sim.scenario.Scenario`, a scenario file, or the name of a
            shipped scenario (``"baseline"``).
        seed: Random seed: any whole number >= 0 (``int``, ``np.int64``, ``7.0``).
        years: Simulated years (overrides ``run.years``).
        overrides: Dotted-key parameter values, e.g. ``{"world.n_states": 20,
            "nsc_law.enabled": True}``; numpy scalars, ``20.0`` for an integer and
            ``1``/``0`` for a switch are accepted (see :func:`sim.parameters`).
        progress: Show a progress bar.

    Returns:
        A :class:`RunResult` (``outcomes``, ``flat_outcomes``, ``series``, ``model``).

    Raises:
        ScenarioError: For an unknown scenario, a bad override (naming it) or seed.
    """
    seed = as_seed(seed)
    changes = dict(overrides or {})
    if years is not None:
        changes["run.years"] = years
    if isinstance(scenario, ScenarioBase):
        scenario = scenario.with_overrides(changes) if changes else scenario
    else:
        scenario = load_scenario(scenario, changes)
    result = _model.run(scenario, seed=seed, progress=progress)
    return RunResult(outcomes=result.outcomes, series=result.series, model=result.model)


def parameters() -> pd.DataFrame:
    """Every model parameter with its type, unit, default, allowed range and meaning.

    Returns:
        One row per parameter: ``key`` (dotted, as in overrides and experiment
        files), ``section``, ``type``, ``unit``, ``default``, ``min``, ``max``
        (NaN where unbounded or not numeric) and ``meaning``; the index is the key.
    """
    rows = [
        {
            "key": f"{r['section']}.{r['key']}",
            "section": r["section"],
            "type": r["type"],
            "unit": r["unit"],
            "default": r["default"],
            "min": r["min"],
            "max": r["max"],
            "meaning": r["description"],
        }
        for r in parameter_table()
    ]
    table = pd.DataFrame(rows)
    table.index = table["key"].to_numpy()  # sim.parameters().loc["world.n_states"]
    return table
