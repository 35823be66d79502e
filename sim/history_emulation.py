"""The emulated and simulated implausibility of a wave of history matching, and its result.

For each calibrated fact a Gaussian-process emulator (:mod:`sim.emulator`) is fitted
to the points' means, with the pooled run-to-run variance as the stochastic variance;
the implausibility (:mod:`sim.implausibility`) follows either from the emulators (at
candidate points) or from the simulated means themselves (at run points).
:class:`HistoryMatching` holds what the matching found and answers, through the
emulators of every wave, how implausible a parameter vector is. The waves themselves
are run by :func:`sim.history_matching.history_match`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.emulator import Emulator
from sim.implausibility import Observation, Prior, fact_implausibility
from sim.scenario import ScenarioError


@dataclass
class HistoryMatching:
    """What :func:`history_match` found, with everything needed to write it down."""

    priors: list[Prior]
    observations: list[Observation]
    runs: pd.DataFrame
    points: pd.DataFrame
    accepted: pd.DataFrame
    waves: list[dict[str, Any]]
    settings: dict[str, Any]
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_implausibility: float | None = None
    # Per wave: the emulators (by quantity) and the stochastic variances they used.
    emulators: list[tuple[dict[str, Emulator], dict[str, float]]] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """The parameter names, in prior order."""
        return [p.name for p in self.priors]

    def max_implausibility(self, values: np.ndarray) -> np.ndarray:
        """Largest emulated implausibility over facts and waves at parameter vectors.

        Args:
            values: Parameter vectors (n x parameters, in prior order, in their units).

        Returns:
            One value per vector; above the cutoff it is ruled out by some wave.
        """
        values = np.atleast_2d(np.asarray(values, dtype=float))
        x = np.column_stack([p.to_unit(values[:, j]) for j, p in enumerate(self.priors)])
        worst = np.zeros(len(x))
        for emulators, var in self.emulators:
            found = _max_implausibility(
                emulated_implausibility(emulators, self.observations, var, x)
            )
            worst = np.maximum(worst, found)
        return worst

    def accepted_ranges(self) -> pd.DataFrame:
        """Per parameter: the prior range and the accepted set's min, median and max."""
        rows = []
        for p in self.priors:
            values = self.accepted[p.name] if len(self.accepted) else pd.Series(dtype=float)
            rows.append(
                {
                    "parameter": p.name,
                    "prior_low": p.low,
                    "prior_high": p.high,
                    "scale": p.scale,
                    "accepted_min": float(values.min()) if len(values) else math.nan,
                    "accepted_median": float(values.median()) if len(values) else math.nan,
                    "accepted_max": float(values.max()) if len(values) else math.nan,
                    "share_of_prior_range": (
                        float(np.ptp(p.to_unit(values.to_numpy()))) if len(values) else math.nan
                    ),
                }
            )
        return pd.DataFrame(rows)


def _unit(priors: list[Prior], frame: pd.DataFrame) -> np.ndarray:
    return np.column_stack([p.to_unit(frame[p.name].to_numpy()) for p in priors])


def point_means(runs: pd.DataFrame, priors: list[Prior], quantities: list[str]) -> pd.DataFrame:
    """One row per (wave, point): the parameters, the number of runs and each fact's mean."""
    names = [p.name for p in priors]
    grouped = runs.groupby(["wave", "point"], sort=True)
    out = grouped[names].first()
    out["runs"] = grouped.size()
    for q in quantities:
        out[q] = grouped[q].mean()  # NaNs (no such requests in a run) are left out
        out[f"n:{q}"] = grouped[q].count()
    return out.reset_index()


def stochastic_variance(runs: pd.DataFrame, quantity: str) -> float:
    """Pooled within-point variance of a fact over the points with 2+ finite runs."""
    num, dof = 0.0, 0
    for _, values in runs.groupby(["wave", "point"])[quantity]:
        v = values.dropna().to_numpy(dtype=float)
        if v.size >= 2:
            num += float(v.var(ddof=1)) * (v.size - 1)
            dof += v.size - 1
    return num / dof if dof else math.nan


def _fit_emulators(
    points: pd.DataFrame,
    priors: list[Prior],
    obs: list[Observation],
    seed: int,
    reps: int,
    runs: pd.DataFrame,
) -> tuple[dict[str, Emulator], dict[str, float], dict[str, dict[str, float]]]:
    """One emulator per fact; the stochastic variance; diagnostics per fact."""
    emulators, var_stoch, info = {}, {}, {}
    x = _unit(priors, points)
    for k, o in enumerate(obs):
        ok = np.isfinite(points[o.quantity].to_numpy(dtype=float))
        if ok.sum() < len(priors) + 2:
            raise ScenarioError(
                f"history matching: only {int(ok.sum())} points measured {o.fact_id} "
                f"({o.quantity}); too few to emulate it"
            )
        pooled = stochastic_variance(runs, o.quantity)
        n = points[f"n:{o.quantity}"].to_numpy(dtype=float)[ok]
        noise = pooled / n if math.isfinite(pooled) else None
        y = points[o.quantity].to_numpy(dtype=float)[ok]
        em = Emulator(seed=seed + k).fit(x[ok], y, noise)
        emulators[o.quantity] = em
        # With one seed a point, the white noise of the point means is the run variance.
        var_stoch[o.quantity] = pooled if math.isfinite(pooled) else em.noise_var * reps
        loo = em.loo_errors()
        info[o.quantity] = {
            "var_stochastic": var_stoch[o.quantity],
            "emulator_noise_var": em.noise_var,
            "loo_within_3": float(np.mean(np.abs(loo) <= 3.0)),
            "loo_rmse_standardised": float(np.sqrt(np.mean(loo**2))),
            "kernel": str(em.gp.kernel_),
        }
    return emulators, var_stoch, info


def emulated_implausibility(
    emulators: dict[str, Emulator],
    obs: list[Observation],
    var_stoch: dict[str, float],
    x: np.ndarray,
) -> np.ndarray:
    """Implausibility of each fact at the points ``x`` (n x facts), by the emulators."""
    columns = []
    for o in obs:
        mean, var = emulators[o.quantity].predict(x)
        columns.append(fact_implausibility(o, mean, var, var_stoch[o.quantity]))
    return np.column_stack(columns)


def simulated_implausibility(
    points: pd.DataFrame, obs: list[Observation], var_stoch: dict[str, float]
) -> np.ndarray:
    """Implausibility of each fact at simulated points (n x facts), NaN where unmeasured.

    The point's mean over its runs takes the emulator's place, with its Monte Carlo
    variance ``V_stochastic / runs``.
    """
    columns = []
    for o in obs:
        mean = points[o.quantity].to_numpy(dtype=float)
        n = points[f"n:{o.quantity}"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            mc = var_stoch[o.quantity] / n
        columns.append(fact_implausibility(o, mean, mc, var_stoch[o.quantity]))
    return np.column_stack(columns)


def _max_implausibility(values: np.ndarray) -> np.ndarray:
    """The largest implausibility over facts; NaN (a fact not measured) counts as infinite."""
    return np.where(np.isnan(values), np.inf, values).max(axis=1)
